/**
 * The real approval server for tests: `startServer` on 127.0.0.1 port 0 in a temporary data
 * directory, with an optional fixed clock and push sender (default: the real web-push sender, which
 * reaches a local `startPushReceiver()` over http).
 *
 * ```ts
 * const server = await startTestServer({ clock: new TestClock() });
 * const { token } = await server.addInstance('line-1');
 * const device = await server.enrollDevice({ owner: 'alice' });
 * const { id } = await server.propose(token, baseFlows, targetFlows);
 * await device.decide(server.url, id);
 * await server.close(); // removes the temp dir (unless `dataDir` was given)
 * ```
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  API_PREFIX,
  credentialFieldsOf,
  revOf,
  snapshotBytes,
  type CredentialFields,
  type DeploymentSource,
  type DeploymentType,
  type Flows,
  type InvitationResponse,
  type ProposalResponse,
  type PushSubscriptionJson,
} from '../../protocol/index.js';
import {
  silentLog,
  startServer,
  type Clock,
  type Log,
  type Policy,
  type PushSender,
  type RunningServer,
  type StartOptions,
} from '../../server/index.js';
import type { Context } from '../../server/context.js';
import { LowdbStore } from '../../server/store/lowdb-store.js';
import { TestDevice } from './device.js';
import { testStoreFor } from './test-store.js';

/** A clock tests move by hand. Starts at the real now unless told otherwise. */
export class TestClock implements Clock {
  #ms: number;
  constructor(ms: number = Date.now()) {
    this.#ms = ms;
  }
  now(): number {
    return this.#ms;
  }
  set(ms: number): void {
    this.#ms = ms;
  }
  advance(ms: number): void {
    this.#ms += ms;
  }
}

/** Options of `startTestServer`; all optional. */
export type TestServerOptions = {
  clock?: Clock;
  push?: PushSender;
  policy?: Partial<Policy>;
  name?: string;
  log?: Log;
  /** Reuse a data directory (a restart); it is then not removed on close. */
  dataDir?: string;
  publicUrl?: string;
  appDir?: string | null;
  /** Push retry settings; tests default to fast backoff (20 ms). */
  notifier?: StartOptions['notifier'];
  enrollFailures?: StartOptions['enrollFailures'];
  heartbeatMs?: number;
  trustProxy?: string[];
  retention?: StartOptions['retention'];
  quotas?: StartOptions['quotas'];
  pruneIntervalMs?: number;
  /** Default: `COUNTERSIGN_TEST_PUSH_ORIGIN` (a started push receiver sets it). */
  testPushOrigin?: string | null;
  pushResolver?: StartOptions['pushResolver'];
  /** Default 0 (any free port). */
  port?: number;
};

/** What `startTestServer` gives. */
export type TestServer = {
  url: string;
  serverId: string;
  dataDir: string;
  adminToken: string;
  adminUrl: string;
  running: RunningServer;
  /** The server's services (store, notifier, ...), for assertions on state. */
  ctx: Context;
  close(): Promise<void>;
  addInstance(
    name: string,
    policy?: Partial<Policy>,
  ): Promise<{ id: string; name: string; token: string }>;
  invite(request: { owner: string; name: string }): Promise<InvitationResponse>;
  /** A new TestDevice, invited and enrolled (with `push` when given). */
  enrollDevice(options?: {
    owner?: string;
    name?: string;
    push?: PushSubscriptionJson | null;
  }): Promise<TestDevice>;
  /** Uploads a flows array as a blob with an instance token; returns its rev. */
  uploadBlob(token: string, flows: Flows): Promise<string>;
  /** Uploads both snapshots and posts a proposal; throws unless 201. */
  propose(
    token: string,
    base: Flows,
    target: Flows,
    options?: {
      creds?: string | null;
      credentials?: CredentialFields;
      type?: DeploymentType;
      source?: DeploymentSource;
    },
  ): Promise<ProposalResponse>;
  /** A plugin-side request with the instance token. */
  pluginFetch(token: string, method: string, path: string, body?: unknown): Promise<Response>;
  /** Waits for pushes in flight (and their retries) to finish. */
  pushesSettled(): Promise<void>;
};

