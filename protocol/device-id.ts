import { ValidationError } from './errors.js';
import { base64url, utf8 } from './hash.js';
import type { DeviceJwk } from './claims.js';

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/** Checks a public P-256 JWK and keeps only its public members. */
export function parseDeviceJwk(input: unknown): DeviceJwk {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('publicJwk must be a JWK object');
  }
  const { kty, crv, x, y, d } = input as Record<string, unknown>;
  if (d !== undefined) throw new ValidationError('publicJwk must not contain a private key');
  if (kty !== 'EC' || crv !== 'P-256')
    throw new ValidationError('publicJwk must be an EC P-256 key');
  if (typeof x !== 'string' || typeof y !== 'string' || !B64URL_32.test(x) || !B64URL_32.test(y)) {
    throw new ValidationError('publicJwk x and y must be 32-byte base64url values');
  }
  return { kty, crv, x, y };
}

/** Thumbprints already computed, by the RFC 7638 text they hash (a pure function of the key). */
const thumbprints = new Map<string, string>();
const THUMBPRINT_CACHE_LIMIT = 10_000;

/** The device id: the RFC 7638 JWK thumbprint (SHA-256, base64url) of its public key. */
export async function deviceIdOf(jwk: DeviceJwk): Promise<string> {
  // RFC 7638 3.2: the required members in lexicographic order, no whitespace.
  const text = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  const known = thumbprints.get(text);
  if (known !== undefined) return known;
  const id = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));
  if (thumbprints.size >= THUMBPRINT_CACHE_LIMIT) thumbprints.clear();
  thumbprints.set(text, id);
  return id;
}

/** The fingerprint people compare: the first 16 characters of the device id, in groups of 4. */
export function fingerprintOf(deviceId: string): string {
  return (deviceId.slice(0, 16).match(/.{1,4}/g) ?? []).join(' ');
}
