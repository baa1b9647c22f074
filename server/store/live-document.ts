/**
 * The lowdb document, `countersign.json`: live state only (DESIGN 6) — instances, devices,
 * invitations, pending and recently decided deployments, unexpired approval jtis, which instances
 * uploaded which blob, and the audit lines committed with the last change and not yet known to be
 * in `audit.jsonl`. Older documents are upgraded when opened.
 */
import { CountersignError, randomId } from '../../protocol/index.js';
import type { NumberedDraft } from '../audit/audit-file.js';
import type { DeploymentRecord, DeviceRecord, InstanceRecord, InvitationRecord } from './types.js';

/** The document's schema version; a newer one is refused, never rewritten. */
export const SCHEMA_VERSION = 2;

/** Who uploaded a blob, and when last (unreferenced blobs are kept for a grace period after it). */
export type BlobRecord = { owners: string[]; at: string };

/** The document. */
export type LiveDocument = {
  schema: number;
  serverId: string;
  instances: InstanceRecord[];
  devices: DeviceRecord[];
  invitations: InvitationRecord[];
  /** Pending, approved, and decided within the retention window; in order of creation. */
  deployments: DeploymentRecord[];
  /** Accepted approval `jti`s until they could not verify anyway: `j:<jti>` → Unix seconds. */
  approvalJtis: Record<string, number>;
  blobs: Record<string, BlobRecord>;
  /** Audit lines committed with this document, appended to `audit.jsonl` right after it is written. */
  outbox: NumberedDraft[];
};

/** What upgrading an older document carries elsewhere. */
export type Upgrade = {
  /** Proof jtis the old document held (they move to the jti journal). */
  proofJtis: Record<string, number>;
  /** True when device inviters must be read from the audit log. */
  needsInviters: boolean;
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
    approvalJtis: {},
    blobs: {},
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
    if (!isRecord(d.blobs) || !Array.isArray(d.outbox)) {
      throw new CountersignError('ERR_STORE_CORRUPT', `${path} is not a Countersign store`);
    }
    return { doc: d as unknown as LiveDocument, upgrade: null };
  }
  return upgradeFrom1(d, nowMs);
}

/** Schema 1 → 2: jtis with expiry, blob upload times, instance names and inviters on records. */
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
  const blobs: Record<string, BlobRecord> = {};
  for (const [rev, owners] of Object.entries((d.blobOwners ?? {}) as Record<string, string[]>)) {
    blobs[rev] = { owners: [...owners], at };
  }
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
    deployments: (d.deployments as DeploymentRecord[]).map((x) => ({
      ...x,
      instance: x.instance ?? names.get(x.instanceId) ?? x.instanceId,
    })),
    approvalJtis,
    blobs,
    outbox: [],
  };
  return {
    doc,
    upgrade: {
      proofJtis: { ...((d.proofJtis ?? {}) as Record<string, number>) },
      needsInviters: doc.devices.length > 0,
    },
  };
}
