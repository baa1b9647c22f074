/** Request and response bodies of the HTTP API (5.7) and the push payload (5.6). Field names are the contract. */
import type { Change } from './changes/types.js';
import type { CredentialFields } from './credentials.js';
import type { DeviceJwk, Verdict } from './claims.js';
import type { DeploymentStatus, Outcome } from './states.js';

/** The API prefix. */
export const API_PREFIX = '/api/v1';

/** `{code, message}`: the body of every error. */
export type ErrorBody = { code: string; message: string };

/** `GET /config`. */
export type ConfigResponse = {
  serverId: string;
  name: string;
  vapidPublicKey: string;
  version: string;
};

/** A `PushSubscription.toJSON()`. */
export type PushSubscriptionJson = {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
};

/** `POST /devices`. */
export type EnrollRequest = {
  code: string;
  name: string;
  publicJwk: DeviceJwk;
  push: PushSubscriptionJson | null;
  proof: string;
};

/** `POST /devices` → 201. */
export type EnrollResponse = { id: string; fingerprint: string; owner: string; name: string };

/** One entry of `GET /devices`. */
export type DeviceView = {
  id: string;
  fingerprint: string;
  owner: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  /** Set while the device is suspended: the device that invited it was revoked (5.5). */
  suspendedAt: string | null;
  push: boolean;
  self: boolean;
};

/** `POST /invitations` → 201, and `countersign enroll --json`. */
export type InvitationResponse = { code: string; url: string; expiresAt: string };

/** Who or what made a deployment. */
export type DeploymentSource = { user: string; via: string; address?: string };

/** Node-RED's deployment types, plus the single-flow entry points, the start-up check and palette changes (`module`). */
export type DeploymentType =
  | 'full'
  | 'nodes'
  | 'flows'
  | 'reload'
  | 'flow-add'
  | 'flow-update'
  | 'flow-delete'
  | 'startup'
  | 'module';

/** `POST /deployments` from a plugin. */
export type ProposalRequest = {
  base: string;
  target: string;
  creds: string | null;
  credentials: CredentialFields;
  type: DeploymentType;
  source: DeploymentSource;
};

/** `POST /deployments` → 201. */
export type ProposalResponse = {
  id: string;
  status: DeploymentStatus;
  expiresAt: string;
  reviewUrl: string;
};

/** A deployment as the inbox lists it. */
export type DeploymentSummary = {
  id: string;
  instance: string;
  status: DeploymentStatus;
  createdAt: string;
  expiresAt: string;
  source: DeploymentSource;
  changeCount: number;
};

/** `GET /deployments` without `status`: every deployment, newest first, a page at a time. */
export type DeploymentPageResponse = { deployments: DeploymentSummary[]; next: string | null };

/** One accepted decision on a deployment; `jws` and its decision map `changes` only for the plugin. */
export type ApprovalView = {
  device: string;
  verdict: Verdict;
  at: string;
  jws?: string;
  changes?: Record<string, Verdict>;
};

/** `GET /deployments/:id`. */
export type DeploymentDetail = DeploymentSummary & {
  base: string;
  target: string;
  creds: string | null;
  credentials: CredentialFields;
  type: DeploymentType;
  changes: Change[];
  approvals: ApprovalView[];
};

/** `POST /deployments/:id/decision` (5.4): the approval JWS and the decision map it digests. */
export type DecisionRequest = { jws: string; changes: Record<string, Verdict> };

/** `POST /deployments/:id/decision` → 200. */
export type DecisionResponse = { status: DeploymentStatus; approvals: ApprovalView[] };

/** One key of `GET /keys`: an unrevoked device's public JWK, its id as `kid` and its owner (5.4 quorum). */
export type PublishedKey = DeviceJwk & { kid: string; owner: string; alg: 'ES256'; use: 'sig' };

/** `GET /keys`. */
export type KeysResponse = { keys: PublishedKey[] };

/** `POST /deployments/:id/outcome`. */
export type OutcomeRequest = { status: Outcome; rev: string; message?: string };

/** One line of the audit log. */
export type AuditEntry = {
  seq: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
  prev: string;
  hash: string;
};

/** `GET /audit`: `after` pages oldest first, `before` newest first; `next` continues (null at the end). */
export type AuditPageResponse = { entries: AuditEntry[]; next: number | null };

/** Push kinds (5.6). */
export type PushKind = 'deployment' | 'decided' | 'device-revoked' | 'drift';

/** The push payload (5.6): at most 1 KiB, no flow content. */
export type PushPayload = {
  v: 1;
  kind: PushKind;
  id: string;
  instance: string;
  changes: number;
  by: string;
  expiresAt: string | null;
};

/** Largest push payload in bytes. */
export const MAX_PUSH_PAYLOAD_BYTES = 1024;
