/**
 * DESIGN.md 5.4 from an independent client: every row of the approval table, in order (a JWS that
 * fails several checks is answered with the first), replays across deployments and across a
 * restart of the server on the same data directory, quorum and self-approval.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Device,
  decisionMap,
  decisionsDigest,
  enrolled,
  flows,
  instance,
  randomJti,
  startTarget,
  stopTarget,
  unsafeJws,
  without,
  type ApprovalClaims,
  type Plugin,
  type Reply,
  type Target,
} from './client.js';
import { expectError } from './expect-error.js';

let t: Target;
let plugin: Plugin;
let alice: Device;
let bob: Device;
let revoked: Device;
let round = 0;

beforeAll(async () => {
  t = await startTarget();
  plugin = await instance(t, 'line-1');
  alice = await enrolled(t, { owner: 'alice' });
  bob = await enrolled(t, { owner: 'bob' });
  revoked = await enrolled(t, { owner: 'eve' });
  expect((await alice.request(t, 'POST', `/devices/${revoked.id}/revoke`)).status).toBe(200);
});

afterAll(async () => {
  await stopTarget(t);
});

type Detail = {
  id: string;
  base: string;
  target: string;
  creds: string | null;
  changes: { id: string }[];
};

/** A new pending deployment of `on` (each one supersedes that instance's older pending one). */
async function pending(on: Plugin = plugin, user = 'nobody'): Promise<Detail> {
  round += 1;
  const { id } = await on.propose(flows(`base-${round}`), flows(`target-${round}`), { user });
  const detail = await alice.request(t, 'GET', `/deployments/${id}`);
  expect(detail.status).toBe(200);
  expect(detail.body.changes.length).toBeGreaterThan(1);
  return detail.body;
}

describe('decision endpoint (5.4, 5.7)', () => {
  it('accepts an honest approval and answers {status, approvals}', async () => {
    const d = await pending();
    const { reply } = await alice.review(t, d.id);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'approved',
      approvals: [
        expect.objectContaining({ device: alice.id, verdict: 'approve', at: expect.any(String) }),
      ],
    });
    const detail = await bob.request(t, 'GET', `/deployments/${d.id}`);
    expect(detail.body.status).toBe('approved');
    // the device view lists {device, verdict, at}; the JWS is for the plugin (5.7)
    expect(Object.keys(detail.body.approvals[0]).sort()).toEqual(['at', 'device', 'verdict']);
    expect(detail.body.approvals).toEqual([
      expect.objectContaining({ device: alice.id, verdict: 'approve', at: expect.any(String) }),
    ]);
  });

  it('rejects the deployment on a reject verdict, with a note of 500 characters', async () => {
    const d = await pending();
    const claims = { ...alice.approvalClaims(t, d, 'reject'), note: 'n'.repeat(500) };
    const reply = await alice.decide(t, d.id, await alice.sign(claims));
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('rejected');
  });
});

