/**
 * Compact JWS reading for every token Countersign verifies (approvals 5.4, device proofs 5.3,
 * enrolment proofs 5.5), through `jose`. Decoding and verifying are separate steps so that the
 * callers' ordered checks can look at the header before the signature; verification pins ES256 and
 * takes the key from the caller, never from the token.
 */
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { ALG, type DeviceJwk } from './claims.js';
import { deviceIdOf } from './device-id.js';

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

const KEY_CACHE_LIMIT = 10_000;

/** A bounded cache of promises; a rejected one is forgotten. */
function cached<T>(cache: Map<string, Promise<T>>, id: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(id);
  if (!value) {
    value = make();
    value.catch(() => cache.delete(id));
    if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
    cache.set(id, value);
  }
  return value;
}

const keys = new Map<string, Promise<CryptoKey>>();

/** The Web Crypto verification key of a device's public JWK (cached by its coordinates). */
export function deviceVerifyKey(jwk: DeviceJwk): Promise<CryptoKey> {
  return cached(keys, `${jwk.x}.${jwk.y}`, () =>
    crypto.subtle.importKey(
      'jwk',
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true },
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['verify'],
    ),
  );
}

const namedKeys = new Map<string, Promise<CryptoKey | null>>();

/**
 * The verification key of device `id`, or null when `jwk` is not that device's key (its RFC 7638
 * thumbprint is not `id`): a verifier handed keys by someone else must not take a label on trust.
 * Cached by id and coordinates.
 */
export function deviceKeyNamed(id: string, jwk: DeviceJwk): Promise<CryptoKey | null> {
  return cached(namedKeys, `${id}.${jwk.x}.${jwk.y}`, async () =>
    (await deviceIdOf(jwk)) === id ? deviceVerifyKey(jwk) : null,
  );
}

/** True for a plain `string` claim of 1 to `max` characters. */
export function isShortString(value: unknown, max = 256): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** True for a finite number (a NumericDate). */
export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
