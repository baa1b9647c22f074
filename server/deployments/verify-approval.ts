/**
 * The 13 checks of DESIGN 5.4, in order, as guard clauses: the first failure answers with its code.
 * A claim of the wrong type fails at the row that checks that claim. `alg` and `typ` are pinned and
 * the key is the registered device's, never one named by the token.
 */
import {
  ALG,
  ApprovalError,
  CLOCK_SKEW_S,
  MAX_APPROVAL_BYTES,
  MAX_APPROVAL_LIFETIME_S,
  MAX_NOTE_LENGTH,
  TYP_APPROVAL,
  type ApprovalClaims,
  type Verdict,
} from '../../protocol/index.js';
import {
  deviceVerifyKey,
  isNumericDate,
  isShortString,
  parseCompactJws,
  verifyEs256,
} from '../auth/jws.js';
import type { DeploymentRecord, DeviceRecord } from '../store/types.js';

/** What the checks read: the server's state at the moment of the decision. */
export type ApprovalState = {
  serverId: string;
  /** Unix seconds. */
  now: number;
  /** The deployment named in the URL. */
  deployment: DeploymentRecord;
  device(id: string): DeviceRecord | undefined;
  jtiUsed(jti: string): boolean | Promise<boolean>;
  /** True when the deployment is pending and not past its expiry. */
  isPending(deployment: DeploymentRecord): boolean;
};

/** An approval that passed every check. */
export type VerifiedApproval = { device: DeviceRecord; claims: ApprovalClaims; jws: string };

