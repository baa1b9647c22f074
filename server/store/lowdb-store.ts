import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { CountersignError, randomId, type Change } from '../../protocol/index.js';
import { AuditFile } from '../audit/audit-file.js';
import type { Clock } from '../clock.js';
import { BlobFiles } from './blob-files.js';
import { writeFileAtomic } from './files.js';
import { SCHEMA_VERSION, type Store, type StoreData } from './types.js';

function emptyData(): StoreData {
  return {
    schema: SCHEMA_VERSION,
    serverId: randomId(16),
    instances: [],
    devices: [],
    invitations: [],
    deployments: [],
    approvalJtis: {},
    proofJtis: {},
    blobOwners: {},
  };
}

/** Checks the parsed document enough that the server can trust its shape. */
function checkData(value: unknown, path: string): StoreData {
  const d = value as Partial<StoreData> | null;
  const ok =
    typeof d === 'object' &&
    d !== null &&
    typeof d.schema === 'number' &&
    typeof d.serverId === 'string' &&
    Array.isArray(d.instances) &&
    Array.isArray(d.devices) &&
    Array.isArray(d.invitations) &&
    Array.isArray(d.deployments) &&
    typeof d.approvalJtis === 'object' &&
    typeof d.proofJtis === 'object';
  if (!ok) {
    throw new CountersignError('ERR_STORE_CORRUPT', `${path} is not a Countersign store`);
  }
  if (d.schema! > SCHEMA_VERSION) {
    throw new CountersignError(
      'ERR_STORE_CORRUPT',
      `${path} has schema ${d.schema}, newer than this server (${SCHEMA_VERSION}): upgrade Countersign`,
    );
  }
  return { blobOwners: {}, ...d } as StoreData;
}

/**
 * The default store (DESIGN 6): `countersign.json` through lowdb, `changes/<id>.json`,
 * `blobs/<rev>.json` and `audit.jsonl` in the data directory.
 */
export class LowdbStore implements Store {
  readonly #db: Low<StoreData>;
  readonly #dir: string;
  readonly blobs: BlobFiles;
  readonly audit: AuditFile;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, db: Low<StoreData>, clock: Clock) {
    this.#dir = dir;
    this.#db = db;
    this.blobs = new BlobFiles(join(dir, 'blobs'));
    this.audit = new AuditFile(join(dir, 'audit.jsonl'), clock);
  }

  /**
   * Opens (or creates) the store in `dir`. A document that does not parse, or is not a store,
   * stops here with ERR_STORE_CORRUPT and is left exactly as it was.
   */
  static async open(dir: string, clock: Clock): Promise<LowdbStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'changes'), { recursive: true, mode: 0o700 });
    const path = join(dir, 'countersign.json');
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let data: StoreData;
    if (text === null) {
      data = emptyData();
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (cause) {
        throw new CountersignError(
          'ERR_STORE_CORRUPT',
          `${path} does not parse as JSON; the server will not start and has not changed it. Restore it from a backup.`,
          { cause },
        );
      }
      data = checkData(parsed, path);
    }
    // `new Low(new JSONFile(...))`, not JSONFilePreset: the preset keeps data in memory under NODE_ENV=test.
    const db = new Low<StoreData>(new JSONFile<StoreData>(path), data);
    const store = new LowdbStore(dir, db, clock);
    await store.blobs.init();
    await store.audit.init();
    if (text === null) await db.write();
    return store;
  }

  get data(): Readonly<StoreData> {
    return this.#db.data;
  }

  update<T>(fn: (data: StoreData) => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      const result = await fn(this.#db.data);
      // The write is started (and its text captured) before the next update runs; lowdb's writer
      // coalesces writes that arrive while one is in flight.
      return { result, written: this.#db.write() };
    });
    this.#queue = run.catch(() => {});
    return run.then(async ({ result, written }) => {
      await written;
      return result;
    });
  }

  #changesPath(id: string): string {
    if (!/^[0-9a-f]{1,64}$/.test(id))
      throw new CountersignError('ERR_NOT_FOUND', 'no such deployment');
    return join(this.#dir, 'changes', `${id}.json`);
  }

  async putChanges(id: string, changes: Change[]): Promise<void> {
    await writeFileAtomic(this.#changesPath(id), JSON.stringify(changes));
  }

  async getChanges(id: string): Promise<Change[]> {
    return JSON.parse(await readFile(this.#changesPath(id), 'utf8')) as Change[];
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#db.write();
    await this.audit.close();
  }
}
