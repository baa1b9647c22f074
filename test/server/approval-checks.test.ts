/**
 * Every row of DESIGN 5.4, in order, with approvals built from real non-extractable device keys.
 * Each test makes the request fail exactly one row (or two, to pin the order) and asserts the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  MAX_APPROVAL_BYTES,
  base64url,
  utf8,
  type Flows,
} from '../../protocol/index.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { TestDevice } from '../helpers/device.js';
import { TestClock, startTestServer, type TestServer } from '../helpers/server.js';
import { signRaw } from '../helpers/sign-raw.js';

const clock = new TestClock(Date.UTC(2026, 10, 27, 9, 0, 0));
let server: TestServer;
let alice: TestDevice;
let bob: TestDevice;
let carol: TestDevice;
let base: Flows;
let target: Flows;
let instanceNo = 0;

/** A fresh pending deployment on its own instance (proposals supersede their instance's older ones). */
async function pending(
  policy: Parameters<TestServer['addInstance']>[1] = {},
  options: { user?: string; creds?: string | null; targetFlows?: Flows } = {},
): Promise<string> {
  const { token } = await server.addInstance(`instance-${++instanceNo}`, policy);
  const { id } = await server.propose(token, base, options.targetFlows ?? target, {
    source: { user: options.user ?? 'dave', via: 'editor' },
    creds: options.creds ?? null,
    // A digest names credentials, so the proposal lists a field (the server refuses one without the other).
    ...(options.creds ? { credentials: { [target[0]!.id]: ['password'] } } : {}),
  });
  return id;
}

const header = (kid: string): Record<string, unknown> => ({
  alg: 'ES256',
  typ: 'countersign-approval+jwt',
  kid,
});

async function expectCode(
  answer: Promise<{ status: number; body: unknown }>,
  status: number,
  code: string,
): Promise<void> {
  const { status: got, body } = await answer;
  expect(body).toMatchObject({ code });
  expect(typeof (body as { message?: unknown }).message).toBe('string');
  expect(got).toBe(status);
}

beforeAll(async () => {
  server = await startTestServer({ clock });
  alice = await server.enrollDevice({ owner: 'alice' });
  bob = await server.enrollDevice({ owner: 'bob' });
  carol = await server.enrollDevice({ owner: 'carol' });
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('function__function__01'))![1]);
  target = base.map((n) =>
    n.type === 'function' ? { ...n, func: `${String(n.func)}\n// changed` } : n,
  );
});

afterAll(async () => {
  await server?.close();
});

describe('5.4 row 1: a compact JWS of at most 64 KiB', () => {
  it('rejects a body whose jws is not a compact JWS', async () => {
    const id = await pending();
    await expectCode(
      alice.postDecision(server.url, id, 'not-a-jws'),
      400,
      'ERR_APPROVAL_MALFORMED',
    );
    await expectCode(alice.postDecision(server.url, id, 'a.b'), 400, 'ERR_APPROVAL_MALFORMED');
    await expectCode(
      alice.postDecision(server.url, id, 'e30.e30.!!'),
      400,
      'ERR_APPROVAL_MALFORMED',
    );
  });
  it('rejects a decision without a jws string', async () => {
    const id = await pending();
    await expectCode(alice.postDecision(server.url, id, 42), 400, 'ERR_APPROVAL_MALFORMED');
    await expectCode(
      alice.call(server.url, 'POST', `${API_PREFIX}/deployments/${id}/decision`, {}),
      400,
      'ERR_APPROVAL_MALFORMED',
    );
  });
  it('rejects an approval larger than 64 KiB even when it is well signed', async () => {
    const id = await pending();
    const body = await alice.signedDecision(server.url, id, {
      overrides: { pad: 'x'.repeat(MAX_APPROVAL_BYTES) },
    });
    expect(body.jws.length).toBeGreaterThan(MAX_APPROVAL_BYTES);
    await expectCode(alice.post(server.url, id, body), 400, 'ERR_APPROVAL_MALFORMED');
  });
  it('rejects a JWS whose payload is not a JSON object', async () => {
    const id = await pending();
    const h = base64url(utf8(JSON.stringify(header(alice.id))));
    await expectCode(
      alice.postDecision(server.url, id, `${h}.${base64url(utf8('[1,2]'))}.AAAA`),
      400,
      'ERR_APPROVAL_MALFORMED',
    );
  });
});

