/**
 * Archived deployments (DESIGN 6): append-only monthly files `history/YYYY-MM.jsonl`, one decided
 * deployment a line, and `history/index.jsonl`, one `[id, month, offset, length, status]` a line, appended
 * after the line it names is on disk. The index is the truth of what is archived: a line the index
 * does not name (a crash between the two appends) is never read. Reading one deployment or a page
 * costs the same however long the history is.
 */
import { open, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CountersignError,
  DEPLOYMENT_STATES,
  type Change,
  type DeploymentStatus,
} from '../../protocol/index.js';
import type { DeploymentRecord } from './types.js';

/** An archived deployment: the record, and its changes without their content. */
export type ArchivedDeployment = DeploymentRecord & { changes: Change[] };

type IndexEntry = {
  id: string;
  month: string;
  offset: number;
  length: number;
  status: DeploymentStatus;
};

/** A change as the history keeps it: what it is, not what it held. */
export function changeOutline(change: Change): Change {
  const { id, kind, op, flow, node, fields, risk } = change;
  return {
    id,
    kind,
    op,
    flow,
    ...(node ? { node } : {}),
    ...(fields ? { fields } : {}),
    risk,
  };
}

/** The month file a deployment goes to: the month (UTC) it was decided. */
export function monthOf(d: DeploymentRecord): string {
  return (d.decidedAt ?? d.createdAt).slice(0, 7);
}

function parseIndexLine(line: string, path: string): IndexEntry {
  const value = JSON.parse(line) as unknown;
  if (
    !Array.isArray(value) ||
    typeof value[0] !== 'string' ||
    typeof value[1] !== 'string' ||
    !/^\d{4}-\d{2}$/.test(value[1]) ||
    !Number.isSafeInteger(value[2]) ||
    !Number.isSafeInteger(value[3]) ||
    !(DEPLOYMENT_STATES as readonly unknown[]).includes(value[4])
  ) {
    throw new CountersignError('ERR_STORE_CORRUPT', `${path} has a line that is not an entry`);
  }
  return {
    id: value[0],
    month: value[1],
    offset: value[2],
    length: value[3],
    status: value[4] as DeploymentStatus,
  };
}

/** The history files of one data directory. */
export class HistoryFiles {
  readonly #dir: string;
  readonly #entries: IndexEntry[] = [];
  readonly #byId = new Map<string, IndexEntry>();
  readonly #counts = new Map<DeploymentStatus, number>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Loads the index; a last line cut short by a crash is dropped (what it named was never archived). */
  static async open(dir: string): Promise<HistoryFiles> {
    const files = new HistoryFiles(dir);
    const path = join(dir, 'index.jsonl');
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) await truncate(path, Buffer.byteLength(text.slice(0, end)));
    for (const line of text.slice(0, end).split('\n')) {
      if (line === '') continue;
      files.#add(parseIndexLine(line, path));
    }
    return files;
  }

  #add(entry: IndexEntry): void {
    if (this.#byId.has(entry.id)) return;
    this.#entries.push(entry);
    this.#byId.set(entry.id, entry);
    this.#counts.set(entry.status, (this.#counts.get(entry.status) ?? 0) + 1);
  }

  /** How many deployments of `status` the history holds. */
  count(status: DeploymentStatus): number {
    return this.#counts.get(status) ?? 0;
  }

  /** Number of archived deployments. */
  get size(): number {
    return this.#entries.length;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  async get(id: string): Promise<ArchivedDeployment | null> {
    const entry = this.#byId.get(id);
    return entry ? this.#read(entry) : null;
  }

  /** Archived deployments at positions `[from, to)` of the archive order, newest first. */
  async slice(from: number, to: number): Promise<ArchivedDeployment[]> {
    const out: ArchivedDeployment[] = [];
    for (let i = Math.min(to, this.#entries.length) - 1; i >= Math.max(0, from); i--) {
      out.push(await this.#read(this.#entries[i]!));
    }
    return out;
  }

  async #read(entry: IndexEntry): Promise<ArchivedDeployment> {
    const path = join(this.#dir, `${entry.month}.jsonl`);
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(entry.length);
      const { bytesRead } = await handle.read(buffer, 0, entry.length, entry.offset);
      if (bytesRead !== entry.length) {
        throw new CountersignError('ERR_STORE_CORRUPT', `${path} is shorter than its index says`);
      }
      return JSON.parse(buffer.toString('utf8')) as ArchivedDeployment;
    } finally {
      await handle.close();
    }
  }

  /**
   * Appends deployments not archived yet: their lines first (fsynced), then their index entries
   * (fsynced). Already archived ids are skipped, so a prune interrupted after this step can run again.
   */
  async append(records: ArchivedDeployment[]): Promise<void> {
    const fresh = records.filter((r) => !this.#byId.has(r.id));
    if (fresh.length === 0) return;
    const byMonth = new Map<string, ArchivedDeployment[]>();
    for (const r of fresh) {
      const month = monthOf(r);
      byMonth.set(month, [...(byMonth.get(month) ?? []), r]);
    }
    const entries: IndexEntry[] = [];
    for (const [month, list] of byMonth) {
      const handle = await open(join(this.#dir, `${month}.jsonl`), 'a', 0o600);
      try {
        let offset = (await handle.stat()).size;
        const chunks: Buffer[] = [];
        for (const r of list) {
          const line = Buffer.from(JSON.stringify(r) + '\n');
          entries.push({ id: r.id, month, offset, length: line.length - 1, status: r.status });
          offset += line.length;
          chunks.push(line);
        }
        await handle.writeFile(Buffer.concat(chunks));
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    const index = await open(join(this.#dir, 'index.jsonl'), 'a', 0o600);
    try {
      await index.writeFile(
        entries
          .map((e) => JSON.stringify([e.id, e.month, e.offset, e.length, e.status]) + '\n')
          .join(''),
      );
      await index.sync();
    } finally {
      await index.close();
    }
    for (const e of entries) this.#add(e);
  }
}
