/**
 * How long decided deployments stay in the live state (DESIGN 6): at most `days` after their
 * decision, and only the newest `keep` of them. Older ones move to the history files, where they
 * stay readable; their blobs and change files go once nothing live refers to them.
 */
import { ValidationError, isFinal, type DeploymentStatus } from '../../protocol/index.js';
import type { DeploymentRecord } from './types.js';

/** The retention setting. */
export type Retention = { days: number; keep: number };

/** The default: 90 days, and the last 500 decided. */
export const DEFAULT_RETENTION: Retention = { days: 90, keep: 500 };

/**
 * Extra decided deployments tolerated past `keep` before pruning runs on its own after a decision,
 * so that one prune moves a batch rather than one deployment per decision.
 */
export function pruneSlack(retention: Retention): number {
  return Math.max(10, Math.ceil(retention.keep / 10));
}

/** True for a deployment whose state no transition leaves (it can be archived). */
export function isDecided(status: DeploymentStatus): boolean {
  return isFinal(status);
}

/** Checks a (partial) retention setting; errors name the setting. */
export function parseRetention(input: unknown, base: Retention = DEFAULT_RETENTION): Retention {
  if (input === undefined || input === null) return { ...base };
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('retention must be {days, keep}', { code: 'ERR_CONFIG' });
  }
  const r = input as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (key !== 'days' && key !== 'keep') {
      throw new ValidationError(`retention.${key} is not a setting (known: days, keep)`, {
        code: 'ERR_CONFIG',
      });
    }
  }
  const out = { ...base };
  if (r.days !== undefined) {
    const n = typeof r.days === 'string' && /^\d+$/.test(r.days) ? Number(r.days) : r.days;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 36_500) {
      throw new ValidationError('retention.days must be a whole number of days (0 to 36500)', {
        code: 'ERR_CONFIG',
      });
    }
    out.days = n;
  }
  if (r.keep !== undefined) {
    const n = typeof r.keep === 'string' && /^\d+$/.test(r.keep) ? Number(r.keep) : r.keep;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 100_000) {
      throw new ValidationError('retention.keep must be a whole number (0 to 100000)', {
        code: 'ERR_CONFIG',
      });
    }
    out.keep = n;
  }
  return out;
}

/**
 * The decided deployments `retention` no longer keeps live, oldest decision first: those decided
 * more than `days` ago, and those beyond the newest `keep` decided.
 */
export function dueForArchive(
  deployments: readonly DeploymentRecord[],
  retention: Retention,
  nowMs: number,
): DeploymentRecord[] {
  const decided = deployments
    .filter((d) => isDecided(d.status))
    .sort((a, b) => decidedMs(a) - decidedMs(b));
  const cutoff = nowMs - retention.days * 86_400_000;
  const beyondKeep = Math.max(0, decided.length - retention.keep);
  return decided.filter((d, i) => i < beyondKeep || decidedMs(d) < cutoff);
}

/** When a deployment was decided (its creation when it never was: records from older versions). */
export function decidedMs(d: DeploymentRecord): number {
  return Date.parse(d.decidedAt ?? d.createdAt);
}
