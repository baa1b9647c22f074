/** Polling for the gate's tests, naming what was awaited and Node-RED's last log lines on a timeout. */
import type { RunningNodeRed } from '../helpers/node-red.js';

/** Polls `probe` every 100 ms until it gives a truthy value; throws after `ms` with Node-RED's recent log. */
export async function until<T>(
  nr: Pick<RunningNodeRed, 'logs'>,
  what: string,
  probe: () => Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}\n${nr.logs.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
