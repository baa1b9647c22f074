import { statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CountersignError, isSha256Hex } from '../../protocol/index.js';
import { deleteFile, namesOlderThan, sha256HexSync, writeFileAtomic } from './files.js';

/** Blobs as files `blobs/<rev>.json`; every read re-hashes the bytes (DESIGN 6). */
export class BlobFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  #path(rev: string): string {
    // The rev is checked as 64 hex characters before it becomes a file name.
    if (!isSha256Hex(rev)) throw new CountersignError('ERR_BAD_REQUEST', 'a rev is 64 hex digits');
    return join(this.#dir, `${rev}.json`);
  }

  /**
   * Stores bytes whose SHA-256 is `rev` (the caller has checked it); kept when already there.
   * True when this call wrote the file.
   */
  async put(rev: string, bytes: Uint8Array<ArrayBuffer>): Promise<boolean> {
    const path = this.#path(rev);
    // A metadata lookup: synchronous, so a write does not first wait a turn of the event loop.
    if (isFile(path)) return false;
    await writeFileAtomic(path, bytes, 0o600);
    return true;
  }

  /** The bytes of `rev`, or null when absent; throws when the stored bytes no longer hash to `rev`. */
  async get(rev: string): Promise<Uint8Array<ArrayBuffer> | null> {
    let buffer: Buffer;
    try {
      buffer = await readFile(this.#path(rev));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return verifiedBlob(rev, buffer);
  }

  async delete(rev: string): Promise<boolean> {
    return deleteFile(this.#path(rev));
  }

  /** Revs of the blobs on disk last written before `beforeMs`. */
  async revsOlderThan(beforeMs: number): Promise<string[]> {
    return (await namesOlderThan(this.#dir, beforeMs)).filter((name) => isSha256Hex(name));
  }
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Stored bytes of `rev` as a fresh array; throws ERR_BLOB_MISMATCH when they no longer hash to it. */
export function verifiedBlob(rev: string, buffer: Buffer): Uint8Array<ArrayBuffer> {
  if (sha256HexSync(buffer) !== rev) {
    throw new CountersignError(
      'ERR_BLOB_MISMATCH',
      `the stored blob ${rev.slice(0, 12)} no longer hashes to its rev`,
    );
  }
  const bytes = new Uint8Array(new ArrayBuffer(buffer.length));
  bytes.set(buffer);
  return bytes;
}
