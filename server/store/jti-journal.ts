/**
 * Short-lived single-use ids (5.3 proof `jti`s, 5.5 enrolment proofs): kept in memory and appended
 * to `jtis.jsonl`, one `[key, untilS]` a line, so a restart does not reopen their window. The file
 * is rewritten with the unexpired ones once it holds many expired lines; no write grows with
 * history, and none rewrites the store's document.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { readJsonLines, writeFileAtomic } from './files.js';

/** The jti journal of one data directory. */
export class JtiJournal {
  readonly #path: string;
  readonly #seen = new Map<string, number>();
  #lines = 0;
  #handle: FileHandle | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  /** Lines waiting for the next write, and the write that will take them. */
  #pending: string[] = [];
  #batch: Promise<boolean> | null = null;

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

  /**
   * Marks `key` used until `untilS`; false when it is in use. Resolves once the line is written:
   * the lines of the requests that arrive while a write is under way go together in the next one.
   */
  use(key: string, untilS: number, nowS: number): Promise<boolean> {
    const known = this.#seen.get(key);
    if (known !== undefined && known >= nowS) return Promise.resolve(false);
    // Marked before anything is awaited: a concurrent request with the same key sees it.
    this.#seen.set(key, untilS);
    this.#pending.push(JSON.stringify([key, untilS]) + '\n');
    if (this.#batch) return this.#batch;
    const batch = this.#queue.then(async () => {
      this.#batch = null;
      const lines = this.#pending;
      this.#pending = [];
      if (this.#lines > 2 * this.#seen.size + 1024) await this.#compact(nowS);
      await this.#handle!.appendFile(lines.join(''));
      this.#lines += lines.length;
      return true;
    });
    this.#batch = batch;
    this.#queue = batch.catch(() => {});
    return batch;
  }

  async #compact(nowS: number): Promise<void> {
    for (const [k, v] of this.#seen) if (v < nowS) this.#seen.delete(k);
    const text = [...this.#seen].map((e) => JSON.stringify(e) + '\n').join('');
    await this.#handle?.close();
    await writeFileAtomic(this.#path, text, 0o600);
    this.#handle = await open(this.#path, 'a', 0o600);
    this.#lines = this.#seen.size;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#handle?.close();
    this.#handle = null;
  }
}
