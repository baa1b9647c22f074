/**
 * Signing as a device does it (5.3–5.5): a non-extractable ECDSA P-256 key, proofs and approvals as
 * compact JWS. The phone and the tests use these; the server only verifies.
 */
import { CompactSign, exportJWK } from 'jose';
import {
  ALG,
  TYP_APPROVAL,
  TYP_DPOP,
  TYP_ENROLL,
  type ApprovalClaims,
  type DeviceJwk,
} from './claims.js';
import { deviceIdOf, parseDeviceJwk } from './device-id.js';
import { base64url, sha256Hex, utf8 } from './hash.js';

/** A device's key pair; the private half can sign but never be exported. */
export type DeviceKey = {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: DeviceJwk;
  /** RFC 7638 thumbprint of the public key. */
  id: string;
};

/** A fresh device key: ECDSA P-256 with `extractable: false` for the private key. */
export async function generateDeviceKey(): Promise<DeviceKey> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  return deviceKeyFrom(pair.privateKey, pair.publicKey);
}

/** The device key for a stored pair (as kept in IndexedDB). */
export async function deviceKeyFrom(
  privateKey: CryptoKey,
  publicKey: CryptoKey,
): Promise<DeviceKey> {
  const publicJwk = parseDeviceJwk(await exportJWK(publicKey));
  return { privateKey, publicKey, publicJwk, id: await deviceIdOf(publicJwk) };
}

/** 16 random bytes, base64url: a `jti`. */
export function randomId(bytes = 16): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The `htu` of a request URL: scheme, host and path; no query, no fragment (RFC 9449 4.2). */
export function htuOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** Now, in Unix seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The `DPoP` header value for one request (5.3). */
export async function signProof(
  key: DeviceKey,
  request: { method: string; url: string },
  options: { iat?: number; jti?: string } = {},
): Promise<string> {
  return signJws(
    key,
    { typ: TYP_DPOP, alg: ALG, jwk: key.publicJwk },
    {
      jti: options.jti ?? randomId(),
      htm: request.method.toUpperCase(),
      htu: htuOf(request.url),
      iat: options.iat ?? nowSeconds(),
    },
  );
}

/** The enrolment proof (5.5): binds the new key to the invitation code and the server. */
export async function signEnrollProof(
  key: DeviceKey,
  claims: { aud: string; code: string },
  options: { iat?: number; jti?: string } = {},
): Promise<string> {
  return signJws(
    key,
    { alg: ALG, typ: TYP_ENROLL, jwk: key.publicJwk },
    {
      aud: claims.aud,
      iat: options.iat ?? nowSeconds(),
      jti: options.jti ?? randomId(),
      code: await sha256Hex(claims.code),
    },
  );
}

/** An approval JWS (5.4), `kid` = the device id. */
export async function signApproval(key: DeviceKey, claims: ApprovalClaims): Promise<string> {
  return signJws(key, { alg: ALG, typ: TYP_APPROVAL, kid: key.id }, claims);
}

/**
 * A compact JWS of `claims` as JSON, the JWT payload every verifier here reads. jose's `CompactSign`
 * rather than `SignJWT`: every claim is set by the caller, and the claims builder would only add
 * code to the phone's first load (DESIGN 9).
 */
function signJws(
  key: DeviceKey,
  header: { alg: typeof ALG; typ: string; jwk?: DeviceJwk; kid?: string },
  claims: object,
): Promise<string> {
  return new CompactSign(utf8(JSON.stringify(claims)))
    .setProtectedHeader(header)
    .sign(key.privateKey);
}
