import { CountersignError } from '../../protocol/index.js';
import type { Context } from '../context.js';
import { secondsUntilLeaves } from '../devices/failure-limiter.js';
import type { InstanceRecord } from '../store/types.js';

/** Blob uploads an instance may make per proposal it may make (base and target, and retries). */
const UPLOADS_PER_PROPOSAL = 4;

/** "minute" or "10 minutes", after "in the last". */
function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m === 1 ? 'minute' : `${m} minutes`;
}

/** A size limit for people: "64 MiB", "512 KiB". */
export function sizeText(bytes: number): string {
  return bytes >= 1048576 && bytes % 1048576 === 0
    ? `${bytes / 1048576} MiB`
    : `${Math.round(bytes / 1024)} KiB`;
}

/**
 * Counts one proposal or blob upload of `instance` against its quota (issue: a data directory
 * must not fill because one instance proposes in a loop); past it, 429 with a clear message.
 */
export async function chargeQuota(
  ctx: Context,
  instance: InstanceRecord,
  what: 'proposal' | 'upload',
): Promise<void> {
  const { max, windowMs } = ctx.config.quotas.proposals;
  const limit = what === 'proposal' ? max : max * UPLOADS_PER_PROPOSAL;
  const key = `${what}:${instance.id}`;
  const now = ctx.clock.now();
  const wait = secondsUntilLeaves(
    await ctx.store.takeEvent(key, now, windowMs, limit),
    windowMs,
    now,
  );
  if (wait > 0) {
    ctx.log.warn(
      `instance ${instance.name}: ${what} quota reached (${limit} in the last ${minutes(windowMs)})`,
    );
    throw new CountersignError(
      'ERR_RATE_LIMITED',
      what === 'proposal'
        ? `instance ${instance.name} made ${limit} proposals in the last ${minutes(windowMs)}, its quota: wait, then deploy again`
        : `instance ${instance.name} uploaded ${limit} snapshots in the last ${minutes(windowMs)}, its quota: wait, then deploy again`,
      { retryAfterS: wait },
    );
  }
}