describe('each row of the 5.4 table', () => {
  it('row 1: refuses what is not a compact JWS of at most 64 KiB (ERR_APPROVAL_MALFORMED)', async () => {
    const d = await pending();
    for (const jws of ['', 'abc', 'a.b', 'a.b.c.d', '!!!.???.***']) {
      expectError(await alice.decide(t, d.id, jws), 400, 'ERR_APPROVAL_MALFORMED');
    }
    const big = await alice.sign({ ...alice.approvalClaims(t, d), pad: 'x'.repeat(66 * 1024) });
    expectError(await alice.decide(t, d.id, big), 400, 'ERR_APPROVAL_MALFORMED');
  });

  it('row 2: pins alg ES256 and typ countersign-approval+jwt (ERR_APPROVAL_HEADER)', async () => {
    const d = await pending();
    const claims = alice.approvalClaims(t, d);
    const header = { alg: 'ES256', typ: 'countersign-approval+jwt', kid: alice.id };
    const forged = [
      unsafeJws({ ...header, alg: 'none' }, claims),
      unsafeJws({ ...header, alg: 'HS256' }, claims, new TextEncoder().encode(alice.id)),
      await alice.sign(claims, { header: { typ: 'JWT' } }),
      await alice.sign(claims, { header: { typ: 'countersign-enroll+jwt' } }),
      await alice.sign(claims, { header: { typ: 'Countersign-Approval+JWT' } }),
      await alice.sign(claims, { header: { typ: undefined } }),
    ];
    for (const jws of forged) {
      expectError(await alice.decide(t, d.id, jws), 422, 'ERR_APPROVAL_HEADER');
    }
  });

  it('row 3: refuses an unknown kid (ERR_DEVICE_UNKNOWN) and a revoked one (ERR_DEVICE_REVOKED)', async () => {
    const d = await pending();
    const stranger = await Device.create();
    const unknown = await stranger.sign(stranger.approvalClaims(t, d));
    expectError(await alice.decide(t, d.id, unknown), 422, 'ERR_DEVICE_UNKNOWN');
    for (const kid of [undefined, 5, '', 'x'.repeat(43)]) {
      const jws = await alice.sign(alice.approvalClaims(t, d), { header: { kid } });
      const reply = await alice.decide(t, d.id, jws);
      expect(reply.status).toBe(422);
      expect(['ERR_DEVICE_UNKNOWN', 'ERR_APPROVAL_HEADER']).toContain(reply.body.code);
    }
    const byRevoked = await revoked.sign(revoked.approvalClaims(t, d));
    expectError(await alice.decide(t, d.id, byRevoked), 403, 'ERR_DEVICE_REVOKED');
  });

  it('row 4: refuses a JWS whose header names one device and whose key is another (ERR_APPROVAL_SIGNATURE)', async () => {
    const d = await pending();
    const claims = alice.approvalClaims(t, d);
    const forged = await alice.sign(claims, { signWith: bob });
    expectError(await alice.decide(t, d.id, forged), 422, 'ERR_APPROVAL_SIGNATURE');
    // an embedded key in the header changes nothing: only the registered key counts
    const withJwk = await alice.sign(claims, { signWith: bob, header: { jwk: bob.publicJwk } });
    expectError(await bob.decide(t, d.id, withJwk), 422, 'ERR_APPROVAL_SIGNATURE');
    // a valid signature over other claims, spliced onto these claims
    const good = await alice.sign(claims);
    const other = await alice.sign({ ...claims, verdict: 'reject' });
    const [h, , s] = good.split('.');
    const spliced = `${h}.${other.split('.')[1]}.${s}`;
    expectError(await alice.decide(t, d.id, spliced), 422, 'ERR_APPROVAL_SIGNATURE');
  });

  it('row 5: checks iss, aud, sub and the note length (ERR_APPROVAL_CLAIMS)', async () => {
    const d = await pending();
    const claims = alice.approvalClaims(t, d);
    const bad: ApprovalClaims[] = [
      { ...claims, iss: bob.id },
      { ...claims, aud: 'another-server' },
      { ...claims, aud: [t.serverId] },
      { ...claims, sub: 'aaaaaaaaaaaa' },
      { ...claims, note: 'n'.repeat(501) },
    ];
    for (const c of bad) {
      expectError(await alice.decide(t, d.id, await alice.sign(c)), 422, 'ERR_APPROVAL_CLAIMS');
    }
    expectError(
      await alice.decide(t, d.id, await alice.sign(without(claims, 'iss'))),
      422,
      'ERR_APPROVAL_CLAIMS',
    );
  });

  it('row 6: checks iat, exp and the 300 s lifetime (ERR_APPROVAL_EXPIRED)', async () => {
    const d = await pending();
    const now = Math.floor(Date.now() / 1000);
    const claims = alice.approvalClaims(t, d);
    const bad: ApprovalClaims[] = [
      { ...claims, iat: now + 120, exp: now + 200 },
      { ...claims, iat: now - 200, exp: now - 1 },
      { ...claims, iat: now, exp: now + 301 },
      { ...claims, iat: now - 10, exp: now - 5 },
    ];
    for (const c of bad) {
      expectError(await alice.decide(t, d.id, await alice.sign(c)), 422, 'ERR_APPROVAL_EXPIRED');
    }
    // an iat in the past is fine while exp is ahead and the lifetime is at most 300 s
    const ok = await alice.decide(
      t,
      d.id,
      await alice.sign({ ...claims, iat: now - 200, exp: now + 100 }),
    );
    expect(ok.status).toBe(200);
  });

  it('row 7: refuses a jti used before, also on another deployment (ERR_APPROVAL_REPLAY)', async () => {
    const first = await pending();
    const { jws } = await alice.review(t, first.id);
    expectError(await alice.decide(t, first.id, jws), 422, 'ERR_APPROVAL_REPLAY');
    const jti = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).jti;
    const second = await pending();
    const again = await alice.sign({ ...alice.approvalClaims(t, second), jti });
    expectError(await alice.decide(t, second.id, again), 422, 'ERR_APPROVAL_REPLAY');
    const byBob = await bob.sign({ ...bob.approvalClaims(t, second), jti });
    expectError(await bob.decide(t, second.id, byBob), 422, 'ERR_APPROVAL_REPLAY');
    // the first approval, carried to the second deployment, names the first one
    expectError(await alice.decide(t, second.id, jws), 422, 'ERR_APPROVAL_CLAIMS');
  });

  it('row 8: refuses a decision on a deployment that is no longer pending (ERR_DEPLOYMENT_NOT_PENDING)', async () => {
    const old = await pending();
    await pending(); // supersedes it
    const reply = await alice.decide(t, old.id, await alice.sign(alice.approvalClaims(t, old)));
    expectError(reply, 409, 'ERR_DEPLOYMENT_NOT_PENDING');
  });

  it('row 9: binds base, target and creds (ERR_APPROVAL_MISMATCH)', async () => {
    const d = await pending();
    const claims = alice.approvalClaims(t, d);
    const bad: ApprovalClaims[] = [
      { ...claims, base: d.target },
      { ...claims, target: d.base },
      { ...claims, creds: 'a'.repeat(64) },
    ];
    for (const c of bad) {
      expectError(await alice.decide(t, d.id, await alice.sign(c)), 422, 'ERR_APPROVAL_MISMATCH');
    }
    expectError(
      await alice.decide(t, d.id, await alice.sign(without(claims, 'creds'))),
      422,
      'ERR_APPROVAL_MISMATCH',
    );
  });

  it('row 9: binds the credentials digest when the deployment sets credentials', async () => {
    round += 1;
    const creds = 'c'.repeat(64);
    const { id } = await plugin.propose(flows(`base-${round}`), flows(`target-${round}`), {
      creds,
      credentials: { n0: ['password'] },
    });
    const d = (await alice.request(t, 'GET', `/deployments/${id}`)).body;
    expect(d).toMatchObject({ creds, credentials: { n0: ['password'] } });
    expect(JSON.stringify(d)).not.toMatch(/"password":"/);
    const claims = alice.approvalClaims(t, d);
    for (const c of [
      { ...claims, creds: null },
      { ...claims, creds: 'd'.repeat(64) },
    ]) {
      expectError(await alice.decide(t, id, await alice.sign(c)), 422, 'ERR_APPROVAL_MISMATCH');
    }
    expect((await alice.decide(t, id, await alice.sign(claims))).body.status).toBe('approved');
  });

  it('row 10: needs exactly the deployment change ids, digested in decisions (ERR_APPROVAL_INCOMPLETE)', async () => {
    const d = await pending();
    const claims = alice.approvalClaims(t, d);
    const changes = decisionMap(d, 'approve');
    const [firstId] = Object.keys(changes);
    const missing = { ...changes };
    delete missing[firstId!];
    // each map signed as its own digest: the digest matches, the ids do not
    for (const map of [missing, { ...changes, 'node:intruder': 'approve' }, {}]) {
      const jws = await alice.sign({
        ...claims,
        jti: randomJti(),
        decisions: decisionsDigest(map),
      });
      expectError(await alice.decide(t, d.id, jws, map), 422, 'ERR_APPROVAL_INCOMPLETE');
    }
    // the right ids, but not the map that was signed (its digest differs)
    const signed = await alice.sign({ ...claims, decisions: decisionsDigest(missing) });
    expectError(await alice.decide(t, d.id, signed, changes), 422, 'ERR_APPROVAL_INCOMPLETE');
    // no map at all, or not a map of verdicts
    const honest = await alice.sign(claims);
    for (const body of [null, [], 'all', { ...changes, [firstId!]: 'yes' }]) {
      expectError(await alice.decide(t, d.id, honest, body), 422, 'ERR_APPROVAL_INCOMPLETE');
    }
    expectError(
      await alice.decide(t, d.id, await alice.sign(without(claims, 'decisions')), changes),
      422,
      'ERR_APPROVAL_INCOMPLETE',
    );
    expect((await alice.decide(t, d.id, honest, changes)).body.status).toBe('approved');
  });

  it('row 11: approve exactly when every change is approved (ERR_APPROVAL_INCONSISTENT)', async () => {
    const d = await pending();
    const claims = alice.approvalClaims(t, d);
    const ids = d.changes.map((c) => c.id);
    const oneRejected = Object.fromEntries(
      ids.map((id, i) => [id, i === 0 ? 'reject' : 'approve']),
    );
    const allApproved = decisionMap(d, 'approve');
    const bad: Array<[ApprovalClaims, Record<string, string>]> = [
      [{ ...claims, verdict: 'approve', decisions: decisionsDigest(oneRejected) }, oneRejected],
      [{ ...claims, verdict: 'reject', decisions: decisionsDigest(allApproved) }, allApproved],
    ];
    for (const [c, map] of bad) {
      expectError(
        await alice.decide(t, d.id, await alice.sign({ ...c, jti: randomJti() }), map),
        422,
        'ERR_APPROVAL_INCONSISTENT',
      );
    }
    // a reject verdict with some changes approved is a rejection
    const mixed = await alice.sign({
      ...claims,
      verdict: 'reject',
      decisions: decisionsDigest(oneRejected),
    });
    const reply = await alice.decide(t, d.id, mixed, oneRejected);
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('rejected');
  });

  it('row 12 and quorum: two distinct devices approve; the same device twice is ERR_APPROVAL_DUPLICATE', async () => {
    const quorum = await instance(t, 'quorum', { requiredApprovals: 2 });
    const d = await pending(quorum);
    const first = await alice.review(t, d.id);
    expect(first.reply.status).toBe(200);
    expect(first.reply.body.status).toBe('pending');
    const again = await alice.sign(alice.approvalClaims(t, d));
    expectError(await alice.decide(t, d.id, again), 409, 'ERR_APPROVAL_DUPLICATE');
    expect((await alice.request(t, 'GET', `/deployments/${d.id}`)).body.status).toBe('pending');
    const second = await bob.review(t, d.id);
    expect(second.reply.status).toBe(200);
    expect(second.reply.body.status).toBe('approved');
    expect(second.reply.body.approvals.map((a: { device: string }) => a.device).sort()).toEqual(
      [alice.id, bob.id].sort(),
    );
  });

  it('row 12: a device that approved cannot then reject', async () => {
    const quorum = await instance(t, 'quorum-2', { requiredApprovals: 2 });
    const d = await pending(quorum);
    expect((await alice.review(t, d.id)).reply.status).toBe(200);
    const reject = await alice.sign(alice.approvalClaims(t, d, 'reject'));
    expectError(await alice.decide(t, d.id, reject), 409, 'ERR_APPROVAL_DUPLICATE');
  });

  it('row 13: with forbidSelfApproval the deploying user cannot approve (ERR_SELF_APPROVAL)', async () => {
    const strict = await instance(t, 'strict', { forbidSelfApproval: true });
    const d = await pending(strict, 'alice');
    const own = await alice.sign(alice.approvalClaims(t, d));
    expectError(await alice.decide(t, d.id, own), 403, 'ERR_SELF_APPROVAL');
    expect((await alice.request(t, 'GET', `/deployments/${d.id}`)).body.status).toBe('pending');
    const { reply } = await bob.review(t, d.id);
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('approved');
  });

  it('answers the first failing row when a JWS fails several', async () => {
    const quorum = await instance(t, 'cascade', { forbidSelfApproval: true, requiredApprovals: 2 });
    const d = await pending(quorum, 'alice');
    // alice approves once, honestly but refused as self-approval; bob's approval counts
    const bobsFirst = await bob.review(t, d.id);
    expect(bobsFirst.reply.body.status).toBe('pending');
    const usedJti = JSON.parse(
      Buffer.from(bobsFirst.jws.split('.')[1]!, 'base64url').toString(),
    ).jti;
    const other = await pending(plugin); // a pending deployment on another instance
    const now = Math.floor(Date.now() / 1000);
    const honest = bob.approvalClaims(t, d);
    const ids = d.changes.map((c) => c.id);
    const mixed = Object.fromEntries(ids.map((id, i) => [id, i === 0 ? 'reject' : 'approve']));
    // Each step breaks one more row, from row 13 back to row 2; bob's JWS goes to the
    // deployment in the URL. The answer must always name the earliest broken row.
    const steps: {
      code: string;
      status: number;
      claims: ApprovalClaims;
      url?: string;
      jws?: (c: ApprovalClaims) => Promise<string>;
      map?: Record<string, string>;
    }[] = [];
    const c: ApprovalClaims = { ...alice.approvalClaims(t, d) };
    const signA = (x: ApprovalClaims) => alice.sign(x);
    steps.push({ code: 'ERR_SELF_APPROVAL', status: 403, claims: c, jws: signA });
    // 12: bob already decided d (and his owner is not alice)
    let b: ApprovalClaims = { ...honest, jti: randomJti() };
    const signB = (x: ApprovalClaims) => bob.sign(x);
    steps.push({ code: 'ERR_APPROVAL_DUPLICATE', status: 409, claims: b, jws: signB });
    b = { ...b, jti: randomJti(), decisions: decisionsDigest(mixed) };
    steps.push({
      code: 'ERR_APPROVAL_INCONSISTENT',
      status: 422,
      claims: b,
      jws: signB,
      map: mixed,
    });
    const extra = { ...mixed, 'node:x': 'approve' };
    b = { ...b, jti: randomJti(), decisions: decisionsDigest(extra) };
    steps.push({ code: 'ERR_APPROVAL_INCOMPLETE', status: 422, claims: b, jws: signB, map: extra });
    b = { ...b, jti: randomJti(), base: d.target };
    steps.push({ code: 'ERR_APPROVAL_MISMATCH', status: 422, claims: b, jws: signB, map: extra });
    for (const step of steps) {
      const jws = await step.jws!(step.claims);
      expectError(
        await (step.jws === signA ? alice : bob).decide(t, d.id, jws, step.map),
        step.status,
        step.code,
      );
    }
    // Rows 8 to 2 need a deployment that is not pending: `d` stays pending, so use `other`'s
    // predecessor, superseded now.
    await pending(plugin);
    const gone = other;
    let g: ApprovalClaims = {
      ...bob.approvalClaims(t, gone),
      base: gone.target,
      decisions: decisionsDigest(mixed),
    };
    const codes: [string, number, ApprovalClaims, (x: ApprovalClaims) => Promise<string>][] = [];
    codes.push(['ERR_DEPLOYMENT_NOT_PENDING', 409, g, signB]);
    g = { ...g, jti: usedJti };
    codes.push(['ERR_APPROVAL_REPLAY', 422, g, signB]);
    g = { ...g, iat: now, exp: now + 301 };
    codes.push(['ERR_APPROVAL_EXPIRED', 422, g, signB]);
    g = { ...g, aud: 'elsewhere' };
    codes.push(['ERR_APPROVAL_CLAIMS', 422, g, signB]);
    codes.push(['ERR_APPROVAL_SIGNATURE', 422, g, (x) => bob.sign(x, { signWith: alice })]);
    const stranger = await Device.create();
    codes.push([
      'ERR_DEVICE_UNKNOWN',
      422,
      g,
      (x) => stranger.sign(x, { signWith: alice, header: { kid: stranger.id } }),
    ]);
    codes.push([
      'ERR_APPROVAL_HEADER',
      422,
      g,
      (x) => stranger.sign(x, { header: { typ: 'JWT' } }),
    ]);
    for (const [code, status, claims, sign] of codes) {
      expectError(await bob.decide(t, gone.id, await sign(claims)), status, code);
    }
  });
});

