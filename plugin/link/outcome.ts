/**
 * Reporting a deployment's outcome to the approval server (`POST /deployments/:id/outcome`, DESIGN
 * 5.7): retried with backoff while the server cannot be reached, given up on a 4xx answer.
 */
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
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await client.outcome(id, {
        status,
        rev,
        ...(message ? { message: message.slice(0, 500) } : {}),
      });
      return;
    } catch (err) {
      const http = (err as { httpStatus?: number | null }).httpStatus;
      if (typeof http === 'number' && http >= 400 && http < 500) {
        log.warn(`Countersign: the server refused the outcome of ${id}: ${(err as Error).message}`);
        return;
      }
      await new Promise<void>((resolve) => {
        setTimeout(resolve, 500 * 2 ** attempt).unref?.();
      });
    }
  }
  log.warn(`Countersign: could not report the outcome of deployment ${id} (${status})`);
}
