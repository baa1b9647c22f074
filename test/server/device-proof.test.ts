/** Every check of DESIGN 5.3 on device requests, each with a proof built from real device keys. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, randomId } from '../../protocol/index.js';
import { TestDevice } from '../helpers/device.js';
import { TestClock, startTestServer, type TestServer } from '../helpers/server.js';
import { signRaw } from '../helpers/sign-raw.js';

const clock = new TestClock(Date.UTC(2026, 10, 27, 10, 0, 0));
let server: TestServer;
let alice: TestDevice;
const path = `${API_PREFIX}/devices`;

function claimsFor(
  device: TestDevice,
  method: string,
  url: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { jti: randomId(), htm: method, htu: url, iat: device.nowS(), ...extra };
}

async function get(
  proof: string | null,
  url = `${server.url}${path}`,
  method = 'GET',
): Promise<{ status: number; body: { code?: string } }> {
  const res = await fetch(url, { method, headers: proof === null ? {} : { DPoP: proof } });
  return { status: res.status, body: (await res.json()) as { code?: string } };
}

beforeAll(async () => {
  server = await startTestServer({ clock });
  alice = await server.enrollDevice({ owner: 'alice' });
});
afterAll(async () => {
  await server?.close();
});

describe('5.3 device proofs', () => {
  it('accepts a good proof', async () => {
    expect((await get(await alice.proof(`${server.url}${path}`, 'GET'))).status).toBe(200);
  });
  it('refuses a request without a proof', async () => {
    expect(await get(null)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_MISSING' } });
  });
  it('refuses a proof that is not a compact JWS', async () => {
    expect(await get('not.a-jws')).toMatchObject({
      status: 401,
      body: { code: 'ERR_PROOF_MALFORMED' },
    });
    expect(await get('a.b.c.d')).toMatchObject({
      status: 401,
      body: { code: 'ERR_PROOF_MALFORMED' },
    });
  });
  it('refuses a proof whose typ, alg or jwk is wrong', async () => {
    const url = `${server.url}${path}`;
    const good = { typ: 'dpop+jwt', alg: 'ES256', jwk: alice.key.publicJwk };
    for (const header of [
      { ...good, typ: 'JWT' },
      { ...good, typ: 'countersign-approval+jwt' },
      { ...good, alg: 'HS256' },
      { ...good, alg: 'none' },
      { ...good, jwk: undefined },
      { ...good, jwk: { ...alice.key.publicJwk, crv: 'P-384' } },
      { ...good, jwk: { ...alice.key.publicJwk, d: 'A'.repeat(43) } },
    ]) {
      const proof = await signRaw(alice, header, claimsFor(alice, 'GET', url));
      expect(await get(proof)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_HEADER' } });
    }
  });
  it('refuses a proof from a key that is not a registered device', async () => {
    const mallory = await TestDevice.create({ clock });
    expect(await get(await mallory.proof(`${server.url}${path}`, 'GET'))).toMatchObject({
      status: 401,
      body: { code: 'ERR_PROOF_DEVICE_UNKNOWN' },
    });
  });
  it('refuses a revoked device with 403', async () => {
    const erin = await server.enrollDevice({ owner: 'erin' });
    expect(
      (await alice.call(server.url, 'POST', `${API_PREFIX}/devices/${erin.id}/revoke`)).status,
    ).toBe(200);
    expect(await get(await erin.proof(`${server.url}${path}`, 'GET'))).toMatchObject({
      status: 403,
      body: { code: 'ERR_DEVICE_REVOKED' },
    });
  });
  it("refuses a proof carrying alice's key but signed by another", async () => {
    const mallory = await TestDevice.create({ clock });
    const url = `${server.url}${path}`;
    const proof = await signRaw(
      mallory,
      { typ: 'dpop+jwt', alg: 'ES256', jwk: alice.key.publicJwk },
      claimsFor(alice, 'GET', url),
    );
    expect(await get(proof)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_SIGNATURE' } });
  });
  it('refuses a proof made for another method', async () => {
    const proof = await alice.proof(`${server.url}${path}`, 'POST');
    expect(await get(proof)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_HTM' } });
  });
  it('refuses a proof made for another path or host, and ignores the query', async () => {
    const other = await alice.proof(`${server.url}${API_PREFIX}/deployments`, 'GET');
    expect(await get(other)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_HTU' } });
    const host = await alice.proof(`${server.url.replace('127.0.0.1', 'localhost')}${path}`, 'GET');
    expect(await get(host)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_HTU' } });
    const url = `${server.url}${path}`;
    const noHtu = await signRaw(
      alice,
      { typ: 'dpop+jwt', alg: 'ES256', jwk: alice.key.publicJwk },
      claimsFor(alice, 'GET', url, { htu: 5 }),
    );
    expect(await get(noHtu)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_HTU' } });
    const withQuery = await alice.proof(`${server.url}${path}`, 'GET');
    expect((await get(withQuery, `${server.url}${path}?x=1`)).status).toBe(200);
  });
  it('refuses a proof whose iat is more than 60 s from now', async () => {
    const url = `${server.url}${path}`;
    expect(await get(await alice.proof(url, 'GET', { iat: alice.nowS() - 61 }))).toMatchObject({
      status: 401,
      body: { code: 'ERR_PROOF_IAT' },
    });
    expect(await get(await alice.proof(url, 'GET', { iat: alice.nowS() + 61 }))).toMatchObject({
      status: 401,
      body: { code: 'ERR_PROOF_IAT' },
    });
    expect((await get(await alice.proof(url, 'GET', { iat: alice.nowS() - 59 }))).status).toBe(200);
  });
  it('refuses a proof used twice, and one without a jti', async () => {
    const proof = await alice.proof(`${server.url}${path}`, 'GET');
    expect((await get(proof)).status).toBe(200);
    expect(await get(proof)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_REPLAY' } });
    const url = `${server.url}${path}`;
    const noJti = await signRaw(
      alice,
      { typ: 'dpop+jwt', alg: 'ES256', jwk: alice.key.publicJwk },
      claimsFor(alice, 'GET', url, { jti: undefined }),
    );
    expect(await get(noJti)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_REPLAY' } });
  });
  it('checks in the order of 5.3: a stale proof for the wrong method fails at htm first', async () => {
    const proof = await alice.proof(`${server.url}${path}`, 'DELETE', { iat: alice.nowS() - 3600 });
    expect(await get(proof)).toMatchObject({ status: 401, body: { code: 'ERR_PROOF_HTM' } });
  });
  it('guards every device endpoint', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/devices'],
      ['POST', `/devices/${alice.id}/revoke`],
      ['PUT', '/devices/self/push'],
      ['POST', '/invitations'],
      ['GET', '/deployments?status=pending'],
      ['GET', '/deployments/abcdefabcdef'],
      ['POST', '/deployments/abcdefabcdef/decision'],
      ['GET', '/audit?after=0'],
      ['GET', `/blobs/${'a'.repeat(64)}`],
    ];
    for (const [method, route] of routes) {
      const res = await fetch(`${server.url}${API_PREFIX}${route}`, { method });
      expect([method, route, res.status, ((await res.json()) as { code: string }).code]).toEqual([
        method,
        route,
        401,
        'ERR_PROOF_MISSING',
      ]);
    }
  });
});

describe('5.7 behind a reverse proxy', () => {
  it('checks htu against the configured public URL', async () => {
    const proxied = await startTestServer({ clock, publicUrl: 'https://approvals.example.com/cs' });
    try {
      const bob = await proxied.enrollDevice({ owner: 'bob' });
      const viaPublic = await bob.proof(`https://approvals.example.com/cs${path}`, 'GET');
      expect((await get(viaPublic, `${proxied.url}${path}`)).status).toBe(200);
      const viaListen = await bob.proof(`${proxied.url}${path}`, 'GET');
      expect(await get(viaListen, `${proxied.url}${path}`)).toMatchObject({
        status: 401,
        body: { code: 'ERR_PROOF_HTU' },
      });
    } finally {
      await proxied.close();
    }
  });
});
