/** Paged reads of the deployment history and the audit log (5.7), newest first where a person reads them. */
import { type AuditEntry, type DeploymentSummary } from '../../protocol/index.js';
import type { Context } from '../context.js';
import { summaryOf } from '../deployments/views.js';

/** Deployments, live then archived, newest first; `next` is the cursor of the following page. */
export async function deploymentPage(
  ctx: Context,
  query: { before?: string; limit: number },
): Promise<{ deployments: DeploymentSummary[]; next: string | null }> {
  const page = await ctx.store.history({ before: query.before ?? null, limit: query.limit });
  return { deployments: page.deployments.map(summaryOf), next: page.next };
}

/**
 * Audit entries: `after` → those after it, oldest first (5.7); `before` → those before it, newest
 * first. `next` continues in the same direction (null at the end).
 */
export async function auditPage(
  ctx: Context,
  query: { after?: number; before?: number; limit: number },
): Promise<{ entries: AuditEntry[]; next: number | null }> {
  const entries = await ctx.store.audit(query);
  const last = entries.at(-1);
  const next =
    query.before !== undefined
      ? last && last.seq > 1
        ? last.seq
        : null
      : last && entries.length === query.limit
        ? last.seq
        : null;
  return { entries, next };
}
