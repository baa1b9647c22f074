/** The plugin-facing API of DESIGN 5.7: blobs, proposals, the event stream, outcomes, keys and drift. */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  revOf,
  snapshotBytes,
  type DeploymentSummary,
  type Flows,
} from '../../protocol/index.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../helpers/server.js';
import { overwriteBlob } from '../helpers/stored.js';
import type { TestDevice } from '../helpers/device.js';

const clock = new TestClock(Date.UTC(2026, 10, 27, 12, 0, 0));
let server: TestServer;
let alice: TestDevice;
let base: Flows;
let target: Flows;
let n = 0;

type Event = DeploymentSummary & {
  base: string;
  target: string;
  approvals: Array<{ device: string; jws?: string }>;
};

/** Reads SSE `data:` events until `count` arrived (or the heartbeat comment when `untilComment`). */
async function readEvents(
  token: string,
  count: number,
  untilComment = false,
): Promise<{ events: Event[]; comments: string[] }> {
  const controller = new AbortController();
  const res = await fetch(`${server.url}${API_PREFIX}/instance/events`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const parse = (): { events: Event[]; comments: string[] } => ({
    events: text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as Event),
    comments: text.split('\n').filter((l) => l.startsWith(':')),
  });
  while (parse().events.length < count || (untilComment && parse().comments.length === 0)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  controller.abort();
  return parse();
}

async function instance(policy = {}): Promise<string> {
  return (await server.addInstance(`plugin-${++n}`, policy)).token;
}

beforeAll(async () => {
  server = await startTestServer({ clock, heartbeatMs: 50 });
  alice = await server.enrollDevice({ owner: 'alice' });
  base = loadFlows(exampleFiles().find(([x]) => x.startsWith('common__inject__01'))![1]);
  target = base.map((node) => (node.type === 'inject' ? { ...node, repeat: '60' } : node));
});
afterAll(async () => {
  await server?.close();
});

describe('blobs', () => {
  it('stores a snapshot under its rev and serves it back byte for byte', async () => {
    const token = await instance();
    const rev = await server.uploadBlob(token, target);
    const res = await server.pluginFetch(token, 'GET', `${API_PREFIX}/blobs/${rev}`);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(snapshotBytes(target)))).toBe(
      true,
    );
  });
  it('re-hashes what it gets: bytes under another rev are ERR_BLOB_MISMATCH', async () => {
    const token = await instance();
    const wrong = await revOf(base);
    const res = await server.pluginFetch(
      token,
      'PUT',
      `${API_PREFIX}/blobs/${wrong}`,
      snapshotBytes(target),
    );
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'ERR_BLOB_MISMATCH' });
  });
  it('refuses bytes that are not a flows array', async () => {
    const token = await instance();
    const bytes = Buffer.from('{"not":"flows"}');
    const rev = createHash('sha256').update(bytes).digest('hex');
    const res = await server.pluginFetch(token, 'PUT', `${API_PREFIX}/blobs/${rev}`, bytes);
    expect(await res.json()).toMatchObject({ code: 'ERR_FLOWS_INVALID' });
  });
  it('refuses flows outside the canonical shape, naming the node and the rule (DESIGN 5.2)', async () => {
    const token = await instance();
    for (const [node, rule] of [
      [
        '{"id":"n1","type":"function","wires":[["a",["b"]]]}',
        /node "n1" \(function\): wires must be/,
      ],
      ['{"id":"n2","type":"debug","wires":[[7]]}', /wires\[0\]\[0\] is a number/],
      ['{"id":"n3","type":"debug","__proto__":{"x":1}}', /the key "__proto__"/],
      ['{"id":"n4","type":"debug","x":1e400}', /x is not a finite number/],
    ] as const) {
      const bytes = Buffer.from(`[${node}]`);
      const rev = createHash('sha256').update(bytes).digest('hex');
      const res = await server.pluginFetch(token, 'PUT', `${API_PREFIX}/blobs/${rev}`, bytes);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe('ERR_FLOWS_INVALID');
      expect(body.message).toMatch(rule);
      // Nothing of refused bytes is kept, not even a temp file.
      expect((await server.pluginFetch(token, 'GET', `${API_PREFIX}/blobs/${rev}`)).status).toBe(
        404,
      );
      const blobs = join(server.dataDir, 'blobs'); // lowdb's; PostgreSQL keeps them in rows
      const files = existsSync(blobs) ? readdirSync(blobs) : [];
      expect(files.filter((f) => f.includes(rev))).toEqual([]);
    }
  });
  it("does not show one instance's blobs to another", async () => {
    const a = await instance();
    const b = await instance();
    const rev = await server.uploadBlob(a, target.slice(1));
    expect((await server.pluginFetch(b, 'GET', `${API_PREFIX}/blobs/${rev}`)).status).toBe(404);
  });
  it('answers a blob edited on disk with ERR_BLOB_MISMATCH, never the bytes', async () => {
    const token = await instance();
    const rev = await server.uploadBlob(token, target.slice(2));
    await overwriteBlob(server.dataDir, rev, Buffer.from('[]'));
    const res = await alice.call(server.url, 'GET', `${API_PREFIX}/blobs/${rev}`);
    expect(res.body).toMatchObject({ code: 'ERR_BLOB_MISMATCH' });
  });
});

