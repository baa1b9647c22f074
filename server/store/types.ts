/** What the server keeps (DESIGN 6), and the small interface any store implements. */
import type {
  AuditEntry,
  Change,
  CredentialFields,
  DeploymentSource,
  DeploymentStatus,
  DeploymentType,
  DeviceJwk,
  PushSubscriptionJson,
  Verdict,
} from '../../protocol/index.js';
import type { Policy } from '../policy.js';

/** The document's schema version; a newer one is refused, never rewritten. */
export const SCHEMA_VERSION = 1;

/** A Node-RED instance allowed to propose deployments. */
export type InstanceRecord = {
  id: string;
  name: string;
  /** SHA-256 hex of the bearer token; the token itself is never kept. */
  tokenHash: string;
  policy: Policy;
  createdAt: string;
};

/** An enrolled device. */
export type DeviceRecord = {
  id: string;
  jwk: DeviceJwk;
  owner: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  push: PushSubscriptionJson | null;
};

/** An invitation: only the SHA-256 of its code is kept. */
export type InvitationRecord = {
  codeHash: string;
  owner: string;
  name: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  /** `admin` or the inviting device's id. */
  by: string;
};

/** One accepted decision, with the JWS as signed and the decision map its `decisions` claim digests. */
export type ApprovalRecord = {
  device: string;
  verdict: Verdict;
  at: string;
  jws: string;
  changes: Record<string, Verdict>;
};

/** A deployment; its change list lives beside the document (it can be big). */
export type DeploymentRecord = {
  id: string;
  instanceId: string;
  status: DeploymentStatus;
  createdAt: string;
  expiresAt: string;
  source: DeploymentSource;
  base: string;
  target: string;
  creds: string | null;
  credentials: CredentialFields;
  type: DeploymentType;
  changeIds: string[];
  policy: Policy;
  approvals: ApprovalRecord[];
  outcome: { status: string; rev: string; message?: string; at: string } | null;
  decidedAt: string | null;
};

/** The lowdb document. */
export type StoreData = {
  schema: number;
  serverId: string;
  instances: InstanceRecord[];
  devices: DeviceRecord[];
  invitations: InvitationRecord[];
  deployments: DeploymentRecord[];
  /** Approval `jti`s, kept forever: `j:<jti>` → deployment id. */
  approvalJtis: Record<string, string>;
  /** Proof and enrolment `jti`s for their window: jti → expiry (Unix seconds). */
  proofJtis: Record<string, number>;
  /** Which instances uploaded which blob: rev → instance ids. */
  blobOwners: Record<string, string[]>;
};

/** Content-addressed snapshots (DESIGN 6): `blobs/<rev>.json`, re-hashed on every read. */
export interface BlobStore {
  /** Stores bytes whose SHA-256 is `rev` (the caller has checked it). */
  put(rev: string, bytes: Uint8Array<ArrayBuffer>): Promise<void>;
  /** The bytes of `rev`, or null when absent; throws when the stored bytes no longer hash to `rev`. */
  get(rev: string): Promise<Uint8Array<ArrayBuffer> | null>;
  has(rev: string): Promise<boolean>;
}

/** The hash-chained audit log (DESIGN 6). */
export interface AuditLog {
  /** Appends an entry (fsynced) and returns it. */
  append(type: string, data: Record<string, unknown>): Promise<AuditEntry>;
  /** Entries with `seq > after`, at most `limit`. */
  read(after: number, limit: number): Promise<AuditEntry[]>;
  /** Re-checks the whole chain. */
  verify(): Promise<AuditVerification>;
}

/** The result of `audit verify`. */
export type AuditVerification =
  { ok: true; entries: number } | { ok: false; entries: number; badSeq: number; reason: string };

/**
 * The store: one document changed only through `update` (serialised: one writer, no lost write),
 * the change lists, blobs and the audit log. A PostgreSQL store would implement the same.
 */
export interface Store {
  /** The current document; read-only by convention outside `update`. */
  readonly data: Readonly<StoreData>;
  /** Runs `fn` alone (no other update interleaves), then persists; resolves once written. */
  update<T>(fn: (data: StoreData) => T | Promise<T>): Promise<T>;
  putChanges(deploymentId: string, changes: Change[]): Promise<void>;
  getChanges(deploymentId: string): Promise<Change[]>;
  readonly blobs: BlobStore;
  readonly audit: AuditLog;
  close(): Promise<void>;
}