/** Starts the real server on port 0 in a temporary data directory. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'countersign-server-'));
  let running: RunningServer;
  try {
    const store = await testStoreFor(dataDir);
    running = await startServer({
      dataDir,
      ...(store ? { store } : {}),
      port: options.port ?? 0,
      log: options.log ?? silentLog,
      appDir: options.appDir ?? null,
      notifier: { backoffMs: 20, ...options.notifier },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.push ? { push: options.push } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.name ? { name: options.name } : {}),
      ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
      ...(options.enrollFailures ? { enrollFailures: options.enrollFailures } : {}),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
      ...(options.retention ? { retention: options.retention } : {}),
      ...(options.quotas ? { quotas: options.quotas } : {}),
      ...(options.pruneIntervalMs ? { pruneIntervalMs: options.pruneIntervalMs } : {}),
      ...(options.testPushOrigin !== undefined ? { testPushOrigin: options.testPushOrigin } : {}),
      ...(options.pushResolver ? { pushResolver: options.pushResolver } : {}),
    });
  } catch (err) {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = running.url;
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const clock = options.clock;

  const pluginFetch = (
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Response> =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined
        ? {
            body:
              body instanceof Uint8Array
                ? Buffer.from(body)
                : typeof body === 'string'
                  ? body
                  : JSON.stringify(body),
          }
        : {}),
    });

  const uploadBlob = async (token: string, flows: Flows): Promise<string> => {
    const rev = await revOf(flows);
    const res = await pluginFetch(token, 'PUT', `${API_PREFIX}/blobs/${rev}`, snapshotBytes(flows));
    if (res.status !== 201) throw new Error(`blob upload: ${res.status} ${await res.text()}`);
    return rev;
  };

  return {
    url,
    serverId: running.serverId,
    dataDir,
    adminToken,
    adminUrl: running.adminUrl,
    running,
    ctx: running.handle.ctx,
    async close() {
      await running.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
    addInstance: (name, policy) => running.ensureInstance(name, policy),
    invite: (request) => running.invite(request),
    async enrollDevice(o = {}) {
      const owner = o.owner ?? 'alice';
      const device = await TestDevice.create({
        owner,
        name: o.name ?? `${owner}'s phone`,
        ...(clock ? { clock } : {}),
      });
      const { code } = await running.invite({ owner, name: device.name });
      await device.enroll(url, code, o.push ?? null);
      return device;
    },
    uploadBlob,
    async propose(token, base, target, o = {}) {
      const [baseRev, targetRev] = [await uploadBlob(token, base), await uploadBlob(token, target)];
      const res = await pluginFetch(token, 'POST', `${API_PREFIX}/deployments`, {
        base: baseRev,
        target: targetRev,
        creds: o.creds ?? null,
        credentials: o.credentials ?? credentialFieldsOf({}),
        type: o.type ?? 'full',
        source: o.source ?? { user: 'admin', via: 'editor' },
      });
      const body = (await res.json()) as ProposalResponse;
      if (res.status !== 201) throw new Error(`proposal: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    pluginFetch,
    pushesSettled: () => running.handle.ctx.notifier.idle(),
  };
}

/** Runs `fn` with a test server started with `options`, and closes it afterwards. */
export async function withTestServer(
  options: TestServerOptions,
  fn: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = await startTestServer(options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/**
 * The file of deployment `id`'s change list in a lowdb store, once written: the tests that play a
 * lying server edit it.
 */
export async function changesFileOf(server: TestServer, id: string): Promise<string> {
  const store = server.ctx.store;
  if (!(store instanceof LowdbStore))
    throw new Error('change-list files belong to the lowdb store');
  await store.settled();
  return join(server.dataDir, 'changes', `${id}.json`);
}
