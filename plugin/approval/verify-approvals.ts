/**
 * The plugin's own check of an approved deployment (DESIGN 3.6): it does not take the server's word.
 * Each approval JWS is verified with the device keys the server publishes (`GET /keys`), with `alg`
 * and `typ` pinned, and must name this deployment, its base, target and credentials digest, and
 * approve every change. Enough distinct devices must approve.
 */
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import {
  ALG,
  ApprovalError,
  TYP_APPROVAL,
  deviceIdOf,
  parseDeviceJwk,
  type ApprovalClaims,
} from '../../protocol/index.js';
import type { Jwks } from '../link/client.js';

/** What the approvals must bind to. */
export type Expected = {
  deploymentId: string;
  serverId: string;
  base: string;
  target: string;
  creds: string | null;
  requiredApprovals: number;
};

/** The outcome: the devices whose approvals verified, and why the others did not. */
export type VerifiedApprovals = { devices: string[]; refused: string[] };

/** Verifies one approval JWS; returns the device id or throws `ApprovalError` with the reason. */
export async function verifyApproval(jws: string, expected: Expected, jwks: Jwks): Promise<string> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch (cause) {
    throw new ApprovalError('ERR_APPROVAL_MALFORMED', 'the approval is not a compact JWS', {
      cause,
    });
  }
  // Pinned: never let the header choose the algorithm or the token type.
  if (header.alg !== ALG || header.typ !== TYP_APPROVAL) {
    throw new ApprovalError(
      'ERR_APPROVAL_HEADER',
      `the approval header must be ${ALG} / ${TYP_APPROVAL}`,
    );
  }
  const kid = header.kid;
  if (typeof kid !== 'string')
    throw new ApprovalError('ERR_APPROVAL_HEADER', 'the approval names no device (kid)');
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) {
    throw new ApprovalError(
      'ERR_DEVICE_UNKNOWN',
      `device ${kid.slice(0, 16)} is not an active device (unknown or revoked)`,
    );
  }
  const publicJwk = parseDeviceJwk(jwk);
  // The server could label any key with any kid: the id is the key's own thumbprint.
  if ((await deviceIdOf(publicJwk)) !== kid) {
    throw new ApprovalError(
      'ERR_APPROVAL_SIGNATURE',
      `the key published for ${kid.slice(0, 16)} does not have that id`,
    );
  }
  let payload: Uint8Array;
  try {
    const key = await importJWK({ ...publicJwk, alg: ALG }, ALG);
    ({ payload } = await compactVerify(jws, key, { algorithms: [ALG] }));
  } catch (cause) {
    throw new ApprovalError(
      'ERR_APPROVAL_SIGNATURE',
      `the approval by ${kid.slice(0, 16)} does not verify`,
      { cause },
    );
  }
  let claims: Partial<ApprovalClaims>;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload)) as Partial<ApprovalClaims>;
  } catch (cause) {
    throw new ApprovalError('ERR_APPROVAL_MALFORMED', 'the approval claims are not JSON', {
      cause,
    });
  }
  if (
    claims.iss !== kid ||
    claims.aud !== expected.serverId ||
    claims.sub !== expected.deploymentId
  ) {
    throw new ApprovalError(
      'ERR_APPROVAL_CLAIMS',
      `the approval by ${kid.slice(0, 16)} is for another deployment or server`,
    );
  }
  if (
    claims.base !== expected.base ||
    claims.target !== expected.target ||
    claims.creds !== expected.creds
  ) {
    throw new ApprovalError(
      'ERR_APPROVAL_MISMATCH',
      `the approval by ${kid.slice(0, 16)} names other flows or credentials`,
    );
  }
  const changes = claims.changes;
  if (
    claims.verdict !== 'approve' ||
    typeof changes !== 'object' ||
    changes === null ||
    !Object.values(changes).every((v) => v === 'approve')
  ) {
    throw new ApprovalError(
      'ERR_APPROVAL_INCONSISTENT',
      `device ${kid.slice(0, 16)} did not approve every change`,
    );
  }
  return kid;
}

/**
 * Verifies every approval of a deployment; throws `ApprovalError` unless at least
 * `requiredApprovals` distinct devices approved it.
 */
export async function verifyApprovals(
  jwsList: readonly string[],
  expected: Expected,
  jwks: Jwks,
): Promise<VerifiedApprovals> {
  const devices = new Set<string>();
  const refused: string[] = [];
  for (const jws of jwsList) {
    try {
      devices.add(await verifyApproval(jws, expected, jwks));
    } catch (err) {
      refused.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (devices.size < expected.requiredApprovals) {
    const why = refused.length > 0 ? `: ${refused.join('; ')}` : '';
    throw new ApprovalError(
      'ERR_APPROVAL_INCOMPLETE',
      `${devices.size} of ${expected.requiredApprovals} required approvals verified${why}`,
    );
  }
  return { devices: [...devices], refused };
}
