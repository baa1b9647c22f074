import type { Clock } from './clock.js';
import type { InstanceEvents } from './events/instance-events.js';
import type { Log } from './log.js';
import type { Notifier } from './push/notifier.js';
import type { PushPolicy } from './push/endpoint-policy.js';
import type { FailureLimiter } from './devices/failure-limiter.js';
import type { Pruner } from './history/pruner.js';
import type { ParsedSnapshots } from './deployments/parsed-snapshots.js';
import type { Policy } from '../protocol/index.js';
import type { Retention } from './store/retention.js';
import type { Store } from './store/types.js';

/** Quotas on what an instance may send (issue: a data directory must not grow without bound). */
export type Quotas = {
  /** Largest blob in bytes (413 past it). */
  blobBytes: number;
  /** Proposals per instance and window (429 past it); blob uploads may be four times as many. */
  proposals: { max: number; windowMs: number };
};

/** Settings the HTTP layer and the services read; `startServer` fills them from options. */
export type ServerConfig = {
  /** Shown by `GET /config` and in notifications. */
  name: string;
  /** The URL phones use, without a trailing slash; `htu` is checked against it (5.7). */
  publicUrl: string;
  /** Default policy of new instances. */
  policy: Policy;
  vapidPublicKey: string;
  version: string;
  /** The built PWA, or null to answer a short page saying it is not built. */
  appDir: string | null;
  /** Send Strict-Transport-Security (TLS). */
  hsts: boolean;
  limits: { jsonBytes: number; decisionBytes: number };
  quotas: Quotas;
  /** SSE heartbeat interval. */
  heartbeatMs: number;
  /** Bad invitation codes allowed per client address and window before 429. */
  enrollFailures: { max: number; windowMs: number };
  /** Addresses of reverse proxies whose `X-Forwarded-For` names the client (5.5). */
  trustProxy: string[];
  /** How long decided deployments keep their snapshots and change lists (DESIGN 6). */
  retention: Retention;
};

/** Everything a service function needs: passed in, never imported. */
export type Context = {
  store: Store;
  clock: Clock;
  log: Log;
  config: ServerConfig;
  notifier: Notifier;
  events: InstanceEvents;
  enrollLimiter: FailureLimiter;
  /** Where push endpoints may point (5.6). */
  pushPolicy: PushPolicy;
  pruner: Pruner;
  /** Flows of recent snapshots, parsed once (upload, then proposals). */
  snapshots: ParsedSnapshots;
};
