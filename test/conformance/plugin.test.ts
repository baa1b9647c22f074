/**
 * The plugin rows of DESIGN.md 5.7 and the deployment states of 5.8, from an independent client:
 * bearer tokens, blobs (re-hashed on write and read), proposals, superseding, expiry, outcomes,
 * the event stream, the JWKS and the audit log.
 */
import canonicalizeModule from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  decisionMap,
  decisionsDigest,
  enrolled,
  flows,
  instance,
  sha256Hex,
  snapshot,
  startTarget,
  stopTarget,
  API,
  type Device,
  type Plugin,
  type Target,
} from './client.js';
import { overwriteBlob, storedBlob } from '../helpers/stored.js';
import { expectError } from './expect-error.js';

// `canonicalize` is CommonJS whose declaration claims an ES default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;

let offset = 0;
const nowS = (): number => Math.floor(Date.now() / 1000) + offset;
let t: Target;
let line1: Plugin;
let line2: Plugin;
let alice: Device;
let round = 0;

beforeAll(async () => {
  t = await startTarget({
    clock: { now: () => Date.now() + offset * 1000 },
    policy: { expiresIn: '1h' },
  });
  line1 = await instance(t, 'line-1');
  line2 = await instance(t, 'line-2');
  alice = await enrolled(t, { owner: 'alice', now: nowS });
});

afterAll(async () => {
  await stopTarget(t);
});

async function propose(on: Plugin = line1): Promise<{ id: string; base: string; target: string }> {
  round += 1;
  const base = flows(`b${round}`);
  const target = flows(`t${round}`);
  const reply = await on.proposeReply(base, target, { user: 'bob' });
  expect(reply.status).toBe(201);
  return { id: reply.body.id, base: snapshot(base).rev, target: snapshot(target).rev };
}

const status = async (id: string): Promise<string> =>
  (await alice.request(t, 'GET', `/deployments/${id}`)).body.status;

describe('instance tokens', () => {
  it('refuses plugin endpoints without a bearer token or with a wrong one (401)', async () => {
    const { rev } = snapshot(flows('x'));
    for (const headers of [
      {},
      { authorization: 'Bearer nope' },
      { authorization: 'Basic abc' },
    ] as Record<string, string>[]) {
      expectError(await call(`${t.url}${API}/keys`, { headers }), 401);
      expectError(await call(`${t.url}${API}/deployments`, { method: 'POST', headers }), 401);
      expectError(await call(`${t.url}${API}/blobs/${rev}`, { method: 'PUT', headers }), 401);
      expectError(await call(`${t.url}${API}/instance/events`, { headers }), 401);
    }
  });

  it('serves blobs only to a device proof or an instance token', async () => {
    const d = await propose();
    expectError(await call(`${t.url}${API}/blobs/${d.target}`), 401);
    expect((await alice.request(t, 'GET', `/blobs/${d.target}`)).status).toBe(200);
  });

  it('refuses a token that was replaced by a new one', async () => {
    const old = await instance(t, 'rotated');
    const fresh = await instance(t, 'rotated');
    expectError(await old.request('GET', '/keys'), 401);
    expect((await fresh.request('GET', '/keys')).status).toBe(200);
  });

  it('does not let one instance read, or report on, another instance deployment', async () => {
    const d = await propose(line1);
    const read = await line2.request('GET', `/deployments/${d.id}`);
    expect([403, 404]).toContain(read.status);
    expectError(read, read.status);
    const outcome = await line2.request('POST', `/deployments/${d.id}/outcome`, {
      status: 'failed',
      rev: d.target,
    });
    expect([403, 404]).toContain(outcome.status);
    expect(await status(d.id)).toBe('pending');
    const blob = await line2.request('GET', `/blobs/${d.target}`);
    expect([403, 404]).toContain(blob.status);
  });

  it('does not accept a device proof in place of an instance token, nor a token in place of a proof', async () => {
    expectError(await alice.request(t, 'POST', '/deployments', {}), 401);
    expectError(await line1.request('GET', '/devices'), 401);
    expectError(await line1.request('GET', '/audit?after=0'), 401);
  });
});