describe('5.4 row 2: alg ES256 and typ countersign-approval+jwt, pinned', () => {
  it('rejects alg none', async () => {
    const id = await pending();
    const claims = await alice.approvalClaims(server.url, id);
    const input = `${base64url(utf8(JSON.stringify({ ...header(alice.id), alg: 'none' })))}.${base64url(utf8(JSON.stringify(claims)))}`;
    await expectCode(alice.postDecision(server.url, id, `${input}.`), 422, 'ERR_APPROVAL_HEADER');
  });
  it('rejects a good signature under another alg name', async () => {
    const id = await pending();
    const claims = await alice.approvalClaims(server.url, id);
    const jws = await signRaw(alice, { ...header(alice.id), alg: 'ES384' }, claims);
    await expectCode(alice.postDecision(server.url, id, jws), 422, 'ERR_APPROVAL_HEADER');
  });
  it('rejects a typ other than countersign-approval+jwt (a DPoP proof, a plain JWT)', async () => {
    const id = await pending();
    const claims = await alice.approvalClaims(server.url, id);
    for (const typ of ['JWT', 'dpop+jwt', 'countersign-enroll+jwt', undefined]) {
      const jws = await signRaw(alice, { ...header(alice.id), typ }, claims);
      await expectCode(alice.postDecision(server.url, id, jws), 422, 'ERR_APPROVAL_HEADER');
    }
  });
  it('rejects a header with critical extensions', async () => {
    const id = await pending();
    const claims = await alice.approvalClaims(server.url, id);
    const jws = await signRaw(alice, { ...header(alice.id), crit: ['b64'], b64: false }, claims);
    await expectCode(alice.postDecision(server.url, id, jws), 422, 'ERR_APPROVAL_HEADER');
  });
});

describe('5.4 row 3: kid names a registered, unrevoked device', () => {
  it('rejects an approval from a key that never enrolled', async () => {
    const id = await pending();
    const mallory = await TestDevice.create({ owner: 'mallory', clock });
    const claims = await alice.approvalClaims(server.url, id, { overrides: { iss: mallory.id } });
    await expectCode(
      alice.postDecision(server.url, id, await mallory.signApproval(claims)),
      422,
      'ERR_DEVICE_UNKNOWN',
    );
  });
  it('rejects a kid that is not a string', async () => {
    const id = await pending();
    const claims = await alice.approvalClaims(server.url, id);
    await expectCode(
      alice.postDecision(
        server.url,
        id,
        await signRaw(alice, header(42 as unknown as string), claims),
      ),
      422,
      'ERR_DEVICE_UNKNOWN',
    );
  });
  it('rejects an approval signed by a revoked device', async () => {
    const id = await pending();
    const erin = await server.enrollDevice({ owner: 'erin' });
    const claims = await erin.approvalClaims(server.url, id);
    const jws = await erin.signApproval(claims);
    expect(
      (await alice.call(server.url, 'POST', `${API_PREFIX}/devices/${erin.id}/revoke`)).status,
    ).toBe(200);
    await expectCode(alice.postDecision(server.url, id, jws), 403, 'ERR_DEVICE_REVOKED');
  });
  it('refuses a device revoked or suspended after its key verified approvals and proofs (no cache keeps it active)', async () => {
    // Two approvals needed, so each device's decision leaves the deployment pending.
    const frank = await server.enrollDevice({ owner: 'frank' });
    const invite = await frank.invite(server.url, { owner: 'frank', name: "Frank's tablet" });
    expect(invite.status).toBe(201);
    const tablet = await TestDevice.create({ owner: 'frank', name: "Frank's tablet", clock });
    await tablet.enroll(server.url, invite.body.code);
    const first = await pending({ requiredApprovals: 2 });
    // Every key cache now holds both keys: proofs and approvals of both verified.
    for (const device of [frank, tablet]) {
      const answer = await device.decide(server.url, first);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'pending' });
    }
    const second = await pending({ requiredApprovals: 2 });
    const frankJws = await frank.signApproval(await frank.approvalClaims(server.url, second));
    const tabletJws = await tablet.signApproval(await tablet.approvalClaims(server.url, second));

    // Revoking frank suspends the tablet he invited (5.5).
    const revoked = await alice.call(
      server.url,
      'POST',
      `${API_PREFIX}/devices/${frank.id}/revoke`,
    );
    expect(revoked.status).toBe(200);
    // Their own requests stop at the proof; their signatures, relayed by alice, at row 3.
    await expectCode(frank.postDecision(server.url, second, frankJws), 403, 'ERR_DEVICE_REVOKED');
    await expectCode(
      tablet.postDecision(server.url, second, tabletJws),
      403,
      'ERR_DEVICE_SUSPENDED',
    );
    await expectCode(alice.postDecision(server.url, second, frankJws), 403, 'ERR_DEVICE_REVOKED');
    await expectCode(
      alice.postDecision(server.url, second, tabletJws),
      403,
      'ERR_DEVICE_SUSPENDED',
    );
    const detail = await alice.call(server.url, 'GET', `${API_PREFIX}/deployments/${second}`);
    expect(detail.body).toMatchObject({ status: 'pending', approvals: [] });
  });
});

