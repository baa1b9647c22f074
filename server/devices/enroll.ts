import {
  ALG,
  CLOCK_SKEW_S,
  CountersignError,
  PROOF_JTI_WINDOW_S,
  TYP_ENROLL,
  decodeCompactJws,
  deviceIdOf,
  fingerprintOf,
  isNumericDate,
  isShortString,
  parseDeviceJwk,
  verifyCompactJws,
  type EnrollRequest,
  type EnrollResponse,
} from '../../protocol/index.js';
import { isoOf, secondsOf } from '../clock.js';
import type { Context } from '../context.js';
import { sha256HexSync } from '../store/files.js';
import { checkPushEndpoint } from '../push/endpoint-policy.js';
import { nodeEs256 } from '../auth/es256.js';

function proofError(message: string): CountersignError {
  return new CountersignError('ERR_ENROLL_PROOF', message);
}

/** The enrolment proof of 5.5, signed by the new key over the server id and the code's hash. */
async function checkEnrollProof(
  ctx: Context,
  body: EnrollRequest,
  deviceId: string,
): Promise<void> {
  const jws = decodeCompactJws(body.proof, 8 * 1024);
  if (!jws) throw proofError('the enrolment proof is not a compact JWS');
  const { header } = jws;
  if (header.alg !== ALG || header.typ !== TYP_ENROLL || header.crit !== undefined) {
    throw proofError(`the enrolment proof header must be {alg: "${ALG}", typ: "${TYP_ENROLL}"}`);
  }
  let headerKeyId: string;
  try {
    headerKeyId = await deviceIdOf(parseDeviceJwk(header.jwk));
  } catch {
    throw proofError('the enrolment proof header has no public P-256 jwk');
  }
  if (headerKeyId !== deviceId) throw proofError('the enrolment proof key is not publicJwk');
  const payload = await verifyCompactJws(jws, body.publicJwk, nodeEs256);
  if (!payload) throw proofError('the enrolment proof signature does not verify');
  if (payload.aud !== ctx.store.serverId)
    throw proofError('the enrolment proof aud must be this server id');
  const now = secondsOf(ctx.clock);
  if (!isNumericDate(payload.iat) || Math.abs(payload.iat - now) > CLOCK_SKEW_S) {
    throw proofError(`the enrolment proof iat must be within ${CLOCK_SKEW_S} s of now`);
  }
  if (payload.code !== sha256HexSync(body.code)) {
    throw proofError('the enrolment proof code must be the SHA-256 of the invitation code');
  }
  if (!isShortString(payload.jti)) throw proofError('the enrolment proof needs a jti');
  const until = now + PROOF_JTI_WINDOW_S + CLOCK_SKEW_S;
  if (!(await ctx.store.useJti(`e:${payload.jti}`, until, now))) {
    throw proofError('this enrolment proof has been used before');
  }
}

/** The answer once a client address has sent too many bad invitation codes (5.5). */
export const BAD_CODES = 'too many bad invitation codes: try again later';

/**
 * `POST /devices` (5.5): too many bad codes from one client address → 429; then the code (constant
 * time, unused, unexpired, its inviter still active), the push endpoint (5.6), then the proof of
 * possession; the device is registered under its thumbprint, remembering who invited it.
 */
export async function enroll(
  ctx: Context,
  client: string,
  body: EnrollRequest,
): Promise<EnrollResponse> {
  await ctx.enrollLimiter.check(client, BAD_CODES);
  const codeHash = sha256HexSync(body.code);
  if (!(await ctx.store.invitation(codeHash))) {
    await ctx.enrollLimiter.fail(client);
    throw new CountersignError(
      'ERR_INVITATION_INVALID',
      'the invitation code is unknown, used or expired',
    );
  }
  if (body.push) await checkPushEndpoint(body.push.endpoint, ctx.pushPolicy);
  const id = await deviceIdOf(body.publicJwk);
  await checkEnrollProof(ctx, body, id);
  const device = await ctx.store.enrollDevice(
    {
      codeHash,
      id,
      jwk: body.publicJwk,
      name: body.name,
      push: body.push,
      at: isoOf(ctx.clock),
      nowMs: ctx.clock.now(),
    },
    (d) => [
      {
        type: 'device-enrolled',
        data: {
          device: id,
          owner: d.owner,
          name: d.name,
          invitedBy: d.invitedBy,
          push: d.push !== null,
        },
      },
    ],
  );
  ctx.log.info(`device ${fingerprintOf(id)} enrolled for ${device.owner}`);
  return { id, fingerprint: fingerprintOf(id), owner: device.owner, name: device.name };
}
