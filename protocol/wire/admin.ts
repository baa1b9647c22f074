/** The loopback admin API the command line calls (5.7 `/admin/…`): what has no device-API twin. */
import { ValidationError } from '../errors.js';
import { parsePolicy, type Policy } from '../policy.js';
import { DEPLOYMENT_STATES, type DeploymentStatus } from '../states.js';
import { booleanAt, idAt, integerAt, labelAt, objectAt, textAt } from './guards.js';

/** `POST /admin/instances`: add an instance (or, with `rotate`, issue an existing one a new token). */
export type InstanceRequest = { name: string; policy: Partial<Policy>; rotate: boolean };

/** Checks an instance request; the policy's settings are checked here, merged by the server. */
export function parseInstanceRequest(input: unknown): InstanceRequest {
  const b = objectAt(input, 'the instance');
  const given = b.policy === undefined || b.policy === null ? {} : objectAt(b.policy, 'policy');
  let full: Policy;
  try {
    full = parsePolicy(given);
  } catch (cause) {
    throw new ValidationError((cause as Error).message, { cause });
  }
  const policy: Partial<Policy> = {};
  if (given.requiredApprovals !== undefined) policy.requiredApprovals = full.requiredApprovals;
  if (given.forbidSelfApproval !== undefined) policy.forbidSelfApproval = full.forbidSelfApproval;
  if (given.expiresIn !== undefined) policy.expiresIn = full.expiresIn;
  return {
    name: labelAt(b.name, 'name'),
    policy,
    rotate: b.rotate === undefined ? false : booleanAt(b.rotate, 'rotate'),
  };
}

/** `POST /admin/instances` → 201, and `countersign instances add --json`: the token is shown once. */
export type IssuedInstance = { id: string; name: string; token: string };

/** Checks an issued instance. */
export function parseIssuedInstance(input: unknown): IssuedInstance {
  const b = objectAt(input, 'the instance');
  return {
    id: idAt(b.id, 'id'),
    name: labelAt(b.name, 'name'),
    token: textAt(b.token, 'token', 1024, 8),
  };
}

/** A count in an answer: a whole number, 0 or more. */
function countAt(value: unknown, name: string): number {
  return integerAt(value, name, 0, Number.MAX_SAFE_INTEGER);
}

/** `POST /admin/prune`: what applying the retention deleted. */
export type PruneReport = { pastRetention: number; blobsDeleted: number; changesDeleted: number };

/** Checks a prune report. */
export function parsePruneReport(input: unknown): PruneReport {
  const b = objectAt(input, 'the prune report');
  return {
    pastRetention: countAt(b.pastRetention, 'pastRetention'),
    blobsDeleted: countAt(b.blobsDeleted, 'blobsDeleted'),
    changesDeleted: countAt(b.changesDeleted, 'changesDeleted'),
  };
}

/** `GET /admin/audit/verify`: the chain is intact, or the first entry where it breaks and why. */
export type AuditVerification =
  { ok: true; entries: number } | { ok: false; entries: number; badSeq: number; reason: string };

/** Checks an audit verification. */
export function parseAuditVerification(input: unknown): AuditVerification {
  const b = objectAt(input, 'the audit verification');
  const entries = countAt(b.entries, 'entries');
  if (booleanAt(b.ok, 'ok')) return { ok: true, entries };
  return {
    ok: false,
    entries,
    badSeq: countAt(b.badSeq, 'badSeq'),
    reason: textAt(b.reason, 'reason', 2000),
  };
}

/** `GET /admin/status`: the running server, its devices, instances and deployments. */
export type AdminStatus = {
  serverId: string;
  name: string;
  version: string;
  publicUrl: string;
  /** The listen URL, the admin API's URL and the process id (a server started by `serve`). */
  url?: string;
  adminUrl?: string;
  pid?: number;
  eventStreams: number;
  devices: { active: number; suspended: number; revoked: number; withPush: number };
  instances: number;
  deployments: {
    pending: number;
    approved: number;
    decided: number;
    retained: number;
    total: number;
    byStatus: Record<DeploymentStatus, number>;
  };
  retention: { days: number; keep: number };
  auditEntries: number;
};

/** Checks a status answer. */
export function parseAdminStatus(input: unknown): AdminStatus {
  const b = objectAt(input, 'the status');
  const devices = objectAt(b.devices, 'devices');
  const deployments = objectAt(b.deployments, 'deployments');
  const byStatus = objectAt(deployments.byStatus, 'deployments.byStatus');
  const retention = objectAt(b.retention, 'retention');
  return {
    serverId: idAt(b.serverId, 'serverId'),
    name: textAt(b.name, 'name', 200),
    version: textAt(b.version, 'version', 64),
    publicUrl: textAt(b.publicUrl, 'publicUrl', 2048),
    ...(b.url === undefined ? {} : { url: textAt(b.url, 'url', 2048) }),
    ...(b.adminUrl === undefined ? {} : { adminUrl: textAt(b.adminUrl, 'adminUrl', 2048) }),
    ...(b.pid === undefined ? {} : { pid: countAt(b.pid, 'pid') }),
    eventStreams: countAt(b.eventStreams, 'eventStreams'),
    devices: {
      active: countAt(devices.active, 'devices.active'),
      suspended: countAt(devices.suspended, 'devices.suspended'),
      revoked: countAt(devices.revoked, 'devices.revoked'),
      withPush: countAt(devices.withPush, 'devices.withPush'),
    },
    instances: countAt(b.instances, 'instances'),
    deployments: {
      pending: countAt(deployments.pending, 'deployments.pending'),
      approved: countAt(deployments.approved, 'deployments.approved'),
      decided: countAt(deployments.decided, 'deployments.decided'),
      retained: countAt(deployments.retained, 'deployments.retained'),
      total: countAt(deployments.total, 'deployments.total'),
      byStatus: Object.fromEntries(
        DEPLOYMENT_STATES.map((s) => [s, countAt(byStatus[s] ?? 0, `deployments.byStatus.${s}`)]),
      ) as Record<DeploymentStatus, number>,
    },
    retention: {
      days: countAt(retention.days, 'retention.days'),
      keep: countAt(retention.keep, 'retention.keep'),
    },
    auditEntries: countAt(b.auditEntries, 'auditEntries'),
  };
}
