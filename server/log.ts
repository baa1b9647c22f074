/** Logs for people: short lines with a deployment id or a device fingerprint; never secrets, never flow content. */
export type Log = {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
};

/** Writes to the console with a `countersign:` prefix. */
export const consoleLog: Log = {
  info: (m) => console.log(`countersign: ${m}`),
  warn: (m) => console.warn(`countersign: ${m}`),
  error: (m) => console.error(`countersign: ${m}`),
};

/** Drops everything (tests that do not read logs). */
export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };
