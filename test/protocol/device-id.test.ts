import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  deviceIdOf,
  fingerprintOf,
  generateDeviceKey,
  htuOf,
  parseDeviceJwk,
  sha256Hex,
  signApproval,
  signEnrollProof,
  signProof,
} from '../../protocol/index.js';

describe('device keys', () => {
  it('makes a P-256 key whose private half cannot be exported', async () => {
    const key = await generateDeviceKey();
    expect(key.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', key.privateKey)).rejects.toThrow();
    expect(key.publicJwk).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
    });
  });

  it('names a device by its RFC 7638 thumbprint', async () => {
    const key = await generateDeviceKey();
    expect(await deviceIdOf(key.publicJwk)).toBe(
      await calculateJwkThumbprint(key.publicJwk, 'sha256'),
    );
    expect(key.id).toBe(await deviceIdOf(key.publicJwk));
  });

  it('shows the first 16 characters of the id in groups of 4 as the fingerprint', () => {
    expect(fingerprintOf('abcdEFGHijkl_-90rest')).toBe('abcd EFGH ijkl _-90');
  });

  it('refuses a JWK with a private part or the wrong curve', () => {
    const x = 'A'.repeat(43);
    expect(() => parseDeviceJwk({ kty: 'EC', crv: 'P-256', x, y: x, d: x })).toThrow(/private/);
    expect(() => parseDeviceJwk({ kty: 'EC', crv: 'P-384', x, y: x })).toThrow(/P-256/);
    expect(() => parseDeviceJwk({ kty: 'EC', crv: 'P-256', x: 'short', y: x })).toThrow(
      /base64url/,
    );
    expect(parseDeviceJwk({ kty: 'EC', crv: 'P-256', x, y: x, kid: 'extra' })).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x,
      y: x,
    });
  });
});

describe('signing as a device', () => {
  it('makes a DPoP proof with the key in the header and the request in the claims', async () => {
    const key = await generateDeviceKey();
    const proof = await signProof(key, { method: 'post', url: 'https://a.example/api/v1/x?q=1#f' });
    expect(decodeProtectedHeader(proof)).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: key.publicJwk,
    });
    const { payload } = await compactVerify(proof, await importJWK(key.publicJwk, 'ES256'));
    const claims = JSON.parse(new TextDecoder().decode(payload));
    expect(claims).toMatchObject({ htm: 'POST', htu: 'https://a.example/api/v1/x' });
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('binds an enrolment proof to the hash of the invitation code', async () => {
    const key = await generateDeviceKey();
    const proof = await signEnrollProof(key, { aud: 'server-1', code: 'the-code' });
    expect(decodeProtectedHeader(proof)).toMatchObject({
      typ: 'countersign-enroll+jwt',
      alg: 'ES256',
    });
    const { payload } = await compactVerify(proof, await importJWK(key.publicJwk, 'ES256'));
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({
      aud: 'server-1',
      code: await sha256Hex('the-code'),
    });
  });

  it('signs an approval with the device id as kid', async () => {
    const key = await generateDeviceKey();
    const jws = await signApproval(key, {
      iss: key.id,
      aud: 's',
      sub: 'd',
      iat: 1,
      exp: 2,
      jti: 'j',
      base: 'b',
      target: 't',
      creds: null,
      verdict: 'approve',
      decisions: 'x',
    });
    expect(decodeProtectedHeader(jws)).toEqual({
      alg: 'ES256',
      typ: 'countersign-approval+jwt',
      kid: key.id,
    });
  });

  it('strips query and fragment from htu', () => {
    expect(htuOf('http://127.0.0.1:8080/api/v1/deployments?status=pending#x')).toBe(
      'http://127.0.0.1:8080/api/v1/deployments',
    );
  });
});
