import { createReadStream } from 'node:fs';
import { open, readFile, stat, truncate, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CountersignError, canonicalJson, type AuditEntry } from '../../protocol/index.js';
import { sha256HexSync } from '../store/files.js';
import type { AuditVerification } from '../store/types.js';

/** The `prev` of the first entry. */
export const GENESIS = '0'.repeat(64);

/** An entry to append, its `seq` fixed by the caller (the store numbers entries when it commits them). */
export type NumberedDraft = {
  seq: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
};

/** `hash = sha256(prev + canonical entry)`, the entry being `{seq, at, type, data, prev}` (DESIGN 6). */
export function auditHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, type, data, prev } = entry;
  return sha256HexSync(prev + (canonicalJson({ seq, at, type, data, prev }) ?? ''));
}

function parseLine(line: string, lineNo: number): AuditEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw new CountersignError('ERR_STORE_CORRUPT', `audit.jsonl line ${lineNo} is not JSON`, {
      cause,
    });
  }
  const e = value as Partial<AuditEntry> | null;
  if (
    typeof e !== 'object' ||
    e === null ||
    typeof e.seq !== 'number' ||
    typeof e.at !== 'string' ||
    typeof e.type !== 'string' ||
    typeof e.data !== 'object' ||
    e.data === null ||
    typeof e.prev !== 'string' ||
    typeof e.hash !== 'string'
  ) {
    throw new CountersignError('ERR_STORE_CORRUPT', `audit.jsonl line ${lineNo} is not an entry`);
  }
  return e as AuditEntry;
}

/** Offsets of every `\n` + 1 in `buffer` (the starts of the lines after it), shifted by `base`. */
function lineStarts(buffer: Buffer, base: number): number[] {
  const out: number[] = [];
  for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) out.push(base + i + 1);
  return out;
}

/**
 * `audit.jsonl`: append-only, one JSON entry a line, each append fsynced, serialised. Beside it,
 * `audit.idx` holds each line's byte offset (8 bytes a line), so a page of entries is one read
 * wherever it is in the log. The index is rebuilt from the log when it is missing or short; a last
 * line cut short by a crash (never acknowledged) is cut off at start.
 */
