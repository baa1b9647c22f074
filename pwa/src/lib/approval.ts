/** The approval of DESIGN 5.4, built from a finished review: the JWS claims and the decision map. */
import {
  MAX_NOTE_LENGTH,
  decisionsDigest,
  parseDecisionMap,
  randomId,
  signApproval,
  type ApprovalClaims,
  type DecisionMap,
  type DecisionRequest,
  type DeploymentDetail,
  type DeviceKey,
  type Verdict,
} from './protocol.js';

/** How long a signed approval stays valid: well inside the 300 s the server allows. */
export const APPROVAL_LIFETIME_S = 120;

/** An approval before signing: the claims and the decision map whose digest they carry. */
export type UnsignedApproval = { claims: ApprovalClaims; changes: DecisionMap };

/**
 * The claims for one decision on `detail`, as `device` (aud = the server it enrolled with), and the
 * decision map that travels beside the JWS (its digest is the `decisions` claim).
 */
export async function approvalFor(input: {
  deviceId: string;
  serverId: string;
  detail: Pick<DeploymentDetail, 'id' | 'base' | 'target' | 'creds'>;
  changes: Record<string, Verdict>;
  /** The overall verdict; only needed when there are no changes (an order-only deployment). */
  verdict?: Verdict;
  note?: string;
  now: number;
}): Promise<UnsignedApproval> {
  const changes = parseDecisionMap(input.changes);
  const verdicts = Object.values(changes);
  const verdict: Verdict =
    verdicts.length === 0
      ? (input.verdict ?? 'approve')
      : verdicts.every((v) => v === 'approve')
        ? 'approve'
        : 'reject';
  const claims: ApprovalClaims = {
    iss: input.deviceId,
    aud: input.serverId,
    sub: input.detail.id,
    iat: input.now,
    exp: input.now + APPROVAL_LIFETIME_S,
    jti: randomId(),
    base: input.detail.base,
    target: input.detail.target,
    creds: input.detail.creds,
    verdict,
    decisions: await decisionsDigest(changes),
  };
  const note = input.note?.trim();
  if (note !== undefined && note !== '') claims.note = note.slice(0, MAX_NOTE_LENGTH);
  return { claims, changes };
}

/** Signs the approval with the device key: the body of `POST /deployments/:id/decision`. */
export async function signDecision(
  key: DeviceKey,
  approval: UnsignedApproval,
): Promise<DecisionRequest> {
  return { jws: await signApproval(key, approval.claims), changes: { ...approval.changes } };
}
