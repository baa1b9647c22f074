/**
 * How long decided deployments keep their snapshots and full change lists (DESIGN 6): at most
 * `days` after their decision, and only the newest `keep` of them. A decided deployment is in the
 * append-only history files from its decision on, readable for ever; past the retention, its blobs
 * and change list go once nothing live refers to them (the history keeps what each change was).
 */
import { ValidationError, isFinal, type DeploymentStatus } from '../../protocol/index.js';

/** The retention setting. */
export type Retention = { days: number; keep: number };

/** The default: 90 days, and the last 500 decided. */
export const DEFAULT_RETENTION: Retention = { days: 90, keep: 500 };

/**
 * Extra decided deployments tolerated past `keep` before pruning runs on its own after a decision,
 * so that one prune handles a batch rather than one deployment per decision.
 */
export function pruneSlack(retention: Retention): number {
  return Math.max(10, Math.ceil(retention.keep / 10));
}

/** True for a deployment whose state no transition leaves: it goes to the history files. */
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
  const whole = (key: 'days' | 'keep', max: number, what: string): number => {
    const v = r[key];
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
      throw new ValidationError(`retention.${key} must be a whole number${what} (0 to ${max})`, {
        code: 'ERR_CONFIG',
      });
    }
    return n;
  };
  return {
    days: r.days === undefined ? base.days : whole('days', 36_500, ' of days'),
    keep: r.keep === undefined ? base.keep : whole('keep', 100_000, ''),
  };
}

/** A decided deployment within the retention: what its files are. */
export type RecentDecision = { id: string; base: string; target: string; decidedAt: string };

/**
 * Splits the decided deployments within the retention (oldest decision first) into those it
 * still keeps and those past it: decided more than `days` ago, or beyond the newest `keep`.
 */
export function splitRetained(
  recent: readonly RecentDecision[],
  retention: Retention,
  nowMs: number,
): { kept: RecentDecision[]; past: RecentDecision[] } {
  const sorted = [...recent].sort((a, b) => Date.parse(a.decidedAt) - Date.parse(b.decidedAt));
  const cutoff = nowMs - retention.days * 86_400_000;
  const beyondKeep = Math.max(0, sorted.length - retention.keep);
  const kept: RecentDecision[] = [];
  const past: RecentDecision[] = [];
  sorted.forEach((d, i) =>
    (i < beyondKeep || Date.parse(d.decidedAt) < cutoff ? past : kept).push(d),
  );
  return { kept, past };
}
