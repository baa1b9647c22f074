/** Paged reads of the deployment history and the audit log (5.7), newest first where a person reads them. */
import { ValidationError, type AuditEntry, type DeploymentSummary } from '../../protocol/index.js';
import type { Context } from '../context.js';
import { summaryOf } from '../deployments/views.js';

/** Largest page. */
export const MAX_PAGE = 1000;

/** A page size from a query parameter: 1 to `MAX_PAGE`, `fallback` when absent. */
export function pageSize(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new ValidationError(`limit must be a number from 1 to ${MAX_PAGE}`);
  }
  return n;
}

/** A sequence number from a query parameter. */
export function sequence(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new ValidationError(`${name} must be a sequence number`);
  return n;
}

/** Deployments, live then archived, newest first; `next` is the cursor of the following page. */
export async function deploymentPage(
  ctx: Context,
  query: { before?: string; limit: number },
): Promise<{ deployments: DeploymentSummary[]; next: string | null }> {
  if (query.before !== undefined && query.before.length > 200) {
    throw new ValidationError('before must be a cursor from a previous page');
  }
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
  if (query.after !== undefined && query.before !== undefined) {
    throw new ValidationError('give after or before, not both');
  }
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
