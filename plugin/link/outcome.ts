/**
 * Reporting a deployment's outcome to the approval server (`POST /deployments/:id/outcome`, DESIGN
 * 5.7): retried with backoff while the server cannot be reached, given up on a 4xx answer.
 */
import pRetry from 'p-retry';
import type { Outcome } from '../../protocol/index.js';
import type { ApprovalClient } from './client.js';

/** Reports `status` for deployment `id`; never throws, logs when the report could not be made. */
export async function reportOutcome(
  client: Pick<ApprovalClient, 'outcome'>,
  log: { warn(message: string): void },
  id: string,
  status: Outcome,
  rev: string,
  message?: string,
): Promise<void> {
  const refused = (err: unknown): boolean => {
    const http = (err as { httpStatus?: number | null }).httpStatus;
    return typeof http === 'number' && http >= 400 && http < 500;
  };
  const report = { status, rev, ...(message ? { message: message.slice(0, 500) } : {}) };
  try {
    // Five tries, 0.5 s apart doubling, while the server cannot be reached; a 4xx is final.
    await pRetry(() => client.outcome(id, report), {
      retries: 4,
      minTimeout: 500,
      unref: true,
      shouldRetry: ({ error }) => !refused(error),
    });
  } catch (err) {
    log.warn(
      refused(err)
        ? `Countersign: the server refused the outcome of ${id}: ${(err as Error).message}`
        : `Countersign: could not report the outcome of deployment ${id} (${status})`,
    );
  }
}
