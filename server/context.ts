import type { Clock } from './clock.js';
import type { InstanceEvents } from './events/instance-events.js';
import type { Log } from './log.js';
import type { Notifier } from './push/notifier.js';
import type { JtiCache } from './auth/jti-cache.js';
import type { FailureLimiter } from './devices/failure-limiter.js';
import type { Policy } from './policy.js';
import type { Store } from './store/types.js';

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
  limits: { jsonBytes: number; decisionBytes: number; blobBytes: number };
  /** SSE heartbeat interval. */
  heartbeatMs: number;
  /** Bad invitation codes allowed per client address and window before 429. */
  enrollFailures: { max: number; windowMs: number };
  /** Addresses of reverse proxies whose `X-Forwarded-For` names the client (5.5). */
  trustProxy: string[];
};

/** Everything a service function needs: passed in, never imported. */
export type Context = {
  store: Store;
  clock: Clock;
  log: Log;
  config: ServerConfig;
  notifier: Notifier;
  events: InstanceEvents;
  proofJtis: JtiCache;
  enrollLimiter: FailureLimiter;
};
