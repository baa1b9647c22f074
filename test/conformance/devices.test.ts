/**
 * DESIGN.md 5.3, 5.5 and the device rows of 5.7, from an independent client: enrolment with every
 * way to get it wrong, DPoP proofs forged and replayed, the device list, invitations, revocation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Device,
  call,
  enrolled,
  sha256Hex,
  startTarget,
  stopTarget,
  unsafeJws,
  API,
  type Target,
} from './client.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';

let offset = 0; // seconds added to the real clock, for the server and our devices alike
const nowS = (): number => Math.floor(Date.now() / 1000) + offset;
let t: Target;
let receiver: PushReceiver;
let alice: Device;
let bob: Device;

beforeAll(async () => {
  receiver = await startPushReceiver();
  t = await startTarget({ clock: { now: () => Date.now() + offset * 1000 } });
  alice = await enrolled(t, { owner: 'alice', now: nowS });
  bob = await enrolled(t, { owner: 'bob', now: nowS });
});

afterAll(async () => {
  await stopTarget(t);
  await receiver?.close();
});

function expectError(
  reply: { status: number; body: unknown },
  status: number,
  code?: string,
): void {
  expect(reply.body).toEqual({ code: expect.stringMatching(/^ERR_/), message: expect.any(String) });
  expect({ status: reply.status, code: (reply.body as { code: string }).code }).toEqual({
    status,
    code: code ?? expect.stringMatching(/^ERR_/),
  });
}

describe('GET /config', () => {
  it('tells anyone the server id, name, VAPID public key and version', async () => {
    const reply = await call(`${t.url}${API}/config`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      serverId: t.serverId,
      name: expect.any(String),
      vapidPublicKey: expect.stringMatching(/^[A-Za-z0-9_-]{80,}$/),
      version: expect.any(String),
    });
  });
});

describe('enrolment (5.5)', () => {
  it('registers a device under its RFC 7638 thumbprint and shows its fingerprint', async () => {
    const carol = await Device.create(nowS);
    const { code } = await t.server.invite({ owner: 'carol', name: "Carol's phone" });
    expect(Buffer.from(code, 'base64url')).toHaveLength(32);
    const reply = await carol.enroll(t, code, {
      name: "Carol's phone",
      push: receiver.createPushSubscription(),
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      id: carol.id,
      fingerprint: expect.any(String),
      owner: 'carol',
      name: "Carol's phone",
    });
    const fp: string = reply.body.fingerprint;
    expect(fp.replace(/[^A-Za-z0-9_-]/g, '')).toBe(carol.id.slice(0, 16));
    expect(fp.split(/[^A-Za-z0-9_-]+/)).toEqual(carol.id.slice(0, 16).match(/.{4}/g));
    const list = await carol.request(t, 'GET', '/devices');
    expect(list.status).toBe(200);
  });

  it('keeps no invitation code in its data directory, only its SHA-256', async () => {
    const { code } = await t.server.invite({ owner: 'quinn', name: 'phone' });
    const device = await Device.create(nowS);
    expect((await device.enroll(t, code)).status).toBe(201);
    const { code: unused } = await t.server.invite({ owner: 'quinn', name: 'tablet' });
    const files = fs.readdirSync(t.dataDir, { recursive: true, withFileTypes: true });
    const texts = files
      .filter((f) => f.isFile())
      .map((f) => fs.readFileSync(path.join(f.parentPath, f.name), 'utf8'));
    expect(texts.length).toBeGreaterThan(1);
    for (const text of texts) {
      expect(text).not.toContain(code);
      expect(text).not.toContain(unused);
    }
  });

  it('refuses an invitation code a second time', async () => {
    const first = await Device.create(nowS);
    const second = await Device.create(nowS);
    const { code } = await t.server.invite({ owner: 'dan', name: 'phone' });
    expect((await first.enroll(t, code)).status).toBe(201);
    expectError(await second.enroll(t, code), 403, 'ERR_INVITATION_INVALID');
    expectError(await second.request(t, 'GET', '/devices'), 401, 'ERR_PROOF_DEVICE_UNKNOWN');
  });

  it('refuses a code that was never issued', async () => {
    const device = await Device.create(nowS);
    const code = Buffer.alloc(32, 7).toString('base64url');
    expectError(await device.enroll(t, code), 403, 'ERR_INVITATION_INVALID');
  });

  it('refuses an invitation code older than 10 minutes', async () => {
    const device = await Device.create(nowS);
    const { code } = await t.server.invite({ owner: 'erin', name: 'phone' });
    offset += 601;
    try {
      expectError(await device.enroll(t, code), 403, 'ERR_INVITATION_INVALID');
    } finally {
      offset += 601; // leave the 10-minute failure window behind for the next tests
    }
  });

  it('refuses a proof signed by a key other than publicJwk', async () => {
    const device = await Device.create(nowS);
    const other = await Device.create(nowS);
    const { code } = await t.server.invite({ owner: 'f', name: 'phone' });
    // header names publicJwk, the signature is the other key's
    const forged = await device.enrollProof(code, t.serverId, { signWith: other });
    expectError(await device.enroll(t, code, { proof: forged }), 401, 'ERR_ENROLL_PROOF');
    // a consistent proof by another key, with publicJwk still naming this device
    const swapped = await other.enrollProof(code, t.serverId);
    expectError(await device.enroll(t, code, { proof: swapped }), 401, 'ERR_ENROLL_PROOF');
    expectError(await device.request(t, 'GET', '/devices'), 401, 'ERR_PROOF_DEVICE_UNKNOWN');
    expectError(await other.request(t, 'GET', '/devices'), 401, 'ERR_PROOF_DEVICE_UNKNOWN');
  });

  it('refuses a proof for another server, another code, or with the wrong typ', async () => {
    const device = await Device.create(nowS);
    const { code } = await t.server.invite({ owner: 'g', name: 'phone' });
    const wrongAud = await device.enrollProof(code, 'another-server');
    expectError(await device.enroll(t, code, { proof: wrongAud }), 401, 'ERR_ENROLL_PROOF');
    const wrongCode = await device.enrollProof(code, t.serverId, {
      claims: { code: sha256Hex('another code') },
    });
    expectError(await device.enroll(t, code, { proof: wrongCode }), 401, 'ERR_ENROLL_PROOF');
    const wrongTyp = await device.enrollProof(code, t.serverId, { typ: 'dpop+jwt' });
    expectError(await device.enroll(t, code, { proof: wrongTyp }), 401, 'ERR_ENROLL_PROOF');
    const stale = await device.enrollProof(code, t.serverId, { claims: { iat: nowS() - 3600 } });
    expectError(await device.enroll(t, code, { proof: stale }), 401, 'ERR_ENROLL_PROOF');
    const ahead = await device.enrollProof(code, t.serverId, { claims: { iat: nowS() + 3600 } });
    expectError(await device.enroll(t, code, { proof: ahead }), 401, 'ERR_ENROLL_PROOF');
    const rawCode = await device.enrollProof(code, t.serverId, { claims: { code } });
    expectError(await device.enroll(t, code, { proof: rawCode }), 401, 'ERR_ENROLL_PROOF');
    const none = unsafeJws(
      { alg: 'none', typ: 'countersign-enroll+jwt', jwk: device.publicJwk },
      { aud: t.serverId, iat: nowS(), jti: 'x', code: sha256Hex(code) },
    );
    expectError(await device.enroll(t, code, { proof: none }), 401, 'ERR_ENROLL_PROOF');
    expectError(await device.request(t, 'GET', '/devices'), 401, 'ERR_PROOF_DEVICE_UNKNOWN');
  });

  it('refuses a key that is already registered', async () => {
    const { code } = await t.server.invite({ owner: 'alice', name: 'again' });
    expectError(await alice.enroll(t, code), 409, 'ERR_DEVICE_EXISTS');
  });

  it('refuses a malformed enrolment body with 400', async () => {
    const reply = await call(`${t.url}${API}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'abc', name: 'x' }),
    });
    expectError(reply, 400);
  });

  it('refuses a push endpoint that would make the server an open relay', async () => {
    const device = await Device.create(nowS);
    const { code } = await t.server.invite({ owner: 'h', name: 'phone' });
    const push = { ...receiver.createPushSubscription(), endpoint: 'http://example.com/push/1' };
    expectError(await device.enroll(t, code, { push }), 400);
  });

  it('answers 429 after 5 bad codes from one address within 10 minutes', async () => {
    offset += 601;
    const device = await Device.create(nowS);
    for (let i = 0; i < 5; i++) {
      const code = Buffer.alloc(32, i + 1).toString('base64url');
      expectError(await device.enroll(t, code), 403, 'ERR_INVITATION_INVALID');
    }
    const bad = Buffer.alloc(32, 9).toString('base64url');
    expectError(await device.enroll(t, bad), 429, 'ERR_RATE_LIMITED');
    const { code } = await t.server.invite({ owner: 'i', name: 'phone' });
    expectError(await device.enroll(t, code), 429, 'ERR_RATE_LIMITED');
    offset += 601;
    const { code: fresh } = await t.server.invite({ owner: 'i', name: 'phone' });
    expect((await device.enroll(t, fresh)).status).toBe(201);
  });
});

describe('device proofs (5.3)', () => {
  const get = (over: Parameters<Device['request']>[4], who: Device = alice) =>
    who.request(t, 'GET', '/devices', undefined, over);

  it('accepts a fresh proof from a registered device', async () => {
    const reply = await get({});
    expect(reply.status).toBe(200);
  });

  it('refuses a request without a DPoP header', async () => {
    expectError(await get({ omit: true }), 401, 'ERR_PROOF_MISSING');
  });

  it('refuses a DPoP header that is not a JWS', async () => {
    const reply = await get({ raw: 'not-a-jws' });
    expectError(reply, 401);
    expect(reply.body.code).toMatch(/^ERR_PROOF_/);
  });

  it('refuses a proof for another method', async () => {
    expectError(await get({ htm: 'POST' }), 401, 'ERR_PROOF_HTM');
  });

  it('refuses a proof for another path, another host, another scheme', async () => {
    const u = new URL(t.url);
    expectError(await get({ htu: `${t.url}${API}/audit` }), 401, 'ERR_PROOF_HTU');
    expectError(
      await get({ htu: `http://localhost.example:${u.port}${API}/devices` }),
      401,
      'ERR_PROOF_HTU',
    );
    expectError(await get({ htu: `https://${u.host}${API}/devices` }), 401, 'ERR_PROOF_HTU');
  });

  it('refuses an htu that carries a query', async () => {
    const reply = await alice.request(t, 'GET', '/deployments?status=pending', undefined, {
      htu: `${t.url}${API}/deployments?status=pending`,
    });
    expectError(reply, 401, 'ERR_PROOF_HTU');
    const fragment = await alice.request(t, 'GET', '/devices', undefined, {
      htu: `${t.url}${API}/devices#x`,
    });
    expectError(fragment, 401, 'ERR_PROOF_HTU');
    const ok = await alice.request(t, 'GET', '/deployments?status=pending');
    expect(ok.status).toBe(200);
  });

  it('refuses a proof issued more than 60 s ago or ahead', async () => {
    expectError(await get({ iat: nowS() - 61 }), 401, 'ERR_PROOF_IAT');
    expectError(await get({ iat: nowS() + 61 }), 401, 'ERR_PROOF_IAT');
    expect((await get({ iat: nowS() - 50 })).status).toBe(200);
  });

  it('refuses a replayed proof', async () => {
    const url = `${t.url}${API}/devices`;
    const proof = await alice.proof('GET', url);
    expect((await call(url, { headers: { dpop: proof } })).status).toBe(200);
    expectError(await call(url, { headers: { dpop: proof } }), 401, 'ERR_PROOF_REPLAY');
    // a new proof that reuses the jti is a replay too
    const jti = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()).jti;
    expectError(await get({ jti }), 401, 'ERR_PROOF_REPLAY');
  });

  it('refuses a proof from a key that was never registered', async () => {
    const stranger = await Device.create(nowS);
    expectError(await get({}, stranger), 401, 'ERR_PROOF_DEVICE_UNKNOWN');
  });

  it('refuses a proof whose header names one device and whose signature is another', async () => {
    expectError(await get({ signWith: bob }), 401, 'ERR_PROOF_SIGNATURE');
  });

  it('refuses alg none and HS256 proofs', async () => {
    const url = `${t.url}${API}/devices`;
    const claims = { jti: 'a1', htm: 'GET', htu: url, iat: nowS() };
    const none = unsafeJws({ typ: 'dpop+jwt', alg: 'none', jwk: alice.publicJwk }, claims);
    const reply = await get({ raw: none });
    expectError(reply, 401);
    expect(reply.body.code).toMatch(/^ERR_PROOF_/);
    const hs = unsafeJws(
      { typ: 'dpop+jwt', alg: 'HS256', jwk: alice.publicJwk },
      { ...claims, jti: 'a2' },
      new TextEncoder().encode(JSON.stringify(alice.publicJwk)),
    );
    const reply2 = await get({ raw: hs });
    expectError(reply2, 401);
    expect(reply2.body.code).toMatch(/^ERR_PROOF_/);
  });

  it('refuses a proof with another typ', async () => {
    for (const typ of ['JWT', 'countersign-approval+jwt', 'DPOP+JWT']) {
      const reply = await get({ typ });
      expectError(reply, 401);
      expect(reply.body.code).toMatch(/^ERR_PROOF_/);
    }
  });

  it('refuses a proof without a jwk, or with a key of another type', async () => {
    const url = `${t.url}${API}/devices`;
    const claims = { jti: 'k1', htm: 'GET', htu: url, iat: nowS() };
    for (const jwk of [undefined, { kty: 'RSA', n: 'AQAB', e: 'AQAB' }, 'key']) {
      const proof = await alice.signRaw({ typ: 'dpop+jwt', alg: 'ES256', jwk }, claims);
      const reply = await get({ raw: proof });
      expectError(reply, 401);
      expect(reply.body.code).toMatch(/^ERR_PROOF_/);
    }
  });

  it('refuses a proof whose jwk carries a private part', async () => {
    const reply = await get({
      jwk: { ...alice.publicJwk, d: Buffer.alloc(32, 1).toString('base64url') },
    });
    expectError(reply, 401);
    expect(reply.body.code).toMatch(/^ERR_PROOF_/);
  });
});

describe('devices and invitations (5.7)', () => {
  it('lists devices with their fields and marks the caller', async () => {
    const reply = await alice.request(t, 'GET', '/devices');
    expect(reply.status).toBe(200);
    const mine = reply.body.devices.find((d: { id: string }) => d.id === alice.id);
    expect(mine).toEqual({
      id: alice.id,
      fingerprint: expect.any(String),
      owner: 'alice',
      name: 'phone',
      createdAt: expect.any(String),
      revokedAt: null,
      suspendedAt: null,
      push: false,
      self: true,
    });
    const other = reply.body.devices.find((d: { id: string }) => d.id === bob.id);
    expect(other.self).toBe(false);
  });

  it('updates its own push subscription', async () => {
    const push = receiver.createPushSubscription();
    const reply = await alice.request(t, 'PUT', '/devices/self/push', { push });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ok: true });
    const list = await alice.request(t, 'GET', '/devices');
    expect(list.body.devices.find((d: { id: string }) => d.id === alice.id).push).toBe(true);
    expectError(await alice.request(t, 'PUT', '/devices/self/push', { push: 'nope' }), 400);
  });

  it('issues an invitation that enrols a new device once', async () => {
    const reply = await alice.request(t, 'POST', '/invitations', {
      owner: 'alice',
      name: 'tablet',
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      code: expect.any(String),
      url: expect.any(String),
      expiresAt: expect.any(String),
    });
    expect(reply.body.url).toBe(`${t.server.publicUrl}/#/enroll?code=${reply.body.code}`);
    const tablet = await Device.create(nowS);
    const enrolledReply = await tablet.enroll(t, reply.body.code);
    expect(enrolledReply.status).toBe(201);
    expect(enrolledReply.body.owner).toBe('alice');
    expectError(await alice.request(t, 'POST', '/invitations', { owner: 5 }), 400);
  });

  it('refuses a device an invitation for another owner: new people come from the command line', async () => {
    expectError(
      await alice.request(t, 'POST', '/invitations', { owner: 'zoe', name: 'tablet' }),
      403,
      'ERR_FORBIDDEN',
    );
  });

  it('answers 404 when revoking an unknown device', async () => {
    expectError(
      await alice.request(t, 'POST', '/devices/nosuchdevice/revoke'),
      404,
      'ERR_NOT_FOUND',
    );
  });

  it('revokes a device, whose proofs are then refused with 403 ERR_DEVICE_REVOKED', async () => {
    const victim = await enrolled(t, { owner: 'mallory', now: nowS });
    const reply = await alice.request(t, 'POST', `/devices/${victim.id}/revoke`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ id: victim.id, revokedAt: expect.any(String), suspended: [] });
    expectError(await victim.request(t, 'GET', '/devices'), 403, 'ERR_DEVICE_REVOKED');
    expectError(
      await victim.request(t, 'POST', '/invitations', { owner: 'mallory', name: 'n' }),
      403,
      'ERR_DEVICE_REVOKED',
    );
    const list = await alice.request(t, 'GET', '/devices');
    const row = list.body.devices.find((d: { id: string }) => d.id === victim.id);
    expect(row.revokedAt).toEqual(expect.any(String));
  });

  it('kills the unused invitations a device made when it is revoked', async () => {
    const thief = await enrolled(t, { owner: 'lost-phone', now: nowS });
    const invitation = await thief.request(t, 'POST', '/invitations', {
      owner: 'lost-phone',
      name: 'y',
    });
    expect(invitation.status).toBe(201);
    expect((await alice.request(t, 'POST', `/devices/${thief.id}/revoke`)).status).toBe(200);
    const newcomer = await Device.create(nowS);
    expectError(await newcomer.enroll(t, invitation.body.code), 403, 'ERR_INVITATION_INVALID');
    expectError(await newcomer.request(t, 'GET', '/devices'), 401, 'ERR_PROOF_DEVICE_UNKNOWN');
  });

  it('lets a device revoke itself', async () => {
    const self = await enrolled(t, { owner: 'sam', now: nowS });
    const reply = await self.request(t, 'POST', `/devices/${self.id}/revoke`);
    expect(reply.status).toBe(200);
    expectError(await self.request(t, 'GET', '/devices'), 403, 'ERR_DEVICE_REVOKED');
  });
});
