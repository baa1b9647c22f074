/**
 * At least 500 generated malformed or hostile requests (wrong types, huge strings, deep nesting,
 * `__proto__` keys, broken JSON, wrong media types) all get a 4xx `{code, message}`, change nothing,
 * and the server keeps answering.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, type Flows } from '../../protocol/index.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { TestDevice } from '../helpers/device.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let alice: TestDevice;
let token: string;
let deploymentId: string;
let base: Flows;

type Auth = 'none' | 'device' | 'plugin';
type Case = {
  label: string;
  method: string;
  path: string;
  auth: Auth;
  body?: Buffer | string;
  type?: string | null;
};

function deep(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

const HOSTILE: Array<[string, unknown]> = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['zero', 0],
  ['negative', -1],
  ['fraction', 1.5],
  ['huge number', 1e308],
  ['empty array', []],
  ['nested array', [[]]],
  ['mixed array', [1, 'a']],
  ['empty object', {}],
  ['object', { a: 1 }],
  ['proto-like key', { __proto__x: 1 }],
  ['deep nesting', deep(40)],
  ['100 kB string', 'x'.repeat(100_000)],
];

/** Field values that are valid for that field (null push, null creds, {} credentials, null name). */
const VALID: Record<string, string[]> = {
  'enroll.name': ['null'],
  'enroll.push': ['null'],
  'proposal.creds': ['null'],
  'proposal.credentials': ['empty object'],
  'push.push': ['null'],
};

function setPath(
  obj: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
  const keys = path.split('.');
  let at = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys.at(-1)!] = value;
  return copy;
}

