/**
 * The decision route's direct path (server/http/decision-route.ts): `POST /deployments/<id>/decision`
 * is answered before express, with the same security headers, `Cache-Control`, body reader and
 * `{code, message}` errors as the express route (reached here through the path's trailing-slash
 * form, which the direct path leaves to express). Device keys imported once and records read as
 * shared frozen copies must not outlive a revocation or a suspension.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, type Flows } from '../../protocol/index.js';
import { silentLog } from '../../server/index.js';
import type { Context } from '../../server/context.js';
import { directDecision } from '../../server/http/decision-route.js';
import { TestDevice } from '../helpers/device.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { onPostgres } from '../helpers/test-store.js';

let server: TestServer;
let base: Flows;
let instanceNo = 0;
let alice: TestDevice;
let bob: TestDevice;

beforeAll(async () => {
  server = await startTestServer();
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1]);
  alice = await server.enrollDevice({ owner: 'alice' });
  bob = await server.enrollDevice({ owner: 'bob' });
});
afterAll(async () => {
  await server?.close();
});

/** A new pending 2-approval deployment, on its own instance (proposals supersede older ones). */
async function pending(): Promise<string> {
  const { token } = await server.addInstance(`line-${++instanceNo}`, { requiredApprovals: 2 });
  const target = base.map((n, i) => (i === 0 ? { ...n, name: `renamed ${instanceNo}` } : n));
  return (await server.propose(token, base, target)).id;
}

/** Headers both ways must agree on: everything but the ones that vary per answer. */
function stableHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!['date', 'content-length', 'connection', 'keep-alive'].includes(name)) out[name] = value;
  });
  return out;
}

type Answer = { status: number; code: string | undefined; headers: Record<string, string> };

async function answerOf(res: Response): Promise<Answer> {
  const body = (await res.json()) as { code?: string; message?: unknown };
  if (res.status >= 400) expect(typeof body.message).toBe('string');
  return { status: res.status, code: body.code, headers: stableHeaders(res) };
}

/** The same request to the direct path and to the express route, each with its own fresh proof. */
async function both(
  id: string,
  send: (url: string) => Promise<Response>,
): Promise<{ direct: Answer; viaExpress: Answer }> {
  const url = `${server.url}${API_PREFIX}/deployments/${id}/decision`;
  return {
    direct: await answerOf(await send(url)),
    viaExpress: await answerOf(await send(`${url}/`)),
  };
}

describe('the direct path answers as the express route does', () => {
  it('a first approval (200), then the same device again (409)', async () => {
    const id = await pending();
    // Each request its own proof and its own freshly signed approval (a jti is single use).
    const postAs = (device: TestDevice) => async (url: string) =>
      fetch(url, {
        method: 'POST',
        headers: { dpop: await device.proof(url, 'POST'), 'content-type': 'application/json' },
        body: JSON.stringify(await device.signedDecision(server.url, id)),
      });
    // The first goes the direct way and counts; the express way then meets row 12.
    const { direct, viaExpress } = await both(id, postAs(alice));
    expect(direct).toMatchObject({ status: 200, code: undefined });
    expect(viaExpress).toMatchObject({ status: 409, code: 'ERR_APPROVAL_DUPLICATE' });
    expect(direct.headers).toEqual(viaExpress.headers);
    const duplicates = await both(id, postAs(alice));
    expect(duplicates.direct).toEqual(duplicates.viaExpress);
    expect(duplicates.direct).toMatchObject({ status: 409, code: 'ERR_APPROVAL_DUPLICATE' });
    expect(duplicates.direct.headers['cache-control']).toBe('no-store');
    expect(duplicates.direct.headers['content-security-policy']).toBeTruthy();
    expect(duplicates.direct.headers['x-powered-by']).toBeUndefined();
  });

  it('refusals before the body: no proof, a proof for another path, a wrong method', async () => {
    const id = await pending();
    const none = await both(id, (url) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    );
    expect(none.direct).toEqual(none.viaExpress);
    expect(none.direct).toMatchObject({ status: 401, code: 'ERR_PROOF_MISSING' });

    const elsewhere = await both(id, async (url) =>
      fetch(url, {
        method: 'POST',
        headers: {
          dpop: await bob.proof(`${server.url}${API_PREFIX}/devices`, 'POST'),
          'content-type': 'application/json',
        },
        body: '{}',
      }),
    );
    expect(elsewhere.direct).toEqual(elsewhere.viaExpress);
    expect(elsewhere.direct).toMatchObject({ status: 401, code: 'ERR_PROOF_HTU' });

    // GET is no decision: neither way takes it (404 from express for both forms).
    const got = await both(id, async (url) =>
      fetch(url, { method: 'GET', headers: { dpop: await bob.proof(url, 'GET') } }),
    );
    expect(got.direct).toEqual(got.viaExpress);
    expect(got.direct.status).toBe(404);
  });

  it('the body rules: not JSON typed (400), not JSON (400), over the limit (413), not {jws, changes}', async () => {
    const id = await pending();
    const post = (body: string, type: string) => async (url: string) =>
      fetch(url, {
        method: 'POST',
        headers: { dpop: await bob.proof(url, 'POST'), 'content-type': type },
        body,
      });
    const cases: [string, string, number, string][] = [
      ['jws=x', 'application/x-www-form-urlencoded', 400, 'ERR_BAD_REQUEST'],
      ['{"jws":', 'application/json', 400, 'ERR_BAD_REQUEST'],
      [
        JSON.stringify({ jws: 'x'.repeat(server.ctx.config.limits.decisionBytes) }),
        'application/json',
        413,
        'ERR_BODY_TOO_LARGE',
      ],
      ['{"__proto__":{"jws":1}}', 'application/json', 400, 'ERR_BAD_REQUEST'],
      ['[1,2]', 'application/json', 400, 'ERR_APPROVAL_MALFORMED'],
    ];
    for (const [body, type, status, code] of cases) {
      const { direct, viaExpress } = await both(id, post(body, type));
      expect(direct).toEqual(viaExpress);
      expect(direct).toMatchObject({ status, code });
    }
  });

  it('an unknown deployment is 404 both ways, and the server stays up after a torn body', async () => {
    const unknown = await both('nosuchdeployment', async (url) =>
      fetch(url, {
        method: 'POST',
        headers: { dpop: await bob.proof(url, 'POST'), 'content-type': 'application/json' },
        body: JSON.stringify({ jws: 'a.b.c', changes: {} }),
      }),
    );
    expect(unknown.direct).toEqual(unknown.viaExpress);
    expect(unknown.direct).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND' });
    expect((await fetch(`${server.url}${API_PREFIX}/config`)).status).toBe(200);
  });
});

