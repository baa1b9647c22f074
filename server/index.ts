/** The approval server: embedded by the plugin or run by `countersign serve`. */
export {
  createServer,
  resolveConfig,
  type CountersignApp,
  type CreateServerConfig,
} from './app.js';
export { startServer, parsePublicUrl, type RunningServer, type StartOptions } from './start.js';
export { systemClock, type Clock } from './clock.js';
export { consoleLog, silentLog, type Log } from './log.js';
export { DEFAULT_POLICY, parsePolicy, durationSeconds, type Policy } from './policy.js';
export {
  webPushSender,
  type PushSender,
  type PushRequest,
  type PushResult,
} from './push/sender.js';
export { LowdbStore } from './store/lowdb-store.js';
export { PostgresStore } from './store/postgres/postgres-store.js';
export type { Store } from './store/types.js';
export type { ServerConfig, Context } from './context.js';
export { CONTENT_SECURITY_POLICY } from './http/headers.js';
