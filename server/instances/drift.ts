import type { DriftRequest } from '../../protocol/index.js';
import type { Context } from '../context.js';
import type { InstanceRecord } from '../store/types.js';

/**
 * `POST /instance/drift` `{rev, message}`: the plugin found flows on disk that differ from the last
 * approved rev (T3). Audited, and every device gets a `drift` push. The message is audited only.
 */
export async function recordDrift(
  ctx: Context,
  instance: InstanceRecord,
  { rev, message }: DriftRequest,
): Promise<void> {
  await ctx.store.appendAudit([{ type: 'drift', data: { instance: instance.name, rev, message } }]);
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
