/**
 * The lowdb document, `countersign.json`: live state only (DESIGN 6) — instances, devices,
 * invitations, the deployments still waiting for a decision or an outcome, unexpired approval
 * jtis, and two outboxes: decided deployments and audit lines committed with the document and not
 * yet known to be in the history files and `audit.jsonl`. Its size does not grow with history nor
 * with the retention (what files are kept for is in `files.jsonl`). Older documents are upgraded
 * when opened.
 */
import { CountersignError, randomId } from '../../protocol/index.js';
import type { NumberedDraft } from '../audit/audit-file.js';
import type { BlobRef } from './file-refs.js';
import { isDecided, type RecentDecision } from './retention.js';
import type { DeploymentRecord, DeviceRecord, InstanceRecord, InvitationRecord } from './types.js';

/** The document's schema version; a newer one is refused, never rewritten. */
export const SCHEMA_VERSION = 2;

/** The document. */
export type LiveDocument = {
  schema: number;
  serverId: string;
  instances: InstanceRecord[];
  devices: DeviceRecord[];
  invitations: InvitationRecord[];
  /** Pending and approved deployments, in order of creation. */
  deployments: DeploymentRecord[];
  /** Decided deployments committed here, appended to the history files right after. */
  decided: DeploymentRecord[];
  /** Accepted approval `jti`s until they could not verify anyway: `j:<jti>` → Unix seconds. */
  approvalJtis: Record<string, number>;
  /** Audit lines committed with this document, appended to `audit.jsonl` right after it is written. */
  outbox: NumberedDraft[];
};

/** What upgrading an older document carries elsewhere. */
export type Upgrade = {
  /** Proof jtis the old document held (they move to the jti journal). */
  proofJtis: Record<string, number>;
  /** Blob uploaders and the decided deployments whose files are kept (they move to `files.jsonl`). */
  blobs: Record<string, BlobRef>;
  recent: RecentDecision[];
};

/** A new document with a fresh server id. */
export function emptyDocument(): LiveDocument {
  return {
    schema: SCHEMA_VERSION,
    serverId: randomId(16),
    instances: [],
    devices: [],
    invitations: [],
    deployments: [],
    decided: [],
    approvalJtis: {},
    outbox: [],
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a parsed document enough that the server can trust its shape, upgrading schema 1. */
export function checkDocument(
  value: unknown,
  path: string,
  nowMs: number,
): { doc: LiveDocument; upgrade: Upgrade | null } {
  const d = value as Record<string, unknown> | null;
  const ok =
    isRecord(d) &&
    typeof d.schema === 'number' &&
    typeof d.serverId === 'string' &&
    Array.isArray(d.instances) &&
    Array.isArray(d.devices) &&
    Array.isArray(d.invitations) &&
    Array.isArray(d.deployments) &&
    isRecord(d.approvalJtis);
  if (!ok) throw new CountersignError('ERR_STORE_CORRUPT', `${path} is not a Countersign store`);
  if ((d.schema as number) > SCHEMA_VERSION) {
    throw new CountersignError(
      'ERR_STORE_CORRUPT',
      `${path} has schema ${d.schema}, newer than this server (${SCHEMA_VERSION}): upgrade Countersign`,
    );
  }
  if (d.schema === SCHEMA_VERSION) {
    if (!Array.isArray(d.outbox) || !Array.isArray(d.decided)) {
      throw new CountersignError('ERR_STORE_CORRUPT', `${path} is not a Countersign store`);
    }
    return { doc: d as unknown as LiveDocument, upgrade: null };
  }
  return upgradeFrom1(d, nowMs);
}

/**
 * Schema 1 → 2: jtis with expiry, blob upload times, instance names and inviters on records; the
 * decided deployments go to the history files (through the outbox), their files stay retained.
 */
function upgradeFrom1(
  d: Record<string, unknown>,
  nowMs: number,
): { doc: LiveDocument; upgrade: Upgrade } {
  const instances = d.instances as InstanceRecord[];
  const names = new Map(instances.map((i) => [i.id, i.name]));
  const at = new Date(nowMs).toISOString();
  // An accepted approval lives at most 300 s; whatever schema 1 kept is past use within minutes.
  const approvalJtis: Record<string, number> = {};
  for (const key of Object.keys(d.approvalJtis as object)) {
    approvalJtis[key] = Math.floor(nowMs / 1000) + 600;
  }
  const blobs: Record<string, BlobRef> = {};
  for (const [rev, owners] of Object.entries((d.blobOwners ?? {}) as Record<string, string[]>)) {
    blobs[rev] = { owners: [...owners], at };
  }
  const deployments = (d.deployments as DeploymentRecord[]).map((x) => ({
    ...x,
    instance: x.instance ?? names.get(x.instanceId) ?? x.instanceId,
  }));
  const decided = deployments.filter((x) => isDecided(x.status));
  const doc: LiveDocument = {
    schema: SCHEMA_VERSION,
    serverId: d.serverId as string,
    instances,
    devices: (d.devices as DeviceRecord[]).map((x) => ({
      ...x,
      invitedBy: x.invitedBy ?? null,
      suspendedAt: null,
      suspendedBy: null,
    })),
    invitations: d.invitations as InvitationRecord[],
    deployments: deployments.filter((x) => !isDecided(x.status)),
    decided,
    approvalJtis,
    outbox: [],
  };
  return {
    doc,
    upgrade: {
      proofJtis: { ...((d.proofJtis ?? {}) as Record<string, number>) },
      blobs,
      recent: decided.map(recentOf),
    },
  };
}

/** What the retention keeps of a decided deployment. */
export function recentOf(d: DeploymentRecord): RecentDecision {
  return { id: d.id, base: d.base, target: d.target, decidedAt: d.decidedAt ?? d.createdAt };
}
