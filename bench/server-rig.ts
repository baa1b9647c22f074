/**
 * A real approval server for benchmarks: a temporary data directory, the real web-push sender to a
 * local push receiver, one enrolled device and one instance. `nextSend()` resolves with the time
 * the next push request starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { startPushReceiver, type PushReceiver } from '../test/helpers/push-receiver.js';

/** The running parts. */
export type Rig = {
  running: RunningServer;
  receiver: PushReceiver;
  device: TestDevice;
  token: string;
  /** Resolves with the time the next push request starts. */
  nextSend(): Promise<number>;
  close(): Promise<void>;
};

/** Starts a server with one device and one instance. */
export async function startBenchServer(): Promise<Rig> {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-bench-'));
  const receiver = await startPushReceiver();
  const real = webPushSender({
    vapid: await loadVapidKeys(dataDir),
    subject: 'mailto:bench@countersign.invalid',
    policy: { testOrigin: receiver.origin, resolve: systemResolver },
  });
  let waiting: ((t: number) => void) | null = null;
  const timing: PushSender = {
    send(request) {
      waiting?.(performance.now());
      waiting = null;
      return real.send(request);
    },
  };
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
  await device.enroll(running.url, code, receiver.createPushSubscription());
  const { token } = await running.ensureInstance('bench');
  return {
    running,
    receiver,
    device,
    token,
    nextSend: () => new Promise<number>((resolve) => (waiting = resolve)),
    async close() {
      await running.close();
      await receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
