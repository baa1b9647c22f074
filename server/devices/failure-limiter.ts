import { CountersignError } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Store } from '../store/types.js';

/** Whole seconds (at least 1) until an event at `atMs` leaves the window of `windowMs`; 0 for none. */
export function secondsUntilLeaves(atMs: number | null, windowMs: number, nowMs: number): number {
  return atMs === null ? 0 : Math.max(1, Math.ceil((atMs + windowMs - nowMs) / 1000));
}

/**
 * Counts failures per key (a client address) in a sliding window; over the limit means 429, with
 * the seconds until the window lets the key in again. The counts live in the store (in memory for
 * lowdb; rows with expiry for a shared store).
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

  /** Throws `ERR_RATE_LIMITED` (with `retryAfterS`) when `key` has used up its failures for the window. */
  async check(key: string, message: string): Promise<void> {
    // The window lets the key in again once its max-th newest failure leaves it.
    const now = this.#clock.now();
    const at = await this.#store.eventAt(this.#prefix + key, now - this.#windowMs, this.#max);
    const wait = secondsUntilLeaves(at, this.#windowMs, now);
    if (wait > 0) throw new CountersignError('ERR_RATE_LIMITED', message, { retryAfterS: wait });
  }

  /** Records one failure for `key`. */
  async fail(key: string): Promise<void> {
    await this.#store.recordEvent(this.#prefix + key, this.#clock.now(), this.#windowMs);
  }
}
