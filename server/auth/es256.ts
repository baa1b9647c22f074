/**
 * ES256 on node:crypto for the server's hot paths (5.3 proofs, 5.4 row 4, 5.5 enrolment proofs):
 * synchronous, with each device key imported once. The cache is keyed by the key's coordinates and
 * holds only what the key is; whether its device may still sign (revoked, suspended) is read from
 * the store at every request, before the signature is checked.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { DeviceJwk, Es256Verify } from '../../protocol/index.js';

const KEY_CACHE_LIMIT = 10_000;
const keys = new Map<string, KeyObject | null>();

/** The public key of `jwk`, or null when it is not a point of P-256. */
function keyOf(jwk: DeviceJwk): KeyObject | null {
  const id = `${jwk.x}.${jwk.y}`;
  let key = keys.get(id);
  if (key === undefined) {
    try {
      key = createPublicKey({
        key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
        format: 'jwk',
      });
    } catch {
      key = null;
    }
    if (keys.size >= KEY_CACHE_LIMIT) keys.clear();
    keys.set(id, key);
  }
  return key;
}

/** `Es256Verify` on node:crypto: the signing input is ASCII, the signature base64url `r || s`. */
export const nodeEs256: Es256Verify = (jwk, signingInput, signature) => {
  const key = keyOf(jwk);
  if (!key) return false;
  try {
    return verify(
      'sha256',
      Buffer.from(signingInput, 'latin1'),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    return false;
  }
};
