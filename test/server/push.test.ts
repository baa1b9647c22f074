/** Web Push (DESIGN 5.6) through the real web-push sender to a local receiver that checks VAPID and decrypts. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_PREFIX, type DeviceView, type Flows } from '../../protocol/index.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { TestClock, startTestServer, withTestServer, type TestServer } from '../helpers/server.js';
import type { PushSender } from '../../server/index.js';

let receiver: PushReceiver;
let base: Flows;
let target: Flows;

beforeAll(async () => {
  receiver = await startPushReceiver();
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1]);
  target = base.map((n) => (n.type === 'http in' ? { ...n, url: '/secret-path-xyz' } : n));
});
afterAll(async () => {
  await receiver?.close();
});

async function devicePush(
  server: TestServer,
  deviceId: string,
  viewer: Awaited<ReturnType<TestServer['enrollDevice']>>,
): Promise<boolean> {
  const list = await viewer.call<{ devices: DeviceView[] }>(
    server.url,
    'GET',
    `${API_PREFIX}/devices`,
  );
  return list.body.devices.find((d) => d.id === deviceId)!.push;
}

describe('5.6 push messages', () => {
  it('sends a VAPID-signed, aes128gcm-encrypted payload of at most 1 KiB with no flow content', async () => {
    const clock = new TestClock();
    await withTestServer(
      { clock, policy: { expiresIn: '1h' }, name: 'Plant approvals' },
      async (server) => {
        const sub = receiver.createPushSubscription();
        await server.enrollDevice({ owner: 'alice', push: sub });
        const { token, id: instanceId } = await server.addInstance('line-7');
        const { id } = await server.propose(token, base, target, {
          source: { user: 'bob', via: 'admin-api' },
        });
        const [msg] = await receiver.waitForMessages(1, { endpoint: sub.endpoint });
        expect(receiver.errors).toEqual([]);
        expect(msg!.payload).toEqual({
          v: 1,
          kind: 'deployment',
          id,
          instance: 'line-7',
          changes: expect.any(Number) as number,
          by: 'bob',
          expiresAt: new Date(clock.now() + 3_600_000).toISOString(),
        });
        expect(Buffer.byteLength(msg!.text)).toBeLessThanOrEqual(1024);
        expect(msg!.text).not.toContain('secret-path-xyz');
        expect(msg!.ttl).toBe(3600);
        expect(msg!.urgency).toBe('high');
        expect(msg!.topic).toBe(instanceId);
        expect(msg!.topic!.length).toBeLessThanOrEqual(32);
        expect(msg!.vapid.aud).toBe(receiver.origin);
      },
    );
  });

  it('caps TTL at 24 hours for longer expiries', async () => {
    await withTestServer({ policy: { expiresIn: '7d' } }, async (server) => {
      const sub = receiver.createPushSubscription();
      await server.enrollDevice({ push: sub });
      const { token } = await server.addInstance('long');
      await server.propose(token, base, target);
      const [msg] = await receiver.waitForMessages(1, { endpoint: sub.endpoint });
      expect(msg!.ttl).toBe(86_400);
    });
  });

  it('tells every device when a deployment is decided, and on drift', async () => {
    await withTestServer({}, async (server) => {
      const a = receiver.createPushSubscription();
      const b = receiver.createPushSubscription();
      const alice = await server.enrollDevice({ owner: 'alice', push: a });
      await server.enrollDevice({ owner: 'bob', push: b });
      const { token } = await server.addInstance('line-2');
      const { id } = await server.propose(token, base, target);
      await receiver.waitForMessages(1, { endpoint: b.endpoint });
      expect((await alice.decide(server.url, id)).status).toBe(200);
      const decided = await receiver.waitForMessages(2, { endpoint: b.endpoint });
      expect(decided[1]!.payload).toMatchObject({ kind: 'decided', id, by: alice.fingerprint });
      const rev = 'e'.repeat(64);
      const drift = await server.pluginFetch(token, 'POST', `${API_PREFIX}/instance/drift`, {
        rev,
        message: 'flows.json changed on disk',
      });
      expect(drift.status).toBe(202);
      const all = await receiver.waitForMessages(3, { endpoint: a.endpoint });
      expect(all[2]!.payload).toMatchObject({ kind: 'drift', id: rev, instance: 'line-2' });
    });
  });
});

describe('5.6 delivery failures', () => {
  it('drops a subscription the push service answers 410 for, keeping the device', async () => {
    await withTestServer({}, async (server) => {
      const gone = receiver.createPushSubscription();
      const device = await server.enrollDevice({ push: gone });
      receiver.respondWith([410], gone.endpoint);
      const { token } = await server.addInstance('p410');
      await server.propose(token, base, target);
      await receiver.waitForAttempts(1, { endpoint: gone.endpoint });
      await server.pushesSettled();
      expect(await devicePush(server, device.id, device)).toBe(false);
      await server.propose(token, base, target.slice(1));
      await server.pushesSettled();
      expect(receiver.attempts.filter((a) => a.endpoint === gone.endpoint)).toHaveLength(1);
      expect((await device.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(200);
    });
  });

  it('drops a subscription on 404 as well', async () => {
    await withTestServer({}, async (server) => {
      const gone = receiver.createPushSubscription();
      const device = await server.enrollDevice({ push: gone });
      receiver.respondWith([404], gone.endpoint);
      const { token } = await server.addInstance('p404');
      await server.propose(token, base, target);
      await receiver.waitForAttempts(1, { endpoint: gone.endpoint });
      await server.pushesSettled();
      expect(await devicePush(server, device.id, device)).toBe(false);
    });
  });

  it('retries 429, 5xx and dropped connections with backoff, then delivers', async () => {
    await withTestServer({}, async (server) => {
      const flaky = receiver.createPushSubscription();
      const device = await server.enrollDevice({ push: flaky });
      receiver.respondWith([429, 503, 0], flaky.endpoint);
      const { token } = await server.addInstance('retry');
      await server.propose(token, base, target);
      const attempts = await receiver.waitForAttempts(4, { endpoint: flaky.endpoint });
      expect(attempts.map((a) => a.status)).toEqual([429, 503, 0, 201]);
      await server.pushesSettled();
      expect(await devicePush(server, device.id, device)).toBe(true);
    });
  });

  it('gives up after 3 retries and keeps the subscription', async () => {
    await withTestServer({}, async (server) => {
      const down = receiver.createPushSubscription();
      const device = await server.enrollDevice({ push: down });
      receiver.respondWith([500, 500, 500, 500, 500], down.endpoint);
      const { token } = await server.addInstance('down');
      await server.propose(token, base, target);
      await receiver.waitForAttempts(4, { endpoint: down.endpoint });
      await server.pushesSettled();
      expect(receiver.attempts.filter((a) => a.endpoint === down.endpoint)).toHaveLength(4);
      expect(await devicePush(server, device.id, device)).toBe(true);
      receiver.respondWith([], down.endpoint);
    });
  });

  it('never blocks the proposal on a push service that does not answer', async () => {
    let calls = 0;
    const hanging: PushSender = {
      send: () => {
        calls++;
        return new Promise(() => {});
      },
    };
    const server = await startTestServer({ push: hanging });
    try {
      await server.enrollDevice({ push: receiver.createPushSubscription() });
      const { token } = await server.addInstance('hang');
      const proposal = await server.propose(token, base, target);
      expect(proposal.status).toBe('pending');
      // Answered while the push hangs (it starts right after the answer, after a store read).
      await vi.waitFor(() => expect(calls).toBe(1), { timeout: 10_000 });
    } finally {
      // The hanging delivery never settles; close gives it a bounded wait.
      await server.close();
    }
  });

  it('sends the newest held-back push once the rate window has passed', async () => {
    await withTestServer(
      { notifier: { perDevice: { max: 1, windowMs: 1500 } } },
      async (server) => {
        const sub = receiver.createPushSubscription();
        await server.enrollDevice({ push: sub });
        const { token } = await server.addInstance('window');
        const ids: string[] = [];
        for (let i = 0; i < 3; i++)
          ids.push((await server.propose(token, base, target.slice(0, target.length - i))).id);
        const delivered = await receiver.waitForMessages(2, { endpoint: sub.endpoint });
        expect(delivered.map((m) => (m.payload as { id: string }).id)).toEqual([ids[0], ids[2]]);
      },
    );
  });

  it('limits pushes per device (T7): over the limit only the newest waits for the window', async () => {
    await withTestServer(
      { notifier: { perDevice: { max: 2, windowMs: 60_000 } } },
      async (server) => {
        const sub = receiver.createPushSubscription();
        await server.enrollDevice({ push: sub });
        const { token } = await server.addInstance('flood');
        for (let i = 0; i < 5; i++)
          await server.propose(token, base, target.slice(0, target.length - i));
        await server.pushesSettled();
        expect(receiver.attempts.filter((a) => a.endpoint === sub.endpoint)).toHaveLength(2);
      },
    );
  });
});
