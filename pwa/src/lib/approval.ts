/** The approval JWS of DESIGN 5.4, built from a finished review. */
import {
  MAX_NOTE_LENGTH,
  randomId,
  signApproval,
  type ApprovalClaims,
  type DeploymentDetail,
  type DeviceKey,
  type Verdict,
} from './protocol.js';

/** How long a signed approval stays valid: well inside the 300 s the server allows. */
export const APPROVAL_LIFETIME_S = 120;

/** The claims for one decision on `detail`, as `device` (aud = the server it enrolled with). */
export function approvalClaims(input: {
  deviceId: string;
  serverId: string;
  detail: Pick<DeploymentDetail, 'id' | 'base' | 'target' | 'creds'>;
  changes: Record<string, Verdict>;
  /** The overall verdict; only needed when there are no changes (an order-only deployment). */
  verdict?: Verdict;
  note?: string;
  now: number;
}): ApprovalClaims {
  const verdicts = Object.values(input.changes);
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
    changes: { ...input.changes },
  };
  const note = input.note?.trim();
  if (note !== undefined && note !== '') claims.note = note.slice(0, MAX_NOTE_LENGTH);
  return claims;
}

/** Signs the claims with the device key. */
export function signDecision(key: DeviceKey, claims: ApprovalClaims): Promise<string> {
  return signApproval(key, claims);
}
