/**
 * Recent events per key (rate limits: bad invitation codes per client address, proposals per
 * instance), in memory: a lowdb store serves one process. Old events are dropped as keys are read.
 */
export class EventCounter {
  readonly #events = new Map<string, number[]>();
  /** The longest window any caller asks about; older events are dropped. */
  #horizonMs = 0;

  /** Records an event of `key` at `atMs`, dropping the key's events older than `windowMs` before it. */
  record(key: string, atMs: number, windowMs: number): void {
    const list = (this.#events.get(key) ?? []).filter((t) => t > atMs - windowMs);
    list.push(atMs);
    this.#horizonMs = Math.max(this.#horizonMs, windowMs);
    this.#events.set(key, list);
    if (this.#events.size > 10_000) this.#sweep(atMs);
  }

  /** When the `rank`-th newest event of `key` since `sinceMs` happened, or null. */
  at(key: string, sinceMs: number, rank: number): number | null {
    const list = (this.#events.get(key) ?? []).filter((t) => t > sinceMs);
    return list.length >= rank ? list[list.length - rank]! : null;
  }

  #sweep(nowMs: number): void {
    for (const [key, list] of this.#events) {
      const kept = list.filter((t) => t > nowMs - this.#horizonMs);
      if (kept.length === 0) this.#events.delete(key);
      else this.#events.set(key, kept);
    }
  }
}
