/**
 * A real Node-RED embedded in this process with the Countersign plugin loaded the real way: this
 * package is linked into `<userDir>/node_modules/node-red-contrib-countersign`, Node-RED finds it
 * there and `require()`s `plugin/index.cjs`, which runs the compiled plugin from `dist/` (run
 * `npm run build` first; `npm test` does). The editor and admin API listen on port 0, the embedded
 * approval server on port 0 (`countersign.port: 0`), everything in a temporary user directory.
 *
 * Node-RED's modules are singletons: at most ONE `startNodeRed` per test file (vitest runs each file
 * in its own process). For a second Node-RED (a restart), use `startNodeRedProcess`, which runs this
 * same helper in a child process.
 *
 * ```ts
 * const nr = await startNodeRed({ flows: myFlows });
 * const res = await fetch(`${nr.editorUrl}/flows`, { method: 'POST', ... }); // 423: held
 * const phone = await nr.enrollDevice({ owner: 'alice' });
 * await phone.decide(nr.approvalUrl, deploymentId);                          // then it runs
 * await nr.close();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateStatus } from '../../plugin/register.js';
import type { InvitationResponse, PushSubscriptionJson } from '../../protocol/index.js';
import { TestDevice } from './device.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/** Options of `startNodeRed`. */
export type StartNodeRedOptions = {
  /** The `countersign` settings block; default `{port: 0}`; `null` leaves it out (the defaults). */
  countersign?: Record<string, unknown> | null;
  /** Written to `<userDir>/flows.json` before the start (left alone when absent). */
  flows?: unknown[];
  /** Written to `<userDir>/flows_cred.json` (in clear; Node-RED encrypts it at its next save). */
  credentials?: Record<string, Record<string, unknown>>;
  /** Reuse a user directory (a restart); it is then not removed on close. */
  userDir?: string;
  /** More Node-RED settings (they win over the helper's). */
  settings?: Record<string, unknown>;
  /** Which Node-RED: the 4.1.x dev dependency, or 5.x (`node-red-5`). */
  nodeRed?: 'node-red' | 'node-red-5';
  /** Load the Countersign plugin (default true); false gives a plain Node-RED to compare with. */
  plugin?: boolean;
  /** Called after `RED.init` and before `RED.start` (to alter the runtime for a test). */
  beforeStart?: (RED: NodeRedModule) => void;
};

/** Read-only facts the plugin publishes (`RED.plugins` entry `countersign`): the plugin's own type. */
export type GateStatusView = GateStatus;

/** Node-RED's main module, as far as the tests use it. */
export type NodeRedModule = {
  init(server: http.Server, settings: Record<string, unknown>): void;
  httpAdmin: http.RequestListener;
  httpNode: http.RequestListener;
  start(): Promise<void>;
  stop(): Promise<void>;
  runtime: {
    flows: {
      getFlows(
        opts: Record<string, unknown>,
      ): Promise<{ rev: string; flows: Array<Record<string, unknown>> }>;
      setFlows(opts: Record<string, unknown>): Promise<unknown>;
      addFlow(opts: Record<string, unknown>): Promise<unknown>;
      updateFlow(opts: Record<string, unknown>): Promise<unknown>;
      deleteFlow(opts: Record<string, unknown>): Promise<unknown>;
      getNodeCredentials(opts: Record<string, unknown>): Promise<Record<string, unknown>>;
    };
    _: {
      plugins: { getPlugin(id: string): { status?: () => GateStatusView } | undefined };
      flows: Record<string, unknown> & { getFlows(): { rev: string; flows: unknown[] } | null };
      nodes: Record<string, unknown> & { getNode(id: string): unknown };
      storage: Record<string, unknown>;
    };
  };
  nodes: { getNode(id: string): unknown; getCredentials(id: string): unknown };
  events: { on(event: string, listener: (payload: unknown) => void): void };
};

/** A running embedded Node-RED. */
export type RunningNodeRed = {
  /** The editor and admin API (httpAdminRoot `/`). */
  editorUrl: string;
  /** Where `http in` nodes answer (httpNodeRoot `/node`). */
  nodeUrl: string;
  /** The embedded approval server's listen URL ('' when the start failed). */
  approvalUrl: string;
  userDir: string;
  RED: NodeRedModule;
  /** Node-RED's log lines, as `[level] message`. */
  logs: string[];
  /** Why `RED.start()` rejected, or null. */
  startError: Error | null;
  /** The plugin's read-only status, or null when it did not register. */
  status(): GateStatusView | null;
  /** An invitation from the embedded server's admin API (as `countersign enroll` does). */
  invite(request: { owner: string; name: string }): Promise<InvitationResponse>;
  /** Revokes a device through the embedded server's admin API. */
  revoke(deviceId: string): Promise<void>;
  /** A new device, invited and enrolled on the embedded server. */
  enrollDevice(options?: {
    owner?: string;
    name?: string;
    push?: PushSubscriptionJson | null;
  }): Promise<TestDevice>;
  /** Resolves when a log line matches (rejects after `ms`). */
  waitForLog(pattern: RegExp, ms?: number): Promise<string>;
  close(): Promise<void>;
};

