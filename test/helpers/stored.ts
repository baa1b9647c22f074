/**
 * What a test server's store holds at rest, whichever store it runs on: the lowdb files in its
 * data directory, or the rows of its PostgreSQL database. Tests of "nothing secret is kept" and
 * "a stored blob changed behind the server's back" read and change the store through these.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { testStoreFor } from './test-store.js';

async function withDatabase<T>(dataDir: string, fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: await testStoreFor(dataDir)! });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/** The store's live state as text: `countersign.json`, or every row of the database's tables. */
export async function storedText(dataDir: string): Promise<string> {
  if (!testStoreFor(dataDir)) return readFileSync(join(dataDir, 'countersign.json'), 'utf8');
  return withDatabase(dataDir, async (db) => {
    const { rows } = await db.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`,
    );
    const parts: string[] = [];
    for (const { name } of rows) {
      const table = await db.query(`SELECT * FROM "${name}"`);
      parts.push(JSON.stringify(table.rows));
    }
    return parts.join('\n');
  });
}

/** The stored bytes of blob `rev`, or null. */
export async function storedBlob(dataDir: string, rev: string): Promise<Buffer | null> {
  if (!testStoreFor(dataDir)) {
    const file = join(dataDir, 'blobs', `${rev}.json`);
    return existsSync(file) ? readFileSync(file) : null;
  }
  return withDatabase(dataDir, async (db) => {
    const { rows } = await db.query<{ bytes: Buffer }>('SELECT bytes FROM blobs WHERE rev = $1', [
      rev,
    ]);
    return rows[0]?.bytes ?? null;
  });
}

/** Replaces the stored bytes of blob `rev` behind the server's back. */
export async function overwriteBlob(dataDir: string, rev: string, bytes: Buffer): Promise<void> {
  if (!testStoreFor(dataDir)) {
    writeFileSync(join(dataDir, 'blobs', `${rev}.json`), bytes);
    return;
  }
  await withDatabase(dataDir, (db) =>
    db.query('UPDATE blobs SET bytes = $2 WHERE rev = $1', [rev, bytes]),
  );
}
