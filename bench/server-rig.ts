/**
 * A real approval server for benchmarks: a temporary data directory, the real web-push sender to a
 * local push receiver in a process of its own, one enrolled device and one instance. `nextSend()` resolves with the time
 * the next push request starts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  silentLog,
  startServer,
  webPushSender,
  type PushSender,
  type RunningServer,
} from '../server/index.js';
import { systemResolver } from '../server/push/endpoint-policy.js';
import { loadVapidKeys } from '../server/secrets.js';
import { TestDevice } from '../test/helpers/device.js';
import { startReceiverProcess, type RemoteReceiver } from './push-receiver-process.js';
import { cpuSecondsOf } from './verify-floor-process.js';

/** The running parts. */
export type Rig = {
  running: RunningServer;
  receiver: RemoteReceiver;
  device: TestDevice;
  token: string;
  /** Resolves with the time the next push request starts. */
  nextSend(): Promise<number>;
  /** Resolves with the start times of the next `n` push requests. */
  sends(n: number): Promise<number[]>;
  close(): Promise<void>;
};

/** Starts a server with one device and one instance. */
export async function startBenchServer(): Promise<Rig> {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-bench-'));
  const receiver = await startReceiverProcess();
  const real = webPushSender({
    vapid: await loadVapidKeys(dataDir),
    subject: 'mailto:bench@countersign.invalid',
    policy: { testOrigin: receiver.origin, resolve: systemResolver },
  });
  let waiting: { want: number; times: number[]; done: (t: number[]) => void } | null = null;
  const timing: PushSender = {
    send(request) {
      if (waiting) {
        waiting.times.push(performance.now());
        if (waiting.times.length === waiting.want) {
          waiting.done(waiting.times);
          waiting = null;
        }
      }
      return real.send(request);
    },
  };
  const sends = (want: number): Promise<number[]> =>
    new Promise((done) => (waiting = { want, times: [], done }));
  const running = await startServer({
    dataDir,
    port: 0,
    log: silentLog,
    appDir: null,
    push: timing,
    notifier: { perDevice: { max: 1_000_000, windowMs: 1 } },
  });
  const device = await TestDevice.create({ owner: 'bench' });
  const { code } = await running.invite({ owner: 'bench', name: 'bench phone' });
  await device.enroll(running.url, code, await receiver.createPushSubscription());
  const { token } = await running.ensureInstance('bench');
  return {
    running,
    receiver,
    device,
    token,
    nextSend: () => sends(1).then((times) => times[0]!),
    sends,
    async close() {
      await running.close();
      await receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A standalone server (`countersign serve` in a process of its own) and its admin API. */
export type Standalone = {
  url: string;
  /** CPU seconds the server process has used so far (user and system, from /proc). */
  cpuSeconds(): number;
  admin<T>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
};

/** Starts `countersign serve` (the built package) on a temporary data directory. */
export async function startStandalone(): Promise<Standalone> {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-bench-'));
  const bin = fileURLToPath(new URL('../bin/countersign.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--port', '0', '--json', '--data-dir', dataDir],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.trim().endsWith('}')) resolve((JSON.parse(out) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`countersign serve exited ${code}`)));
  });
  const { adminUrl } = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as {
    adminUrl: string;
  };
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return {
    url,
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${adminUrl}/api/v1/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
      return (await res.json()) as T;
    },
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
