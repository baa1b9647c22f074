/**
 * DESIGN.md 5.6 and the revocation rules, from an independent client with a real local push
 * receiver: what a push carries (and never carries), its TTL, urgency and topic, who gets it, and
 * what a revoked device can no longer do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import {
  enrolled,
  flows,
  instance,
  startTarget,
  stopTarget,
  type Device,
  type Plugin,
  type Target,
} from './client.js';
import { expectError } from './expect-error.js';

let t: Target;
let receiver: PushReceiver;
let plugin: Plugin;
let alice: Device;
let bob: Device;
let carol: Device;
const subs: Record<string, string> = {};

beforeAll(async () => {
  receiver = await startPushReceiver();
  t = await startTarget({ policy: { expiresIn: '2h' }, notifier: { backoffMs: 5 } });
  plugin = await instance(t, 'line-1');
  for (const owner of ['alice', 'bob', 'carol']) {
    const push = receiver.createPushSubscription();
    subs[owner] = push.endpoint;
    const device = await enrolled(t, { owner, push });
    if (owner === 'alice') alice = device;
    if (owner === 'bob') bob = device;
    if (owner === 'carol') carol = device;
  }
});

afterAll(async () => {
  await stopTarget(t);
  await receiver?.close();
});

type Payload = {
  v: number;
  kind: string;
  id: string;
  instance: string;
  changes: number;
  by: string;
  expiresAt: string | null;
};

/** Enrols one more device with a subscription of its own, known as `owner` in `subs`. */
async function listener(owner: string): Promise<Device> {
  const push = receiver.createPushSubscription();
  subs[owner] = push.endpoint;
  return enrolled(t, { owner, push });
}

async function pushesTo(owner: string, kind: string, id: string): Promise<Payload> {
  for (let n = 1; n < 50; n++) {
    const messages = await receiver.waitForMessages(n, { endpoint: subs[owner]! });
    const hit = messages.find((m) => {
      const p = m.payload as Payload;
      return p.kind === kind && p.id === id;
    });
    if (hit) return hit.payload as Payload;
  }
  throw new Error(`no ${kind} push for ${owner}`);
}