async function send(c: Case): Promise<{ status: number; body: unknown }> {
  const url = `${server.url}${c.path}`;
  const headers: Record<string, string> = {};
  if (c.type !== null) headers['content-type'] = c.type ?? 'application/json';
  if (c.auth === 'plugin') headers.authorization = `Bearer ${token}`;
  if (c.auth === 'device') headers.DPoP = await alice.proof(url, c.method);
  const res = await fetch(url, {
    method: c.method,
    headers,
    ...(c.body !== undefined
      ? { body: typeof c.body === 'string' ? c.body : new Uint8Array(c.body) }
      : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // reported by the assertion
  }
  return { status: res.status, body };
}

beforeAll(async () => {
  server = await startTestServer();
  alice = await server.enrollDevice({ owner: 'alice' });
  ({ token } = await server.addInstance('fuzz'));
  base = loadFlows(exampleFiles()[0]![1]);
  ({ id: deploymentId } = await server.propose(token, base, base.slice(1)));
});
afterAll(async () => {
  await server?.close();
});

async function generate(): Promise<Case[]> {
  const newcomer = await TestDevice.create();
  const { code } = await server.invite({ owner: 'zed', name: 'x' });
  const rev = 'a'.repeat(64);
  const templates: Array<{
    name: string;
    method: string;
    path: string;
    auth: Auth;
    body: Record<string, unknown>;
  }> = [
    {
      name: 'enroll',
      method: 'POST',
      path: `${API_PREFIX}/devices`,
      auth: 'none',
      body: await newcomer.enrollBody(server.url, code),
    },
    {
      name: 'proposal',
      method: 'POST',
      path: `${API_PREFIX}/deployments`,
      auth: 'plugin',
      body: {
        base: rev,
        target: rev,
        creds: null,
        credentials: {},
        type: 'full',
        source: { user: 'u', via: 'editor', address: '::1' },
      },
    },
    {
      name: 'decision',
      method: 'POST',
      path: `${API_PREFIX}/deployments/${deploymentId}/decision`,
      auth: 'device',
      body: { jws: 'a.b.c' },
    },
    {
      name: 'invitation',
      method: 'POST',
      path: `${API_PREFIX}/invitations`,
      auth: 'device',
      body: { owner: 'o', name: 'n' },
    },
    {
      name: 'push',
      method: 'PUT',
      path: `${API_PREFIX}/devices/self/push`,
      auth: 'device',
      body: { push: null },
    },
    {
      name: 'outcome',
      method: 'POST',
      path: `${API_PREFIX}/deployments/${deploymentId}/outcome`,
      auth: 'plugin',
      body: { status: 'applied', rev, message: 'm' },
    },
    {
      name: 'drift',
      method: 'POST',
      path: `${API_PREFIX}/instance/drift`,
      auth: 'plugin',
      body: { rev, message: 'm' },
    },
  ];
  const fieldsOf = (body: Record<string, unknown>, prefix = ''): string[] =>
    Object.entries(body).flatMap(([k, v]) =>
      typeof v === 'object' && v !== null && !Array.isArray(v) && k === 'source'
        ? fieldsOf(v as Record<string, unknown>, `${prefix}${k}.`)
        : [`${prefix}${k}`],
    );
  const cases: Case[] = [];
  for (const t of templates) {
    // Every field replaced by every hostile value.
    for (const field of fieldsOf(t.body)) {
      for (const [label, value] of HOSTILE) {
        if (VALID[`${t.name}.${field}`]?.includes(label)) continue;
        cases.push({
          label: `${t.name}.${field} = ${label}`,
          method: t.method,
          path: t.path,
          auth: t.auth,
          body: JSON.stringify(setPath(t.body, field, value)),
        });
      }
    }
    const valid = JSON.stringify(t.body);
    const raw: Array<[string, Buffer | string, string | null]> = [
      ['empty body', '', 'application/json'],
      ['truncated JSON', valid.slice(0, -1), 'application/json'],
      ['not JSON', 'nul', 'application/json'],
      ['JS, not JSON', "{a: 'b'}", 'application/json'],
      ['top-level null', 'null', 'application/json'],
      ['top-level number', '5', 'application/json'],
      ['top-level string', '"s"', 'application/json'],
      ['top-level array', '[]', 'application/json'],
      [
        '__proto__ at the top',
        valid.replace('{', '{"__proto__":{"polluted":true},'),
        'application/json',
      ],
      [
        '__proto__ nested',
        valid.replace('{', '{"x":{"__proto__":{"polluted":true}},'),
        'application/json',
      ],
      ['5000 levels of nesting', '['.repeat(5000) + ']'.repeat(5000), 'application/json'],
      ['2 MB string', `{"x":"${'a'.repeat(2_000_000)}"}`, 'application/json'],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'application/json'],
      ['text/plain', valid, 'text/plain'],
      ['form encoded', 'a=b', 'application/x-www-form-urlencoded'],
      ['no content type', valid, null],
      ['multipart', valid, 'multipart/form-data; boundary=x'],
    ];
    for (const [label, body, type] of raw) {
      cases.push({
        label: `${t.name}: ${label}`,
        method: t.method,
        path: t.path,
        auth: t.auth,
        body,
        type,
      });
    }
  }
  // Blobs: bytes that hash right but are not flows, bytes under the wrong rev, bad revs.
  for (const text of [
    '{}',
    'null',
    '[1]',
    '[{}]',
    '[{"id":1,"type":"x"}]',
    '[{"id":"a"}]',
    'x',
    '',
    '"flows"',
    '[null]',
  ]) {
    const good = createHash('sha256').update(text).digest('hex');
    cases.push({
      label: `blob ${text} under its rev`,
      method: 'PUT',
      path: `${API_PREFIX}/blobs/${good}`,
      auth: 'plugin',
      body: text,
    });
    cases.push({
      label: `blob ${text} under another rev`,
      method: 'PUT',
      path: `${API_PREFIX}/blobs/${rev}`,
      auth: 'plugin',
      body: text,
    });
  }
  for (const badRev of [
    'A'.repeat(64),
    'a'.repeat(63),
    '..%2F..%2Fcountersign.json',
    '%00',
    'g'.repeat(64),
  ]) {
    cases.push({
      label: `blob PUT rev ${badRev}`,
      method: 'PUT',
      path: `${API_PREFIX}/blobs/${badRev}`,
      auth: 'plugin',
      body: '[]',
    });
    cases.push({
      label: `blob GET rev ${badRev}`,
      method: 'GET',
      path: `${API_PREFIX}/blobs/${badRev}`,
      auth: 'device',
    });
  }
  // Hostile query strings and ids.
  for (const q of [
    'status=nope',
    'status[]=pending',
    'status=pending&status=approved',
    'status=__proto__',
    `status=${'x'.repeat(5000)}`,
  ]) {
    cases.push({
      label: `inbox ?${q.slice(0, 30)}`,
      method: 'GET',
      path: `${API_PREFIX}/deployments?${q}`,
      auth: 'device',
    });
  }
  for (const q of ['after=-1', 'after=abc', 'after=1e400', 'after[]=1', 'after=1.5']) {
    cases.push({
      label: `audit ?${q}`,
      method: 'GET',
      path: `${API_PREFIX}/audit?${q}`,
      auth: 'device',
    });
  }
  for (const id of [
    'nope',
    '..%2F..%2Fcountersign',
    '__proto__',
    'constructor',
    'x'.repeat(3000),
  ]) {
    cases.push({
      label: `deployment ${id.slice(0, 20)}`,
      method: 'GET',
      path: `${API_PREFIX}/deployments/${id}`,
      auth: 'device',
    });
    cases.push({
      label: `decision on ${id.slice(0, 20)}`,
      method: 'POST',
      path: `${API_PREFIX}/deployments/${id}/decision`,
      auth: 'device',
      body: '{"jws":"a.b.c"}',
    });
    cases.push({
      label: `revoke ${id.slice(0, 20)}`,
      method: 'POST',
      path: `${API_PREFIX}/devices/${id}/revoke`,
      auth: 'device',
    });
    cases.push({
      label: `outcome on ${id.slice(0, 20)}`,
      method: 'POST',
      path: `${API_PREFIX}/deployments/${id}/outcome`,
      auth: 'plugin',
      body: `{"status":"applied","rev":"${rev}"}`,
    });
  }
  // Forged credentials.
  for (const auth of [
    'Bearer',
    'Bearer x',
    `Bearer ${'x'.repeat(10_000)}`,
    'Basic YTpi',
    `bearer ${token}`,
  ]) {
    cases.push({
      label: `authorization "${auth.slice(0, 20)}"`,
      method: 'GET',
      path: `${API_PREFIX}/keys`,
      auth: 'none',
      type: `application/json`,
    });
    (cases.at(-1) as Case & { authorization?: string }).authorization = auth;
  }
  return cases;
}

/** What the store holds, through its queries (proof jtis aside: every signed request spends one). */
async function storeState(): Promise<string> {
  const store = server.ctx.store;
  return JSON.stringify({
    instances: await store.instances(),
    devices: await store.devices(),
    deployments: await store.history({ limit: 1000 }),
    audit: await store.audit({ before: Number.MAX_SAFE_INTEGER, limit: 1000 }),
  });
}

describe('hostile input', () => {
  it('answers every one of at least 500 hostile requests with a 4xx {code, message} and changes nothing', async () => {
    const cases = await generate();
    expect(cases.length).toBeGreaterThanOrEqual(500);
    const before = await storeState();
    const failures: string[] = [];
    for (const c of cases) {
      const extra = (c as Case & { authorization?: string }).authorization;
      const answer = extra
        ? await fetch(`${server.url}${c.path}`, { headers: { authorization: extra } }).then(
            async (r) => ({ status: r.status, body: (await r.json()) as unknown }),
          )
        : await send(c);
      const body = answer.body as { code?: unknown; message?: unknown };
      if (
        answer.status < 400 ||
        answer.status > 499 ||
        typeof body?.code !== 'string' ||
        typeof body?.message !== 'string'
      ) {
        failures.push(`${c.label}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await storeState()).toBe(before);
    expect((await fetch(`${server.url}${API_PREFIX}/config`)).status).toBe(200);
    expect((await alice.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(200);
  });
});
