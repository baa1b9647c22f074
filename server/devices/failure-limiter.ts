import type { Clock } from '../clock.js';

/** Counts failures per key (a client address) in a sliding window; over the limit means 429. */
export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #clock: Clock;

  constructor(max: number, windowMs: number, clock: Clock) {
    this.#max = max;
    this.#windowMs = windowMs;
    this.#clock = clock;
  }

  #recent(key: string): number[] {
    const since = this.#clock.now() - this.#windowMs;
    const list = (this.#failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** True when `key` has used up its failures for the window. */
  blocked(key: string): boolean {
    return this.#recent(key).length >= this.#max;
  }

  /** Records one failure for `key`. */
  fail(key: string): void {
    const list = this.#recent(key);
    list.push(this.#clock.now());
    this.#failures.set(key, list);
    if (this.#failures.size > 10_000) {
      for (const k of this.#failures.keys()) this.#recent(k);
    }
  }
}
