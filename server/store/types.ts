/**
 * What the server keeps (DESIGN 6), and the store interface every store implements: queries that
 * answer questions and commands that change state. Each command is one transaction: it checks its
 * own invariants (single use of codes and jtis, one decision per device, transitions of 5.8),
 * writes the audit lines it is given together with the change, and tells subscribers afterwards.
 * Nothing outside `server/store/` sees how a store keeps its data.
 */
import type {
  AdminStatus,
  AuditEntry,
  AuditVerification,
  Change,
  CredentialFields,
  DeploymentSource,
  DeploymentStatus,
  DeploymentType,
  DeviceJwk,
  PruneReport,
  PushSubscriptionJson,
  Verdict,
} from '../../protocol/index.js';
import type { Policy } from '../policy.js';
import type { Retention } from './retention.js';

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
  /** `admin` or the inviting device's id; null for devices enrolled before this was kept. */
  invitedBy: string | null;
  /** Set while the device is suspended (5.5: its inviter was revoked) until someone confirms it. */
  suspendedAt: string | null;
  /** The revoked device whose revocation suspended this one. */
  suspendedBy: string | null;
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

/** A deployment; its change list lives beside it (it can be big). */
export type DeploymentRecord = {
  id: string;
  instanceId: string;
  /** The instance's name when it proposed (names do not change). */
  instance: string;
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
  /** The audit lines about it (proposal, decisions, status changes), by sequence number. */
  auditSeqs?: number[];
};

/** An audit line to write with a command: the store adds `seq`, `at`, `prev` and `hash`. */
export type AuditDraft = { type: string; data: Record<string, unknown> };

/** A page of deployments, newest first; `next` continues it (null at the oldest). */
export type DeploymentPage = { deployments: DeploymentRecord[]; next: string | null };

/** What `prune` did, and the result of `audit verify`: the admin API's answers (protocol/wire). */
export type { AuditVerification, PruneReport };

/**
 * Counts for `countersign status` (the admin API's `AdminStatus` less what only the running server
 * knows). `decided`: in the history files; `retained`: decided whose snapshots and change lists are kept.
 */
export type StoreStats = Pick<AdminStatus, 'devices' | 'instances' | 'auditEntries'> & {
  deployments: Omit<AdminStatus['deployments'], 'total'>;
};

/** A change to a deployment, told to subscribers after it is stored (the plugins' event stream). */
export type DeploymentEvent = { deployment: DeploymentRecord };

/** What a revocation did: `changed` is false when the device was revoked already. */
export type RevocationResult = {
  device: DeviceRecord;
  changed: boolean;
  /** Active devices it invited, and theirs, now suspended. */
  suspended: DeviceRecord[];
};

/** The enrolment command's input: the invitation's code hash and the new device. */
export type EnrolmentInput = {
  codeHash: string;
  id: string;
  jwk: DeviceJwk;
  name: string | null;
  push: PushSubscriptionJson | null;
  at: string;
  nowMs: number;
};

/** The decision command's input: an approval that passed the checks of 5.4 against a recent read. */
export type DecisionInput = {
  deploymentId: string;
  deviceId: string;
  verdict: Verdict;
  jws: string;
  /** The decision map the JWS's `decisions` claim digests. */
  changes: Record<string, Verdict>;
  jti: string;
  /** Unix seconds until which the jti must stay unusable (the approval's `exp` plus skew). */
  jtiUntil: number;
  at: string;
  nowMs: number;
  /**
   * The deployment's status once this approval is added (pure; run inside the transaction):
   * `devices` holds the current records of every device that decided it.
   */
  settle(d: DeploymentRecord, devices: ReadonlyMap<string, DeviceRecord>): DeploymentStatus;
};

/**
 * The store (DESIGN 6). lowdb in the data directory is the default; every method is async. Every
 * status change of a deployment is audited by the store itself as `deployment-<status>`
 * `{deployment, instance}`; other audit lines come with the command that causes them.
 */
export interface Store {
  /** This server's id (the approvals' audience), fixed when the store was made. */
  readonly serverId: string;

  // Queries
  instances(): Promise<InstanceRecord[]>;
  instanceByName(name: string): Promise<InstanceRecord | null>;
  /** The instance whose token hashes to `tokenHash`. */
  instanceByTokenHash(tokenHash: string): Promise<InstanceRecord | null>;
  devices(): Promise<DeviceRecord[]>;
  /** One device; read it, never change it (the lowdb store answers a shared frozen copy). */
  device(id: string): Promise<DeviceRecord | null>;
  /** The usable invitation (unused, unexpired, its inviter active) whose code hashes to `codeHash`. */
  invitation(codeHash: string): Promise<InvitationRecord | null>;
  /** A live or decided deployment; read it, never change it (as `device`). */
  deployment(id: string): Promise<DeploymentRecord | null>;
  /** Live deployments (pending and approved), newest first. */
  deployments(query: {
    status?: DeploymentStatus;
    instanceId?: string;
  }): Promise<DeploymentRecord[]>;
  /** Every deployment, live then decided, newest first, `limit` at a time; cost independent of history. */
  history(query: { before?: string | null; limit: number }): Promise<DeploymentPage>;
  /** A deployment's change list (past the retention, each change without its content). */
  changes(id: string): Promise<Change[] | null>;
  /** The bytes of `rev`; throws ERR_BLOB_MISMATCH when they no longer hash to it. */
  blob(rev: string): Promise<Uint8Array<ArrayBuffer> | null>;
  /** The instances that uploaded `rev`. */
  blobOwners(rev: string): Promise<string[]>;
  approvalJtiUsed(jti: string, nowS: number): Promise<boolean>;
  /**
   * Audit entries: with `after`, those with `seq > after`, oldest first; with `before`, those with
   * `seq < before`, newest first. Cost independent of the log's length.
   */
  audit(query: { after?: number; before?: number; limit: number }): Promise<AuditEntry[]>;
  /** The audit lines about one deployment, oldest first (cost independent of the log's length). */
  deploymentAudit(id: string): Promise<AuditEntry[]>;
  verifyAudit(): Promise<AuditVerification>;
  stats(): Promise<StoreStats>;