function isVerdict(value: unknown): value is Verdict {
  return value === 'approve' || value === 'reject';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs the checks of 5.4 on `token` for `state.deployment`; throws an ApprovalError at the first failure. */
export async function verifyApproval(
  token: unknown,
  state: ApprovalState,
): Promise<VerifiedApproval> {
  const { deployment } = state;

  // 1. A compact JWS of at most 64 KiB.
  const jws = parseCompactJws(token, MAX_APPROVAL_BYTES);
  if (!jws)
    throw new ApprovalError(
      'ERR_APPROVAL_MALFORMED',
      'the approval is not a compact JWS of at most 64 KiB',
    );
  const { header, payload: c } = jws;

  // 2. alg is ES256 and typ exactly countersign-approval+jwt; nothing else in the header is trusted.
  if (header.alg !== ALG || header.typ !== TYP_APPROVAL || header.crit !== undefined) {
    throw new ApprovalError(
      'ERR_APPROVAL_HEADER',
      `the approval header must be {alg: "${ALG}", typ: "${TYP_APPROVAL}"}`,
    );
  }

  // 3. kid names a registered device, and the device is not revoked.
  const device = typeof header.kid === 'string' ? state.device(header.kid) : undefined;
  if (!device)
    throw new ApprovalError('ERR_DEVICE_UNKNOWN', 'the approval kid is not a registered device');
  if (device.revokedAt !== null)
    throw new ApprovalError('ERR_DEVICE_REVOKED', 'this device has been revoked');
  // 5.5: a device whose inviter was revoked is refused like a revoked one until it is confirmed.
  if (device.suspendedAt !== null) {
    throw new ApprovalError(
      'ERR_DEVICE_SUSPENDED',
      'this device is suspended: the device that invited it was revoked',
    );
  }

  // 4. The signature verifies with that device's registered key.
  if (!(await verifyEs256(await deviceVerifyKey(device.id, device.jwk), jws))) {
    throw new ApprovalError(
      'ERR_APPROVAL_SIGNATURE',
      'the approval signature does not verify with the device key',
    );
  }

  // 5. iss = kid, aud = this server, sub = the deployment in the URL, note at most 500 characters.
  if (c.iss !== device.id) throw new ApprovalError('ERR_APPROVAL_CLAIMS', 'iss must equal the kid');
  if (c.aud !== state.serverId)
    throw new ApprovalError('ERR_APPROVAL_CLAIMS', 'aud must be this server id');
  if (c.sub !== deployment.id)
    throw new ApprovalError('ERR_APPROVAL_CLAIMS', 'sub must be the deployment in the URL');
  if (c.note !== undefined && (typeof c.note !== 'string' || c.note.length > MAX_NOTE_LENGTH)) {
    throw new ApprovalError(
      'ERR_APPROVAL_CLAIMS',
      `note must be a string of at most ${MAX_NOTE_LENGTH} characters`,
    );
  }

  // 6. iat not more than 60 s ahead, exp in the future, exp - iat at most 300 s.
  if (!isNumericDate(c.iat) || !isNumericDate(c.exp)) {
    throw new ApprovalError('ERR_APPROVAL_EXPIRED', 'iat and exp must be numbers');
  }
  if (c.iat > state.now + CLOCK_SKEW_S)
    throw new ApprovalError('ERR_APPROVAL_EXPIRED', 'iat is in the future');
  if (c.exp <= state.now)
    throw new ApprovalError('ERR_APPROVAL_EXPIRED', 'the approval has expired');
  if (c.exp - c.iat > MAX_APPROVAL_LIFETIME_S) {
    throw new ApprovalError(
      'ERR_APPROVAL_EXPIRED',
      `exp - iat must be at most ${MAX_APPROVAL_LIFETIME_S} s`,
    );
  }

  // 7. jti not used before (approval jtis are kept forever).
  if (!isShortString(c.jti) || (await state.jtiUsed(c.jti))) {
    throw new ApprovalError(
      'ERR_APPROVAL_REPLAY',
      'this approval jti has been used before (or is missing)',
    );
  }

  // 8. The deployment is pending.
  if (!state.isPending(deployment)) {
    throw new ApprovalError(
      'ERR_DEPLOYMENT_NOT_PENDING',
      `deployment ${deployment.id} is not pending`,
    );
  }

  // 9. base, target and creds are the deployment's.
  if (
    c.base !== deployment.base ||
    c.target !== deployment.target ||
    c.creds !== deployment.creds
  ) {
    throw new ApprovalError(
      'ERR_APPROVAL_MISMATCH',
      'base, target or creds differ from the deployment',
    );
  }

  // 10. The keys of changes are exactly the deployment's change ids, each with a verdict.
  const changes = c.changes;
  if (!isPlainObject(changes))
    throw new ApprovalError('ERR_APPROVAL_INCOMPLETE', 'changes must be an object');
  const keys = Object.keys(changes);
  const ids = new Set(deployment.changeIds);
  if (keys.length !== ids.size || !keys.every((k) => ids.has(k) && isVerdict(changes[k]))) {
    throw new ApprovalError(
      'ERR_APPROVAL_INCOMPLETE',
      'changes must decide exactly every change of the deployment',
    );
  }

  // 11. verdict is approve exactly when every change is approved. With no change at all (flows that
  // differ only in order) either verdict stands: a person may always refuse (docs/decisions.md).
  const allApproved = keys.every((k) => changes[k] === 'approve');
  if (!isVerdict(c.verdict) || (keys.length > 0 && (c.verdict === 'approve') !== allApproved)) {
    throw new ApprovalError(
      'ERR_APPROVAL_INCONSISTENT',
      'verdict must be approve exactly when every change is approved',
    );
  }

  // 12. This device has not decided this deployment already.
  if (deployment.approvals.some((a) => a.device === device.id)) {
    throw new ApprovalError(
      'ERR_APPROVAL_DUPLICATE',
      'this device has already decided this deployment',
    );
  }

  // 13. With forbidSelfApproval, the device's owner is not the deploying user.
  if (deployment.policy.forbidSelfApproval && device.owner === deployment.source.user) {
    throw new ApprovalError(
      'ERR_SELF_APPROVAL',
      'the deploying user may not decide their own deployment',
    );
  }

  return { device, claims: c as unknown as ApprovalClaims, jws: token as string };
}
