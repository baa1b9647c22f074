/**
 * Compact JWS reading for every token Countersign verifies (approvals 5.4, device proofs 5.3,
 * enrolment proofs 5.5), through `jose`. Decoding and verifying are separate steps so that the
 * callers' ordered checks can look at the header before the signature; verification pins ES256 and
 * takes the key from the caller, never from the token.
 */
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { ALG, type DeviceJwk } from './claims.js';

/** A compact JWS decoded without verification: its header and payload JSON objects. */
export type DecodedJws = {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
};

/** Three base64url parts; the signature may be empty only to be refused by verification. */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Decodes a compact JWS of at most `maxBytes` characters whose header and payload are JSON objects;
 * null when `token` is anything else. Nothing is verified here.
 */
export function decodeCompactJws(token: unknown, maxBytes: number): DecodedJws | null {
  if (typeof token !== 'string' || token.length > maxBytes || !COMPACT.test(token)) return null;
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    return null;
  }
}

/**
 * Verifies an ES256 compact JWS with `key` and returns its payload as a JSON object; null when the
 * signature does not verify, the algorithm is not ES256, or the payload is not a JSON object.
 */
export async function verifyCompactJws(
  token: string,
  key: CryptoKey,
): Promise<Record<string, unknown> | null> {
  try {
    const { payload } = await compactVerify(token, key, { algorithms: [ALG] });
    const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const keyCache = new Map<string, Promise<CryptoKey>>();
const KEY_CACHE_LIMIT = 10_000;

/** The Web Crypto verification key of a device's public JWK (cached by its coordinates). */
export function deviceVerifyKey(jwk: DeviceJwk): Promise<CryptoKey> {
  const id = `${jwk.x}.${jwk.y}`;
  let key = keyCache.get(id);
  if (!key) {
    key = crypto.subtle.importKey(
      'jwk',
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true },
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['verify'],
    );
    key.catch(() => keyCache.delete(id));
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

/** True for a plain `string` claim of 1 to `max` characters. */
export function isShortString(value: unknown, max = 256): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** True for a finite number (a NumericDate). */
export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
