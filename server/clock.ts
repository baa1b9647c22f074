/** Time as the server sees it; tests pass a fixed clock instead of mocking `Date`. */
export type Clock = {
  /** Milliseconds since the epoch. */
  now(): number;
};

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Unix seconds of a clock. */
export function secondsOf(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}

/** ISO 8601 text of a clock's now (or of `ms`). */
export function isoOf(clock: Clock, ms?: number): string {
  return new Date(ms ?? clock.now()).toISOString();
}
