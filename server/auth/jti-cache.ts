import type { Store } from '../store/types.js';

/**
 * Proof and enrolment `jti`s seen in the last window (5.3: 5 minutes). The check and the marking
 * happen in one synchronous step, so two concurrent requests with one `jti` cannot both pass; the
 * set is also written to the store so a restart does not reopen the window.
 */
export class JtiCache {
  readonly #seen = new Map<string, number>();
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
    for (const [jti, exp] of Object.entries(store.data.proofJtis)) this.#seen.set(jti, exp);
  }

  /** Marks `jti` used until `expS`; false when it was already used and has not expired. */
  async useOnce(jti: string, expS: number, nowS: number): Promise<boolean> {
    const known = this.#seen.get(jti);
    if (known !== undefined && known >= nowS) return false;
    this.#seen.set(jti, expS);
    if (this.#seen.size % 256 === 0) this.#prune(nowS);
    await this.#store.update((data) => {
      data.proofJtis[jti] = expS;
      for (const [k, v] of Object.entries(data.proofJtis)) if (v < nowS) delete data.proofJtis[k];
    });
    return true;
  }

  #prune(nowS: number): void {
    for (const [k, v] of this.#seen) if (v < nowS) this.#seen.delete(k);
  }
}
