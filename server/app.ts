import type { RequestListener } from 'node:http';
import express from 'express';
import { systemClock, type Clock } from './clock.js';
import type { Context, ServerConfig } from './context.js';
import { expireDue } from './deployments/lifecycle.js';
import { eventOf } from './deployments/views.js';
import { FailureLimiter } from './devices/failure-limiter.js';
import { InstanceEvents } from './events/instance-events.js';
import { Pruner } from './history/pruner.js';
import { ParsedSnapshots } from './deployments/parsed-snapshots.js';
import { adminRouter, type StatusExtras } from './http/admin.js';
import { apiRouter } from './http/api.js';
import { errorHandler, notFound } from './http/errors.js';
import { decisionHandler, directDecision } from './http/decision-route.js';
import { securityHeaderSetter, securityHeaders } from './http/headers.js';
import { staticApp } from './http/static-app.js';
import { consoleLog, type Log } from './log.js';
import { VERSION } from './package-root.js';
import { DEFAULT_POLICY } from '../protocol/index.js';
import { systemResolver, type PushPolicy } from './push/endpoint-policy.js';
import { Notifier, type NotifierOptions } from './push/notifier.js';
import type { PushSender } from './push/sender.js';
import { DEFAULT_RETENTION } from './store/retention.js';
import type { Store } from './store/types.js';
import { API_PREFIX, MAX_DECISION_BODY_BYTES } from '../protocol/index.js';

/** Settings of `createServer`; everything but the public URL and VAPID key has a default. */
export type CreateServerConfig = Partial<ServerConfig> &
  Pick<ServerConfig, 'publicUrl' | 'vapidPublicKey'> & {
    adminToken?: string;
    notifier?: Partial<NotifierOptions>;
    /** How often pending deployments are checked for expiry. */
    expiryCheckMs?: number;
    /** How often the retention is applied on a timer (it also runs after decisions). */
    pruneIntervalMs?: number;
    /** Where push endpoints may point (5.6); default: public https only, the system resolver. */
    pushPolicy?: PushPolicy;
  };

/** What `createServer` returns: the express app, the admin app, and the handles to stop them. */
export type CountersignApp = {
  /** The public app: API under /api/v1 and the PWA at /. */
  app: express.Express;
  /** What the public listeners run: the decision route's direct path, then `app`. */
  listener: RequestListener;
  /** The loopback admin app (mount it on a listener bound to 127.0.0.1). */
  adminApp: express.Express;
  ctx: Context;
  /** Ends event streams, stops timers, waits for pushes in flight. */
  close(): Promise<void>;
};

/** Fills in the defaults of a server config. */
export function resolveConfig(config: CreateServerConfig): ServerConfig {
  return {
    name: config.name ?? 'Countersign',
    publicUrl: config.publicUrl.replace(/\/+$/, ''),
    policy: config.policy ?? DEFAULT_POLICY,
    vapidPublicKey: config.vapidPublicKey,
    version: config.version ?? VERSION,
    appDir: config.appDir ?? null,
    hsts: config.hsts ?? false,
    limits: { jsonBytes: 1 << 20, decisionBytes: MAX_DECISION_BODY_BYTES, ...config.limits },
    quotas: {
      blobBytes: config.quotas?.blobBytes ?? 64 << 20,
      proposals: config.quotas?.proposals ?? { max: 60, windowMs: 10 * 60_000 },
    },
    heartbeatMs: config.heartbeatMs ?? 15_000,
    enrollFailures: config.enrollFailures ?? { max: 5, windowMs: 10 * 60_000 },
    trustProxy: config.trustProxy ?? [],
    retention: config.retention ?? DEFAULT_RETENTION,
  };
}

/**
 * The approval server's HTTP apps over a store, a push sender, a clock and a log (all passed in:
 * tests fix the clock and use a local push receiver). `startServer` wires files and listeners to it.
 */
export function createServer(deps: {
  store: Store;
  push: PushSender;
  clock?: Clock;
  log?: Log;
  config: CreateServerConfig;
  statusExtras?: StatusExtras;
}): CountersignApp {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? consoleLog;
  const config = resolveConfig(deps.config);
  const ctx: Context = {
    store: deps.store,
    clock,
    log,
    config,
    notifier: new Notifier({
      store: deps.store,
      sender: deps.push,
      clock,
      log,
      ...(deps.config.notifier ? { options: deps.config.notifier } : {}),
    }),
    events: new InstanceEvents(config.heartbeatMs),
    enrollLimiter: new FailureLimiter(
      deps.store,
      config.enrollFailures.max,
      config.enrollFailures.windowMs,
      clock,
      'enroll-failure:',
    ),
    pushPolicy: deps.config.pushPolicy ?? { testOrigin: null, resolve: systemResolver },
    pruner: new Pruner({ store: deps.store, clock, log, retention: config.retention }),
    snapshots: new ParsedSnapshots(),
  };
  // The plugins' event stream is fed by the store: every stored change of a deployment.
  const unsubscribe = deps.store.subscribe(({ deployment: d }) => {
    ctx.events.publish(d.instanceId, eventOf(d));
    if (d.status !== 'pending') ctx.log.info(`deployment ${d.id} ${d.status}`);
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders({ hsts: config.hsts }));
  app.use(API_PREFIX, apiRouter(ctx));
  app.use(API_PREFIX, notFound);
  app.use(staticApp(config.appDir));
  app.use(notFound);
  app.use(errorHandler(log));

  // Phones' decisions skip express (decision-route.ts); every other request goes to the app.
  const direct = directDecision(
    ctx,
    decisionHandler(ctx),
    securityHeaderSetter({ hsts: config.hsts }),
  );
  const listener: RequestListener = (req, res) => {
    if (!direct(req, res)) void app(req, res);
  };

  const adminApp = express();
  adminApp.disable('x-powered-by');
  adminApp.use(securityHeaders({ hsts: false }));
  if (deps.config.adminToken) {
    adminApp.use(
      `${API_PREFIX}/admin`,
      adminRouter(ctx, deps.config.adminToken, deps.statusExtras ?? (() => ({}))),
    );
  }
  adminApp.use(notFound);
  adminApp.use(errorHandler(log));

  const timer = setInterval(() => {
    expireDue(ctx).catch((err: unknown) =>
      log.warn(`expiry check failed: ${(err as Error).message}`),
    );
  }, deps.config.expiryCheckMs ?? 30_000);
  timer.unref?.();
  ctx.pruner.start(deps.config.pruneIntervalMs ?? 10 * 60_000);

  return {
    app,
    listener,
    adminApp,
    ctx,
    async close() {
      clearInterval(timer);
      unsubscribe();
      ctx.events.closeAll();
      await ctx.pruner.close();
      await ctx.notifier.close();
    },
  };
}