  // Commands
  /** Adds an instance, or (mode `ensure`) gives an existing one a new token hash and policy. */
  saveInstance(
    input: { name: string; id: string; tokenHash: string; policy: Policy; at: string },
    mode: 'create' | 'ensure',
    audit: (result: { instance: InstanceRecord; created: boolean }) => AuditDraft[],
  ): Promise<{ instance: InstanceRecord; created: boolean }>;
  addInvitation(record: InvitationRecord, audit: AuditDraft[]): Promise<void>;
  /**
   * Uses the invitation `codeHash` (unused, unexpired, its inviter active: else ERR_INVITATION_INVALID)
   * and registers the device under it (ERR_DEVICE_EXISTS when the key is registered).
   */
  enrollDevice(
    input: EnrolmentInput,
    audit: (device: DeviceRecord) => AuditDraft[],
  ): Promise<DeviceRecord>;
  /** Revokes a device and suspends every active device it invited, and theirs (5.5). */
  revokeDevice(
    id: string,
    at: string,
    audit: (result: RevocationResult) => AuditDraft[],
  ): Promise<RevocationResult>;
  /** Lifts a suspension; `by` is `admin` or an active device other than it (else ERR_FORBIDDEN). */
  confirmDevice(id: string, by: string, audit: AuditDraft[]): Promise<DeviceRecord>;
  /** Sets an active device's push subscription; false when the device is not active. */
  setPush(
    deviceId: string,
    push: PushSubscriptionJson | null,
    audit: AuditDraft[],
  ): Promise<boolean>;
  /** Drops a subscription the push service called gone, unless the device changed it since. */
  dropPush(deviceId: string, endpoint: string, audit: AuditDraft[]): Promise<boolean>;
  /**
   * Stores snapshot bytes (the caller has checked their hash) and records `instanceId` as one that
   * uploaded them, once `check` (the caller's reading of the bytes) has passed; a store may write
   * the bytes while it runs. When `check` throws, nothing is recorded and the error comes back.
   */
  putBlob(
    rev: string,
    bytes: Uint8Array<ArrayBuffer>,
    instanceId: string,
    at: string,
    check?: () => Promise<void>,
  ): Promise<void>;
  /** Stores a new pending deployment and its changes; the instance's older pending ones are superseded. */
  propose(
    record: DeploymentRecord,
    changes: Change[],
    audit: AuditDraft[],
  ): Promise<{ superseded: DeploymentRecord[] }>;
  /** Records an approval (jti unused, deployment pending, device active and undecided) and settles the status. */
  decide(
    input: DecisionInput,
    audit: AuditDraft[],
  ): Promise<{ deployment: DeploymentRecord; changed: boolean }>;
  /** Marks every pending deployment past its expiry `expired`. */
  expireDue(nowMs: number): Promise<DeploymentRecord[]>;
  /** Records what the plugin did with an approved deployment of its own instance. */
  reportOutcome(
    id: string,
    instanceId: string,
    outcome: { status: 'applied' | 'stale' | 'failed'; rev: string; message?: string },
    at: string,
  ): Promise<DeploymentRecord>;
  /** Marks `key` used until `untilS`; false when it is in use already (5.3 proofs, 5.5 enrolment proofs). */
  useJti(key: string, untilS: number, nowS: number): Promise<boolean>;
  /** Records an event of `key` at `atMs`; events older than `windowMs` before it may be dropped. */
  recordEvent(key: string, atMs: number, windowMs: number): Promise<void>;
  /** When (ms) the `rank`-th newest event of `key` since `sinceMs` happened; null when fewer happened. */
  eventAt(key: string, sinceMs: number, rank: number): Promise<number | null>;
  /**
   * Records an event of `key` at `atMs` unless `max` of them lie in the window of `windowMs` ending
   * there (a quota, in one step): null when recorded, else when (ms) the `max`-th newest happened.
   */
  takeEvent(key: string, atMs: number, windowMs: number, max: number): Promise<number | null>;
  /** Audit lines that belong to no other command (server start and stop, drift reports). */
  appendAudit(entries: AuditDraft[]): Promise<void>;
  /** Applies `retention`: deletes the blobs and change lists of decided deployments past it that nothing live uses. */
  prune(retention: Retention, nowMs: number): Promise<PruneReport>;
  /** Calls `listener` after every stored change of a deployment; returns the unsubscribe function. */
  subscribe(listener: (event: DeploymentEvent) => void): () => void;
  close(): Promise<void>;
}
