import { ValidationError, isSha256Hex } from '../../protocol/index.js';
import type { Context } from '../context.js';
import type { InstanceRecord } from '../store/types.js';

/**
 * `POST /instance/drift` `{rev, message}`: the plugin found flows on disk that differ from the last
 * approved rev (T3). Audited, and every device gets a `drift` push. The message is audited only.
 */
export async function recordDrift(
  ctx: Context,
  instance: InstanceRecord,
  body: unknown,
): Promise<void> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('the drift report must be {rev, message}');
  }
  const { rev, message } = body as Record<string, unknown>;
  if (!isSha256Hex(rev)) throw new ValidationError('rev must be 64 lowercase hex digits');
  if (message !== undefined && (typeof message !== 'string' || message.length > 500)) {
    throw new ValidationError('message must be a string of at most 500 characters');
  }
  await ctx.store.appendAudit([
    { type: 'drift', data: { instance: instance.name, rev, message: message ?? '' } },
  ]);
  ctx.log.warn(`instance ${instance.name}: flows drifted to ${rev.slice(0, 12)}`);
  ctx.notifier.notify({
    kind: 'drift',
    id: rev,
    instance: instance.name,
    changes: 0,
    by: instance.name,
    expiresAt: null,
    ttl: 86_400,
    topic: `drift${instance.id}`.slice(0, 32),
  });
}
