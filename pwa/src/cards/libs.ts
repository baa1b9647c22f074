/**
 * The libraries a function node lists in `libs` (7.1 item 5): Node-RED installs each one from the
 * npm registry when the flows start, so a card shows them by name and version, new ones marked,
 * even when they hide in a property the reviewer might skim.
 */
import { functionLibsOf, type FunctionLib } from '../../../protocol/function-libs.js';
import type { Change } from '../lib/protocol.js';

/** One library on a card: what it is, and whether this change adds or drops it. */
export type LibRow = { lib: FunctionLib; state: 'added' | 'removed' | 'kept' };

function key(lib: FunctionLib): string {
  return `${lib.var}\u0000${lib.module}${lib.subpath}@${lib.version ?? ''}`;
}

/** The libraries of a node change, before and after, or none when neither side lists any. */
export function libRows(change: Change): LibRow[] {
  const before = change.before ? functionLibsOf(change.before) : [];
  const after = change.after ? functionLibsOf(change.after) : [];
  const had = new Set(before.map(key));
  const has = new Set(after.map(key));
  return [
    ...after.map((lib) => ({
      lib,
      state: had.has(key(lib)) ? ('kept' as const) : ('added' as const),
    })),
    ...before
      .filter((lib) => !has.has(key(lib)))
      .map((lib) => ({ lib, state: 'removed' as const })),
  ];
}

/** "dayjs 1.11.13" or "lodash (latest when installed)". */
export function libText(lib: FunctionLib): string {
  return `${lib.module}${lib.subpath} ${lib.version ?? '(latest version when installed)'}`;
}