describe('approvals that must never count', () => {
  it('refuses claims of the wrong type: string times, unknown verdicts and change decisions', async () => {
    const d = await pending();
    const claims = alice.approvalClaims(t, d);
    const now = Math.floor(Date.now() / 1000);
    const ids = d.changes.map((c) => c.id);
    const bad: ApprovalClaims[] = [
      { ...claims, iat: String(now) },
      { ...claims, exp: String(now + 100) },
      without(claims, 'exp'),
      { ...claims, verdict: 'APPROVE' },
      { ...claims, verdict: 'yes' },
      without(claims, 'verdict'),
      { ...claims, decisions: 5 },
      { ...claims, decisions: Object.fromEntries(ids.map((id) => [id, 'approve'])) },
      { ...claims, jti: 5 },
      without(claims, 'jti'),
      { ...claims, note: 5 },
    ];
    const honest = await alice.sign(claims);
    const badMaps = [
      Object.fromEntries(ids.map((id) => [id, 'yes'])),
      Object.fromEntries(ids.map((id) => [id, true])),
      ids,
    ];
    const attempts: Array<Promise<Reply>> = [
      ...bad.map(async (c) => alice.decide(t, d.id, await alice.sign(c))),
      ...badMaps.map((map) => alice.decide(t, d.id, honest, map)),
    ];
    for (const reply of await Promise.all(attempts)) {
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
      expect(reply.body).toEqual({
        code: expect.stringMatching(/^ERR_/),
        message: expect.any(String),
      });
    }
    expect((await alice.request(t, 'GET', `/deployments/${d.id}`)).body).toMatchObject({
      status: 'pending',
      approvals: [],
    });
  });

  it('does not count towards the quorum an approval by a device revoked before the quorum is met', async () => {
    const quorum = await instance(t, 'quorum-revoked', { requiredApprovals: 2 });
    const lost = await enrolled(t, { owner: 'lost' });
    const d = await pending(quorum);
    expect((await lost.review(t, d.id)).reply.body.status).toBe('pending');
    expect((await alice.request(t, 'POST', `/devices/${lost.id}/revoke`)).status).toBe(200);
    const { reply } = await bob.review(t, d.id);
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('pending');
    expect((await alice.review(t, d.id)).reply.body.status).toBe('approved');
  });

  it('rejects at once on one reject verdict, whatever the quorum', async () => {
    const quorum = await instance(t, 'quorum-reject', { requiredApprovals: 2 });
    const d = await pending(quorum);
    expect((await alice.review(t, d.id)).reply.body.status).toBe('pending');
    expect((await bob.review(t, d.id, 'reject')).reply.body.status).toBe('rejected');
  });
});

