/**
 * The checks of DESIGN 5.4, written once and called by the server (every row, as it decides) and by
 * the plugin (before it applies: rows 2 and 4–13 against its own records, row 3 against the keys the
 * server publishes). Each row is a guard clause with its number and code, in the order of the table;
 * the first failure throws an `ApprovalError`. A claim of the wrong type fails at the row that reads
 * it. `alg` and `typ` are pinned and the key is the caller's, never one the token names.
 */
import {
  CLOCK_SKEW_S,
  MAX_APPROVAL_BYTES,
  MAX_APPROVAL_LIFETIME_S,
  MAX_NOTE_LENGTH,
  ALG,
  TYP_APPROVAL,
  type ApprovalClaims,
  type DeviceJwk,
} from '../claims.js';
import { ApprovalError, ValidationError } from '../errors.js';
import { deviceIdOf } from '../device-id.js';
import {
  decodeCompactJws,
  isNumericDate,
  isShortString,
  verifyCompactJws,
  type Es256Verify,
} from '../jws.js';
import {
  decisionsDigestFor,
  isVerdict,
  parseDecisionMap,
  type DecisionMap,
  type Sha256,
} from './decisions.js';

/** A device as the verifier knows it: the server from its store, the plugin from `GET /keys`. */
export type ApprovalDevice = {
  id: string;
  jwk: DeviceJwk;
  owner: string;
  revoked: boolean;
  /** 5.5: the device that invited it was revoked, and no one has confirmed it since (server only). */
  suspended?: boolean;
};

/** The deployment an approval must name, as the verifier holds it. */
export type ApprovalSubject = {
  id: string;
  base: string;
  target: string;
  creds: string | null;
  /** Every change id of the deployment (the plugin recomputes them itself). */
  changeIds: readonly string[];
  /** Who deployed (`source.user`), for row 13. */
  user: string;
};

/** What the rows read: the verifier's state at the moment of the check. */
export type ApprovalContext = {
  /** The `aud` approvals must carry. */
  serverId: string;
  /** Now, in Unix seconds. */
  now: number;
  /**
   * Row 6: the earliest moment the approval must still have been valid at (Unix seconds). The
   * server decides at once, so this is `now`; the plugin applies later, after every approval of a
   * quorum is in, so this is when it proposed the deployment. Default `now`.
   */
  validFrom?: number;
  subject: ApprovalSubject;
  /** Row 8: the deployment still waits for decisions. */
  pending: boolean;
  /** Row 3: the device a `kid` names, or undefined (the server's store answers asynchronously). */
  device(kid: string): ApprovalDevice | undefined | Promise<ApprovalDevice | undefined>;
  /** Row 7: the `jti` has been used before (the server's store answers asynchronously). */
  jtiUsed(jti: string): boolean | Promise<boolean>;
  /** Row 12: this device has decided this deployment already. */
  decidedBefore(deviceId: string): boolean;
  /** Row 13: the policy forbids the deploying user's own devices. */
  forbidSelfApproval: boolean;
  /** Row 10: the SHA-256 of the decision map's digest (default Web Crypto). */
  sha256?: Sha256;
  /** Row 4: the ES256 signature check (default Web Crypto). */
  es256?: Es256Verify;
};

/** An approval that passed every row. */
export type VerifiedApproval = {
  device: ApprovalDevice;
  claims: ApprovalClaims;
  decisions: DecisionMap;
  jws: string;
};

/**
 * Runs the rows of 5.4 on `token` and the decision map beside it (`changes` of the body);
 * throws an `ApprovalError` with the code of the first row that fails.
 */
