import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CountersignError, parseInvitationRequest } from '../protocol/index.js';
import { createServer, type CountersignApp } from './app.js';
import { systemClock, type Clock } from './clock.js';
import { issueInstance } from './instances/instances.js';
import { createInvitation } from './devices/invitations.js';
import { consoleLog, type Log } from './log.js';
import { PACKAGE_ROOT } from './package-root.js';
import type { Quotas } from './context.js';
import { parseTrustProxy } from './http/client-address.js';
import { parsePolicy, type Policy } from './policy.js';
import {
  systemResolver,
  testOriginOf,
  type HostResolver,
  type PushPolicy,
} from './push/endpoint-policy.js';
import type { NotifierOptions } from './push/notifier.js';
import { webPushSender, type PushSender } from './push/sender.js';
import { loadAdminToken, loadVapidKeys, type VapidKeys } from './secrets.js';
import { isActive } from './store/device-rules.js';
import { writeFileAtomic } from './store/files.js';
import { LowdbStore } from './store/lowdb-store.js';
import { PostgresStore, isPostgresUrl } from './store/postgres/postgres-store.js';
import { parseRetention, type Retention } from './store/retention.js';
import { recomputeChangeList } from './deployments/change-list.js';
import type { InvitationResponse } from '../protocol/index.js';

/** Options of `startServer` (the embedded plugin and `countersign serve` both use it). */
export type StartOptions = {
  /** Created when missing (mode 0700). */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 1881; 0 = any free port. */
  port?: number;
  /** PEM file paths or PEM contents. */
  tls?: { cert: string; key: string };
  /** The URL phones use; default the listen URL. Must be https except on this machine. */
  publicUrl?: string;
  name?: string;
  /** VAPID subject (`mailto:` or `https:`). */
  pushSubject?: string;
  /** Default policy of new instances: requiredApprovals 1, forbidSelfApproval false, expiresIn '24h'. */
  policy?: Partial<Policy>;
  clock?: Clock;
  /** The push sender; default the real web-push sender with this server's VAPID keys. */
  push?: PushSender;
  log?: Log;
  /** The built PWA; default `dist/pwa` of the package. */
  appDir?: string | null;
  notifier?: Partial<NotifierOptions>;
  heartbeatMs?: number;
  enrollFailures?: { max: number; windowMs: number };
  /** Addresses of reverse proxies whose `X-Forwarded-For` names the client (5.5). */
  trustProxy?: string[];
  /** How long decided deployments stay live (default 90 days and the last 500). */
  retention?: Partial<Retention>;
  /** Blob size and proposal rate limits per instance. */
  quotas?: Partial<Quotas>;
  /** How often the retention runs on a timer (it also runs after decisions). */
  pruneIntervalMs?: number;
  /**
   * The one push origin exempt from 5.6's https-and-public rule, for tests with a local receiver;
   * default `COUNTERSIGN_TEST_PUSH_ORIGIN`. The server warns at start while one is set.
   */
  testPushOrigin?: string | null;
  /** Resolves push hosts (default: the system resolver). */
  pushResolver?: HostResolver;
  /**
   * The store: a `postgres://` URL for PostgreSQL (several replicas may share it; each keeps only
   * `server.json` and a copy of the shared `admin.token` in its data directory); default lowdb in
   * the data directory.
   */
  store?: string;
};

/** A running approval server. */
export type RunningServer = {
  /** The listen URL. */
  url: string;
  publicUrl: string;
  port: number;
  serverId: string;
  /** The loopback admin API's URL (also in `<dataDir>/server.json`). */
  adminUrl: string;
  /**
   * A plain-http loopback URL of the same API, for a plugin in this process: with TLS, the listen
   * URL's certificate names the public host, not 127.0.0.1. Equal to `url` without TLS.
   */
  localUrl: string;
  dataDir: string;
  /** The apps and services (tests reach the context through it). */
  handle: CountersignApp;
  close(): Promise<void>;
  /** Creates the instance, or issues it a new token (the old one stops working). */
  ensureInstance(
    name: string,
    policy?: Partial<Policy>,
  ): Promise<{ id: string; name: string; token: string }>;
  invite(request: { owner: string; name: string }): Promise<InvitationResponse>;
  hasActiveDevices(): Promise<boolean>;
};

const openDirs = new Set<string>();