type ExpressApp = http.RequestListener & { use(path: string, handler: http.RequestListener): void };

const LEVELS: Record<number, string> = {
  10: 'fatal',
  20: 'error',
  30: 'warn',
  40: 'info',
  50: 'debug',
  60: 'trace',
};

/** Makes a user directory (or reuses one) with this package linked as a Node-RED module. */
export function prepareUserDir(
  options: Pick<StartNodeRedOptions, 'userDir' | 'flows' | 'credentials' | 'plugin'>,
): {
  userDir: string;
  own: boolean;
} {
  const own = options.userDir === undefined;
  const userDir = options.userDir ?? mkdtempSync(join(tmpdir(), 'countersign-nr-'));
  const modules = join(userDir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const link = join(modules, 'node-red-contrib-countersign');
  if (options.plugin !== false && !existsSync(link)) symlinkSync(root, link, 'dir');
  if (options.flows)
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(options.flows, null, 2));
  if (options.credentials)
    writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(options.credentials));
  return { userDir, own };
}

/** Starts Node-RED with the plugin. A start the plugin refuses resolves with `startError` set. */
export async function startNodeRed(options: StartNodeRedOptions = {}): Promise<RunningNodeRed> {
  const { userDir, own } = prepareUserDir(options);
  const nodeRedName = options.nodeRed ?? 'node-red';
  const RED = require(nodeRedName) as NodeRedModule;
  // Node-RED's own express (4.x) mounts its admin and node apps, as an embedding program does.
  const express = createRequire(require.resolve(nodeRedName))('express') as () => ExpressApp;
  const logs: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const onLog = (line: string): void => {
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
    if (process.env.NODE_RED_TEST_LOG) process.stderr.write(`${line}\n`);
  };

  const app = express();
  const server = http.createServer(app);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  const editorUrl = `http://127.0.0.1:${port}`;
  const countersign =
    options.countersign === null ? undefined : (options.countersign ?? { port: 0 });
  const settings: Record<string, unknown> = {
    userDir,
    flowFile: 'flows.json',
    uiPort: port,
    uiHost: '127.0.0.1',
    httpAdminRoot: '/',
    httpNodeRoot: '/node',
    credentialSecret: 'countersign-test-secret',
    editorTheme: { tours: false },
    externalModules: { autoInstall: false },
    telemetry: { enabled: false },
    logging: {
      console: { level: 'off', metrics: false, audit: false },
      capture: {
        level: 'info',
        metrics: false,
        audit: false,
        handler: () => (msg: { level: number; msg: unknown }) =>
          onLog(
            `[${LEVELS[msg.level] ?? msg.level}] ${typeof msg.msg === 'string' ? msg.msg : JSON.stringify(msg.msg)}`,
          ),
      },
    },
    ...(countersign ? { countersign } : {}),
    ...options.settings,
  };
  RED.init(server, settings);
  app.use('/node', RED.httpNode);
  app.use('/', RED.httpAdmin);
  options.beforeStart?.(RED);
  let startError: Error | null = null;
  try {
    await RED.start();
  } catch (err) {
    startError = err as Error;
  }

  const status = (): GateStatusView | null =>
    RED.runtime._.plugins.getPlugin('countersign')?.status?.() ?? null;
  const approvalUrl = status()?.approvalUrl ?? '';
  const admin = embeddedAdmin(userDir);
  const invite = admin.invite;

  let closed = false;
  return {
    editorUrl,
    nodeUrl: `${editorUrl}/node`,
    approvalUrl,
    userDir,
    RED,
    logs,
    startError,
    status,
    invite,
    revoke: admin.revoke,
    enrollDevice: (o = {}) => admin.enrollDevice(approvalUrl, o),
    waitForLog(pattern, ms = 20_000) {
      const found = logs.find((line) => pattern.test(line));
      if (found) return Promise.resolve(found);
      return new Promise((resolveLog, reject) => {
        const waiter = { pattern, resolve: resolveLog };
        waiters.push(waiter);
        setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(
              new Error(`no log line matched ${pattern} within ${ms} ms:\n${logs.join('\n')}`),
            );
          }
        }, ms).unref();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await RED.stop().catch(() => undefined);
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      // Node-RED may still be finishing a background write (settings, context) into the directory.
      await new Promise((r) => setTimeout(r, 200));
      if (own) rmSync(userDir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/**
 * The embedded approval server's admin API (loopback, `admin.token`), found through
 * `<userDir>/countersign/server.json` as `countersign enroll --data-dir` finds it. Works for a
 * Node-RED in this process or in a child process.
 */
export function embeddedAdmin(userDir: string): {
  invite(request: { owner: string; name: string }): Promise<InvitationResponse>;
  revoke(deviceId: string): Promise<void>;
  enrollDevice(
    approvalUrl: string,
    options?: { owner?: string; name?: string; push?: PushSubscriptionJson | null },
  ): Promise<TestDevice>;
} {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const dataDir = join(userDir, 'countersign');
    const { adminUrl } = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as {
      adminUrl: string;
    };
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const res = await fetch(`${adminUrl}/api/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const invite = (request: { owner: string; name: string }): Promise<InvitationResponse> =>
    call('POST', '/invitations', request) as Promise<InvitationResponse>;
  return {
    invite,
    async revoke(deviceId) {
      await call('POST', `/devices/${encodeURIComponent(deviceId)}/revoke`, {});
    },
    async enrollDevice(approvalUrl, o = {}) {
      const owner = o.owner ?? 'alice';
      const device = await TestDevice.create({ owner, name: o.name ?? `${owner}'s phone` });
      const { code } = await invite({ owner, name: device.name });
      await device.enroll(approvalUrl, code, o.push ?? null);
      return device;
    },
  };
}

/** A Node-RED started by `startNodeRedProcess`, in a child process. */
export type NodeRedProcess = {
  editorUrl: string;
  nodeUrl: string;
  approvalUrl: string;
  userDir: string;
  logs: string[];
  /** Stops Node-RED cleanly and waits for the process to exit. */
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  child: ChildProcess;
};

/**
 * Runs `startNodeRed(options)` in a child process (a second Node-RED for restart tests). The user
 * directory is kept; pass `userDir` to choose it. Resolves once Node-RED has started.
 */
export async function startNodeRedProcess(
  options: StartNodeRedOptions & { userDir: string },
): Promise<NodeRedProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(options)],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, COUNTERSIGN_NODE_RED_CHILD: '1' },
    },
  );
  const logs: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const ready = await new Promise<{ editorUrl: string; nodeUrl: string; approvalUrl: string }>(
    (resolveReady, reject) => {
      let buffer = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          try {
            const message = JSON.parse(line) as {
              log?: string;
              ready?: { editorUrl: string; nodeUrl: string; approvalUrl: string };
              error?: string;
            };
            if (message.log) logs.push(message.log);
            if (message.ready) resolveReady(message.ready);
            if (message.error)
              reject(
                new Error(`child Node-RED did not start: ${message.error}\n${logs.join('\n')}`),
              );
          } catch {
            logs.push(line);
          }
        }
      });
      child.once('exit', (code) =>
        reject(new Error(`child Node-RED exited (${code}):\n${logs.join('\n')}\n${stderr}`)),
      );
    },
  );
  return {
    ...ready,
    userDir: options.userDir,
    logs,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin!.end('stop\n');
      await exited;
    },
    async kill() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

// Run as a child process: start Node-RED, report on stdout (JSON lines), stop on "stop" or EOF.
if (
  process.env.COUNTERSIGN_NODE_RED_CHILD === '1' &&
  process.argv[1] === fileURLToPath(import.meta.url)
) {
  const options = JSON.parse(process.argv[2] ?? '{}') as StartNodeRedOptions;
  const print = (message: unknown): void => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  };
  const nr = await startNodeRed(options);
  for (const line of nr.logs) print({ log: line });
  const seen = nr.logs.length;
  nr.logs.splice(0, seen);
  const flush = setInterval(() => {
    for (const line of nr.logs.splice(0)) print({ log: line });
  }, 50);
  if (nr.startError) {
    print({ error: nr.startError.message });
  } else {
    print({ ready: { editorUrl: nr.editorUrl, nodeUrl: nr.nodeUrl, approvalUrl: nr.approvalUrl } });
  }
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', () => {
    void nr.close().then(() => {
      clearInterval(flush);
      for (const line of nr.logs.splice(0)) print({ log: line });
      process.exit(0);
    });
  });
}
