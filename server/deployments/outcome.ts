import {
  ValidationError,
  type OutcomeRequest,
  type OutcomeResponse,
} from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import type { Context } from '../context.js';
import type { InstanceRecord } from '../store/types.js';
import { deploymentOf } from './lifecycle.js';

/** `POST /deployments/:id/outcome`: the plugin reports what became of an approved deployment (5.8). */
export async function reportOutcome(
  ctx: Context,
  instance: InstanceRecord,
  id: string,
  outcome: OutcomeRequest,
): Promise<OutcomeResponse> {
  const current = await deploymentOf(ctx, id, instance.id);
  if (outcome.status === 'applied' && outcome.rev !== current.target) {
    throw new ValidationError('an applied deployment must report its target rev');
  }
  await ctx.store.reportOutcome(id, instance.id, outcome, isoOf(ctx.clock));
  ctx.pruner.afterDecision();
  return { status: outcome.status };
}
