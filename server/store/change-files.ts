import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CountersignError, type Change } from '../../protocol/index.js';
import { deleteFile, namesOlderThan, writeFileAtomic } from './files.js';

const ID = /^[0-9a-f]{1,64}$/;

/** Each live deployment's change list, `changes/<id>.json`: computed once, at proposal time. */
export class ChangeFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  #path(id: string): string {
    // The id is checked as hex before it becomes a file name.
    if (!ID.test(id)) throw new CountersignError('ERR_NOT_FOUND', 'no such deployment');
    return join(this.#dir, `${id}.json`);
  }

  async put(id: string, changes: Change[]): Promise<void> {
    await writeFileAtomic(this.#path(id), JSON.stringify(changes));
  }

  async has(id: string): Promise<boolean> {
    try {
      return (await stat(this.#path(id))).isFile();
    } catch {
      return false;
    }
  }

  /** The change list of `id`, or null when there is none. */
  async get(id: string): Promise<Change[] | null> {
    try {
      return JSON.parse(await readFile(this.#path(id), 'utf8')) as Change[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    return deleteFile(this.#path(id));
  }

  /** Ids of the change lists on disk last written before `beforeMs`. */
  async idsOlderThan(beforeMs: number): Promise<string[]> {
    return (await namesOlderThan(this.#dir, beforeMs)).filter((name) => ID.test(name));
  }
}
