/**
 * 5.7's error rules under hostile input, from an independent client: malformed JSON, wrong content
 * types, huge bodies, deep nesting and `__proto__` keys all answer 4xx `{code, message}`, change
 * nothing, and the server keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  enrolled,
  flows,
  instance,
  startTarget,
  stopTarget,
  API,
  type Device,
  type Plugin,
  type Reply,
  type Target,
} from './client.js';

let t: Target;
let plugin: Plugin;
let alice: Device;

beforeAll(async () => {
  t = await startTarget();
  plugin = await instance(t, 'line-1');
  alice = await enrolled(t, { owner: 'alice' });
});

afterAll(async () => {
  await stopTarget(t);
});

function expect4xx(reply: Reply, status?: number | number[]): void {
  const allowed = status === undefined ? null : Array.isArray(status) ? status : [status];
  expect(reply.status).toBeGreaterThanOrEqual(400);
  expect(reply.status).toBeLessThan(500);
  if (allowed) expect(allowed).toContain(reply.status);
  expect(reply.body).toEqual({
    code: expect.stringMatching(/^ERR_[A-Z_]+$/),
    message: expect.any(String),
  });
}

async function stillAnswers(): Promise<void> {
  const reply = await call(`${t.url}${API}/config`);
  expect(reply.status).toBe(200);
  expect(reply.body.serverId).toBe(t.serverId);
}

const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('bodies a client should never send', () => {
  it('answers malformed JSON with 400 ERR_BAD_REQUEST', async () => {
    for (const body of ['{', '{"code":', 'null', '"text"', '[1,2]', '{"a":1}{']) {
      const reply = await call(`${t.url}${API}/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect4xx(reply, 400);
      expect(reply.body.code).toBe('ERR_BAD_REQUEST');
    }
    expect4xx(await alice.request(t, 'POST', '/invitations', '{"owner":'), 400);
    expect4xx(await plugin.request('POST', '/deployments', '{"base":'), 400);
    await stillAnswers();
  });

  it('answers a JSON endpoint sent another content type with a 4xx', async () => {
    const body = JSON.stringify({ owner: 'x', name: 'y' });
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const url = `${t.url}${API}/invitations`;
      const reply = await call(url, {
        method: 'POST',
        headers: { 'content-type': type, dpop: await alice.proof('POST', url) },
        body,
      });
      expect4xx(reply, [400]);
    }
    const { bytes, rev } = (await import('./client.js')).snapshot(flows('ct'));
    expect4xx(
      await plugin.request('PUT', `/blobs/${rev}`, bytes, { 'content-type': 'text/plain' }),
      [400],
    );
    await stillAnswers();
  });

  it('answers a huge body with 413 ERR_BODY_TOO_LARGE', async () => {
    const huge = JSON.stringify({ code: 'x'.repeat(5 * 1024 * 1024), name: 'n' });
    const reply = await call(`${t.url}${API}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: huge,
    });
    expect4xx(reply, 413);
    expect(reply.body.code).toBe('ERR_BODY_TOO_LARGE');
    // A decision body may be up to 8 MiB (5.4: the decision map of a large deployment).
    const hugerStill = JSON.stringify({ jws: 'x', changes: { a: 'x'.repeat(9 * 1024 * 1024) } });
    const decision = await alice.request(
      t,
      'POST',
      '/deployments/000000000000/decision',
      hugerStill,
    );
    expect4xx(decision, 413);
    const blob = new TextEncoder().encode(JSON.stringify(flows('big', 200_000)));
    const put = await plugin.request('PUT', `/blobs/${'a'.repeat(64)}`, blob);
    expect4xx(put, [413, 422]);
    await stillAnswers();
  });

  it('answers deep nesting with a 4xx and keeps running', async () => {
    for (const body of [deep(100_000), deepObject(50_000), `{"jws":${deep(20_000)}}`]) {
      const reply = await call(`${t.url}${API}/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect4xx(reply);
      const decision = await alice.request(t, 'POST', '/deployments/000000000000/decision', body);
      expect4xx(decision);
    }
    const blob = new TextEncoder().encode(`[${deepObject(20_000)}]`);
    const { createHash } = await import('node:crypto');
    const rev = createHash('sha256').update(blob).digest('hex');
    expect4xx(await plugin.request('PUT', `/blobs/${rev}`, blob));
    await stillAnswers();
  });

  it('answers __proto__ and constructor keys without polluting anything', async () => {
    const bodies = [
      '{"__proto__":{"polluted":true},"owner":"x","name":"y"}',
      '{"constructor":{"prototype":{"polluted":true}},"owner":"x","name":"y"}',
      '{"owner":"x","name":"y","__proto__":{"isAdmin":true}}',
    ];
    for (const body of bodies) {
      const reply = await alice.request(t, 'POST', '/invitations', body);
      expect(reply.status).not.toBe(500);
      if (reply.status >= 400) expect4xx(reply);
    }
    const rev = await plugin.upload(flows('p'));
    const proposal = `{"base":"${rev}","target":"${rev}","creds":null,"credentials":{"__proto__":["password"]},"type":"full","source":{"user":"x","via":"editor","__proto__":{"polluted":true}}}`;
    const reply = await plugin.request('POST', '/deployments', proposal);
    expect(reply.status).not.toBe(500);
    if (reply.status >= 400) expect4xx(reply);
    const enrol = await call(`${t.url}${API}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"__proto__":{"code":"x"},"code":"y","name":"n","publicJwk":{"__proto__":{"kty":"EC"}},"push":null,"proof":"a.b.c"}',
    });
    expect4xx(enrol);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('code');
    await stillAnswers();
  });

  it('answers wrong shapes with 400 and changes nothing', async () => {
    const before = (await alice.request(t, 'GET', '/devices')).body.devices.length;
    for (const body of [
      {},
      { code: 1, name: 'n', publicJwk: {}, push: null, proof: 'a.b.c' },
      { code: 'c', name: ['n'], publicJwk: {}, push: null, proof: 'a.b.c' },
      {
        code: 'c',
        name: 'n',
        publicJwk: { kty: 'RSA', n: 'x', e: 'AQAB' },
        push: null,
        proof: 'a.b.c',
      },
    ]) {
      const reply = await call(`${t.url}${API}/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect4xx(reply);
    }
    const { id } = await plugin.propose(flows('s1'), flows('s2'));
    expect4xx(await alice.request(t, 'POST', `/deployments/${id}/decision`, { jws: 5 }), 400);
    expect4xx(await alice.request(t, 'POST', `/deployments/${id}/decision`, {}), 400);
    expect4xx(await alice.request(t, 'POST', `/deployments/${id}/decision`, '[]'), 400);
    expect4xx(
      await plugin.request('POST', `/deployments/${id}/outcome`, { status: 'applied' }),
      400,
    );
    expect4xx(await alice.request(t, 'PUT', '/devices/self/push', { push: { endpoint: 5 } }), 400);
    expect4xx(await alice.request(t, 'GET', '/audit?after=abc'), 400);
    expect4xx(await alice.request(t, 'GET', '/deployments?status=everything'), 400);
    expect((await alice.request(t, 'GET', '/devices')).body.devices.length).toBe(before);
    expect((await alice.request(t, 'GET', `/deployments/${id}`)).body.status).toBe('pending');
    await stillAnswers();
  });

  it('answers unknown paths with 404 {code, message}', async () => {
    expect4xx(await call(`${t.url}${API}/nothing-here`), 404);
    expect4xx(await alice.request(t, 'GET', '/deployments/../../etc/passwd'), [400, 404]);
    expect4xx(await alice.request(t, 'GET', `/blobs/..%2F..%2Fcountersign.json`), [400, 404]);
    expect4xx(await plugin.request('GET', `/blobs/..%2Fcountersign`), [400, 404]);
    await stillAnswers();
  });
});
