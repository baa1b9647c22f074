/**
 * Push endpoints cannot turn the server against its own network (DESIGN 5.6): https only, public
 * unicast addresses only, checked at registration and again on the address connected to at every
 * send. The attacks of the issue: a device registering the Node-RED editor's own `http in` URL, a
 * cloud metadata address, a private address, and a host name that resolves inward after it was
 * registered.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, type Flows, type PushSubscriptionJson } from '../../protocol/index.js';
import { isPublicAddress } from '../../server/push/endpoint-policy.js';
import type { Log } from '../../server/index.js';
import { TestDevice } from '../helpers/device.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { withTestServer } from '../helpers/server.js';

let receiver: PushReceiver;
let base: Flows;
let target: Flows;
/** Stands in for the Node-RED editor on this host: an `http in` endpoint that counts its calls. */
let editor: http.Server;
let editorHits = 0;
/** A plain TCP listener on this host: counts connections a push send would make to it. */
let inner: net.Server;
let innerConnections = 0;

beforeAll(async () => {
  receiver = await startPushReceiver();
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1]);
  target = base.map((n) => (n.type === 'http in' ? { ...n, url: '/renamed' } : n));
  editor = http.createServer((req, res) => {
    editorHits++;
    req.resume();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => editor.listen(0, '127.0.0.1', r));
  inner = net.createServer((socket) => {
    innerConnections++;
    socket.destroy();
  });
  await new Promise<void>((r) => inner.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await receiver?.close();
  await new Promise((r) => editor?.close(r));
  await new Promise((r) => inner?.close(r));
});

function subscription(endpoint: string): PushSubscriptionJson {
  return { ...receiver.createPushSubscription(), endpoint };
}

function capture(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
  };
}

describe('push endpoints at registration (5.6)', () => {
  it("refuses the editor's own http endpoint at enrolment, so a held deployment never posts to it", async () => {
    const editorUrl = `http://127.0.0.1:${(editor.address() as AddressInfo).port}/hook`;
    await withTestServer({ testPushOrigin: null }, async (server) => {
      const { code } = await server.invite({ owner: 'mallory', name: 'phone' });
      const mallory = await TestDevice.create({ owner: 'mallory' });
      const res = await fetch(`${server.url}${API_PREFIX}/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(await mallory.enrollBody(server.url, code, subscription(editorUrl))),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string; message: string }).message).toMatch(/https/);
      // Nothing was registered, and a deployment sends nothing to the editor.
      expect(await server.ctx.store.devices()).toEqual([]);
      const { token } = await server.addInstance('line-1');
      await server.propose(token, base, target);
      await server.pushesSettled();
      expect(editorHits).toBe(0);
    });
  });

  it('refuses https endpoints on loopback, private, link-local, shared, multicast and reserved addresses', async () => {
    await withTestServer({ testPushOrigin: null }, async (server) => {
      const alice = await server.enrollDevice({ owner: 'alice' });
      const refused = [
        'https://169.254.169.254/latest/meta-data/',
        'https://10.0.0.1:8443/x',
        'https://172.16.5.4/x',
        'https://192.168.1.10/x',
        'https://100.64.0.1/x',
        'https://127.0.0.1:8443/x',
        'https://0.0.0.0/x',
        'https://224.0.0.1/x',
        'https://[::1]/x',
        'https://[::ffff:127.0.0.1]/x',
        'https://[::ffff:a9fe:a9fe]/x',
        'https://[fe80::1]/x',
        'https://[fd00::1]/x',
        'https://localhost/x',
        `http://127.0.0.1:${(editor.address() as AddressInfo).port}/x`,
      ];
      for (const endpoint of refused) {
        const answer = await alice.call<{ code: string }>(
          server.url,
          'PUT',
          `${API_PREFIX}/devices/self/push`,
          { push: subscription(endpoint) },
        );
        expect([endpoint, answer.status, answer.body.code]).toEqual([
          endpoint,
          400,
          'ERR_BAD_REQUEST',
        ]);
      }
      expect((await server.ctx.store.device(alice.id))?.push).toBeNull();
    });
  });

  it('refuses a host name that resolves to an inner address, and one that does not resolve', async () => {
    const names: Record<string, string[]> = {
      'push.inner.test': ['93.184.216.34', '10.1.2.3'],
      'push.public.test': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    };
    const resolver = async (host: string) => {
      const list = names[host];
      if (!list) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return list.map((address) => ({ address, family: net.isIP(address) }));
    };
    await withTestServer({ testPushOrigin: null, pushResolver: resolver }, async (server) => {
      const alice = await server.enrollDevice({ owner: 'alice' });
      const put = (endpoint: string) =>
        alice.call<{ code: string; message: string }>(
          server.url,
          'PUT',
          `${API_PREFIX}/devices/self/push`,
          { push: subscription(endpoint) },
        );
      const innerAnswer = await put('https://push.inner.test/x');
      expect(innerAnswer.status).toBe(400);
      expect(innerAnswer.body.message).toContain('10.1.2.3');
      expect((await put('https://push.nowhere.test/x')).status).toBe(400);
      expect((await put('https://push.public.test/x')).status).toBe(200);
      expect((await server.ctx.store.device(alice.id))?.push?.endpoint).toBe(
        'https://push.public.test/x',
      );
    });
  });

  it('exempts exactly the one test origin, and says so at start', async () => {
    const log = capture();
    await withTestServer({ testPushOrigin: receiver.origin, log }, async (server) => {
      expect(log.lines.some((l) => l.includes('COUNTERSIGN_TEST_PUSH_ORIGIN'))).toBe(true);
      const alice = await server.enrollDevice({ owner: 'alice' });
      const ok = await alice.call(server.url, 'PUT', `${API_PREFIX}/devices/self/push`, {
        push: receiver.createPushSubscription(),
      });
      expect(ok.status).toBe(200);
      const other = `http://127.0.0.1:${(editor.address() as AddressInfo).port}/x`;
      const refused = await alice.call(server.url, 'PUT', `${API_PREFIX}/devices/self/push`, {
        push: subscription(other),
      });
      expect(refused.status).toBe(400);
    });
  });
});

