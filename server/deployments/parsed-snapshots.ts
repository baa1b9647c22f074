/**
 * The flows of recently uploaded snapshots, parsed once. A proposal reads its base and target from
 * here instead of reading, re-hashing and parsing both blobs again: a plugin uploads the target
 * right before it proposes, and proposes against the same base many times. Entries are keyed by
 * rev, so they are exactly the bytes the server hashed on upload (or on a read); callers still
 * check that the instance uploaded the blob. Bounded by the snapshots' size in bytes; the least
 * recently used go first. The flows are shared: nothing may change them.
 */
import type { Flows } from '../../protocol/index.js';

/** Snapshot bytes kept parsed, at most (a 1,000-node snapshot is about 0.5 MB). */
const DEFAULT_MAX_BYTES = 32 << 20;

export class ParsedSnapshots {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, { flows: Flows; bytes: number }>();
  #bytes = 0;

  constructor(maxBytes = DEFAULT_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** The parsed flows of `rev`, if kept. */
  get(rev: string): Flows | undefined {
    const entry = this.#entries.get(rev);
    if (!entry) return undefined;
    this.#entries.delete(rev);
    this.#entries.set(rev, entry);
    return entry.flows;
  }

  /** Keeps `flows`, parsed from `bytes` bytes that hash to `rev`. */
  remember(rev: string, flows: Flows, bytes: number): void {
    if (bytes > this.#maxBytes) return;
    this.forget(rev);
    this.#entries.set(rev, { flows, bytes });
    this.#bytes += bytes;
    for (const [old, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(old);
      this.#bytes -= entry.bytes;
    }
  }

  forget(rev: string): void {
    const entry = this.#entries.get(rev);
    if (!entry) return;
    this.#entries.delete(rev);
    this.#bytes -= entry.bytes;
  }
}
