/**
 * A failed apply leaves no half state (issue 9 item 6). Node-RED changes its credential cache, and
 * writes the credentials file, before it writes the flows file; a reload wipes the cache when the
 * stored credentials do not decrypt, then starts the flows all the same. The gate therefore copies
 * what an apply can touch just before it applies, and when the apply fails puts it back: the
 * credentials (cache and file) and, when the running flows changed, the last approved flows.
 */
import { snapshotText, sha256Hex, type Flows } from '../../protocol/index.js';
import { releaseRev } from './backstop.js';
import type { InternalFlows, InternalNodes, StorageIndex } from '../runtime-modules.js';

/** The credentials of some nodes as the runtime held them (undefined: none). */
export type CredentialSnapshot = Map<string, unknown>;

/** What restoring needs from the running Node-RED. */
export type RestoreDeps = {
  nodes: Pick<
    InternalNodes,
    'getCredentials' | 'addCredentials' | 'deleteCredentials' | 'exportCredentials'
  >;
  storage: Pick<StorageIndex, 'saveCredentials'>;
  /** The original, unwrapped `setFlows` of the flows module. */
  setFlows: InternalFlows['setFlows'];
  stopFlows: () => Promise<unknown>;
  /** The rev of the running flows, re-hashed. */
  activeRev: () => Promise<string>;
};

/** Puts the runtime back as it was before a failed apply. */
export class Restorer {
  readonly #d: RestoreDeps;

  constructor(deps: RestoreDeps) {
    this.#d = deps;
  }

  /** Copies of the credentials of `ids` as the runtime holds them now. */
  snapshot(ids: Iterable<string>): CredentialSnapshot {
    const out: CredentialSnapshot = new Map();
    for (const id of ids) {
      const value = this.#d.nodes.getCredentials(id);
      out.set(id, value === undefined ? undefined : structuredClone(value));
    }
    return out;
  }

  /**
   * Restores the credentials in `credentials` and runs `flows` again (the last approved flows) if
   * what runs is not them any more. When that cannot be done, stops the flows rather than run
   * something unapproved, and throws with the reason.
   */
  async restore(credentials: CredentialSnapshot, flows: Flows): Promise<void> {
    const { nodes, storage } = this.#d;
    const rev = await sha256Hex(snapshotText(flows));
    try {
      for (const [id, value] of credentials) {
        if (value === undefined) nodes.deleteCredentials(id);
        else await nodes.addCredentials(id, structuredClone(value));
      }
      if ((await this.#d.activeRev()) === rev) {
        // The flows never changed: only the credential cache and file need putting back.
        await storage.saveCredentials(await nodes.exportCredentials());
        return;
      }
      const withdraw = releaseRev(rev);
      try {
        await this.#d.setFlows(structuredClone(flows), null, 'full', true, undefined, undefined);
      } finally {
        withdraw();
      }
      if ((await this.#d.activeRev()) !== rev) throw new Error('the restored flows did not take');
    } catch (err) {
      if ((await this.#d.activeRev().catch(() => '')) !== rev) {
        await this.#d.stopFlows().catch(() => undefined);
        throw new Error(
          `putting back the last approved flows failed (${(err as Error).message}); the flows were stopped`,
          { cause: err },
        );
      }
      throw new Error(`putting back the credentials failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
