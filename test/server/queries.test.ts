/**
 * Query strings of the paged reads (5.7) are parsed at the boundary by protocol/wire/queries.ts: a
 * wrong type, a repeated or unknown parameter, a negative or huge value is a 400 `{code, message}`
 * naming the parameter, on the device API and the admin API alike; the good ones still answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  formatAuditQuery,
  formatDeploymentsQuery,
  formatHistoryQuery,
  parseAuditQuery,
  parseDeploymentsQuery,
  parseHistoryQuery,
} from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let phone: TestDevice;

beforeAll(async () => {
  server = await startTestServer();
  phone = await server.enrollDevice({ owner: 'alice' });
});
afterAll(async () => {
  await server?.close();
});

async function asDevice(path: string): Promise<{ status: number; body: unknown }> {
  const { status, body } = await phone.call(server.url, 'GET', `${API_PREFIX}${path}`);
  return { status, body };
}

async function asAdmin(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.adminUrl}${API_PREFIX}/admin${path}`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  return { status: res.status, body: await res.json() };
}

/** [path, words the message must contain] */
const BAD: Array<[string, string]> = [
  // wrong type
  ['/deployments?limit=abc', 'limit'],
  ['/deployments?limit=1.5', 'limit'],
  ['/deployments?status=nope', 'status'],
  ['/deployments?status[]=pending', 'status[]'],
  ['/audit?after=abc', 'after'],
  ['/audit?after=1e3', 'after'],
  ['/audit?deployment=../x', 'deployment'],
  // repeated
  ['/deployments?limit=1&limit=2', 'limit'],
  ['/deployments?status=pending&status=approved', 'status'],
  ['/audit?after=1&after=2', 'after'],
  // negative
  ['/deployments?limit=-1', 'limit'],
  ['/audit?after=-1', 'after'],
  ['/audit?before=-5', 'before'],
  // zero or huge
  ['/deployments?limit=0', 'limit'],
  ['/deployments?limit=1001', 'limit'],
  ['/deployments?limit=99999999999999999999', 'limit'],
  ['/audit?after=99999999999999999', 'after'],
  [`/deployments?before=${'x'.repeat(500)}`, 'before'],
  ['/deployments?before=', 'before'],
  // unknown, or together where they mean nothing
  ['/deployments?foo=1', 'foo'],
  ['/deployments?after=1', 'after'],
  ['/audit?status=pending', 'status'],
  ['/audit?after=1&before=9', 'after or before'],
  [`/audit?deployment=${'a'.repeat(32)}&limit=5`, 'deployment'],
];

describe('query strings of the device API', () => {
  it.each(BAD)('%s is a 400 naming the parameter', async (path, named) => {
    const { status, body } = await asDevice(path);
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    expect((body as { message: string }).message).toContain(named);
  });

  it('answers the queries the phone builds', async () => {
    for (const path of [
      `/deployments${formatDeploymentsQuery({ status: 'pending' })}`,
      `/deployments${formatDeploymentsQuery({ limit: 5 })}`,
      `/deployments${formatDeploymentsQuery({})}`,
      `/audit${formatAuditQuery({ before: Number.MAX_SAFE_INTEGER, limit: 10 })}`,
      `/audit${formatAuditQuery({ after: 0 })}`,
      `/audit${formatAuditQuery({ deployment: 'a'.repeat(32) })}`,
    ]) {
      expect({ path, status: (await asDevice(path)).status }).toEqual({ path, status: 200 });
    }
  });
});

describe('query strings of the admin API', () => {
  it.each([
    ['/history?limit=0', 'limit'],
    ['/history?limit=2&limit=3', 'limit'],
    ['/history?status=pending', 'status'],
    ['/audit?before=abc', 'before'],
    ['/audit?limit=-3', 'limit'],
    ['/audit?after=1&before=2', 'after or before'],
    ['/audit?nope', 'nope'],
  ])('%s is a 400 naming the parameter', async (path, named) => {
    const { status, body } = await asAdmin(path);
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    expect((body as { message: string }).message).toContain(named);
  });

  it('answers the queries the command line builds', async () => {
    for (const path of [
      `/history${formatHistoryQuery({ limit: 3 })}`,
      `/audit${formatAuditQuery({ before: 100, limit: 7 })}`,
      `/audit${formatAuditQuery({})}`,
    ]) {
      expect({ path, status: (await asAdmin(path)).status }).toEqual({ path, status: 200 });
    }
  });
});

describe('writing and reading a query give the same query', () => {
  it('round-trips every route', () => {
    const search = (text: string) => new URLSearchParams(text.replace(/^\?/, ''));
    for (const q of [{ status: 'approved' as const }, { before: 'c:1|x', limit: 3 }, {}]) {
      expect(parseDeploymentsQuery(search(formatDeploymentsQuery(q)))).toEqual(q);
    }
    for (const q of [{ before: 'c&d=e', limit: 1000 }, { limit: 1 }]) {
      expect(parseHistoryQuery(search(formatHistoryQuery(q)))).toEqual(q);
    }
    for (const q of [{ after: 0, limit: 4 }, { before: 9 }, { deployment: 'ab12' }]) {
      expect(parseAuditQuery(search(formatAuditQuery(q)))).toEqual(q);
    }
  });
});
