/** Compact JWS parsing and ES256 verification with pinned parameters: the header never chooses. */
import type { DeviceJwk } from '../../protocol/index.js';

const B64URL = /^[A-Za-z0-9_-]*$/;

/** A compact JWS split into its parts; `header` and `payload` are JSON objects. */
export type CompactJws = {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
};

function decodeB64url(part: string): Buffer | null {
  if (!B64URL.test(part) || part.length % 4 === 1) return null;
  return Buffer.from(part, 'base64url');
}

function parseObject(bytes: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Splits a compact JWS of at most `maxBytes`; null when it is not one (three base64url parts, JSON objects). */
export function parseCompactJws(token: unknown, maxBytes: number): CompactJws | null {
  if (typeof token !== 'string' || token.length === 0 || token.length > maxBytes) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  const headerBytes = decodeB64url(h);
  const payloadBytes = decodeB64url(p);
  const signatureBytes = decodeB64url(s);
  if (!headerBytes || !payloadBytes || !signatureBytes || h === '' || p === '') return null;
  const header = parseObject(headerBytes);
  const payload = parseObject(payloadBytes);
  if (!header || !payload) return null;
  const signature = new Uint8Array(new ArrayBuffer(signatureBytes.length));
  signature.set(signatureBytes);
  const signingInput = new Uint8Array(new ArrayBuffer(h.length + 1 + p.length));
  signingInput.set(Buffer.from(`${h}.${p}`, 'ascii'));
  return { header, payload, signingInput, signature };
}

const keyCache = new Map<string, Promise<CryptoKey>>();

/** The Web Crypto verification key of a registered device (cached by device id). */
export function deviceVerifyKey(deviceId: string, jwk: DeviceJwk): Promise<CryptoKey> {
  let key = keyCache.get(deviceId);
  if (!key) {
    key = crypto.subtle.importKey(
      'jwk',
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true },
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    key.catch(() => keyCache.delete(deviceId));
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(deviceId, key);
  }
  return key;
}

/** True when an ES256 signature (64 bytes, r‖s as JWS uses) verifies with `key`. */
export async function verifyEs256(key: CryptoKey, jws: CompactJws): Promise<boolean> {
  if (jws.signature.length !== 64) return false;
  try {
    return await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      key,
      jws.signature,
      jws.signingInput,
    );
  } catch {
    return false;
  }
}

/** True for a plain `string` claim of reasonable length. */
export function isShortString(value: unknown, max = 256): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** True for a finite number (a NumericDate). */
export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
