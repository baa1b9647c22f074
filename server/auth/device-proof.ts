/** Device proofs (DESIGN 5.3): a DPoP-style JWS on every device request, checked in this order. */
import {
  ALG,
  CLOCK_SKEW_S,
  CountersignError,
  PROOF_JTI_WINDOW_S,
  ProofError,
  TYP_DPOP,
  decodeCompactJws,
  deviceIdOf,
  isNumericDate,
  isShortString,
  parseDeviceJwk,
  verifyCompactJws,
  type DeviceJwk,
} from '../../protocol/index.js';
import { secondsOf } from '../clock.js';
import type { Context } from '../context.js';
import type { DeviceRecord } from '../store/types.js';
import { nodeEs256 } from './es256.js';

/** Largest proof read. */
const MAX_PROOF_BYTES = 8 * 1024;

/** The request a proof must match. */
export type ProofRequest = {
  /** The `DPoP` header, as received. */
  proof: string | undefined;
  method: string;
  /** The request path as the server saw it (query ignored). */
  path: string;
};

/** URLs already normalised (a phone sends the same few on every request); bounded. */
const normalised = new Map<string, string | null>();
const NORMALISED_LIMIT = 1024;

/** `scheme://host[:port]/path` of a URL, normalised, without query or fragment (RFC 9449 4.3). */
function normalisedHtu(url: string): string | null {
  let htu = normalised.get(url);
  if (htu === undefined) {
    try {
      const u = new URL(url);
      htu = `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      htu = null;
    }
    if (normalised.size >= NORMALISED_LIMIT) normalised.clear();
    normalised.set(url, htu);
  }
  return htu;
}

/** The `htu` this request must carry: the public URL plus the path (5.7: behind a proxy, the public URL). */
export function expectedHtu(publicUrl: string, path: string): string | null {
  const pathOnly = path.split('?')[0]!.split('#')[0]!;
  return normalisedHtu(publicUrl.replace(/\/+$/, '') + pathOnly);
}

/** Checks a device proof and answers the registered, unrevoked device that made it. */
export async function verifyDeviceProof(ctx: Context, req: ProofRequest): Promise<DeviceRecord> {
  // 5.3: a proof must be there.
  if (req.proof === undefined || req.proof === '') {
    throw new ProofError('ERR_PROOF_MISSING', 'this request needs a DPoP proof header');
  }
  // A compact JWS of JSON objects.
  const jws = decodeCompactJws(req.proof, MAX_PROOF_BYTES);
  if (!jws) throw new ProofError('ERR_PROOF_MALFORMED', 'the DPoP proof is not a compact JWS');

  // Header pinned: typ dpop+jwt, alg ES256, a public P-256 jwk; no critical extensions.
  const { header } = jws;
  if (header.typ !== TYP_DPOP || header.alg !== ALG || header.crit !== undefined) {
    throw new ProofError(
      'ERR_PROOF_HEADER',
      `the proof header must be {typ: "${TYP_DPOP}", alg: "${ALG}"}`,
    );
  }
  let jwk: DeviceJwk;
  try {
    jwk = parseDeviceJwk(header.jwk);
  } catch (cause) {
    throw new ProofError('ERR_PROOF_HEADER', 'the proof header has no public P-256 jwk', { cause });
  }

  // The thumbprint names a registered device, and it is not revoked (nor suspended, 5.5).
  const id = await deviceIdOf(jwk);
  const device = await ctx.store.device(id);
  if (!device)
    throw new ProofError('ERR_PROOF_DEVICE_UNKNOWN', 'the proof key is not a registered device');
  if (device.revokedAt !== null) {
    throw new CountersignError('ERR_DEVICE_REVOKED', 'this device has been revoked');
  }
  if (device.suspendedAt !== null) {
    throw new CountersignError(
      'ERR_DEVICE_SUSPENDED',
      "this device is suspended because the device that invited it was revoked; another enrolled device or the server's command line can confirm it",
    );
  }

  // The signature, with the registered key (the header's key has the same thumbprint).
  const payload = await verifyCompactJws(jws, device.jwk, nodeEs256);
  if (!payload) {
    throw new ProofError('ERR_PROOF_SIGNATURE', 'the proof signature does not verify');
  }

  // htm and htu match this request (htu: scheme, host and path of the public URL; no query).
  if (payload.htm !== req.method.toUpperCase()) {
    throw new ProofError('ERR_PROOF_HTM', `the proof htm must be ${req.method.toUpperCase()}`);
  }
  // 5.3: the claim itself is scheme, host and path only; an htu carrying a query or fragment is refused.
  const htu =
    typeof payload.htu === 'string' && !/[?#]/.test(payload.htu)
      ? normalisedHtu(payload.htu)
      : null;
  const expected = expectedHtu(ctx.config.publicUrl, req.path);
  if (htu === null || htu !== expected) {
    throw new ProofError('ERR_PROOF_HTU', `the proof htu must be ${expected ?? 'this URL'}`);
  }

  // iat within 60 s of now.
  const now = secondsOf(ctx.clock);
  if (!isNumericDate(payload.iat) || Math.abs(payload.iat - now) > CLOCK_SKEW_S) {
    throw new ProofError('ERR_PROOF_IAT', `the proof iat must be within ${CLOCK_SKEW_S} s of now`);
  }

  // jti unseen in the last 5 minutes (kept for the window past the latest acceptable iat).
  if (!isShortString(payload.jti)) {
    throw new ProofError(
      'ERR_PROOF_REPLAY',
      'the proof needs a jti (a string of 1 to 256 characters)',
    );
  }
  const keepUntil = Math.max(now, payload.iat) + PROOF_JTI_WINDOW_S + CLOCK_SKEW_S;
  if (!(await ctx.store.useJti(`p:${device.id}:${payload.jti}`, keepUntil, now))) {
    throw new ProofError('ERR_PROOF_REPLAY', 'this proof has been used before');
  }
  return device;
}
