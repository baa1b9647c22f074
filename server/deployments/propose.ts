import { randomBytes } from 'node:crypto';
import {
  CountersignError,
  durationSeconds,
  parseFlows,
  type Flows,
  type ProposalRequest,
  type ProposalResponse,
} from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import type { Context } from '../context.js';
import { chargeQuota } from '../instances/quota.js';
import { changeListOf } from './change-list.js';
import type { DeploymentRecord, InstanceRecord } from '../store/types.js';

/** The text of blob `rev`, when instance `instanceId` uploaded it. */
async function blobText(ctx: Context, rev: string, instanceId: string): Promise<string> {
  const owners = await ctx.store.blobOwners(rev);
  const bytes = owners.includes(instanceId) ? await ctx.store.blob(rev) : null;
  if (!bytes) throw blobMissing(rev);
  return Buffer.from(bytes).toString('utf8');
}

function blobMissing(rev: string): CountersignError {
  return new CountersignError('ERR_BLOB_MISSING', `blob ${rev.slice(0, 12)} has not been uploaded`);
}

/** The flows of snapshot `rev`, parsed at its upload when still kept, else read and parsed now. */
async function flowsOfBlob(ctx: Context, rev: string, instanceId: string): Promise<Flows> {
  const kept = ctx.snapshots.get(rev);
  if (kept) {
    if (!(await ctx.store.blobOwners(rev)).includes(instanceId)) throw blobMissing(rev);
    return kept;
  }
  const text = await blobText(ctx, rev, instanceId);
  const flows = parseFlows(JSON.parse(text));
  ctx.snapshots.remember(rev, flows, text.length);
  return flows;
}

/**
 * A plugin's proposal (DESIGN 3 step 3): within the instance's quota; both blobs must be there; the
 * change list is computed once; older pending deployments of the instance are superseded (the
 * store does that, and tells the event stream); every active device gets a push, sent after the
 * answer and never awaited.
 */
export async function propose(
  ctx: Context,
  instance: InstanceRecord,
  proposal: ProposalRequest,
): Promise<ProposalResponse> {
  await chargeQuota(ctx, instance, 'proposal');
  const changes = await changeListOf(
    {
      flows: (rev) => flowsOfBlob(ctx, rev, instance.id),
      text: (rev) => blobText(ctx, rev, instance.id),
    },
    proposal,
  );
  const now = ctx.clock.now();
  let id = randomBytes(6).toString('hex');
  while (await ctx.store.deployment(id)) id = randomBytes(6).toString('hex');
  const record: DeploymentRecord = {
    id,
    instanceId: instance.id,
    instance: instance.name,
    status: 'pending',
    createdAt: isoOf(ctx.clock, now),
    expiresAt: isoOf(ctx.clock, now + durationSeconds(instance.policy.expiresIn) * 1000),
    source: proposal.source,
    base: proposal.base,
    target: proposal.target,
    creds: proposal.creds,
    credentials: proposal.credentials,
    type: proposal.type,
    changeIds: changes.map((c) => c.id),
    policy: { ...instance.policy },
    approvals: [],
    outcome: null,
    decidedAt: null,
  };
  await ctx.store.propose(record, changes, [
    {
      type: 'deployment-proposed',
      data: {
        deployment: record.id,
        instance: instance.name,
        base: record.base,
        target: record.target,
        creds: record.creds,
        changes: changes.length,
        type: record.type,
        source: record.source,
      },
    },
  ]);
  ctx.notifier.notify({
    kind: 'deployment',
    id: record.id,
    instance: instance.name,
    changes: changes.length,
    by: proposal.source.user,
    expiresAt: record.expiresAt,
    ttl: (Date.parse(record.expiresAt) - now) / 1000,
    topic: instance.id,
  });
  ctx.log.info(
    `deployment ${record.id} held for ${instance.name}: ${changes.length} changes by ${proposal.source.user}`,
  );
  return {
    id: record.id,
    status: record.status,
    expiresAt: record.expiresAt,
    reviewUrl: `${ctx.config.publicUrl}/#/review/${record.id}`,
  };
}
