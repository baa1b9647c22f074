/**
 * The flows of recently uploaded snapshots, parsed once. A proposal reads its base and target from
 * here instead of reading, re-hashing and parsing both blobs again: a plugin uploads the target
 * right before it proposes, and proposes against the same base many times. Entries are keyed by
 * rev, so they are exactly the bytes the server hashed on upload (or on a read); callers still
 * check that the instance uploaded the blob. Bounded by the snapshots' size in bytes; the least
 * recently used go first. The flows are shared: nothing may change them.
 *
 * A snapshot kept here also shares its unchanged nodes with the snapshot kept just before it (most
 * often the base it will be proposed against): each node whose JSON text is exactly that of the
 * earlier snapshot's node of the same id is replaced by that node, when no id repeats in either.
 * The flows read the same (JSON text, key order and all); the parsed copies die young instead of
 * being copied and promoted by the garbage collector, which for 1,000-node flows paused the event
 * loop 10–15 ms per upload.
 */
import type { FlowNode, Flows } from '../../protocol/index.js';

/** Deeper than this, two values are taken as different (they are then simply not shared). */
const MAX_SHARED_DEPTH = 64;

/**
 * True when two JSON values have the same JSON text: same keys in the same order, same values.
 * False past `MAX_SHARED_DEPTH` levels of nesting, whatever they hold.
 */
export function sameJsonText(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (depth >= MAX_SHARED_DEPTH) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJsonText(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  // b's keys are read by for…in, without an array per object: own keys first, in order, then any
  // inherited enumerable one, which a does not list and so makes the two differ (not shared).
  const keys = Object.keys(a);
  let i = 0;
  for (const key in b) {
    if (key !== keys[i]) return false;
    const x = (a as Record<string, unknown>)[key];
    if (!sameJsonText(x, (b as Record<string, unknown>)[key], depth + 1)) return false;
    i++;
  }
  return i === keys.length;
}

type Entry = { flows: Flows; bytes: number; byId?: Map<string, FlowNode> };

/** Snapshot bytes kept parsed, at most (a 1,000-node snapshot is about 0.5 MB). */
const DEFAULT_MAX_BYTES = 32 << 20;

export class ParsedSnapshots {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
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
    let previous: Entry | undefined;
    for (const entry of this.#entries.values()) previous = entry;
    if (previous !== undefined) share(flows, previous);
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

/**
 * Replaces each node of `flows` whose JSON text equals `from`'s node of the same id by that node.
 * Only where both have every id once: with a repeated id, which copy runs is told by identity (the
 * last one), and no object may stand at two places of one array.
 */
function share(flows: Flows, from: Entry): void {
  if (from.byId === undefined) {
    from.byId = new Map();
    for (const node of from.flows) from.byId.set(node.id, node);
  }
  const byId = from.byId;
  if (byId.size !== from.flows.length) return;
  if (new Set(flows.map((node) => node.id)).size !== flows.length) return;
  for (let i = 0; i < flows.length; i++) {
    const node = flows[i]!;
    const earlier = byId.get(node.id);
    if (earlier !== undefined && earlier !== node && sameJsonText(earlier, node)) {
      flows[i] = earlier;
    }
  }
}
