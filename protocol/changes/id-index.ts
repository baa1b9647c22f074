import type { Flows } from '../flows.js';

/** Longest probe tolerated before giving up: ids made to collide must not make the index slow. */
const MAX_PROBE = 64;

/** FNV-1a over the UTF-16 code units of an id. */
function hashOf(id: string): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash;
}

/**
 * The position of each id in a flows array, in typed arrays sized once for the array: an
 * open-addressing table of hashes and positions. A `Map` of the same ids costs two to three times
 * more for 100,000 nodes (it grows by rehashing, and each probe reads the stored key), and the change
 * list builds one for every comparison. `add` declines (false) an id that repeats, is not a string,
 * or collides beyond `MAX_PROBE`: the caller then takes the slow path, which needs none of this.
 */
export class IdIndex {
  private readonly mask: number;
  /**
   * Slot `s` is the pair at `2s`: the id's hash, then 1 + its position (0: empty). Side by side, so
   * a probe reads one cache line, not one in each of two arrays.
   */
  private readonly table: Int32Array;

  constructor(private readonly flows: Flows) {
    let size = 16;
    while (size < flows.length * 2) size *= 2;
    this.mask = size - 1;
    this.table = new Int32Array(size * 2);
  }

  /** Indexes `flows[position]` by its id; false when it cannot (see above). */
  add(position: number): boolean {
    const id: unknown = this.flows[position]!.id;
    if (typeof id !== 'string') return false;
    const hash = hashOf(id);
    for (let probe = 0, at = hash & this.mask; probe < MAX_PROBE; probe++) {
      const slot = this.table[2 * at + 1]!;
      if (slot === 0) {
        this.table[2 * at] = hash;
        this.table[2 * at + 1] = position + 1;
        return true;
      }
      if (this.table[2 * at] === hash && this.flows[slot - 1]!.id === id) return false;
      at = (at + 1) & this.mask;
    }
    return false;
  }

  /** The position of the node with this id, or undefined. */
  get(id: string): number | undefined {
    if (typeof id !== 'string') return undefined;
    const hash = hashOf(id);
    for (let probe = 0, at = hash & this.mask; probe < MAX_PROBE; probe++) {
      const slot = this.table[2 * at + 1]!;
      if (slot === 0) return undefined;
      if (this.table[2 * at] === hash && this.flows[slot - 1]!.id === id) return slot - 1;
      at = (at + 1) & this.mask;
    }
    return undefined;
  }
}
