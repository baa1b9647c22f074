/**
 * Reporting a deployment's outcome to the approval server (`POST /deployments/:id/outcome`, DESIGN
 * 5.7): retried with backoff while the server cannot be reached, given up on a 4xx answer. The
 * gates report through `OutcomeReports`, which keeps each outcome on disk until the server has
 * taken it and sends what is left whenever the event stream (re)connects, so an outcome made while
 * the server is down for longer than the retries (or across a Node-RED restart) is not lost.
 */
import pRetry from 'p-retry';
import type { Outcome } from '../../protocol/index.js';
import type { GateRecords } from '../startup/records.js';
import { honourRetryAfter, type ApprovalClient } from './client.js';

type Log = { warn(message: string): void };

/** How a report ended: taken, refused for good (4xx), or the server could not be reached. */
export type ReportResult = 'taken' | 'refused' | 'unreachable';

/** A 4xx other than 429 (a rate limit says when to try again, and the retry waits that long). */
function refused(err: unknown): boolean {
  const http = (err as { httpStatus?: number | null }).httpStatus;
  return typeof http === 'number' && http >= 400 && http < 500 && http !== 429;
}

/** Reports `status` for deployment `id`; never throws, logs when the report could not be made. */
export async function reportOutcome(
  client: Pick<ApprovalClient, 'outcome'>,
  log: Log,
  id: string,
  status: Outcome,
  rev: string,
  message?: string,
): Promise<ReportResult> {
  const report = { status, rev, ...(message ? { message: message.slice(0, 500) } : {}) };
  try {
    // Five tries, 0.5 s apart doubling, while the server cannot be reached; a 4xx is final.
    await pRetry(() => client.outcome(id, report), {
      retries: 4,
      minTimeout: 500,
      unref: true,
      shouldRetry: ({ error }) => !refused(error),
      onFailedAttempt: ({ error }) => honourRetryAfter(error),
    });
    return 'taken';
  } catch (err) {
    if (refused(err)) {
      log.warn(`Countersign: the server refused the outcome of ${id}: ${(err as Error).message}`);
      return 'refused';
    }
    log.warn(
      `Countersign: could not report the outcome of deployment ${id} (${status}) yet; ` +
        'it is kept and sent when the approval server is back',
    );
    return 'unreachable';
  }
}

/** Outcomes kept on disk (`countersign-gate/outcomes/`) until the server has taken them. */
export class OutcomeReports {
  readonly #client: Pick<ApprovalClient, 'outcome'>;
  readonly #records: Pick<GateRecords, 'writeOutcome' | 'removeOutcome' | 'readOutcomes'>;
  readonly #log: Log;
  #flushing: Promise<void> | null = null;

  constructor(options: {
    client: Pick<ApprovalClient, 'outcome'>;
    records: Pick<GateRecords, 'writeOutcome' | 'removeOutcome' | 'readOutcomes'>;
    log: Log;
  }) {
    this.#client = options.client;
    this.#records = options.records;
    this.#log = options.log;
  }

  /** Keeps the outcome, reports it, and forgets it once the server took or refused it. */
  async report(id: string, status: Outcome, rev: string, message?: string): Promise<void> {
    const kept = await this.#records
      .writeOutcome({
        v: 1,
        id,
        status,
        rev,
        ...(message ? { message: message.slice(0, 500) } : {}),
        at: new Date().toISOString(),
      })
      .then(() => true)
      .catch((err: unknown) => {
        this.#log.warn(
          `Countersign: could not keep the outcome of ${id}: ${(err as Error).message}`,
        );
        return false;
      });
    const result = await reportOutcome(this.#client, this.#log, id, status, rev, message);
    if (kept && result !== 'unreachable') await this.#records.removeOutcome(id).catch(() => {});
  }

  /** Sends every kept outcome once (one flush at a time); what the server takes or refuses is forgotten. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    for (const r of await this.#records.readOutcomes()) {
      try {
        await this.#client.outcome(r.id, {
          status: r.status,
          rev: r.rev,
          ...(r.message ? { message: r.message } : {}),
        });
      } catch (err) {
        if (!refused(err)) return; // still unreachable: the next connection tries again
        this.#log.warn(
          `Countersign: the server refused the outcome of ${r.id}: ${(err as Error).message}`,
        );
      }
      await this.#records.removeOutcome(r.id).catch(() => {});
    }
  }
}