describe('push endpoints at every send (5.6)', () => {
  it('never connects when a registered name resolves inward at send time (DNS rebinding)', async () => {
    const port = (inner.address() as AddressInfo).port;
    let answer = '93.184.216.34';
    const resolver = async () => [{ address: answer, family: 4 }];
    const log = capture();
    await withTestServer({ testPushOrigin: null, pushResolver: resolver, log }, async (server) => {
      const alice = await server.enrollDevice({ owner: 'alice' });
      const endpoint = `https://push.rebind.test:${port}/x`;
      const put = await alice.call(server.url, 'PUT', `${API_PREFIX}/devices/self/push`, {
        push: subscription(endpoint),
      });
      expect(put.status).toBe(200);
      // The name now points at this host, where the listener stands in for any inner service.
      answer = '127.0.0.1';
      const { token } = await server.addInstance('line-1');
      await server.propose(token, base, target);
      await server.pushesSettled();
      expect(innerConnections).toBe(0);
      expect(log.lines.some((l) => /not a public address/.test(l))).toBe(true);
      // Refused, not retried, and not dropped: nothing a device can probe with.
      expect((await server.ctx.store.device(alice.id))?.push?.endpoint).toBe(endpoint);
    });
  });

  it('does not send to an inner address stored before these rules, nor retry it', async () => {
    const port = (inner.address() as AddressInfo).port;
    const log = capture();
    await withTestServer({ testPushOrigin: null, log }, async (server) => {
      const alice = await server.enrollDevice({ owner: 'alice' });
      // As a store from an older version may hold it: written past the registration check.
      await server.ctx.store.setPush(alice.id, subscription(`https://127.0.0.1:${port}/x`), []);
      const { token } = await server.addInstance('line-1');
      await server.propose(token, base, target);
      await server.pushesSettled();
      expect(innerConnections).toBe(0);
      expect(log.lines.filter((l) => /not a public address/.test(l))).toHaveLength(1);
    });
  });
});

describe('public addresses', () => {
  it('tells public unicast addresses from every other kind', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect([address, isPublicAddress(address)]).toEqual([address, true]);
    }
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.251',
      '192.0.2.1',
      '198.18.0.1',
      '::',
      '::1',
      '::ffff:10.0.0.1',
      'fe80::1',
      'fc00::1',
      'ff02::1',
      '2001:db8::1',
      '2002:a00:1::1',
      '64:ff9b::a00:1',
      'not an address',
    ]) {
      expect([address, isPublicAddress(address)]).toEqual([address, false]);
    }
  });
});