export async function verifyApproval(
  token: unknown,
  changes: unknown,
  ctx: ApprovalContext,
): Promise<VerifiedApproval> {
  const { subject } = ctx;
  // Row 10 reads the decision map's digest; it is computed beside the signature check (both may be
  // Web Crypto work off the main thread), and its result only read at row 10.
  const mapped = mapWithDigest(changes, subject.changeIds, ctx.sha256);

  // 1. A compact JWS of at most 64 KiB.
  const decoded = decodeCompactJws(token, MAX_APPROVAL_BYTES);
  if (!decoded || typeof token !== 'string') {
    throw new ApprovalError(
      'ERR_APPROVAL_MALFORMED',
      'the approval is not a compact JWS of at most 64 KiB',
    );
  }
  const { header } = decoded;

  // 2. alg is ES256 and typ exactly countersign-approval+jwt; no critical extension is honoured.
  if (header.alg !== ALG || header.typ !== TYP_APPROVAL || header.crit !== undefined) {
    throw new ApprovalError(
      'ERR_APPROVAL_HEADER',
      `the approval header must be {alg: "${ALG}", typ: "${TYP_APPROVAL}"}`,
    );
  }

  // 3. kid names a registered device, and the device is not revoked.
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const device = kid === undefined ? undefined : await ctx.device(kid);
  if (!device) {
    throw new ApprovalError(
      'ERR_DEVICE_UNKNOWN',
      `the approval kid ${kid === undefined ? '' : `${kid.slice(0, 16)} `}is not a registered, active device`,
    );
  }
  if (device.revoked) throw new ApprovalError('ERR_DEVICE_REVOKED', 'this device has been revoked');
  if (device.suspended) {
    throw new ApprovalError(
      'ERR_DEVICE_SUSPENDED',
      'this device is suspended: the device that invited it was revoked',
    );
  }
  const who = device.id.slice(0, 16);

  // 4. The signature verifies with that device's key; the key's own thumbprint is the kid (a
  // verifier handed keys by someone else, as the plugin is, must not take a label on trust).
  const named = (await deviceIdOf(device.jwk)) === device.id;
  const c = named ? await verifyCompactJws(decoded, device.jwk, ctx.es256) : null;
  if (!c) {
    throw new ApprovalError(
      'ERR_APPROVAL_SIGNATURE',
      `the approval by ${who} does not verify with the device key`,
    );
  }

  // 5. iss = kid, aud = this server, sub = this deployment, note at most 500 characters.
  if (c.iss !== device.id) throw new ApprovalError('ERR_APPROVAL_CLAIMS', 'iss must equal the kid');
  if (c.aud !== ctx.serverId) {
    throw new ApprovalError('ERR_APPROVAL_CLAIMS', `the approval by ${who} is for another server`);
  }
  if (c.sub !== subject.id) {
    throw new ApprovalError(
      'ERR_APPROVAL_CLAIMS',
      `the approval by ${who} is for another deployment`,
    );
  }
  if (c.note !== undefined && (typeof c.note !== 'string' || c.note.length > MAX_NOTE_LENGTH)) {
    throw new ApprovalError(
      'ERR_APPROVAL_CLAIMS',
      `note must be a string of at most ${MAX_NOTE_LENGTH} characters`,
    );
  }

  // 6. iat not more than 60 s ahead, exp in the future (still valid at `validFrom`), exp - iat at
  // most 300 s.
  if (!isNumericDate(c.iat) || !isNumericDate(c.exp)) {
    throw new ApprovalError('ERR_APPROVAL_EXPIRED', 'iat and exp must be numbers');
  }
  if (c.iat > ctx.now + CLOCK_SKEW_S) {
    throw new ApprovalError('ERR_APPROVAL_EXPIRED', 'iat is in the future');
  }
  if (c.exp <= (ctx.validFrom ?? ctx.now)) {
    throw new ApprovalError('ERR_APPROVAL_EXPIRED', `the approval by ${who} has expired`);
  }
  if (c.exp - c.iat > MAX_APPROVAL_LIFETIME_S) {
    throw new ApprovalError(
      'ERR_APPROVAL_EXPIRED',
      `exp - iat must be at most ${MAX_APPROVAL_LIFETIME_S} s`,
    );
  }

  // 7. jti not used before.
  if (!isShortString(c.jti) || (await ctx.jtiUsed(c.jti))) {
    throw new ApprovalError(
      'ERR_APPROVAL_REPLAY',
      `the approval by ${who} has been used before (or has no jti)`,
    );
  }

  // 8. The deployment is pending.
  if (!ctx.pending) {
    throw new ApprovalError(
      'ERR_DEPLOYMENT_NOT_PENDING',
      `deployment ${subject.id} is not pending`,
    );
  }

  // 9. base, target and creds are the deployment's.
  if (c.base !== subject.base || c.target !== subject.target || c.creds !== subject.creds) {
    throw new ApprovalError(
      'ERR_APPROVAL_MISMATCH',
      `the approval by ${who} names other flows or credentials (base, target or creds)`,
    );
  }

  // 10. The decision map decides exactly every change, each approve or reject, and its digest is
  // the signed `decisions` claim.
  const { decisions, digest } = decisionMapFor(await mapped);
  if (typeof c.decisions !== 'string' || digest !== c.decisions) {
    throw new ApprovalError(
      'ERR_APPROVAL_INCOMPLETE',
      'the decision map does not match the signed decisions digest',
    );
  }

  // 11. verdict is approve exactly when every change is approved. With no change at all (flows that
  // differ only in order) either verdict stands: a person may always refuse (docs/decisions.md).
  const verdicts = Object.values(decisions);
  const allApproved = verdicts.every((v) => v === 'approve');
  if (!isVerdict(c.verdict) || (verdicts.length > 0 && (c.verdict === 'approve') !== allApproved)) {
    throw new ApprovalError(
      'ERR_APPROVAL_INCONSISTENT',
      'verdict must be approve exactly when every change is approved',
    );
  }

  // 12. This device has not decided this deployment already.
  if (ctx.decidedBefore(device.id)) {
    throw new ApprovalError(
      'ERR_APPROVAL_DUPLICATE',
      `device ${who} has already decided this deployment`,
    );
  }

  // 13. With forbidSelfApproval, the device's owner is not the deploying user.
  if (ctx.forbidSelfApproval && device.owner === subject.user) {
    throw new ApprovalError(
      'ERR_SELF_APPROVAL',
      'the deploying user may not decide their own deployment',
    );
  }

  return { device, claims: c as unknown as ApprovalClaims, decisions, jws: token };
}

/**
 * The body's `changes` parsed as a decision map whose keys are exactly `ids`, with its digest, or
 * why it is not one.
 */
type Mapped = { decisions: DecisionMap; digest: string } | { error: unknown };

async function mapWithDigest(
  changes: unknown,
  ids: readonly string[],
  sha256?: Sha256,
): Promise<Mapped> {
  try {
    const decisions = parseDecisionMap(changes);
    const digest = await decisionsDigestFor(decisions, ids, sha256);
    if (digest === null) {
      return {
        error: new ValidationError('changes must decide exactly every change of the deployment'),
      };
    }
    return { decisions, digest };
  } catch (error) {
    return { error };
  }
}

/** Row 10's first half: `changes` is a decision map whose keys are exactly the change ids. */
function decisionMapFor(mapped: Mapped): { decisions: DecisionMap; digest: string } {
  if ('error' in mapped) {
    const cause = mapped.error;
    const why = cause instanceof ValidationError ? cause.message : 'changes must be an object';
    throw new ApprovalError('ERR_APPROVAL_INCOMPLETE', why, { cause });
  }
  return mapped;
}
