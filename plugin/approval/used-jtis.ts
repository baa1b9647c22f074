/**
 * Row 7 of 5.4, for the plugin: the `jti` of every approval it applied, kept under the Node-RED user
 * directory (`countersign-gate/approval-jtis.json`), so that an approval replayed after a restart is
 * refused as well as one replayed while it runs. An entry is dropped a week after its `exp`: by then
 * row 6 refuses the approval anyway (it expired before any deployment this plugin can still hold).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CountersignError } from '../../protocol/index.js';

/** How long past its `exp` a used `jti` is kept. */
const KEEP_PAST_EXP_S = 7 * 86400;

type Entry = { jti: string; exp: number };

/** The used approval `jti`s of this Node-RED. */
export class UsedJtis {
  readonly #path: string;
  #entries = new Map<string, number>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(gateDir: string) {
    this.#path = join(gateDir, 'approval-jtis.json');
  }

  /** Reads the file (none yet: nothing used). A file that does not parse stops the start. */
  async load(nowS: number): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch (cause) {
      throw new CountersignError('ERR_STORE_CORRUPT', `${this.#path} does not parse`, { cause });
    }
    if (!Array.isArray(list)) {
      throw new CountersignError('ERR_STORE_CORRUPT', `${this.#path} is not a list of jtis`);
    }
    for (const e of list as Partial<Entry>[]) {
      if (typeof e?.jti !== 'string' || typeof e.exp !== 'number') {
        throw new CountersignError('ERR_STORE_CORRUPT', `${this.#path} is not a list of jtis`);
      }
      if (e.exp + KEEP_PAST_EXP_S > nowS) this.#entries.set(e.jti, e.exp);
    }
  }

  /** True when an approval with this `jti` was applied before. */
  has(jti: string): boolean {
    return this.#entries.has(jti);
  }

  /** Records `jtis` as used, on disk (atomically) before it resolves. */
  record(used: readonly Entry[]): Promise<void> {
    for (const { jti, exp } of used) this.#entries.set(jti, exp);
    const write = this.#queue.then(() => this.#write());
    this.#queue = write.catch(() => undefined);
    return write;
  }

  async #write(): Promise<void> {
    const list: Entry[] = [...this.#entries].map(([jti, exp]) => ({ jti, exp }));
    await mkdir(join(this.#path, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${this.#path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(list) + '\n', { mode: 0o600 });
    await rename(tmp, this.#path);
  }
}
