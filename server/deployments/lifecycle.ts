import { CountersignError, canTransition, type DeploymentStatus } from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import type { Context } from '../context.js';
import type { DeploymentRecord } from '../store/types.js';
import { eventOf, instanceName } from './views.js';

/** True when `d` is pending and its expiry has not passed. */
export function isPendingAt(d: DeploymentRecord, nowMs: number): boolean {
  return d.status === 'pending' && Date.parse(d.expiresAt) > nowMs;
}

/** Moves `d` to `to`, only along the transitions of 5.8. */
export function transition(d: DeploymentRecord, to: DeploymentStatus): void {
  if (!canTransition(d.status, to)) {
    throw new CountersignError(
      'ERR_INVALID_TRANSITION',
      `deployment ${d.id} cannot go from ${d.status} to ${to}`,
    );
  }
  d.status = to;
}

/** Tells the instance's plugin (SSE) and writes the audit line for status changes already stored. */
export async function announce(ctx: Context, changed: DeploymentRecord[]): Promise<void> {
  for (const d of changed) {
    ctx.events.publish(d.instanceId, eventOf(ctx, d));
    ctx.log.info(`deployment ${d.id} ${d.status}`);
    await ctx.store.audit.append(`deployment-${d.status}`, {
      deployment: d.id,
      instance: instanceName(ctx, d),
    });
  }
}

/** Marks every pending deployment past its expiry `expired` (5.8); called before reads and on a timer. */
export async function expireDue(ctx: Context): Promise<void> {
  const now = ctx.clock.now();
  if (!ctx.store.data.deployments.some((d) => d.status === 'pending' && !isPendingAt(d, now))) {
    return;
  }
  const expired = await ctx.store.update((data) => {
    const out: DeploymentRecord[] = [];
    for (const d of data.deployments) {
      if (d.status === 'pending' && !isPendingAt(d, now)) {
        transition(d, 'expired');
        d.decidedAt = isoOf(ctx.clock);
        out.push(d);
      }
    }
    return out;
  });
  await announce(ctx, expired);
}

/** The deployment `id`, or ERR_NOT_FOUND; `instanceId` limits it to one instance's deployments. */
export function deploymentOf(ctx: Context, id: string, instanceId?: string): DeploymentRecord {
  const d = ctx.store.data.deployments.find((x) => x.id === id);
  if (!d || (instanceId !== undefined && d.instanceId !== instanceId)) {
    throw new CountersignError('ERR_NOT_FOUND', `no deployment ${String(id).slice(0, 64)}`);
  }
  return d;
}