describe('blobs', () => {
  it('stores a snapshot under its rev and serves the same bytes back', async () => {
    const { bytes, rev } = snapshot(flows('blob'));
    const put = await line1.request('PUT', `/blobs/${rev}`, bytes);
    expect(put.status).toBe(201);
    const get = await line1.request('GET', `/blobs/${rev}`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toMatch(/^application\/json/);
    expect(sha256Hex(get.text)).toBe(rev);
  });

  it('takes the snapshot bytes as application/octet-stream or with no content type too', async () => {
    for (const [variant, type] of [
      ['octet', 'application/octet-stream'],
      ['untyped', null],
    ] as const) {
      const { bytes, rev } = snapshot(flows(variant));
      const res = await fetch(`${t.url}${API}/blobs/${rev}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${line1.token}`,
          ...(type ? { 'content-type': type } : {}),
        },
        body: bytes as BodyInit,
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ rev });
      expect(sha256Hex((await line1.request('GET', `/blobs/${rev}`)).text)).toBe(rev);
    }
  });

  it('refuses bytes that do not hash to the rev (ERR_BLOB_MISMATCH)', async () => {
    const { bytes } = snapshot(flows('one'));
    const { rev } = snapshot(flows('two'));
    expectError(await line1.request('PUT', `/blobs/${rev}`, bytes), 422, 'ERR_BLOB_MISMATCH');
    expectError(await line1.request('GET', `/blobs/${rev}`), 404, 'ERR_NOT_FOUND');
  });

  it('refuses a rev that is not a SHA-256 and bytes that are not flows', async () => {
    const { bytes } = snapshot(flows('one'));
    const bad = await line1.request('PUT', '/blobs/not-a-rev', bytes);
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expectError(bad, bad.status);
    const notFlows = new TextEncoder().encode('{"a":1}');
    const reply = await line1.request('PUT', `/blobs/${sha256Hex(notFlows)}`, notFlows);
    expectError(reply, 400);
  });

  it('re-hashes a stored blob on read: one changed on disk is ERR_BLOB_MISMATCH, never the bytes', async () => {
    const d = await propose();
    const original = await storedBlob(t.dataDir, d.target);
    expect(original).not.toBeNull();
    await overwriteBlob(
      t.dataDir,
      d.target,
      Buffer.from(original!.toString().replace('t' + round, 'tampered')),
    );
    try {
      const byDevice = await alice.request(t, 'GET', `/blobs/${d.target}`);
      expectError(byDevice, 422, 'ERR_BLOB_MISMATCH');
      expect(byDevice.text).not.toContain('tampered');
      expectError(await line1.request('GET', `/blobs/${d.target}`), 422, 'ERR_BLOB_MISMATCH');
    } finally {
      await overwriteBlob(t.dataDir, d.target, original!);
    }
    expect((await alice.request(t, 'GET', `/blobs/${d.target}`)).status).toBe(200);
  });

  it('answers 404 for an unknown rev', async () => {
    const rev = 'f'.repeat(64);
    expectError(await alice.request(t, 'GET', `/blobs/${rev}`), 404, 'ERR_NOT_FOUND');
    expectError(await line1.request('GET', `/blobs/${rev}`), 404, 'ERR_NOT_FOUND');
  });
});