describe('proposals', () => {
  it('needs both blobs: ERR_BLOB_MISSING', async () => {
    const token = await instance();
    const baseRev = await server.uploadBlob(token, base);
    const res = await server.pluginFetch(token, 'POST', `${API_PREFIX}/deployments`, {
      base: baseRev,
      target: 'f'.repeat(64),
      creds: null,
      credentials: {},
      type: 'full',
      source: { user: 'u', via: 'editor' },
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'ERR_BLOB_MISSING' });
  });
  it('answers 201 {id, status, expiresAt, reviewUrl} and lists it in the inbox', async () => {
    const token = await instance({ expiresIn: '2h' });
    const p = await server.propose(token, base, target, {
      source: { user: 'bob', via: 'admin-api', address: '10.1.2.3' },
    });
    expect(p).toEqual({
      id: p.id,
      status: 'pending',
      expiresAt: new Date(clock.now() + 7_200_000).toISOString(),
      reviewUrl: `${server.url}/#/review/${p.id}`,
    });
    const inbox = await alice.call<{ deployments: DeploymentSummary[] }>(
      server.url,
      'GET',
      `${API_PREFIX}/deployments?status=pending`,
    );
    const entry = inbox.body.deployments.find((d) => d.id === p.id)!;
    expect(entry).toMatchObject({
      status: 'pending',
      source: { user: 'bob', via: 'admin-api', address: '10.1.2.3' },
    });
    expect(Object.keys(entry).sort()).toEqual([
      'changeCount',
      'createdAt',
      'expiresAt',
      'id',
      'instance',
      'source',
      'status',
    ]);
  });
  it('keeps credential field names and the digest, never values', async () => {
    const token = await instance();
    const node = target.find((x) => x.type === 'inject')!;
    const p = await server.propose(token, base, target, {
      creds: 'c'.repeat(64),
      credentials: { [node.id]: ['password'] },
    });
    const detail = await alice.deployment(server.url, p.id);
    expect(detail.creds).toBe('c'.repeat(64));
    expect(detail.credentials).toEqual({ [node.id]: ['password'] });
    expect(
      detail.changes.some((c) => c.kind === 'credentials' && c.fields?.includes('password')),
    ).toBe(true);
  });
  it('supersedes the older pending deployment of the instance and tells the plugin', async () => {
    const token = await instance();
    const first = await server.propose(token, base, target);
    const second = await server.propose(token, base, target.slice(1));
    expect((await alice.deployment(server.url, first.id)).status).toBe('superseded');
    expect((await alice.deployment(server.url, second.id)).status).toBe('pending');
  });
  it('refuses a plugin reading another instance’s deployment', async () => {
    const a = await instance();
    const b = await instance();
    const p = await server.propose(a, base, target);
    expect((await server.pluginFetch(b, 'GET', `${API_PREFIX}/deployments/${p.id}`)).status).toBe(
      404,
    );
    expect((await server.pluginFetch(a, 'GET', `${API_PREFIX}/deployments/${p.id}`)).status).toBe(
      200,
    );
  });
});

describe('event stream and outcomes', () => {
  it('sends approved deployments with their JWS, again on reconnect until the outcome is reported', async () => {
    const token = await instance();
    const p = await server.propose(token, base, target);
    expect((await alice.decide(server.url, p.id)).body).toMatchObject({ status: 'approved' });
    const first = await readEvents(token, 1);
    expect(first.events[0]).toMatchObject({
      id: p.id,
      status: 'approved',
      approvals: [{ device: alice.id }],
    });
    expect(first.events[0]!.approvals[0]!.jws).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const again = await readEvents(token, 1);
    expect(again.events[0]!.id).toBe(p.id);

    const bad = await server.pluginFetch(
      token,
      'POST',
      `${API_PREFIX}/deployments/${p.id}/outcome`,
      { status: 'applied', rev: 'a'.repeat(64) },
    );
    expect(bad.status).toBe(400);
    const ok = await server.pluginFetch(
      token,
      'POST',
      `${API_PREFIX}/deployments/${p.id}/outcome`,
      { status: 'applied', rev: first.events[0]!.target },
    );
    expect(await ok.json()).toEqual({ status: 'applied' });
    const twice = await server.pluginFetch(
      token,
      'POST',
      `${API_PREFIX}/deployments/${p.id}/outcome`,
      { status: 'failed', rev: first.events[0]!.target },
    );
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ code: 'ERR_INVALID_TRANSITION' });
    const after = await readEvents(token, 0, true);
    expect(after.events).toEqual([]);
    expect(after.comments.length).toBeGreaterThan(0);
  });
  it('refuses an outcome for a deployment that is still pending', async () => {
    const token = await instance();
    const p = await server.propose(token, base, target);
    const res = await server.pluginFetch(
      token,
      'POST',
      `${API_PREFIX}/deployments/${p.id}/outcome`,
      { status: 'stale', rev: 'a'.repeat(64) },
    );
    expect(res.status).toBe(409);
  });
  it('pushes status changes to a connected plugin', async () => {
    const token = await instance();
    const open = server.ctx.events.size;
    const pending = readEvents(token, 2);
    while (server.ctx.events.size === open) await new Promise((r) => setTimeout(r, 5));
    const p = await server.propose(token, base, target);
    await alice.decide(server.url, p.id, { verdict: 'reject', note: 'not today' });
    const { events } = await pending;
    expect(events.map((e) => [e.id, e.status])).toEqual([
      [p.id, 'pending'],
      [p.id, 'rejected'],
    ]);
  });
});

describe('keys', () => {
  it('publishes a JWKS of unrevoked devices with kid = device id and no private parts', async () => {
    const token = await instance();
    const { keys } = (await (
      await server.pluginFetch(token, 'GET', `${API_PREFIX}/keys`)
    ).json()) as { keys: Array<Record<string, unknown>> };
    const mine = keys.find((k) => k.kid === alice.id)!;
    expect(mine).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      x: alice.key.publicJwk.x,
      y: alice.key.publicJwk.y,
    });
    expect(keys.every((k) => k.d === undefined)).toBe(true);
  });
});