export class AuditFile {
  readonly #path: string;
  readonly #indexPath: string;
  #handle: FileHandle | null = null;
  #index: FileHandle | null = null;
  #reader: FileHandle | null = null;
  /** Start offset of each entry's line: entry `seq` starts at `#offsets[seq - 1]`. */
  #offsets: number[] = [];
  #size = 0;
  #seq = 0;
  #last = GENESIS;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
    this.#indexPath = `${path.replace(/\.jsonl$/, '')}.idx`;
  }

  /** The sequence number of the last entry on disk. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Opens the log: cuts a torn last line, completes the index, and reads the chain's tail. */
  async init(): Promise<void> {
    this.#handle = await open(this.#path, 'a', 0o600);
    this.#size = (await this.#handle.stat()).size;
    this.#reader = await open(this.#path, 'r');
    await this.#cutTornTail();
    this.#offsets = await this.#loadIndex();
    if (this.#offsets.length > 0) {
      const last = await this.#entryAt(this.#offsets.length);
      if (last.seq !== this.#offsets.length) {
        // The index does not match the log: build it again from the log.
        this.#offsets = await this.#scan(0);
        await this.#writeIndex(this.#offsets, true);
      }
    }
    if (this.#offsets.length > 0) {
      const last = await this.#entryAt(this.#offsets.length);
      this.#seq = last.seq;
      this.#last = last.hash;
    }
    this.#index = await open(this.#indexPath, 'a', 0o600);
  }

  async #cutTornTail(): Promise<void> {
    if (this.#size === 0) return;
    const tail = Buffer.alloc(1);
    await this.#reader!.read(tail, 0, 1, this.#size - 1);
    if (tail[0] === 10) return;
    let end = this.#size;
    const chunk = Buffer.alloc(64 * 1024);
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      await this.#reader!.read(chunk, 0, end - start, start);
      const at = chunk.subarray(0, end - start).lastIndexOf(10);
      if (at !== -1) {
        end = start + at + 1;
        break;
      }
      end = start;
    }
    await truncate(this.#path, end);
    this.#size = end;
  }

  /** The offsets in `audit.idx` that point inside the log, completed by scanning what follows. */
  async #loadIndex(): Promise<number[]> {
    const offsets: number[] = [];
    try {
      const bytes = await readFile(this.#indexPath);
      const count = Math.floor(bytes.length / 8);
      for (let i = 0; i < count; i++) {
        const offset = Number(bytes.readBigUInt64LE(i * 8));
        if (offset >= this.#size || (i > 0 && offset <= offsets[i - 1]!)) break;
        offsets.push(offset);
      }
      if (offsets.length * 8 !== bytes.length) await this.#writeIndex(offsets, true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (this.#size === 0) return [];
    const from = offsets.length === 0 ? 0 : await this.#lineEnd(offsets.at(-1)!);
    const more = await this.#scan(from);
    if (more.length > 0) {
      offsets.push(...more);
      await this.#writeIndex(more, false);
    }
    return offsets;
  }

  /** The offset just past the line starting at `offset`. */
  async #lineEnd(offset: number): Promise<number> {
    const chunk = Buffer.alloc(64 * 1024);
    for (let pos = offset; pos < this.#size; pos += chunk.length) {
      const { bytesRead } = await this.#reader!.read(chunk, 0, chunk.length, pos);
      const at = chunk.subarray(0, bytesRead).indexOf(10);
      if (at !== -1) return pos + at + 1;
    }
    return this.#size;
  }

  /** Starts of the lines from `from` (itself a line start) to the end of the log. */
  async #scan(from: number): Promise<number[]> {
    const out = [from];
    const chunk = Buffer.alloc(1 << 20);
    for (let pos = from; pos < this.#size; pos += chunk.length) {
      const { bytesRead } = await this.#reader!.read(chunk, 0, chunk.length, pos);
      out.push(...lineStarts(chunk.subarray(0, bytesRead), pos));
    }
    return out.filter((o) => o < this.#size);
  }

  async #writeIndex(offsets: number[], replace: boolean): Promise<void> {
    const bytes = Buffer.alloc(offsets.length * 8);
    offsets.forEach((o, i) => bytes.writeBigUInt64LE(BigInt(o), i * 8));
    if (replace) {
      const handle = await open(this.#indexPath, 'w', 0o600);
      await handle.writeFile(bytes);
      await handle.close();
    } else {
      const handle = this.#index ?? (await open(this.#indexPath, 'a', 0o600));
      await handle.appendFile(bytes);
      if (handle !== this.#index) await handle.close();
    }
  }

  /** The entries with these sequence numbers (a contiguous range, ascending), in one read. */
  async #range(first: number, last: number): Promise<AuditEntry[]> {
    if (last < first) return [];
    const start = this.#offsets[first - 1]!;
    const end = last < this.#offsets.length ? this.#offsets[last]! : this.#size;
    const buffer = Buffer.alloc(end - start);
    await this.#reader!.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    return lines.slice(0, last - first + 1).map((line, i) => parseLine(line, first + i));
  }

  async #entryAt(seq: number): Promise<AuditEntry> {
    return (await this.#range(seq, seq))[0]!;
  }

  /**
   * Appends entries numbered by the caller, in order: one already on disk (`seq` at most the last)
   * is skipped, so entries committed with the store's document can be appended again after a crash.
   */
  appendNumbered(drafts: NumberedDraft[]): Promise<AuditEntry[]> {
    const run = this.#queue.then(async () => {
      if (this.#handle === null) throw new Error('the audit log is closed');
      const entries: AuditEntry[] = [];
      let seq = this.#seq;
      let prev = this.#last;
      for (const draft of drafts) {
        if (draft.seq <= seq) continue;
        if (draft.seq !== seq + 1) {
          throw new CountersignError(
            'ERR_STORE_CORRUPT',
            `audit entry ${draft.seq} would follow ${seq}: the log is missing entries`,
          );
        }
        const body = {
          seq: draft.seq,
          at: draft.at,
          type: draft.type,
          // A JSON round trip so the hash covers exactly what the line holds.
          data: JSON.parse(JSON.stringify(draft.data)) as Record<string, unknown>,
          prev,
        };
        const entry: AuditEntry = { ...body, hash: auditHash(body) };
        entries.push(entry);
        seq = entry.seq;
        prev = entry.hash;
      }
      if (entries.length === 0) return entries;
      const lines = entries.map((e) => Buffer.from(JSON.stringify(e) + '\n'));
      await this.#handle.appendFile(Buffer.concat(lines));
      await this.#handle.sync();
      const starts: number[] = [];
      for (const line of lines) {
        starts.push(this.#size);
        this.#size += line.length;
      }
      this.#offsets.push(...starts);
      this.#seq = seq;
      this.#last = prev;
      await this.#writeIndex(starts, false);
      return entries;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Entries with `seq > after`, oldest first, at most `limit`. */
  async after(after: number, limit: number): Promise<AuditEntry[]> {
    await this.#queue;
    const first = Math.max(1, after + 1);
    return this.#range(first, Math.min(this.#offsets.length, first + limit - 1));
  }

  /** The entries with these sequence numbers (those that exist), in the order given. */
  async at(seqs: readonly number[]): Promise<AuditEntry[]> {
    await this.#queue;
    const out: AuditEntry[] = [];
    for (const seq of seqs) {
      if (Number.isSafeInteger(seq) && seq >= 1 && seq <= this.#offsets.length) {
        out.push(await this.#entryAt(seq));
      }
    }
    return out;
  }

  /** Entries with `seq < before`, newest first, at most `limit`. */
  async before(before: number, limit: number): Promise<AuditEntry[]> {
    await this.#queue;
    const last = Math.min(this.#offsets.length, before - 1);
    return (await this.#range(Math.max(1, last - limit + 1), last)).reverse();
  }

  /** Every line of the file as it is on disk now (edits included), in order. */
  async *lines(): AsyncGenerator<string> {
    await this.#queue;
    const size = (await stat(this.#path)).size;
    if (size === 0) return;
    const input = createReadStream(this.#path, { encoding: 'utf8', start: 0, end: size - 1 });
    yield* createInterface({ input, crlfDelay: Infinity });
  }

  /** Every entry, oldest first (a line that is not an entry throws). */
  async *entries(): AsyncGenerator<AuditEntry> {
    let n = 0;
    for await (const line of this.lines()) yield parseLine(line, ++n);
  }

  /** Re-checks the whole chain, line by line. */
  async verify(): Promise<AuditVerification> {
    let prev = GENESIS;
    let n = 0;
    let failure: { badSeq: number; reason: string } | null = null;
    for await (const line of this.lines()) {
      n++;
      if (failure) continue;
      let entry: AuditEntry;
      try {
        entry = parseLine(line, n);
      } catch {
        failure = { badSeq: n, reason: 'not an entry' };
        continue;
      }
      if (entry.seq !== n) failure = { badSeq: n, reason: 'sequence broken' };
      else if (entry.prev !== prev) failure = { badSeq: n, reason: 'prev link broken' };
      else if (auditHash(entry) !== entry.hash) failure = { badSeq: n, reason: 'hash mismatch' };
      prev = entry.hash;
    }
    return failure ? { ok: false, entries: n, ...failure } : { ok: true, entries: n };
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#handle?.close();
    await this.#index?.close();
    await this.#reader?.close();
    this.#handle = this.#index = this.#reader = null;
  }
}

/** Size in bytes of the log (for status and the bench). */
export async function auditSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
