/**
 * The storage backstop (DESIGN 7): flows are saved only for a rev an approval released. The gate
 * releases a rev just before it applies an approved deployment and withdraws it afterwards. The
 * registry lives on `globalThis` under a registered symbol so that `plugin/storage.cjs` (loaded by
 * settings.js, before the plugin) and the in-process storage wrapper see the same one.
 */
import { createHash } from 'node:crypto';
import { CountersignError } from '../../protocol/index.js';
import type { StorageIndex } from '../runtime-modules.js';

/** The shared registry: revs released for saving, with a count each. */
export type ReleaseRegistry = { released: Map<string, number> };

const KEY = Symbol.for('countersign.storage-backstop');

/** The process's registry (made on first use). */
export function releaseRegistry(): ReleaseRegistry {
  const holder = globalThis as unknown as Record<symbol, ReleaseRegistry | undefined>;
  let registry = holder[KEY];
  if (!registry) {
    registry = { released: new Map() };
    Object.defineProperty(globalThis, KEY, {
      value: registry,
      enumerable: false,
      configurable: false,
      writable: false,
    });
  }
  return registry;
}

/** Lets one save of `rev` through; returns the function that withdraws it. */
export function releaseRev(rev: string): () => void {
  const { released } = releaseRegistry();
  released.set(rev, (released.get(rev) ?? 0) + 1);
  let withdrawn = false;
  return () => {
    if (withdrawn) return;
    withdrawn = true;
    const count = (released.get(rev) ?? 1) - 1;
    if (count <= 0) released.delete(rev);
    else released.set(rev, count);
  };
}

/** The rev Node-RED computes for flows it saves: SHA-256 of `JSON.stringify(flows)`. */
export function revOfSaved(flows: unknown): string {
  return createHash('sha256').update(JSON.stringify(flows)).digest('hex');
}

/** True when `rev` is released for saving now. */
export function isReleased(rev: string): boolean {
  return (releaseRegistry().released.get(rev) ?? 0) > 0;
}

/**
 * Wraps the runtime storage's `saveFlows` so that only released revs are written, whichever path
 * reached it. A refused save rejects, so the caller's deployment fails and nothing is written.
 */
export function guardedSaveFlows(
  original: StorageIndex['saveFlows'],
  onRefused: (rev: string) => void,
): StorageIndex['saveFlows'] {
  return async function saveFlows(config, user) {
    const rev = revOfSaved(config?.flows);
    if (!isReleased(rev)) {
      onRefused(rev);
      throw new CountersignError(
        'ERR_FORBIDDEN',
        `Countersign refused to save flows rev ${rev.slice(0, 12)}: no approval released it`,
      );
    }
    return original(config, user);
  };
}
