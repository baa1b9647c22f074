import { open, readFile, type FileHandle } from 'node:fs/promises';
import { CountersignError, canonicalJson, type AuditEntry } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { sha256HexSync } from '../store/files.js';
import type { AuditLog, AuditVerification } from '../store/types.js';

/** The `prev` of the first entry. */
export const GENESIS = '0'.repeat(64);

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

/** `audit.jsonl`: append-only, one JSON entry a line, each append fsynced, serialised. */
export class AuditFile implements AuditLog {
  readonly #path: string;
  readonly #clock: Clock;
  #handle: FileHandle | null = null;
  #seq = 0;
  #last = GENESIS;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, clock: Clock) {
    this.#path = path;
    this.#clock = clock;
  }

  /** Reads the tail of the chain; a last line that does not parse stops the start. */
  async init(): Promise<void> {
    const lines = await this.#lines();
    const lastLine = lines.at(-1);
    if (lastLine !== undefined) {
      const last = parseLine(lastLine, lines.length);
      this.#seq = last.seq;
      this.#last = last.hash;
    }
    this.#handle = await open(this.#path, 'a', 0o600);
  }

  async #lines(): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return text.split('\n').filter((l) => l.trim() !== '');
  }

  append(type: string, data: Record<string, unknown>): Promise<AuditEntry> {
    const run = this.#queue.then(async () => {
      if (this.#handle === null) throw new Error('the audit log is closed');
      const body = {
        seq: this.#seq + 1,
        at: new Date(this.#clock.now()).toISOString(),
        type,
        // A JSON round trip so the hash covers exactly what the line holds.
        data: JSON.parse(JSON.stringify(data)) as Record<string, unknown>,
        prev: this.#last,
      };
      const entry: AuditEntry = { ...body, hash: auditHash(body) };
      await this.#handle.appendFile(JSON.stringify(entry) + '\n');
      await this.#handle.sync();
      this.#seq = entry.seq;
      this.#last = entry.hash;
      return entry;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async read(after: number, limit: number): Promise<AuditEntry[]> {
    await this.#queue;
    const out: AuditEntry[] = [];
    const lines = await this.#lines();
    for (let i = 0; i < lines.length && out.length < limit; i++) {
      const entry = parseLine(lines[i]!, i + 1);
      if (entry.seq > after) out.push(entry);
    }
    return out;
  }

  async verify(): Promise<AuditVerification> {
    await this.#queue;
    const lines = await this.#lines();
    let prev = GENESIS;
    for (let i = 0; i < lines.length; i++) {
      let entry: AuditEntry;
      try {
        entry = parseLine(lines[i]!, i + 1);
      } catch {
        return { ok: false, entries: lines.length, badSeq: i + 1, reason: 'not an entry' };
      }
      if (entry.seq !== i + 1) {
        return { ok: false, entries: lines.length, badSeq: i + 1, reason: 'sequence broken' };
      }
      if (entry.prev !== prev) {
        return { ok: false, entries: lines.length, badSeq: entry.seq, reason: 'prev link broken' };
      }
      if (auditHash(entry) !== entry.hash) {
        return { ok: false, entries: lines.length, badSeq: entry.seq, reason: 'hash mismatch' };
      }
      prev = entry.hash;
    }
    return { ok: true, entries: lines.length };
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#handle?.close();
    this.#handle = null;
  }
}
