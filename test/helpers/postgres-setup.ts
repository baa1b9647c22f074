/** Vitest global setup of the `postgres` project: one PostgreSQL server for the whole run. */
import { startPostgres } from './postgres.js';

export default async function setup(): Promise<() => Promise<void>> {
  const server = await startPostgres();
  // Read by `testStoreFor` in the test processes, which inherit this environment.
  process.env.COUNTERSIGN_TEST_POSTGRES = server.url;
  return () => server.stop();
}