describe('proposals and the 5.8 states', () => {
  it('answers 201 {id, status, expiresAt, reviewUrl} and shows the summary and detail', async () => {
    round += 1;
    const reply = await line1.proposeReply(flows(`b${round}`), flows(`t${round}`), {
      user: 'bob',
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      id: expect.any(String),
      status: 'pending',
      expiresAt: expect.any(String),
      reviewUrl: expect.stringContaining(reply.body.id),
    });
    const list = await alice.request(t, 'GET', '/deployments?status=pending');
    expect(list.status).toBe(200);
    const summary = list.body.deployments.find((s: { id: string }) => s.id === reply.body.id);
    expect(Object.keys(summary).sort()).toEqual(
      ['changeCount', 'createdAt', 'expiresAt', 'id', 'instance', 'source', 'status'].sort(),
    );
    expect(summary).toMatchObject({
      instance: 'line-1',
      status: 'pending',
      source: { user: 'bob' },
    });
    const detail = await alice.request(t, 'GET', `/deployments/${reply.body.id}`);
    expect(detail.body).toMatchObject({
      ...summary,
      base: snapshot(flows(`b${round}`)).rev,
      target: snapshot(flows(`t${round}`)).rev,
      creds: null,
      credentials: {},
      type: 'full',
      approvals: [],
    });
    expect(detail.body.changes).toHaveLength(summary.changeCount);
    expect(Object.keys(detail.body).sort()).toEqual(
      [
        ...Object.keys(summary),
        'base',
        'target',
        'creds',
        'credentials',
        'type',
        'changes',
        'approvals',
      ].sort(),
    );
    for (const change of detail.body.changes) {
      expect(change.id).toMatch(/^(flow|subflow|node|config|wiring|layout|credentials):.+$/);
      expect(change.id.startsWith(`${change.kind}:`)).toBe(true);
      expect(['added', 'removed', 'changed']).toContain(change.op);
      expect(['high', 'medium', 'low']).toContain(change.risk);
    }
    expect(new Set(detail.body.changes.map((c: { id: string }) => c.id)).size).toBe(
      summary.changeCount,
    );
  });

  it('refuses a proposal naming a blob the instance never uploaded (ERR_BLOB_MISSING)', async () => {
    const mine = await line1.upload(flows('only-line-1'));
    const body = {
      base: mine,
      target: mine,
      creds: null,
      credentials: {},
      type: 'full',
      source: { user: 'x', via: 'editor' },
    };
    expectError(await line2.request('POST', '/deployments', body), 422, 'ERR_BLOB_MISSING');
    const unknown = { ...body, target: 'e'.repeat(64) };
    expectError(await line1.request('POST', '/deployments', unknown), 422, 'ERR_BLOB_MISSING');
  });

  it('refuses a malformed proposal with 400', async () => {
    const rev = await line1.upload(flows('m'));
    const good = {
      base: rev,
      target: rev,
      creds: null,
      credentials: {},
      type: 'full',
      source: { user: 'x', via: 'editor' },
    };
    for (const bad of [
      { ...good, base: 'abc' },
      { ...good, type: 'everything' },
      { ...good, source: 'me' },
      { ...good, creds: 5 },
      { ...good, credentials: { n1: 'password' } },
      // T8: a credentials digest exactly when field names are listed
      { ...good, creds: 'c'.repeat(64) },
      { ...good, credentials: { n1: ['password'] } },
    ]) {
      expectError(await line1.request('POST', '/deployments', bad), 400);
    }
  });

  it('supersedes the older pending deployment of the same instance only', async () => {
    const other = await propose(line2);
    const older = await propose(line1);
    const newer = await propose(line1);
    expect(await status(older.id)).toBe('superseded');
    expect(await status(newer.id)).toBe('pending');
    expect(await status(other.id)).toBe('pending');
    const list = await alice.request(t, 'GET', '/deployments?status=pending');
    const ids = list.body.deployments.map((s: { id: string }) => s.id);
    expect(ids).toContain(newer.id);
    expect(ids).not.toContain(older.id);
  });

  it('takes an outcome only after approval, and only once', async () => {
    const d = await propose();
    const applied = { status: 'applied', rev: d.target };
    expectError(
      await line1.request('POST', `/deployments/${d.id}/outcome`, applied),
      409,
      'ERR_INVALID_TRANSITION',
    );
    expect((await alice.review(t, d.id)).reply.body.status).toBe('approved');
    expectError(
      await line1.request('POST', `/deployments/${d.id}/outcome`, {
        status: 'applied',
        rev: d.base,
      }),
      400,
    );
    expectError(
      await line1.request('POST', `/deployments/${d.id}/outcome`, {
        status: 'approved',
        rev: d.target,
      }),
      400,
    );
    const ok = await line1.request('POST', `/deployments/${d.id}/outcome`, applied);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ status: 'applied' });
    for (const next of ['applied', 'stale', 'failed']) {
      expectError(
        await line1.request('POST', `/deployments/${d.id}/outcome`, {
          status: next,
          rev: d.target,
        }),
        409,
        'ERR_INVALID_TRANSITION',
      );
    }
    expect(await status(d.id)).toBe('applied');
  });

  it('reports stale and failed from approved', async () => {
    for (const outcome of ['stale', 'failed']) {
      const d = await propose();
      await alice.review(t, d.id);
      const reply = await line1.request('POST', `/deployments/${d.id}/outcome`, {
        status: outcome,
        rev: d.base,
        message: 'base moved',
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ status: outcome });
    }
  });

  it('takes no decision or outcome on rejected, superseded or approved deployments', async () => {
    const rejected = await propose();
    expect((await alice.review(t, rejected.id, 'reject')).reply.body.status).toBe('rejected');
    const approved = await propose();
    expect((await alice.review(t, approved.id)).reply.body.status).toBe('approved');
    const superseded = await propose();
    await propose();
    expect(await status(superseded.id)).toBe('superseded');
    for (const d of [rejected, approved, superseded]) {
      expectError((await alice.review(t, d.id, 'reject')).reply, 409, 'ERR_DEPLOYMENT_NOT_PENDING');
    }
    for (const d of [rejected, superseded]) {
      expectError(
        await line1.request('POST', `/deployments/${d.id}/outcome`, {
          status: 'failed',
          rev: d.target,
        }),
        409,
        'ERR_INVALID_TRANSITION',
      );
    }
    expect(await status(approved.id)).toBe('approved');
  });

  it('expires a pending deployment when its time is up; then it takes no decision', async () => {
    const d = await propose(line2);
    const detail = await alice.request(t, 'GET', `/deployments/${d.id}`);
    const expiresAt = Date.parse(detail.body.expiresAt);
    expect(expiresAt - (Date.now() + offset * 1000)).toBeGreaterThan(3500_000);
    expect(expiresAt - (Date.now() + offset * 1000)).toBeLessThanOrEqual(3600_000);
    const jws = await alice.sign(alice.approvalClaims(t, detail.body));
    offset += 3601;
    expect(await status(d.id)).toBe('expired');
    const pendingIds = (
      await alice.request(t, 'GET', '/deployments?status=pending')
    ).body.deployments.map((s: { id: string }) => s.id);
    expect(pendingIds).not.toContain(d.id);
    const late = await alice.sign(alice.approvalClaims(t, detail.body));
    expectError(await alice.decide(t, d.id, late), 409, 'ERR_DEPLOYMENT_NOT_PENDING');
    // the approval signed before expiry is now itself expired (row 6 comes first)
    expectError(await alice.decide(t, d.id, jws), 422, 'ERR_APPROVAL_EXPIRED');
    expectError(
      await line2.request('POST', `/deployments/${d.id}/outcome`, {
        status: 'applied',
        rev: d.target,
      }),
      409,
      'ERR_INVALID_TRANSITION',
    );
  });

  it('never supersedes or expires an approved deployment (5.8: no other transitions)', async () => {
    const d = await propose(line2);
    expect((await alice.review(t, d.id)).reply.body.status).toBe('approved');
    await propose(line2);
    expect(await status(d.id)).toBe('approved');
    offset += 3601;
    expect(await status(d.id)).toBe('approved');
    const reply = await line2.request('POST', `/deployments/${d.id}/outcome`, {
      status: 'applied',
      rev: d.target,
    });
    expect(reply.body).toEqual({ status: 'applied' });
  });

  it('answers 404 for unknown deployment ids', async () => {
    expectError(await alice.request(t, 'GET', '/deployments/000000000000'), 404, 'ERR_NOT_FOUND');
    expectError(await line1.request('GET', '/deployments/000000000000'), 404, 'ERR_NOT_FOUND');
    expectError(
      await alice.request(t, 'POST', '/deployments/000000000000/decision', { jws: 'a.b.c' }),
      404,
    );
  });
});

