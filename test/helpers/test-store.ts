/**
 * Which store the test servers use. The `postgres` test project sets `COUNTERSIGN_TEST_STORE=postgres`
 * and its global setup starts one PostgreSQL server for the run (`COUNTERSIGN_TEST_POSTGRES`); each
 * new data directory then gets a fresh database, and a restart on the same data directory finds
 * its database again. Elsewhere the store is lowdb in the data directory.
 */
import { freshDatabase } from './postgres.js';

const databases = new Map<string, Promise<string>>();

/** True when the test servers of this run use PostgreSQL. */
export function onPostgres(): boolean {
  return process.env.COUNTERSIGN_TEST_STORE === 'postgres';
}

/** The `store` option for a test server in `dataDir`: a database URL, or undefined for lowdb. */
export function testStoreFor(dataDir: string): Promise<string> | undefined {
  if (!onPostgres()) return undefined;
  const server = process.env.COUNTERSIGN_TEST_POSTGRES;
  if (!server) throw new Error('COUNTERSIGN_TEST_STORE=postgres needs the postgres global setup');
  let url = databases.get(dataDir);
  if (!url) {
    url = freshDatabase(server);
    databases.set(dataDir, url);
  }
  return url;
}
