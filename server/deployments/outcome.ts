import {
  OUTCOMES,
  ValidationError,
  isSha256Hex,
  type Outcome,
  type OutcomeRequest,
} from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import type { Context } from '../context.js';
import type { InstanceRecord } from '../store/types.js';
import { deploymentOf } from './lifecycle.js';

/** Checks an outcome body (5.7). */
export function parseOutcome(input: unknown): OutcomeRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('the outcome must be a JSON object');
  }
  const b = input as Record<string, unknown>;
  if (!(OUTCOMES as readonly unknown[]).includes(b.status)) {
    throw new ValidationError(`status must be one of ${OUTCOMES.join(', ')}`);
  }
  if (!isSha256Hex(b.rev)) throw new ValidationError('rev must be 64 lowercase hex digits');
  if (b.message !== undefined && (typeof b.message !== 'string' || b.message.length > 1000)) {
    throw new ValidationError('message must be a string of at most 1000 characters');
  }
  return {
    status: b.status as Outcome,
    rev: b.rev,
    ...(b.message !== undefined ? { message: b.message as string } : {}),
  };
}

/** `POST /deployments/:id/outcome`: the plugin reports what became of an approved deployment (5.8). */
export async function reportOutcome(
  ctx: Context,
  instance: InstanceRecord,
  id: string,
  body: unknown,
): Promise<{ status: Outcome }> {
  const outcome = parseOutcome(body);
  const current = await deploymentOf(ctx, id, instance.id);
  if (outcome.status === 'applied' && outcome.rev !== current.target) {
    throw new ValidationError('an applied deployment must report its target rev');
  }
  await ctx.store.reportOutcome(id, instance.id, outcome, isoOf(ctx.clock));
  ctx.pruner.afterDecision();
  return { status: outcome.status };
}
