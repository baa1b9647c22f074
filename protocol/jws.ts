/**
 * Compact JWS reading for every token Countersign verifies (approvals 5.4, device proofs 5.3,
 * enrolment proofs 5.5). Decoding and verifying are separate steps so that the callers' ordered
 * checks can look at the header before the signature; the token is decoded once, and verification
 * pins ES256 and takes the key from the caller, never from the token. The signature check itself is
 * passed in (`Es256Verify`): Web Crypto by default, the platform's own where it is faster (the
 * server's, on node:crypto).
 */
import type { DeviceJwk } from './claims.js';

/** A compact JWS decoded without verification: its header and payload JSON objects. */
export type DecodedJws = {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `<header>.<payload>` as received: the bytes the signature covers (ASCII). */
  signingInput: string;
  /** The signature, base64url as received. */
  signature: string;
};

/**
 * Checks an ES256 signature (base64url of the 64-byte IEEE P1363 `r || s`) over the JWS signing
 * input with a device's public key; false for any key or signature that does not verify.
 */
export type Es256Verify = (
  jwk: DeviceJwk,
  signingInput: string,
  signature: string,
) => boolean | Promise<boolean>;

/** Three base64url parts; the signature may be empty only to be refused by verification. */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Bytes of base64url text (padding optional); throws on text that is not base64url. */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const decoder = new TextDecoder();

/** The JSON object a base64url segment encodes, or null. */
function jsonObjectOf(segment: string): Record<string, unknown> | null {
  const binary = atob(segment.replace(/-/g, '+').replace(/_/g, '/'));
  // ASCII, as JSON headers and claims almost always are, reads as is; otherwise as UTF-8.
  const text = /[\x80-\xff]/.test(binary) ? decoder.decode(fromBase64url(segment)) : binary;
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/**
 * Decodes a compact JWS of at most `maxBytes` characters whose header and payload are JSON objects;
 * null when `token` is anything else. Nothing is verified here.
 */
export function decodeCompactJws(token: unknown, maxBytes: number): DecodedJws | null {
  if (typeof token !== 'string' || token.length > maxBytes || !COMPACT.test(token)) return null;
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  try {
    const header = jsonObjectOf(token.slice(0, first));
    const payload = jsonObjectOf(token.slice(first + 1, last));
    if (!header || !payload) return null;
    return {
      header,
      payload,
      signingInput: token.slice(0, last),
      signature: token.slice(last + 1),
    };
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

/**
 * The Web Crypto verification key of a device's public JWK, imported once per key (cached by its
 * coordinates: the cache holds what a key is, never whether its device may still sign).
 */
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

/** ES256 through Web Crypto (browsers, the plugin). */
export const webCryptoEs256: Es256Verify = async (jwk, signingInput, signature) => {
  try {
    const key = await deviceVerifyKey(jwk);
    // The signing input is base64url and a dot: ASCII, so its UTF-8 bytes are its characters.
    return await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      key,
      fromBase64url(signature),
      new TextEncoder().encode(signingInput),
    );
  } catch {
    return false;
  }
};

/**
 * Verifies a decoded ES256 compact JWS with the key `jwk` and returns its payload; null when the
 * signature does not verify. The header's `alg` is the caller's to have pinned.
 */
export async function verifyCompactJws(
  jws: DecodedJws,
  jwk: DeviceJwk,
  verify: Es256Verify = webCryptoEs256,
): Promise<Record<string, unknown> | null> {
  return (await verify(jwk, jws.signingInput, jws.signature)) ? jws.payload : null;
}

/** True for a plain `string` claim of 1 to `max` characters. */
export function isShortString(value: unknown, max = 256): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** True for a finite number (a NumericDate). */
export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
