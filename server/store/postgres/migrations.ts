/**
 * The PostgreSQL store's schema, as numbered migrations shipped in the package. They run at start
 * under an advisory lock, so replicas starting together apply each one once; a database whose
 * schema is newer than this package knows is refused, never changed.
 */
import type { PoolClient } from 'pg';
import { CountersignError } from '../../../protocol/index.js';

/** Advisory lock keys (one namespace for the store). */
export const LOCKS = { migrate: 7_261_001, devices: 7_261_003, prune: 7_261_004 };

/** Records are `json` (not `jsonb`): kept exactly as written, key order included. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key text PRIMARY KEY, value json NOT NULL);
   CREATE TABLE instances (
     n bigserial UNIQUE, id text PRIMARY KEY, name text NOT NULL UNIQUE, token_hash text NOT NULL,
     record json NOT NULL);
   CREATE TABLE devices (n bigserial UNIQUE, id text PRIMARY KEY, record json NOT NULL);
   CREATE TABLE invitations (
     n bigserial UNIQUE, code_hash text PRIMARY KEY, expires_at timestamptz NOT NULL,
     record json NOT NULL);
   CREATE TABLE deployments (
     n bigserial UNIQUE, id text PRIMARY KEY, instance_id text NOT NULL, status text NOT NULL,
     decided boolean NOT NULL, decided_at timestamptz, files_kept boolean NOT NULL DEFAULT true,
     base text NOT NULL, target text NOT NULL, record json NOT NULL, changes json NOT NULL);
   CREATE INDEX deployments_live ON deployments (instance_id, status) WHERE NOT decided;
   CREATE INDEX deployments_page ON deployments (decided, n DESC);
   CREATE INDEX deployments_kept ON deployments (decided_at) WHERE decided AND files_kept;
   CREATE INDEX deployments_revs ON deployments (base, target) WHERE files_kept;
   CREATE TABLE blobs (
     rev text PRIMARY KEY, bytes bytea NOT NULL, owners text[] NOT NULL, at timestamptz NOT NULL);
   CREATE TABLE jtis (key text PRIMARY KEY, until_s bigint NOT NULL);
   CREATE INDEX jtis_until ON jtis (until_s);
   CREATE TABLE rate_events (key text NOT NULL, at_ms bigint NOT NULL);
   CREATE INDEX rate_events_key ON rate_events (key, at_ms);
   CREATE TABLE audit (seq bigint PRIMARY KEY, deployment text, line text NOT NULL);
   CREATE TABLE audit_head (id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL);
   INSERT INTO audit_head VALUES (1, 0, repeat('0', 64));
   CREATE INDEX audit_deployment ON audit (deployment, seq) WHERE deployment IS NOT NULL;
   CREATE TABLE deployment_events (
     seq bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), record json NOT NULL);`,
];

/** Applies the migrations this database lacks, holding the migration lock (one replica at a time). */
export async function migrate(client: PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [LOCKS.migrate]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM schema_migrations',
    );
    const current = rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new CountersignError(
        'ERR_STORE_CORRUPT',
        `the database's schema is version ${current}, newer than this server knows (${MIGRATIONS.length}); not changed`,
      );
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[version - 1]!);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCKS.migrate]);
  }
}