describe('replays across a restart on the same data directory', () => {
  it('still refuses a used approval and a used proof after the server restarts', async () => {
    const d = await pending();
    const { jws, reply } = await alice.review(t, d.id);
    expect(reply.body.status).toBe('approved');
    const proofUrl = `${t.url}/api/v1/devices`;
    const proof = await alice.proof('GET', proofUrl);
    expect((await fetch(proofUrl, { headers: { dpop: proof } })).status).toBe(200);
    const jti = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).jti;

    const port = t.server.port;
    const serverId = t.serverId;
    await t.server.close();
    t = await startTarget({ dataDir: t.dataDir, port });
    expect(t.serverId).toBe(serverId);
    plugin = await instance(t, 'line-1');

    expectError(await alice.decide(t, d.id, jws), 422, 'ERR_APPROVAL_REPLAY');
    const next = await pending();
    const again = await alice.sign({ ...alice.approvalClaims(t, next), jti });
    expectError(await alice.decide(t, next.id, again), 422, 'ERR_APPROVAL_REPLAY');
    const replayed = await fetch(proofUrl, { headers: { dpop: proof } });
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toEqual({
      code: 'ERR_PROOF_REPLAY',
      message: expect.any(String),
    });
    expect((await alice.review(t, next.id)).reply.body.status).toBe('approved');
  });
});