describe('5.4 row 4: the signature verifies with the registered key', () => {
  it("rejects an approval that names alice's kid but is signed by another key", async () => {
    const id = await pending();
    const mallory = await TestDevice.create({ owner: 'mallory', clock });
    const claims = await alice.approvalClaims(server.url, id);
    await expectCode(
      alice.postDecision(server.url, id, await signRaw(mallory, header(alice.id), claims)),
      422,
      'ERR_APPROVAL_SIGNATURE',
    );
  });
  it('rejects an approval whose claims were changed after signing', async () => {
    const id = await pending();
    const jws = await alice.signApproval(await alice.approvalClaims(server.url, id, { note: 'a' }));
    const [h, , s] = jws.split('.');
    const forged = await alice.approvalClaims(server.url, id, { note: 'b' });
    await expectCode(
      alice.postDecision(server.url, id, `${h}.${base64url(utf8(JSON.stringify(forged)))}.${s}`),
      422,
      'ERR_APPROVAL_SIGNATURE',
    );
  });
});

describe('5.4 row 5: iss, aud, sub and note', () => {
  it('rejects iss other than kid', async () => {
    const id = await pending();
    await expectCode(
      alice.decide(server.url, id, { overrides: { iss: bob.id } }),
      422,
      'ERR_APPROVAL_CLAIMS',
    );
  });
  it('rejects an approval for another server', async () => {
    const id = await pending();
    await expectCode(
      alice.decide(server.url, id, { overrides: { aud: 'another-server' } }),
      422,
      'ERR_APPROVAL_CLAIMS',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { aud: [server.serverId] } }),
      422,
      'ERR_APPROVAL_CLAIMS',
    );
  });
  it('rejects an approval of another deployment posted to this one', async () => {
    const id = await pending();
    const other = await pending();
    const jws = await alice.signApproval(await alice.approvalClaims(server.url, other));
    await expectCode(alice.postDecision(server.url, id, jws), 422, 'ERR_APPROVAL_CLAIMS');
  });
  it('rejects a note longer than 500 characters or not a string', async () => {
    const id = await pending();
    await expectCode(
      alice.decide(server.url, id, { note: 'n'.repeat(501) }),
      422,
      'ERR_APPROVAL_CLAIMS',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { note: 5 } }),
      422,
      'ERR_APPROVAL_CLAIMS',
    );
  });
});