function pem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Checks a public URL: http(s), https unless on this machine, no query or fragment. */
export function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CountersignError('ERR_CONFIG', `publicUrl is not a URL: ${value}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname))) {
    throw new CountersignError('ERR_CONFIG', 'publicUrl must be https (http only for localhost)');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new CountersignError('ERR_CONFIG', 'publicUrl must not have a query, fragment or user');
  }
  return url.href.replace(/\/+$/, '');
}

/** Refuses a data directory that a live server (this process or another) already uses. */
async function claimDataDir(dataDir: string): Promise<void> {
  if (openDirs.has(dataDir)) {
    throw new CountersignError(
      'ERR_CONFIG',
      `a Countersign server in this process already uses ${dataDir}`,
    );
  }
  try {
    const info = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')) as {
      pid?: number;
    };
    if (typeof info.pid === 'number' && info.pid !== process.pid) {
      let alive = false;
      try {
        process.kill(info.pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) {
        throw new CountersignError(
          'ERR_CONFIG',
          `another Countersign server (pid ${info.pid}) uses ${dataDir}: one writer only`,
        );
      }
    }
  } catch (err) {
    if (err instanceof CountersignError) throw err;
  }
  openDirs.add(dataDir);
}

/**
 * How long the public listener keeps an idle connection: longer than a reverse proxy keeps its idle
 * connections to it (Caddy: 2 minutes; nginx and most load balancers: 60 s), so the proxy always
 * closes first. With Node's default of 5 s, the server closed connections the proxy still held, and
 * a request the proxy sent on one just then was answered 502 (`write: broken pipe`): a plugin's
 * upload or a phone's decision refused for nothing (`test/fleet/proxy.test.ts` met it).
 */
const KEEP_ALIVE_MS = 130_000;

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen((server.address() as AddressInfo).port);
    });
  });
}

function closeListener(server: http.Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

/**
 * Starts the approval server: opens the store in `dataDir` (refusing a corrupt one), makes VAPID
 * keys and `admin.token` on first start, listens, and starts the loopback admin API, whose address
 * goes to `<dataDir>/server.json` for the command line.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const dataDir = resolve(options.dataDir);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? consoleLog;
  const host = options.host ?? '127.0.0.1';
  const policy = parsePolicy(options.policy ?? undefined);
  const retention = parseRetention(options.retention ?? undefined);
  const trustProxy = parseTrustProxySetting(options.trustProxy);
  if (options.publicUrl !== undefined) parsePublicUrl(options.publicUrl);
  const testOrigin =
    options.testPushOrigin !== undefined
      ? testOriginOf(options.testPushOrigin ?? undefined)
      : testOriginOf(process.env.COUNTERSIGN_TEST_PUSH_ORIGIN);
  const pushPolicy: PushPolicy = {
    testOrigin,
    resolve: options.pushResolver ?? systemResolver,
  };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await claimDataDir(dataDir);
  const storeUrl = options.store !== undefined ? parseStoreUrl(options.store) : null;
  let store: LowdbStore | PostgresStore | null = null;
  try {
    let vapid: VapidKeys;
    let adminToken: string;
    if (storeUrl !== null) {
      // Replicas share the database's secrets; the command line reads the token from here.
      const shared = await PostgresStore.open(storeUrl, clock);
      store = shared;
      ({ vapid, adminToken } = shared.secrets);
      await writeFileAtomic(join(dataDir, 'admin.token'), adminToken + '\n', 0o600);
    } else {
      store = await LowdbStore.open(dataDir, clock, { recomputeChanges: recomputeChangeList });
      vapid = await loadVapidKeys(dataDir);
      adminToken = await loadAdminToken(dataDir);
    }

    const tls = options.tls ? { cert: pem(options.tls.cert), key: pem(options.tls.key) } : null;
    const main = tls ? https.createServer(tls) : http.createServer();
    main.keepAliveTimeout = KEEP_ALIVE_MS;
    const port = await listen(main, options.port ?? 1881, host);
    const url = `${tls ? 'https' : 'http'}://${urlHost(host)}:${port}`;
    const publicUrl = options.publicUrl !== undefined ? parsePublicUrl(options.publicUrl) : url;
    const pushSubject =
      options.pushSubject ??
      (publicUrl.startsWith('https:') ? publicUrl : 'mailto:admin@countersign.invalid');
    const push = options.push ?? webPushSender({ vapid, subject: pushSubject, policy: pushPolicy });
    if (testOrigin !== null) {
      log.warn(
        `COUNTERSIGN_TEST_PUSH_ORIGIN is set: pushes to ${testOrigin} skip the https and public-address checks (tests only)`,
      );
    }
    const appDir =
      options.appDir === undefined ? join(PACKAGE_ROOT, 'dist', 'pwa') : options.appDir;

    const admin = http.createServer();
    const adminPort = await listen(admin, 0, '127.0.0.1');
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const openStore = store;
    const handle = createServer({
      store: openStore,
      push,
      clock,
      log,
      config: {
        publicUrl,
        vapidPublicKey: vapid.publicKey,
        name: options.name ?? 'Countersign',
        policy,
        appDir,
        hsts: tls !== null,
        adminToken,
        ...(options.notifier ? { notifier: options.notifier } : {}),
        ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
        ...(options.enrollFailures ? { enrollFailures: options.enrollFailures } : {}),
        trustProxy,
        ...(options.quotas ? { quotas: { ...resolveQuotas(options.quotas) } } : {}),
        ...(options.pruneIntervalMs ? { pruneIntervalMs: options.pruneIntervalMs } : {}),
        retention,
        pushPolicy,
      },
      statusExtras: () => ({
        url,
        adminUrl,
        pid: process.pid,
        eventStreams: handle.ctx.events.size,
      }),
    });
    main.on('request', handle.listener);
    admin.on('request', handle.adminApp);
    // With TLS, a loopback listener of the same app lets the embedding plugin talk plain http.
    const local = tls ? http.createServer(handle.listener) : null;
    const localUrl = local ? `http://127.0.0.1:${await listen(local, 0, '127.0.0.1')}` : url;
    const serverId = openStore.serverId;
    await writeFileAtomic(
      join(dataDir, 'server.json'),
      JSON.stringify({ pid: process.pid, url, publicUrl, adminUrl, serverId }, null, 2) + '\n',
      0o600,
    );
    await openStore.appendAudit([
      { type: 'server-started', data: { url, publicUrl, version: handle.ctx.config.version } },
    ]);
    log.info(`approval server ${serverId.slice(0, 8)} listening on ${url} (public ${publicUrl})`);

    let closed: Promise<void> | null = null;
    return {
      url,
      publicUrl,
      port,
      serverId,
      adminUrl,
      localUrl,
      dataDir,
      handle,
      close() {
        closed ??= (async () => {
          await handle.close();
          await Promise.all([
            closeListener(main),
            closeListener(admin),
            ...(local ? [closeListener(local)] : []),
          ]);
          await openStore.appendAudit([{ type: 'server-stopped', data: {} }]).catch(() => {});
          await openStore.close();
          await unlink(join(dataDir, 'server.json')).catch(() => {});
          openDirs.delete(dataDir);
        })();
        return closed;
      },
      ensureInstance: (name, p) => issueInstance(handle.ctx, name, p, 'ensure'),
      invite: (request) => createInvitation(handle.ctx, parseInvitationRequest(request), 'admin'),
      hasActiveDevices: async () => (await openStore.devices()).some(isActive),
    };
  } catch (err) {
    openDirs.delete(dataDir);
    await store?.close().catch(() => {});
    throw err;
  }
}

/** Checks a store setting: a `postgres://` URL (lowdb needs none). */
export function parseStoreUrl(value: string): string {
  if (!isPostgresUrl(value)) {
    throw new CountersignError(
      'ERR_CONFIG',
      'store must be a postgres:// URL (without one, the store is lowdb in the data directory)',
    );
  }
  return value;
}

/** Checks `trustProxy` (ERR_CONFIG naming the bad entry). */
function parseTrustProxySetting(value: unknown): string[] {
  try {
    return parseTrustProxy(value);
  } catch (err) {
    throw new CountersignError('ERR_CONFIG', (err as Error).message);
  }
}

/** Quotas over the defaults. */
function resolveQuotas(quotas: Partial<Quotas>): Quotas {
  return {
    blobBytes: quotas.blobBytes ?? 64 << 20,
    proposals: quotas.proposals ?? { max: 60, windowMs: 10 * 60_000 },
  };
}

/** True when `dataDir` has a store (used by the command line for friendlier messages). */
export function hasStore(dataDir: string): boolean {
  return existsSync(join(dataDir, 'countersign.json'));
}
