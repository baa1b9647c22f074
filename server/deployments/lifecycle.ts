import { CountersignError } from '../../protocol/index.js';
import type { Context } from '../context.js';
import type { DeploymentRecord } from '../store/types.js';

/** True when `d` is pending and its expiry has not passed. */
export function isPendingAt(d: DeploymentRecord, nowMs: number): boolean {
  return d.status === 'pending' && Date.parse(d.expiresAt) > nowMs;
}

/** Marks every pending deployment past its expiry `expired` (5.8); called before reads and on a timer. */
export async function expireDue(ctx: Context): Promise<void> {
  await ctx.store.expireDue(ctx.clock.now());
}

/** The deployment `id`, or ERR_NOT_FOUND; `instanceId` limits it to one instance's deployments. */
export async function deploymentOf(
  ctx: Context,
  id: string,
  instanceId?: string,
): Promise<DeploymentRecord> {
  const d = await ctx.store.deployment(id);
  if (!d || (instanceId !== undefined && d.instanceId !== instanceId)) {
    throw new CountersignError('ERR_NOT_FOUND', `no deployment ${String(id).slice(0, 64)}`);
  }
  return d;
}
