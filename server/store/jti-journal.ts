/**
 * Short-lived single-use ids (5.3 proof `jti`s, 5.5 enrolment proofs): kept in memory and appended
 * to `jtis.jsonl`, one `[key, untilS]` a line, so a restart does not reopen their window. The file
 * is rewritten with the unexpired ones once it holds many expired lines; no write grows with
 * history, and none rewrites the store's document.
 *
 * A line is written with one synchronous `write` before `use` answers (a few microseconds into the
 * page cache, as the asynchronous append it replaces reached it, without that append's round trip
 * through the thread pool on every device request): once a request has been answered, its jti is
 * in the file, and a process killed at any moment after that refuses it when it starts again.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { readJsonLines, writeFileAtomic } from './files.js';

/** Lines written between two sweeps of the expired keys from memory. */
const SWEEP_EVERY = 1024;

/** The jti journal of one data directory. */
export class JtiJournal {
  readonly #path: string;
  readonly #seen = new Map<string, number>();
  #lines = 0;
  #fd: number | null = null;
  /** The rewrite under way: lines of requests that arrive meanwhile wait for the new file. */
  #compaction: Promise<void> | null = null;
  #waiting: string[] = [];
  /** Lines written since expired keys were last dropped from memory. */
  #sinceSweep = 0;

  private constructor(path: string) {
    this.#path = path;
  }

  /** Loads the unexpired entries (a torn last line is ignored) and rewrites the file with them. */
  static async open(
    path: string,
    nowS: number,
    carried: Record<string, number> = {},
  ): Promise<JtiJournal> {
    const journal = new JtiJournal(path);
    for (const line of await readJsonLines(path)) {
      if (!Array.isArray(line)) continue;
      const [key, until] = line as unknown[];
      if (typeof key === 'string' && typeof until === 'number') journal.#seen.set(key, until);
    }
    for (const [key, until] of Object.entries(carried)) journal.#seen.set(key, until);
    await journal.#compact(nowS);
    return journal;
  }

  /** Marks `key` used until `untilS`; false when it is in use. Resolves once the line is written. */
  use(key: string, untilS: number, nowS: number): Promise<boolean> {
    const known = this.#seen.get(key);
    if (known !== undefined && known >= nowS) return Promise.resolve(false);
    // Marked before anything is awaited: a concurrent request with the same key sees it.
    this.#seen.set(key, untilS);
    const line = JSON.stringify([key, untilS]) + '\n';
    if (this.#compaction) {
      this.#waiting.push(line);
      return this.#compaction.then(() => true);
    }
    try {
      this.#write(line, 1);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (++this.#sinceSweep >= SWEEP_EVERY) {
      // Every key is a new one on most requests: the expired ones leave memory here, and the file
      // is rewritten once most of its lines are expired.
      this.#sinceSweep = 0;
      for (const [k, v] of this.#seen) if (v < nowS) this.#seen.delete(k);
    }
    if (this.#lines > 2 * this.#seen.size + 1024) this.#startCompaction(nowS);
    return Promise.resolve(true);
  }

  /** Appends `text`, `count` whole lines, to the file. */
  #write(text: string, count: number): void {
    if (this.#fd === null) throw new Error('the jti journal is not open');
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length;) at += writeSync(this.#fd, bytes, at);
    this.#lines += count;
  }

  /**
   * Rewrites the file off the request path. The lines of requests that arrive meanwhile are
   * written once it is done (into the new file), and only then are those requests answered; when
   * the rewrite fails, they are refused with its error (their jtis stay used in memory).
   */
  #startCompaction(nowS: number): void {
    const compaction = this.#compact(nowS).finally(() => {
      this.#compaction = null;
      const lines = this.#waiting;
      this.#waiting = [];
      if (lines.length > 0) this.#write(lines.join(''), lines.length);
    });
    this.#compaction = compaction;
    compaction.catch(() => {});
  }

  async #compact(nowS: number): Promise<void> {
    for (const [k, v] of this.#seen) if (v < nowS) this.#seen.delete(k);
    const text = [...this.#seen].map((e) => JSON.stringify(e) + '\n').join('');
    // Lines written while the rewrite is under way wait in #waiting; the rewrite holds the rest.
    await writeFileAtomic(this.#path, text, 0o600);
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    this.#fd = openSync(this.#path, 'a', 0o600);
    this.#lines = this.#seen.size;
  }

  async close(): Promise<void> {
    await this.#compaction?.catch(() => {});
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
