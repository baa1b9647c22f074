import type { Clock } from '../clock.js';
import type { Store } from '../store/types.js';

/**
 * Counts failures per key (a client address) in a sliding window; over the limit means 429. The
 * counts live in the store (in memory for lowdb; rows with expiry for a shared store).
 */
export class FailureLimiter {
  readonly #store: Store;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #prefix: string;

  constructor(store: Store, max: number, windowMs: number, clock: Clock, prefix: string) {
    this.#store = store;
    this.#max = max;
    this.#windowMs = windowMs;
    this.#clock = clock;
    this.#prefix = prefix;
  }

  /** True when `key` has used up its failures for the window. */
  async blocked(key: string): Promise<boolean> {
    const since = this.#clock.now() - this.#windowMs;
    return (await this.#store.countEvents(this.#prefix + key, since, null)) >= this.#max;
  }

  /** Records one failure for `key`. */
  async fail(key: string): Promise<void> {
    const now = this.#clock.now();
    await this.#store.countEvents(this.#prefix + key, now - this.#windowMs, { at: now });
  }
}
