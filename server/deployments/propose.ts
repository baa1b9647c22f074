import { randomBytes } from 'node:crypto';
import {
  CountersignError,
  ValidationError,
  computeChanges,
  credsMatchFields,
  isSha256Hex,
  moduleChange,
  parseModuleBlob,
  parseCredentialFields,
  parseFlows,
  type Change,
  type DeploymentSource,
  type DeploymentType,
  type Flows,
  type ProposalRequest,
  type ProposalResponse,
} from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import type { Context } from '../context.js';
import { durationSeconds } from '../policy.js';
import { chargeQuota } from '../instances/quota.js';
import type { DeploymentRecord, InstanceRecord } from '../store/types.js';

const TYPES: ReadonlySet<string> = new Set<DeploymentType>([
  'full',
  'nodes',
  'flows',
  'reload',
  'flow-add',
  'flow-update',
  'flow-delete',
  'startup',
  'module',
]);

function shortText(value: unknown, name: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) {
    throw new ValidationError(`${name} must be a string of at most ${max} characters`);
  }
  return value;
}

/** Checks a proposal body (5.7) into its type. */
export function parseProposal(input: unknown): ProposalRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('the proposal must be a JSON object');
  }
  const b = input as Record<string, unknown>;
  if (!isSha256Hex(b.base) || !isSha256Hex(b.target)) {
    throw new ValidationError('base and target must be revs (64 lowercase hex digits)');
  }
  if (b.creds !== null && !isSha256Hex(b.creds)) {
    throw new ValidationError('creds must be null or a digest (64 lowercase hex digits)');
  }
  if (typeof b.type !== 'string' || !TYPES.has(b.type)) {
    throw new ValidationError(`type must be one of ${[...TYPES].join(', ')}`);
  }
  const s = b.source as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    throw new ValidationError('source must be {user, via, address?}');
  }
  const source: DeploymentSource = {
    user: shortText(s.user, 'source.user', 200),
    via: shortText(s.via, 'source.via', 100),
  };
  if (s.address !== undefined) source.address = shortText(s.address, 'source.address', 200);
  const credentials = parseCredentialFields(b.credentials);
  if (Object.keys(credentials).length > 100_000) throw new ValidationError('too many credentials');
  // T8: the digest names credentials exactly when field names are listed, or the review would not show them.
  if (!credsMatchFields(b.creds as string | null, credentials)) {
    throw new ValidationError(
      'creds must be null exactly when credentials lists no field (a digest without field names, or field names without a digest)',
    );
  }
  // 7.1: a palette change sets no credentials.
  if (b.type === 'module' && (b.creds !== null || Object.keys(credentials).length > 0)) {
    throw new ValidationError('a module deployment carries no credentials (creds null)');
  }
  return {
    base: b.base,
    target: b.target,
    creds: b.creds as string | null,
    credentials,
    type: b.type as DeploymentType,
    source,
  };
}

async function blobText(ctx: Context, rev: string, instanceId: string): Promise<string> {
  const owners = await ctx.store.blobOwners(rev);
  const bytes = owners.includes(instanceId) ? await ctx.store.blob(rev) : null;
  if (!bytes) {
    throw new CountersignError(
      'ERR_BLOB_MISSING',
      `blob ${rev.slice(0, 12)} has not been uploaded`,
    );
  }
  return Buffer.from(bytes).toString('utf8');
}

async function flowsOfBlob(ctx: Context, rev: string, instanceId: string): Promise<Flows> {
  return parseFlows(JSON.parse(await blobText(ctx, rev, instanceId)));
}

/** The change list: of the flows, or for a palette change (7.1) the one `module` change. */
async function changesOf(
  ctx: Context,
  proposal: ProposalRequest,
  instanceId: string,
): Promise<Change[]> {
  const base = await flowsOfBlob(ctx, proposal.base, instanceId);
  if (proposal.type === 'module') {
    const descriptor = parseModuleBlob(await blobText(ctx, proposal.target, instanceId));
    return [moduleChange(descriptor, base)];
  }
  return computeChanges(
    base,
    await flowsOfBlob(ctx, proposal.target, instanceId),
    proposal.credentials,
  );
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
  body: unknown,
): Promise<ProposalResponse> {
  const proposal = parseProposal(body);
  await chargeQuota(ctx, instance, 'proposal');
  const changes = await changesOf(ctx, proposal, instance.id);
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
