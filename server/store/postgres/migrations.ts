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
  // A transaction's audit lines and events are chained at its COMMIT, inside the database: the
  // transaction adds one row to commit_tails, whose deferred trigger takes the audit head's row
  // lock, numbers and hashes the lines (hash = sha256(prev + canonical entry), the entry's
  // canonical text given in pieces around prev and seq), appends them and the events, and
  // notifies. The head lock is held from there to the end of the commit, never across a round
  // trip to a replica, so commits of different instances no longer queue behind one another.
  `CREATE INDEX instances_token ON instances (token_hash);
   CREATE TABLE commit_tails (
     id bigserial PRIMARY KEY, deployments text[] NOT NULL, canonical_heads text[] NOT NULL,
     canonical_tails text[] NOT NULL, line_middles text[] NOT NULL, events json[] NOT NULL);
   CREATE FUNCTION countersign_commit_tail() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     head_seq bigint;
     head_hash text;
     next_hash text;
   BEGIN
     SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
     FOR i IN 1 .. coalesce(array_length(NEW.canonical_heads, 1), 0) LOOP
       head_seq := head_seq + 1;
       next_hash := encode(sha256(convert_to(
         head_hash || NEW.canonical_heads[i] || head_hash || '","seq":' || head_seq
           || NEW.canonical_tails[i], 'UTF8')), 'hex');
       INSERT INTO audit (seq, deployment, line) VALUES (head_seq, NEW.deployments[i],
         '{"seq":' || head_seq || NEW.line_middles[i] || ',"prev":"' || head_hash
           || '","hash":"' || next_hash || '"}');
       head_hash := next_hash;
     END LOOP;
     UPDATE audit_head SET seq = head_seq, hash = head_hash WHERE id = 1;
     IF coalesce(array_length(NEW.events, 1), 0) > 0 THEN
       INSERT INTO deployment_events (record)
         SELECT e.record FROM unnest(NEW.events) WITH ORDINALITY AS e(record, i) ORDER BY e.i;
       PERFORM pg_notify('countersign_deployment', '');
     END IF;
     DELETE FROM commit_tails WHERE id = NEW.id;
     RETURN NULL;
   END $$;
   CREATE CONSTRAINT TRIGGER commit_tail AFTER INSERT ON commit_tails
     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION countersign_commit_tail();`,
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
