/**
 * Recent events per key (rate limits: bad invitation codes per client address, proposals per
 * instance), in memory: a lowdb store serves one process. Old events are dropped as keys are read.
 */
export class EventCounter {
  readonly #events = new Map<string, number[]>();
  /** The longest window any caller asks about; older events are dropped. */
  #horizonMs = 0;

  /** Records an event at `record.at` (when given) and counts the events of `key` since `sinceMs`. */
  count(key: string, sinceMs: number, record: { at: number } | null): number {
    const list = (this.#events.get(key) ?? []).filter((t) => t > sinceMs);
    if (record) {
      list.push(record.at);
      this.#horizonMs = Math.max(this.#horizonMs, record.at - sinceMs);
    }
    if (list.length === 0) this.#events.delete(key);
    else this.#events.set(key, list);
    if (this.#events.size > 10_000 && record) this.#sweep(record.at);
    return list.length;
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
