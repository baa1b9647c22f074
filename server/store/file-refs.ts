/**
 * What the snapshot and change files are kept for, outside the document so that no command
 * rewrites it: which instances uploaded each blob (and when last), and which decided deployments
 * the retention keeps (with their revs). `files.jsonl` holds one change a line, appended, and is
 * rewritten with what holds when it has grown to many lines. A line lost to a crash costs at most a
 * kept file deleted early (the history keeps the deployment), never a file deleted that is in use:
 * lines are appended before the document that relies on them is written.
 */
import { writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { readJsonLines, writeFileAtomic } from './files.js';
import type { RecentDecision } from './retention.js';

/** Who uploaded a blob, and when last (unreferenced blobs are kept for a grace period after it). */
export type BlobRef = { owners: string[]; at: string };

type Line =
  | ['blob', string, string, string]
  | ['blob-', string]
  | ['recent', string, string, string, string]
  | ['recent-', string];

/** The file references of one data directory. */
export class FileRefs {
  readonly #path: string;
  readonly #blobs = new Map<string, BlobRef>();
  readonly #recent = new Map<string, RecentDecision>();
  #lines = 0;
  #handle: FileHandle | null = null;

  private constructor(path: string) {
    this.#path = path;
  }

  /** Loads `files.jsonl` (a torn last line is ignored), adds `carried` (an upgrade), compacts it. */
  static async open(
    path: string,
    carried: { blobs?: Record<string, BlobRef>; recent?: RecentDecision[] } = {},
  ): Promise<FileRefs> {
    const refs = new FileRefs(path);
    for (const line of await readJsonLines(path))
      if (Array.isArray(line)) refs.#apply(line as Line);
    for (const [rev, ref] of Object.entries(carried.blobs ?? {})) refs.#blobs.set(rev, ref);
    for (const r of carried.recent ?? []) refs.#recent.set(r.id, r);
    await refs.#compact();
    return refs;
  }

  #apply(line: Line): void {
    switch (line[0]) {
      case 'blob': {
        const [, rev, owner, at] = line;
        const ref = this.#blobs.get(rev) ?? { owners: [], at };
        if (!ref.owners.includes(owner)) ref.owners.push(owner);
        ref.at = at;
        this.#blobs.set(rev, ref);
        break;
      }
      case 'blob-':
        this.#blobs.delete(line[1]);
        break;
      case 'recent': {
        const [, id, base, target, decidedAt] = line;
        this.#recent.set(id, { id, base, target, decidedAt });
        break;
      }
      case 'recent-':
        this.#recent.delete(line[1]);
        break;
    }
  }

  async #append(lines: Line[]): Promise<void> {
    if (lines.length === 0) return;
    if (this.#lines > 2 * (this.#blobs.size + this.#recent.size) + 1024) await this.#compact();
    // A few dozen bytes to the page cache, with no fsync: synchronous, without a turn of the loop.
    writeSync(this.#handle!.fd, lines.map((l) => JSON.stringify(l) + '\n').join(''));
    for (const line of lines) this.#apply(line);
    this.#lines += lines.length;
  }

  async #compact(): Promise<void> {
    const lines: Line[] = [];
    for (const [rev, ref] of this.#blobs) {
      for (const owner of ref.owners) lines.push(['blob', rev, owner, ref.at]);
    }
    for (const r of this.#recent.values())
      lines.push(['recent', r.id, r.base, r.target, r.decidedAt]);
    await this.#handle?.close();
    await writeFileAtomic(this.#path, lines.map((l) => JSON.stringify(l) + '\n').join(''), 0o600);
    this.#handle = await open(this.#path, 'a', 0o600);
    this.#lines = lines.length;
  }

  blob(rev: string): BlobRef | undefined {
    return this.#blobs.get(rev);
  }

  blobs(): [string, BlobRef][] {
    return [...this.#blobs];
  }

  /** Decided deployments whose files are kept, in the order they were decided. */
  recent(): RecentDecision[] {
    return [...this.#recent.values()];
  }

  hasRecent(id: string): boolean {
    return this.#recent.has(id);
  }

  /** `owner` uploaded `rev` at `at`. */
  recordBlob(rev: string, owner: string, at: string): Promise<void> {
    return this.#append([['blob', rev, owner, at]]);
  }

  /** The retention keeps the files of these decided deployments. */
  addRecent(list: RecentDecision[]): Promise<void> {
    return this.#append(list.map((r) => ['recent', r.id, r.base, r.target, r.decidedAt]));
  }

  /** The retention no longer keeps these deployments' files, nor these blobs. */
  drop(ids: string[], revs: string[]): Promise<void> {
    return this.#append([
      ...ids.map((id): Line => ['recent-', id]),
      ...revs.map((rev): Line => ['blob-', rev]),
    ]);
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
  }
}