describe('deployment pushes (5.6)', () => {
  it('pushes every active device a small payload with no flow content, TTL, high urgency and a topic', async () => {
    const secret = 'SECRET-FLOW-CONTENT';
    const base = flows(`${secret}-base`, 40);
    const target = flows(`${secret}-target`, 40);
    const { id, expiresAt } = await plugin.propose(base, target, { user: 'dora' });
    for (const owner of ['alice', 'bob', 'carol']) {
      const endpoint = subs[owner]!;
      const payload = await pushesTo(owner, 'deployment', id);
      expect(payload).toEqual({
        v: 1,
        kind: 'deployment',
        id,
        instance: 'line-1',
        changes: expect.any(Number),
        by: 'dora',
        expiresAt,
      });
      const message = receiver.messages.find(
        (m) => m.endpoint === endpoint && (m.payload as Payload).id === id,
      )!;
      expect(new TextEncoder().encode(message.text).length).toBeLessThanOrEqual(1024);
      expect(message.text).not.toContain(secret);
      expect(message.text).not.toContain('inject');
      expect(message.urgency).toBe('high');
      expect(message.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
      const secondsLeft = (Date.parse(expiresAt) - Date.now()) / 1000;
      expect(message.ttl).toBeGreaterThan(secondsLeft - 60);
      expect(message.ttl).toBeLessThanOrEqual(Math.min(86_400, secondsLeft + 1));
    }
    expect(receiver.errors).toEqual([]);
  });

  it('gives a newer deployment of the same instance the same topic', async () => {
    const first = await plugin.propose(flows('a1'), flows('a2'));
    const second = await plugin.propose(flows('b1'), flows('b2'));
    await pushesTo('alice', 'deployment', first.id);
    await pushesTo('alice', 'deployment', second.id);
    const topicOf = (id: string) =>
      receiver.messages.find((m) => m.endpoint === subs.alice && (m.payload as Payload).id === id)!
        .topic;
    expect(topicOf(first.id)).toBe(topicOf(second.id));
  });
});

describe('decided pushes (5.6)', () => {
  it('tells the other devices when a deployment is decided, without flow content', async () => {
    const { id } = await plugin.propose(flows('SECRET-d1'), flows('SECRET-d2'));
    expect((await alice.review(t, id)).reply.body.status).toBe('approved');
    const payload = await pushesTo('bob', 'decided', id);
    expect(payload).toMatchObject({ v: 1, kind: 'decided', id, instance: 'line-1' });
    const message = receiver.messages.find(
      (m) => m.endpoint === subs.bob && (m.payload as Payload).kind === 'decided',
    )!;
    expect(message.text).not.toContain('SECRET');
    expect(new TextEncoder().encode(message.text).length).toBeLessThanOrEqual(1024);
  });
});

describe('revocation', () => {
  it('tells the other devices, drops the key from the JWKS, and refuses the device from then on', async () => {
    const pending = await plugin.propose(flows('r1'), flows('r2'));
    const detail = (await carol.request(t, 'GET', `/deployments/${pending.id}`)).body;
    const signedBefore = await carol.sign(carol.approvalClaims(t, detail));

    const reply = await alice.request(t, 'POST', `/devices/${carol.id}/revoke`);
    expect(reply.status).toBe(200);

    const payload = await pushesTo('bob', 'device-revoked', carol.id);
    expect(payload).toMatchObject({ v: 1, kind: 'device-revoked', id: carol.id });
    const revokedPush = receiver.messages.find(
      (m) => m.endpoint === subs.bob && (m.payload as Payload).kind === 'device-revoked',
    )!;
    expect(revokedPush.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(new TextEncoder().encode(revokedPush.text).length).toBeLessThanOrEqual(1024);

    const keys = await plugin.request('GET', '/keys');
    expect(keys.body.keys.map((k: { kid: string }) => k.kid)).not.toContain(carol.id);
    expect(keys.body.keys.map((k: { kid: string }) => k.kid)).toContain(alice.id);

    // its proofs are refused
    expectError(
      await carol.request(t, 'GET', '/deployments?status=pending'),
      403,
      'ERR_DEVICE_REVOKED',
    );
    // and an approval it signed before, carried by another device, is refused too
    expectError(await bob.decide(t, pending.id, signedBefore), 403, 'ERR_DEVICE_REVOKED');
    expect((await bob.request(t, 'GET', `/deployments/${pending.id}`)).body.status).toBe('pending');

    // a later deployment is not pushed to the revoked device
    const later = await plugin.propose(flows('r3'), flows('r4'));
    await pushesTo('bob', 'deployment', later.id);
    await pushesTo('alice', 'deployment', later.id);
    expect(
      receiver.messages.some(
        (m) => m.endpoint === subs.carol && (m.payload as Payload).id === later.id,
      ),
    ).toBe(false);
  });

  it('refuses to revoke a device twice and keeps its first revocation time', async () => {
    const list = await alice.request(t, 'GET', '/devices');
    const before = list.body.devices.find((d: { id: string }) => d.id === carol.id).revokedAt;
    const again = await bob.request(t, 'POST', `/devices/${carol.id}/revoke`);
    expect(again.status).toBeGreaterThanOrEqual(200);
    expect(again.status).not.toBe(500);
    const after = (await alice.request(t, 'GET', '/devices')).body.devices.find(
      (d: { id: string }) => d.id === carol.id,
    ).revokedAt;
    expect(after).toBe(before);
  });
});

describe('push service answers (5.6)', () => {
  it('drops a subscription the push service says is gone (410), and keeps the device', async () => {
    const push = receiver.createPushSubscription();
    const gone = await enrolled(t, { owner: 'gina', push });
    receiver.respondWith([410], push.endpoint);
    const { id } = await plugin.propose(flows('g1'), flows('g2'));
    await receiver.waitForAttempts(1, { endpoint: push.endpoint });
    let row: { push: boolean; revokedAt: string | null } | undefined;
    for (let i = 0; i < 50; i++) {
      const list = await gone.request(t, 'GET', '/devices');
      row = list.body.devices.find((d: { id: string }) => d.id === gone.id);
      if (row && !row.push) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(row).toMatchObject({ push: false, revokedAt: null });
    expect((await gone.request(t, 'GET', `/deployments/${id}`)).status).toBe(200);
  });

  it('retries a failing push service at most 3 times', async () => {
    const push = receiver.createPushSubscription();
    await enrolled(t, { owner: 'hal', push });
    receiver.respondWith([500, 503, 429, 500, 500, 500], push.endpoint);
    await plugin.propose(flows('h1'), flows('h2'));
    await receiver.waitForAttempts(4, { endpoint: push.endpoint });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.attempts.filter((a) => a.endpoint === push.endpoint)).toHaveLength(4);
  });
});

describe('push limits (5.6)', () => {
  it('caps the push TTL at 24 h when the deployment lives longer', async () => {
    // a device of its own, so the per-device push rate limit of the others is not touched
    await listener('tara');
    const long = await instance(t, 'long-lived', { expiresIn: '72h' });
    const { id, expiresAt } = await long.propose(flows('l1'), flows('l2'));
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(86_400_000);
    await pushesTo('tara', 'deployment', id);
    const message = receiver.messages.find(
      (m) => m.endpoint === subs.tara && (m.payload as Payload).id === id,
    )!;
    expect(message.ttl).toBeGreaterThan(86_000);
    expect(message.ttl).toBeLessThanOrEqual(86_400);
  });

  it('keeps a push within 1 KiB when the user name and instance are long', async () => {
    await listener('uma');
    const wide = await instance(t, 'ï'.repeat(100));
    const { id } = await wide.propose(flows('w1', 5), flows('w2', 5), { user: '€'.repeat(200) });
    await pushesTo('uma', 'deployment', id);
    const message = receiver.messages.find(
      (m) => m.endpoint === subs.uma && (m.payload as Payload).id === id,
    )!;
    expect(new TextEncoder().encode(message.text).length).toBeLessThanOrEqual(1024);
  });
});

describe('drift (docs/decisions.md)', () => {
  it('pushes a drift report with the rev on disk and never the message', async () => {
    await listener('vic');
    const rev = 'a'.repeat(64);
    const reply = await plugin.request('POST', '/instance/drift', {
      rev,
      message: 'SECRET drift details',
    });
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ ok: true });
    const payload = await pushesTo('vic', 'drift', rev);
    expect(payload).toEqual({
      v: 1,
      kind: 'drift',
      id: rev,
      instance: 'line-1',
      changes: expect.any(Number),
      by: expect.any(String),
      expiresAt: null,
    });
    const message = receiver.messages.find(
      (m) => m.endpoint === subs.vic && (m.payload as Payload).kind === 'drift',
    )!;
    expect(message.text).not.toContain('SECRET');
    expect(message.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
  });

  it('refuses a malformed drift report and one without a token', async () => {
    const bad = await plugin.request('POST', '/instance/drift', { rev: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 'ERR_BAD_REQUEST', message: expect.any(String) });
    const anon = await fetch(`${t.url}/api/v1/instance/drift`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rev: 'a'.repeat(64) }),
    });
    expect(anon.status).toBe(401);
  });
});