describe('5.4 row 6: iat, exp and lifetime', () => {
  it('rejects iat more than 60 s ahead', async () => {
    const id = await pending();
    const iat = alice.nowS() + 61;
    await expectCode(
      alice.decide(server.url, id, { overrides: { iat, exp: iat + 100 } }),
      422,
      'ERR_APPROVAL_EXPIRED',
    );
  });
  it('rejects an expired approval', async () => {
    const id = await pending();
    const iat = alice.nowS() - 200;
    await expectCode(
      alice.decide(server.url, id, { overrides: { iat, exp: iat + 200 } }),
      422,
      'ERR_APPROVAL_EXPIRED',
    );
  });
  it('rejects exp - iat over 300 s', async () => {
    const id = await pending();
    const iat = alice.nowS();
    await expectCode(
      alice.decide(server.url, id, { overrides: { iat, exp: iat + 301 } }),
      422,
      'ERR_APPROVAL_EXPIRED',
    );
  });
  it('rejects iat or exp that are not numbers', async () => {
    const id = await pending();
    await expectCode(
      alice.decide(server.url, id, { overrides: { iat: String(alice.nowS()) } }),
      422,
      'ERR_APPROVAL_EXPIRED',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { exp: undefined } }),
      422,
      'ERR_APPROVAL_EXPIRED',
    );
  });
});

describe('5.4 row 7: jti not used before', () => {
  it('rejects the same approval posted twice', async () => {
    const id = await pending({ requiredApprovals: 2 });
    const body = await alice.signedDecision(server.url, id);
    expect((await alice.post(server.url, id, body)).status).toBe(200);
    await expectCode(alice.post(server.url, id, body), 422, 'ERR_APPROVAL_REPLAY');
  });
  it('rejects a jti already used on another deployment', async () => {
    const first = await pending();
    const ok = await alice.decide(server.url, first, { overrides: { jti: 'reused-jti-1' } });
    expect(ok.status).toBe(200);
    const second = await pending();
    await expectCode(
      bob.decide(server.url, second, { overrides: { jti: 'reused-jti-1' } }),
      422,
      'ERR_APPROVAL_REPLAY',
    );
  });
  it('treats a jti named __proto__ as plain data: the replay is caught', async () => {
    const id = await pending({ requiredApprovals: 2 });
    const body = await alice.signedDecision(server.url, id, { overrides: { jti: '__proto__' } });
    expect((await alice.post(server.url, id, body)).status).toBe(200);
    await expectCode(alice.post(server.url, id, body), 422, 'ERR_APPROVAL_REPLAY');
  });
  it('rejects an approval without a jti', async () => {
    const id = await pending();
    await expectCode(
      alice.decide(server.url, id, { overrides: { jti: undefined } }),
      422,
      'ERR_APPROVAL_REPLAY',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { jti: 7 } }),
      422,
      'ERR_APPROVAL_REPLAY',
    );
  });
});

describe('5.4 row 8: the deployment is pending', () => {
  it('rejects an approval for a superseded deployment', async () => {
    const { token } = await server.addInstance(`instance-${++instanceNo}`);
    const old = await server.propose(token, base, target);
    const claims = await alice.approvalClaims(server.url, old.id);
    await server.propose(token, base, target.slice(0, -1));
    await expectCode(
      alice.postDecision(server.url, old.id, await alice.signApproval(claims)),
      409,
      'ERR_DEPLOYMENT_NOT_PENDING',
    );
  });
  it('rejects an approval for a deployment past its expiry', async () => {
    const id = await pending({ expiresIn: '1m' });
    clock.advance(61_000);
    try {
      await expectCode(alice.decide(server.url, id), 409, 'ERR_DEPLOYMENT_NOT_PENDING');
      expect((await alice.deployment(server.url, id)).status).toBe('expired');
    } finally {
      clock.advance(1000);
    }
  });
  it('rejects an approval for a deployment already rejected', async () => {
    const id = await pending();
    expect((await bob.decide(server.url, id, { verdict: 'reject' })).body).toMatchObject({
      status: 'rejected',
    });
    await expectCode(alice.decide(server.url, id), 409, 'ERR_DEPLOYMENT_NOT_PENDING');
  });
  it('answers an unknown deployment with 404', async () => {
    await expectCode(alice.postDecision(server.url, 'ffffffffffff', 'x.y.z'), 404, 'ERR_NOT_FOUND');
  });
});