describe('what the plugin reads back', () => {
  it('sees approvals with their JWS and decision map, and the device keys with owners as a JWKS', async () => {
    const d = await propose();
    const { jws } = await alice.review(t, d.id);
    const detail = await line1.request('GET', `/deployments/${d.id}`);
    expect(detail.status).toBe(200);
    const map = decisionMap(detail.body, 'approve');
    expect(detail.body.approvals).toEqual([
      expect.objectContaining({ device: alice.id, verdict: 'approve', jws, changes: map }),
    ]);
    // 5.4: the JWS carries the digest of the map, not the map
    const claims = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims.changes).toBeUndefined();
    expect(claims.decisions).toBe(decisionsDigest(map));
    const keys = await line1.request('GET', '/keys');
    expect(keys.status).toBe(200);
    const key = keys.body.keys.find((k: { kid: string }) => k.kid === alice.id);
    expect(key).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      x: alice.publicJwk.x,
      y: alice.publicJwk.y,
      owner: 'alice',
    });
    expect(key.d).toBeUndefined();
  });

  it('streams a summary with the approval JWS once approved', async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.url}${API}/instance/events`, {
      headers: { authorization: `Bearer ${line2.token}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const d = await propose(line2);
    const { jws } = await alice.review(t, d.id);
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes(jws)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    const events = text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => JSON.parse(l.slice(5)));
    const approved = events.find((e) => e.id === d.id && e.status === 'approved');
    expect(approved).toMatchObject({ id: d.id, instance: 'line-2', status: 'approved' });
    expect(approved.approvals[0].jws).toBe(jws);
    expect(events.every((e) => e.instance === 'line-2')).toBe(true);
  });
});

