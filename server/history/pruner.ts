import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import { pruneSlack, type Retention } from '../store/retention.js';
import type { PruneReport, Store } from '../store/types.js';

/**
 * Runs the store's pruning (DESIGN 6) on its own: at start, on a timer, and after a decision once
 * the decided deployments whose files are kept exceed the retention's `keep` by a batch.
 * `countersign prune` runs it by hand. One prune at a time; a request while it runs gets its result.
 */
export class Pruner {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #retention: Retention;
  #timer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<PruneReport> | null = null;
  #checking = false;
  #closed = false;

  constructor(deps: { store: Store; clock: Clock; log: Log; retention: Retention }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#retention = deps.retention;
  }

  /** Prunes now, and then every `intervalMs`. */
  start(intervalMs: number): void {
    this.#background();
    this.#timer = setInterval(() => this.#background(), intervalMs);
    this.#timer.unref?.();
  }

  /** Deletes the files the retention no longer keeps; resolves with what it did. */
  run(): Promise<PruneReport> {
    this.#running ??= this.#store
      .prune(this.#retention, this.#clock.now())
      .then((report) => {
        if (report.pastRetention + report.blobsDeleted + report.changesDeleted > 0) {
          this.#log.info(
            `pruned: ${report.pastRetention} decided deployments past the retention; ${report.blobsDeleted} blobs and ${report.changesDeleted} change lists deleted`,
          );
        }
        return report;
      })
      .finally(() => (this.#running = null));
    return this.#running;
  }

  /** After a deployment is decided: prunes when the retained ones are a batch past `keep`. */
  afterDecision(): void {
    if (this.#checking || this.#closed) return;
    this.#checking = true;
    void this.#store
      .stats()
      .then(({ deployments: d }) => {
        if (d.retained > this.#retention.keep + pruneSlack(this.#retention)) this.#background();
      })
      .catch(() => {})
      .finally(() => (this.#checking = false));
  }

  #background(): void {
    if (this.#closed) return;
    this.run().catch((err: unknown) => this.#log.warn(`pruning failed: ${(err as Error).message}`));
  }

  /** Stops the timer and waits for a prune in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }
}
