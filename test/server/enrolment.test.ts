/** Enrolment (DESIGN 5.5), invitations, the device list, revocation and push subscriptions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  base64url,
  fingerprintOf,
  signEnrollProof,
  utf8,
  type DeviceView,
} from '../../protocol/index.js';
import { TestDevice } from '../helpers/device.js';
import { storedText } from '../helpers/stored.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { TestClock, startTestServer, type TestServer } from '../helpers/server.js';

const clock = new TestClock(Date.UTC(2026, 10, 27, 11, 0, 0));
let server: TestServer;
let receiver: PushReceiver;

async function post(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${API_PREFIX}/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function fresh(owner = 'alice'): Promise<{ device: TestDevice; code: string }> {
  const device = await TestDevice.create({ owner, clock });
  const { code } = await server.invite({ owner, name: `${owner}'s phone` });
  return { device, code };
}

beforeAll(async () => {
  receiver = await startPushReceiver();
  server = await startTestServer({ clock });
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

describe('5.5 enrolment', () => {
  it('registers a device under its thumbprint and answers its fingerprint', async () => {
    const { device, code } = await fresh('alice');
    const answer = await post(await device.enrollBody(server.url, code));
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      id: device.id,
      fingerprint: fingerprintOf(device.id),
      owner: 'alice',
      name: "alice's phone",
    });
    expect(answer.body.fingerprint).toMatch(/^[\w-]{4} [\w-]{4} [\w-]{4} [\w-]{4}$/);
  });
  it('makes invitations single use', async () => {
    const { device, code } = await fresh();
    expect((await post(await device.enrollBody(server.url, code))).status).toBe(201);
    const other = await TestDevice.create({ clock });
    expect(await post(await other.enrollBody(server.url, code))).toMatchObject({
      status: 403,
      body: { code: 'ERR_INVITATION_INVALID' },
    });
  });
  it('refuses an invitation older than 10 minutes', async () => {
    const { device, code } = await fresh();
    clock.advance(601_000);
    expect(await post(await device.enrollBody(server.url, code))).toMatchObject({
      status: 403,
      body: { code: 'ERR_INVITATION_INVALID' },
    });
  });
  it('keeps only the SHA-256 of an invitation code', async () => {
    const { code } = await server.invite({ owner: 'zoe', name: 'tablet' });
    const text = await storedText(server.dataDir);
    expect(text).not.toContain(code);
    expect(text).toContain('zoe');
  });
  it('refuses a proof for another server, another code, another key, a wrong typ or a stale iat', async () => {
    const { device, code } = await fresh();
    const body = await device.enrollBody(server.url, code);
    const bad = async (proof: string): Promise<void> => {
      expect(await post({ ...body, proof })).toMatchObject({
        status: 401,
        body: { code: 'ERR_ENROLL_PROOF' },
      });
    };
    await bad(
      await signEnrollProof(device.key, { aud: 'another-server', code }, { iat: device.nowS() }),
    );
    await bad(
      await signEnrollProof(
        device.key,
        { aud: server.serverId, code: 'another-code' },
        { iat: device.nowS() },
      ),
    );
    const mallory = await TestDevice.create({ clock });
    await bad(
      await signEnrollProof(mallory.key, { aud: server.serverId, code }, { iat: device.nowS() }),
    );
    await bad(
      await signEnrollProof(
        device.key,
        { aud: server.serverId, code },
        { iat: device.nowS() - 120 },
      ),
    );
    const header = base64url(
      utf8(JSON.stringify({ alg: 'ES256', typ: 'dpop+jwt', jwk: device.key.publicJwk })),
    );
    const [, payload, sig] = (body.proof as string).split('.');
    await bad(`${header}.${payload}.${sig}`);
    await bad('nope');
    // The code was not spent by the failures.
    expect((await post(body)).status).toBe(201);
  });
  it('refuses a key that is already registered', async () => {
    const { device, code } = await fresh();
    expect((await post(await device.enrollBody(server.url, code))).status).toBe(201);
    const { code: second } = await server.invite({ owner: 'alice', name: 'again' });
    expect(await post(await device.enrollBody(server.url, second))).toMatchObject({
      status: 409,
      body: { code: 'ERR_DEVICE_EXISTS' },
    });
  });
  it('refuses an enrolment proof used before, even when the first attempt failed later', async () => {
    const { device, code } = await fresh();
    expect((await post(await device.enrollBody(server.url, code))).status).toBe(201);
    const { code: second } = await server.invite({ owner: 'alice', name: 'again' });
    const body = await device.enrollBody(server.url, second);
    expect(await post(body)).toMatchObject({ status: 409, body: { code: 'ERR_DEVICE_EXISTS' } });
    expect(await post(body)).toMatchObject({ status: 401, body: { code: 'ERR_ENROLL_PROOF' } });
  });
  it('refuses a private key or a malformed push subscription as bad requests', async () => {
    const { device, code } = await fresh();
    const body = await device.enrollBody(server.url, code);
    expect(
      await post({ ...body, publicJwk: { ...device.key.publicJwk, d: 'A'.repeat(43) } }),
    ).toMatchObject({ status: 400, body: { code: 'ERR_BAD_REQUEST' } });
    expect(
      await post({
        ...body,
        push: { endpoint: 'http://10.0.0.1/push', keys: { p256dh: 'x', auth: 'y' } },
      }),
    ).toMatchObject({ status: 400 });
    expect(
      await post({
        ...body,
        push: { endpoint: 'https://push.example.com/x', keys: { p256dh: 'x', auth: 'y' } },
      }),
    ).toMatchObject({ status: 400 });
  });
});

describe('invitations from an enrolled device', () => {
  it("lets an enrolled device invite its owner's next device", async () => {
    const alice = await server.enrollDevice({ owner: 'alice' });
    const answer = await alice.call<{ code: string; url: string; expiresAt: string }>(
      server.url,
      'POST',
      `${API_PREFIX}/invitations`,
      { owner: 'alice', name: "Alice's tablet" },
    );
    expect(answer.status).toBe(201);
    expect(answer.body.url).toBe(`${server.url}/#/enroll?code=${answer.body.code}`);
    const tablet = await TestDevice.create({ owner: 'alice', clock });
    const enrolled = await tablet.enroll(server.url, answer.body.code);
    expect(enrolled).toMatchObject({ owner: 'alice', id: tablet.id });
  });
  it('rejects a malformed invitation request', async () => {
    const alice = await server.enrollDevice({ owner: 'alice' });
    expect(
      (await alice.call(server.url, 'POST', `${API_PREFIX}/invitations`, { owner: '', name: 'x' }))
        .status,
    ).toBe(400);
    expect(
      (
        await alice.call(server.url, 'POST', `${API_PREFIX}/invitations`, {
          owner: 'a\u0000b',
          name: 'x',
        })
      ).status,
    ).toBe(400);
  });
});

describe('devices and revocation', () => {
  it('lists devices with self, and lets a device revoke itself', async () => {
    const alice = await server.enrollDevice({ owner: 'alice' });
    const list = await alice.call<{ devices: DeviceView[] }>(
      server.url,
      'GET',
      `${API_PREFIX}/devices`,
    );
    const self = list.body.devices.find((d) => d.self)!;
    expect(self).toMatchObject({
      id: alice.id,
      fingerprint: alice.fingerprint,
      revokedAt: null,
      push: false,
    });
    expect(list.body.devices.filter((d) => d.self)).toHaveLength(1);
    const revoked = await alice.call<{ id: string; revokedAt: string }>(
      server.url,
      'POST',
      `${API_PREFIX}/devices/${alice.id}/revoke`,
    );
    expect(revoked.body).toMatchObject({ id: alice.id });
    expect((await alice.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(403);
  });
  it('answers 404 for revoking an unknown device', async () => {
    const alice = await server.enrollDevice({ owner: 'alice' });
    expect(
      (await alice.call(server.url, 'POST', `${API_PREFIX}/devices/nope/revoke`)).body,
    ).toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
  it('drops the revoked device’s subscription and tells the other devices', async () => {
    const watcher = receiver.createPushSubscription();
    const lost = receiver.createPushSubscription();
    const alice = await server.enrollDevice({ owner: 'alice', push: watcher });
    const stolen = await server.enrollDevice({ owner: 'alice', push: lost });
    const res = await fetch(`${server.adminUrl}${API_PREFIX}/admin/devices/${stolen.id}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(res.status).toBe(200);
    const [msg] = await receiver.waitForMessages(1, { endpoint: watcher.endpoint });
    expect(msg!.payload).toMatchObject({
      v: 1,
      kind: 'device-revoked',
      id: stolen.id,
      by: 'admin',
    });
    await server.pushesSettled();
    expect(receiver.attempts.filter((a) => a.endpoint === lost.endpoint)).toEqual([]);
    const devices = (
      await alice.call<{ devices: DeviceView[] }>(server.url, 'GET', `${API_PREFIX}/devices`)
    ).body.devices;
    expect(devices.find((d) => d.id === stolen.id)).toMatchObject({ push: false });
    expect(devices.find((d) => d.id === stolen.id)!.revokedAt).not.toBeNull();
    const keys = (await (
      await server.pluginFetch(
        (await server.addInstance('keys')).token,
        'GET',
        `${API_PREFIX}/keys`,
      )
    ).json()) as { keys: Array<{ kid: string }> };
    expect(keys.keys.map((k) => k.kid)).toContain(alice.id);
    expect(keys.keys.map((k) => k.kid)).not.toContain(stolen.id);
  });
  it('sets and clears the push subscription of the calling device', async () => {
    const alice = await server.enrollDevice({ owner: 'alice' });
    const sub = receiver.createPushSubscription();
    expect(
      (await alice.call(server.url, 'PUT', `${API_PREFIX}/devices/self/push`, { push: sub })).body,
    ).toEqual({ ok: true });
    let me = (
      await alice.call<{ devices: DeviceView[] }>(server.url, 'GET', `${API_PREFIX}/devices`)
    ).body.devices.find((d) => d.self)!;
    expect(me.push).toBe(true);
    expect(
      (await alice.call(server.url, 'PUT', `${API_PREFIX}/devices/self/push`, { push: null }))
        .status,
    ).toBe(200);
    me = (
      await alice.call<{ devices: DeviceView[] }>(server.url, 'GET', `${API_PREFIX}/devices`)
    ).body.devices.find((d) => d.self)!;
    expect(me.push).toBe(false);
    expect(
      (await alice.call(server.url, 'PUT', `${API_PREFIX}/devices/self/push`, { nope: 1 })).status,
    ).toBe(400);
  });
});

describe('5.5 rate limit', () => {
  it('answers 429 after 5 bad codes from one address in 10 minutes, then lets it try again', async () => {
    clock.advance(10 * 60_000 + 1000); // earlier tests' bad codes leave the window
    const { device, code } = await fresh();
    const body = await device.enrollBody(server.url, code);
    for (let i = 0; i < 5; i++) {
      expect((await post({ ...body, code: `wrong-${i}` })).body).toMatchObject({
        code: 'ERR_INVITATION_INVALID',
      });
    }
    expect(await post(body)).toMatchObject({ status: 429, body: { code: 'ERR_RATE_LIMITED' } });
    clock.advance(10 * 60_000 + 1000);
    const { device: later, code: laterCode } = await fresh();
    expect((await post(await later.enrollBody(server.url, laterCode))).status).toBe(201);
  });

  it('says in Retry-After when the address may try again, and lets it in then (not before)', async () => {
    clock.advance(10 * 60_000 + 1000);
    const { device, code } = await fresh();
    const body = await device.enrollBody(server.url, code);
    // Five bad codes a minute apart: the first leaves the 10-minute window 6 minutes after the last.
    for (let i = 0; i < 5; i++) {
      if (i > 0) clock.advance(60_000);
      expect((await post({ ...body, code: `late-${i}` })).status).toBe(403);
    }
    const limited = await fetch(`${server.url}${API_PREFIX}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(limited.status).toBe(429);
    const wait = Number(limited.headers.get('retry-after'));
    expect(wait).toBe(6 * 60);
    clock.advance(wait * 1000 - 1000);
    expect((await post(body)).status).toBe(429);
    clock.advance(1000);
    const { device: later, code: laterCode } = await fresh();
    expect((await post(await later.enrollBody(server.url, laterCode))).status).toBe(201);
  });
});
