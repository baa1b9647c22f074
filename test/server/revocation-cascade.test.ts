/**
 * Revocation reaches the devices a stolen phone invited (DESIGN 5.5): they are suspended — refused
 * like a revoked device, and told why — until another active device or the command line confirms
 * them. The attack of the issue: phone A invites B; A is revoked; B must not stay active with its
 * approvals counting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, type DeviceView, type Flows } from '../../protocol/index.js';
import { TestDevice } from '../helpers/device.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let receiver: PushReceiver;
let base: Flows;
let target: Flows;

beforeAll(async () => {
  receiver = await startPushReceiver();
  server = await startTestServer();
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1]);
  target = base.map((n) => (n.type === 'http in' ? { ...n, url: '/cascade' } : n));
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

/** A device `inviter` invites for its own owner, and the new device enrols (with push). */
async function invitedBy(inviter: TestDevice, name: string): Promise<TestDevice> {
  const answer = await inviter.invite(server.url, {
    owner: inviter.owner,
    name,
  });
  expect(answer.status).toBe(201);
  const device = await TestDevice.create({ owner: inviter.owner, name });
  await device.enroll(server.url, answer.body.code, receiver.createPushSubscription());
  return device;
}

async function admin(method: string, path: string): Promise<Response> {
  return fetch(`${server.adminUrl}${API_PREFIX}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
}

function keyIds(): Promise<string[]> {
  return server
    .addInstance('keys-reader')
    .then(({ token }) => server.pluginFetch(token, 'GET', `${API_PREFIX}/keys`))
    .then(async (res) =>
      ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid),
    );
}

describe('revoking a device that invited others (5.5)', () => {
  it('suspends the devices it invited, and theirs; they are refused and told why', async () => {
    const stolen = await server.enrollDevice({ owner: 'erin' });
    const second = await invitedBy(stolen, "Erin's tablet");
    const third = await invitedBy(second, "Erin's laptop");
    const bystander = await server.enrollDevice({ owner: 'frank' });

    const revoked = await bystander.call<{ id: string; suspended: string[] }>(
      server.url,
      'POST',
      `${API_PREFIX}/devices/${stolen.id}/revoke`,
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body.suspended.sort()).toEqual([second.id, third.id].sort());

    for (const device of [second, third]) {
      const answer = await device.call<{ code: string; message: string }>(
        server.url,
        'GET',
        `${API_PREFIX}/devices`,
      );
      expect(answer.status).toBe(403);
      expect(answer.body.code).toBe('ERR_DEVICE_SUSPENDED');
      expect(answer.body.message).toMatch(/invited it was revoked/);
    }
    expect(await keyIds()).not.toContain(second.id);
    expect(await keyIds()).not.toContain(third.id);
    const list = await bystander.call<{ devices: DeviceView[] }>(
      server.url,
      'GET',
      `${API_PREFIX}/devices`,
    );
    const row = list.body.devices.find((d) => d.id === second.id)!;
    expect(row).toMatchObject({ revokedAt: null, suspendedAt: expect.any(String) });
  });

  it("no longer counts a suspended device's earlier approval, and refuses its new ones", async () => {
    const { token } = await server.addInstance('cascade-quorum', { requiredApprovals: 2 });
    const stolen = await server.enrollDevice({ owner: 'gina' });
    const tablet = await invitedBy(stolen, "Gina's tablet");
    const colleague = await server.enrollDevice({ owner: 'hank' });
    const { id } = await server.propose(token, base, target);
    expect((await tablet.decide(server.url, id)).body).toMatchObject({ status: 'pending' });

    await admin('POST', `/devices/${stolen.id}/revoke`);
    // The tablet's approval no longer counts: one more approval does not meet a quorum of two.
    expect((await colleague.decide(server.url, id)).body).toMatchObject({ status: 'pending' });

    const { id: next } = await server.propose(token, base, target);
    const jws = await tablet.signApproval(
      await colleague.approvalClaims(server.url, next, {
        overrides: { iss: tablet.id },
      }),
    );
    // Its own request is refused at the proof; its signature, relayed by another device, at row 3.
    const own = await tablet.postDecision(server.url, next, jws);
    expect(own.status).toBe(403);
    expect(own.body).toMatchObject({ code: 'ERR_DEVICE_SUSPENDED' });
    const relayed = await colleague.postDecision(server.url, next, jws);
    expect(relayed.status).toBe(403);
    expect(relayed.body).toMatchObject({ code: 'ERR_DEVICE_SUSPENDED' });
  });

  it('sends no push to a suspended device, and kills the invitations it made', async () => {
    const stolen = await server.enrollDevice({ owner: 'ivy' });
    const tablet = await invitedBy(stolen, "Ivy's tablet");
    const pending = await tablet.invite(server.url, {
      owner: 'ivy',
      name: 'spare',
    });
    expect(pending.status).toBe(201);
    await admin('POST', `/devices/${stolen.id}/revoke`);

    const spare = await TestDevice.create({ owner: 'ivy' });
    await expect(spare.enroll(server.url, pending.body.code)).rejects.toThrow(
      /ERR_INVITATION_INVALID/,
    );

    const endpoint = (await server.ctx.store.device(tablet.id))!.push!.endpoint;
    const before = receiver.attempts.filter((a) => a.endpoint === endpoint).length;
    const { token } = await server.addInstance('cascade-push');
    await server.propose(token, base, target);
    await server.pushesSettled();
    expect(receiver.attempts.filter((a) => a.endpoint === endpoint)).toHaveLength(before);
  });
});

describe('confirming a suspended device (5.5)', () => {
  it('is done by another active device, never by the suspended one itself', async () => {
    const stolen = await server.enrollDevice({ owner: 'jo' });
    const tablet = await invitedBy(stolen, "Jo's tablet");
    const helper = await server.enrollDevice({ owner: 'kim' });
    await admin('POST', `/devices/${stolen.id}/revoke`);

    const self = await tablet.call(
      server.url,
      'POST',
      `${API_PREFIX}/devices/${tablet.id}/confirm`,
    );
    expect(self.status).toBe(403);
    const confirmed = await helper.call<DeviceView>(
      server.url,
      'POST',
      `${API_PREFIX}/devices/${tablet.id}/confirm`,
    );
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: tablet.id, suspendedAt: null, revokedAt: null });
    expect((await tablet.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(200);
    expect(await keyIds()).toContain(tablet.id);
    const audit = await server.ctx.store.audit({ before: Number.MAX_SAFE_INTEGER, limit: 20 });
    expect(audit.find((e) => e.type === 'device-confirmed')?.data).toEqual({
      device: tablet.id,
      by: helper.id,
    });
  });

  it('is done by the command line (admin API), and a revoked device cannot be confirmed', async () => {
    const stolen = await server.enrollDevice({ owner: 'lee' });
    const tablet = await invitedBy(stolen, "Lee's tablet");
    await admin('POST', `/devices/${stolen.id}/revoke`);
    expect((await admin('POST', `/devices/${stolen.id}/confirm`)).status).toBe(403);
    const res = await admin('POST', `/devices/${tablet.id}/confirm`);
    expect(res.status).toBe(200);
    expect((await tablet.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(200);
  });
});