describe('audit log', () => {
  it('lists entries {seq, at, type, data, prev, hash} chained by hash, and pages with after', async () => {
    const reply = await alice.request(t, 'GET', '/audit?after=0');
    expect(reply.status).toBe(200);
    const entries = reply.body.entries as {
      seq: number;
      at: string;
      type: string;
      data: unknown;
      prev: string;
      hash: string;
    }[];
    expect(entries.length).toBeGreaterThan(3);
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(['at', 'data', 'hash', 'prev', 'seq', 'type']);
      const { hash, ...rest } = e;
      expect(hash).toBe(sha256Hex(e.prev + canonicalize(rest)));
    }
    for (let i = 1; i < entries.length; i++) {
      expect(entries[i]!.prev).toBe(entries[i - 1]!.hash);
      expect(entries[i]!.seq).toBeGreaterThan(entries[i - 1]!.seq);
    }
    const after = entries[1]!.seq;
    const page = await alice.request(t, 'GET', `/audit?after=${after}`);
    expect(page.body.entries[0].seq).toBeGreaterThan(after);
    expect(JSON.stringify(reply.body)).not.toMatch(/"name":"t\d+-0"/);
    // every accepted approval JWS is in the log
    const d = await propose();
    const { jws } = await alice.review(t, d.id);
    const all = (await alice.request(t, 'GET', '/audit?after=0')).body.entries;
    expect(JSON.stringify(all)).toContain(jws);
  });
});