describe('which requests take the direct path', () => {
  it('only POST of the plain form; every other form is left to express', () => {
    const taken: string[] = [];
    const direct = directDecision(
      { log: silentLog } as Context,
      async (_req, _res, { id }) => {
        taken.push(id);
      },
      () => {},
    );
    const offer = (method: string, url: string): boolean =>
      direct({ method, url } as IncomingMessage, {} as ServerResponse);
    expect(offer('POST', `${API_PREFIX}/deployments/abc_D-1/decision`)).toBe(true);
    expect(offer('POST', `${API_PREFIX}/deployments/abc/decision?x=1`)).toBe(true);
    expect(taken).toEqual(['abc_D-1', 'abc']);
    for (const [method, url] of [
      ['GET', `${API_PREFIX}/deployments/abc/decision`],
      ['POST', `${API_PREFIX}/deployments/abc/decision/`],
      ['POST', `${API_PREFIX}/deployments/a%2Fb/decision`],
      ['POST', `${API_PREFIX}/deployments/abc/decisionx`],
      ['POST', `${API_PREFIX}/deployments/abc/outcome`],
      ['POST', `/API/v1/deployments/abc/decision`],
      ['POST', `${API_PREFIX}/deployments//decision`],
    ] as const) {
      expect(offer(method, url), `${method} ${url}`).toBe(false);
    }
    expect(taken).toHaveLength(2);
  });
});

describe('keys and records read once do not outlive a revocation or a suspension', () => {
  it('a revoked device is refused at its next decision, after its key verified proofs and approvals', async () => {
    const carol = await server.enrollDevice({ owner: 'carol' });
    const id = await pending();
    // The key is imported and the records read by a proof-checked request and an approval.
    expect((await carol.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(200);
    // lowdb answers one shared frozen copy (PostgreSQL a new object per read).
    const seen = await server.ctx.store.device(carol.id);
    expect(Object.isFrozen(seen)).toBe(!onPostgres());
    const decision = await carol.signedDecision(server.url, id);
    expect(
      (await bob.call(server.url, 'POST', `${API_PREFIX}/devices/${carol.id}/revoke`)).status,
    ).toBe(200);
    expect((await server.ctx.store.device(carol.id))?.revokedAt).not.toBeNull();
    expect(await carol.post(server.url, id, decision)).toMatchObject({
      status: 403,
      body: { code: 'ERR_DEVICE_REVOKED' },
    });
    expect((await server.ctx.store.deployment(id))?.approvals).toEqual([]);
  });

  it('a device suspended when its inviter is revoked is refused, and counts again once confirmed', async () => {
    const dave = await server.enrollDevice({ owner: 'dave' });
    const invited = await dave.invite(server.url, { name: 'second phone' });
    const tablet = await TestDevice.create({ owner: 'dave' });
    await tablet.enroll(server.url, invited.body.code);
    const id = await pending();
    expect((await tablet.call(server.url, 'GET', `${API_PREFIX}/devices`)).status).toBe(200);
    const decision = await tablet.signedDecision(server.url, id);
    expect(
      (await bob.call(server.url, 'POST', `${API_PREFIX}/devices/${dave.id}/revoke`)).status,
    ).toBe(200);
    expect(await tablet.post(server.url, id, decision)).toMatchObject({
      status: 403,
      body: { code: 'ERR_DEVICE_SUSPENDED' },
    });
    expect(
      (await bob.call(server.url, 'POST', `${API_PREFIX}/devices/${tablet.id}/confirm`)).status,
    ).toBe(200);
    expect((await tablet.decide(server.url, id)).status).toBe(200);
    expect((await server.ctx.store.deployment(id))?.approvals.map((a) => a.device)).toEqual([
      tablet.id,
    ]);
  });

  it('a record a query answered cannot change what the store holds', async () => {
    const id = await pending();
    const d = (await server.ctx.store.deployment(id))!;
    const change = (): void => {
      (d as { status: string }).status = 'approved';
      (d.changeIds as string[]).push('x');
    };
    // lowdb's shared copy refuses the change; PostgreSQL's copy is the reader's own.
    if (onPostgres()) change();
    else expect(change).toThrow(TypeError);
    const again = (await server.ctx.store.deployment(id))!;
    expect(again.status).toBe('pending');
    expect(again.changeIds).not.toContain('x');
  });
});