describe('5.4 row 9: base, target and creds', () => {
  it('rejects another base, target or creds', async () => {
    const id = await pending({}, { creds: 'c'.repeat(64) });
    await expectCode(
      alice.decide(server.url, id, { overrides: { base: 'a'.repeat(64) } }),
      422,
      'ERR_APPROVAL_MISMATCH',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { target: 'b'.repeat(64) } }),
      422,
      'ERR_APPROVAL_MISMATCH',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { creds: null } }),
      422,
      'ERR_APPROVAL_MISMATCH',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { creds: 'd'.repeat(64) } }),
      422,
      'ERR_APPROVAL_MISMATCH',
    );
    expect((await alice.decide(server.url, id)).status).toBe(200);
  });
});

describe('5.4 row 10: the decision map beside the JWS and its digest', () => {
  it('rejects a decision map that leaves a change out, even when the digest matches it', async () => {
    const id = await pending();
    const { changes } = await alice.approval(server.url, id);
    delete changes[Object.keys(changes)[0]!];
    await expectCode(
      alice.decide(server.url, id, { changes, verdict: 'approve' }),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
  });
  it('rejects a decision map with a change the deployment does not have', async () => {
    const id = await pending();
    const { changes } = await alice.approval(server.url, id);
    await expectCode(
      alice.decide(server.url, id, {
        changes: { ...changes, 'node:not-there': 'approve' },
        verdict: 'approve',
      }),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
  });
  it('rejects changes that are not an object of verdicts, or missing', async () => {
    const id = await pending();
    await expectCode(
      alice.decide(server.url, id, { sentChanges: ['all'] }),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
    const { changes } = await alice.approval(server.url, id);
    const yes = Object.fromEntries(Object.keys(changes).map((k) => [k, 'yes']));
    await expectCode(
      alice.decide(server.url, id, { sentChanges: yes }),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
    await expectCode(
      alice.decide(server.url, id, { sentChanges: undefined }),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
  });
  it('rejects a complete decision map whose digest is not the signed decisions claim', async () => {
    const id = await pending({ requiredApprovals: 2 });
    const { changes } = await alice.approval(server.url, id);
    const first = Object.keys(changes)[0]!;
    // Signed: one change rejected (a rejection). Sent: every change approved.
    const signedMap = { ...changes, [first]: 'reject' as const };
    await expectCode(
      alice.decide(server.url, id, { changes: signedMap, verdict: 'reject', sentChanges: changes }),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { decisions: undefined } }),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { decisions: 'A'.repeat(43) } }),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
    expect((await alice.decide(server.url, id)).body).toMatchObject({ status: 'pending' });
  });
});

describe('5.4 row 11: verdict consistent with the changes', () => {
  it('rejects approve when a change is rejected, and reject when all are approved', async () => {
    const id = await pending(
      {},
      {
        targetFlows: [
          ...target,
          { id: 'extra-comment', type: 'comment', z: target[0]!.z ?? target[0]!.id, x: 1, y: 1 },
        ],
      },
    );
    const ids = Object.keys((await alice.approval(server.url, id)).changes);
    expect(ids.length).toBeGreaterThan(1);
    const mixed = Object.fromEntries(
      ids.map((k, i) => [k, i === 0 ? 'reject' : 'approve']),
    ) as Record<string, 'approve' | 'reject'>;
    await expectCode(
      alice.decide(server.url, id, { changes: mixed, verdict: 'approve' }),
      422,
      'ERR_APPROVAL_INCONSISTENT',
    );
    await expectCode(
      alice.decide(server.url, id, {
        verdict: 'reject',
        changes: Object.fromEntries(ids.map((k) => [k, 'approve'])) as Record<string, 'approve'>,
      }),
      422,
      'ERR_APPROVAL_INCONSISTENT',
    );
    await expectCode(
      alice.decide(server.url, id, { overrides: { verdict: 'maybe' } }),
      422,
      'ERR_APPROVAL_INCONSISTENT',
    );
    expect(
      (await alice.decide(server.url, id, { changes: mixed, verdict: 'reject' })).body,
    ).toMatchObject({ status: 'rejected' });
  });
});

describe('5.4 row 11 with no change at all', () => {
  it('accepts either verdict when base and target differ only in order', async () => {
    const reordered = [...base].reverse();
    const rejectable = await pending({}, { targetFlows: reordered });
    expect((await alice.deployment(server.url, rejectable)).changes).toEqual([]);
    expect(
      (await alice.decide(server.url, rejectable, { verdict: 'reject', changes: {} })).body,
    ).toMatchObject({ status: 'rejected' });
    const approvable = await pending({}, { targetFlows: reordered });
    expect((await alice.decide(server.url, approvable, { changes: {} })).body).toMatchObject({
      status: 'approved',
    });
  });
});

describe('5.4 row 12: one decision per device', () => {
  it('rejects a second decision from the same device', async () => {
    const id = await pending({ requiredApprovals: 2 });
    expect((await alice.decide(server.url, id)).body).toMatchObject({ status: 'pending' });
    await expectCode(alice.decide(server.url, id), 409, 'ERR_APPROVAL_DUPLICATE');
    expect((await bob.decide(server.url, id)).body).toMatchObject({ status: 'approved' });
  });
});

describe('5.4 row 13: self-approval', () => {
  it("rejects the deploying user's own device when forbidSelfApproval is set", async () => {
    const id = await pending({ forbidSelfApproval: true }, { user: 'alice' });
    await expectCode(alice.decide(server.url, id), 403, 'ERR_SELF_APPROVAL');
    expect((await bob.decide(server.url, id)).body).toMatchObject({ status: 'approved' });
  });
  it('accepts it when the policy allows self-approval', async () => {
    const id = await pending({ forbidSelfApproval: false }, { user: 'alice' });
    expect((await alice.decide(server.url, id)).body).toMatchObject({ status: 'approved' });
  });
});

describe('5.4 order and outcome', () => {
  it('answers the first failing row: an expired approval for a deployment no longer pending is EXPIRED', async () => {
    const id = await pending();
    expect((await bob.decide(server.url, id, { verdict: 'reject' })).status).toBe(200);
    const iat = alice.nowS() - 400;
    await expectCode(
      alice.decide(server.url, id, { overrides: { iat, exp: iat + 60 } }),
      422,
      'ERR_APPROVAL_EXPIRED',
    );
  });
  it('answers a wrong-typed claim at its own row: sub as a number fails row 5 even with a bad base', async () => {
    const id = await pending();
    await expectCode(
      alice.decide(server.url, id, { overrides: { sub: 1, base: 'x' } }),
      422,
      'ERR_APPROVAL_CLAIMS',
    );
  });
  it('approves once distinct devices reach requiredApprovals, and keeps every accepted JWS', async () => {
    const id = await pending({ requiredApprovals: 3 });
    expect((await alice.decide(server.url, id)).body).toMatchObject({ status: 'pending' });
    expect((await bob.decide(server.url, id)).body).toMatchObject({ status: 'pending' });
    const last = await carol.decide(server.url, id);
    expect(last.body).toMatchObject({ status: 'approved' });
    expect((last.body as { approvals: unknown[] }).approvals).toHaveLength(3);
    const { token } = await server.addInstance(`instance-${instanceNo}`);
    const plugin = (await (
      await server.pluginFetch(token, 'GET', `${API_PREFIX}/deployments/${id}`)
    ).json()) as { approvals: Array<{ jws: string }> };
    expect(plugin.approvals.map((a) => a.jws.split('.').length)).toEqual([3, 3, 3]);
    const audit = (
      await alice.call<{ entries: Array<{ type: string; data: { jws?: string } }> }>(
        server.url,
        'GET',
        `${API_PREFIX}/audit`,
      )
    ).body;
    const jwsInAudit = audit.entries.filter((e) => e.type === 'decision').map((e) => e.data.jws);
    for (const a of plugin.approvals) expect(jwsInAudit).toContain(a.jws);
  });
  it('hides the JWS from devices and shows it to the plugin', async () => {
    const id = await pending();
    await alice.decide(server.url, id);
    const detail = await alice.deployment(server.url, id);
    expect(detail.approvals[0]).not.toHaveProperty('jws');
    expect(detail.approvals[0]).toMatchObject({ device: alice.id, verdict: 'approve' });
  });
});
