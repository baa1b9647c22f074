/**
 * DESIGN 5.4 beside the rows: the decision map travels beside the JWS (body `{jws, changes}`, up to
 * 8 MiB), the approval carries only its digest and stays under 2 KiB whatever the number of changes,
 * the server keeps and audits each accepted JWS with its map and note, quorum counts people (owners)
 * not devices, `GET /keys` names each key's owner, and a proposal whose credentials digest and
 * field names disagree is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  MAX_DECISION_BODY_BYTES,
  decisionsDigest,
  type Flows,
} from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { TestClock, startTestServer, type TestServer } from '../helpers/server.js';

const clock = new TestClock(Date.UTC(2026, 10, 29, 9, 0, 0));
let server: TestServer;
let alice: TestDevice;
let alicesTablet: TestDevice;
let bob: TestDevice;
let n = 0;

/** A tab with `count` inject nodes, each named after `variant`. */
function injects(count: number, variant: string): Flows {
  return [
    { id: 'tab', type: 'tab', label: 'Main' },
    ...Array.from({ length: count }, (_, i) => ({
      id: `inject-${i}`,
      type: 'inject',
      z: 'tab',
      name: `${variant} ${i}`,
      x: 100,
      y: 40 + i * 40,
      wires: [],
    })),
  ];
}

async function pending(
  count: number,
  policy: Parameters<TestServer['addInstance']>[1] = {},
): Promise<{ id: string; token: string }> {
  const { token } = await server.addInstance(`decisions-${++n}`, policy);
  const { id } = await server.propose(token, injects(count, 'before'), injects(count, 'after'));
  return { id, token };
}

type PluginDetail = {
  status: string;
  approvals: Array<{ device: string; jws: string; changes: Record<string, string> }>;
};

async function pluginDetail(token: string, id: string): Promise<PluginDetail> {
  const res = await server.pluginFetch(token, 'GET', `${API_PREFIX}/deployments/${id}`);
  return (await res.json()) as PluginDetail;
}

beforeAll(async () => {
  server = await startTestServer({ clock });
  alice = await server.enrollDevice({ owner: 'alice', name: "alice's phone" });
  alicesTablet = await server.enrollDevice({ owner: 'alice', name: "alice's tablet" });
  bob = await server.enrollDevice({ owner: 'bob' });
});

afterAll(async () => {
  await server?.close();
});

describe('the decision map beside the JWS', () => {
  it('approves a 2,000-change deployment with an approval under 2 KiB', async () => {
    const { id, token } = await pending(2000);
    const detail = await alice.deployment(server.url, id);
    expect(detail.changes).toHaveLength(2000);
    const body = await alice.signedDecision(server.url, id, { note: 'n'.repeat(500) });
    expect(body.jws.length).toBeLessThan(2048);
    const answer = await alice.post(server.url, id, body);
    expect(answer.body).toMatchObject({ status: 'approved' });
    // The plugin gets the JWS and the map it digests.
    const [approval] = (await pluginDetail(token, id)).approvals;
    expect(approval!.jws).toBe(body.jws);
    expect(Object.keys(approval!.changes)).toHaveLength(2000);
    const claims = JSON.parse(Buffer.from(approval!.jws.split('.')[1]!, 'base64url').toString());
    expect(claims).not.toHaveProperty('changes');
    expect(claims.decisions).toBe(
      await decisionsDigest(approval!.changes as Record<string, 'approve'>),
    );
  });

  it('reads a decision body of up to 8 MiB and refuses a larger one with 413', async () => {
    const { id } = await pending(3);
    const body = await alice.signedDecision(server.url, id);
    // Padding that keeps the body valid JSON: a field beside jws and changes is ignored.
    const near = { ...body, pad: 'x'.repeat(MAX_DECISION_BODY_BYTES - 100_000) };
    const accepted = await alice.call(
      server.url,
      'POST',
      `${API_PREFIX}/deployments/${id}/decision`,
      near,
    );
    expect(accepted.body).toMatchObject({ status: 'approved' });
    const { id: other } = await pending(3);
    const over = {
      ...(await alice.signedDecision(server.url, other)),
      pad: 'x'.repeat(MAX_DECISION_BODY_BYTES),
    };
    const refused = await alice.call(
      server.url,
      'POST',
      `${API_PREFIX}/deployments/${other}/decision`,
      over,
    );
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
  });

  it('keeps each accepted JWS with its map and writes both, and the note, to the audit log', async () => {
    const { id, token } = await pending(3, { requiredApprovals: 2 });
    const detail = await alice.deployment(server.url, id);
    const rejectOne = Object.fromEntries(
      detail.changes.map((c, i) => [c.id, i === 0 ? 'reject' : 'approve']),
    ) as Record<string, 'approve' | 'reject'>;
    const aliceBody = await alice.signedDecision(server.url, id);
    expect((await alice.post(server.url, id, aliceBody)).body).toMatchObject({ status: 'pending' });
    const bobBody = await bob.signedDecision(server.url, id, {
      changes: rejectOne,
      note: 'not the first one',
    });
    expect((await bob.post(server.url, id, bobBody)).body).toMatchObject({ status: 'rejected' });

    const kept = (await pluginDetail(token, id)).approvals;
    expect(kept.map((a) => [a.device, a.jws, a.changes])).toEqual([
      [alice.id, aliceBody.jws, aliceBody.changes],
      [bob.id, bobBody.jws, rejectOne],
    ]);
    const audit = (
      await alice.call<{ entries: Array<{ type: string; data: Record<string, unknown> }> }>(
        server.url,
        'GET',
        `${API_PREFIX}/audit`,
      )
    ).body.entries.filter((e) => e.type === 'decision' && e.data.deployment === id);
    expect(audit.map((e) => e.data)).toEqual([
      expect.objectContaining({ device: alice.id, jws: aliceBody.jws, changes: aliceBody.changes }),
      expect.objectContaining({
        device: bob.id,
        verdict: 'reject',
        jws: bobBody.jws,
        changes: rejectOne,
        note: 'not the first one',
      }),
    ]);
    expect(audit[0]!.data.note).toBeNull();
    expect((await server.ctx.store.verifyAudit()).ok).toBe(true);
  });
});

describe('quorum counts people, not devices', () => {
  it('does not approve with two phones of the same owner, and does with a second person', async () => {
    const { id } = await pending(2, { requiredApprovals: 2 });
    expect((await alice.decide(server.url, id)).body).toMatchObject({ status: 'pending' });
    expect((await alicesTablet.decide(server.url, id)).body).toMatchObject({ status: 'pending' });
    expect((await bob.decide(server.url, id)).body).toMatchObject({ status: 'approved' });
  });

  it('publishes each key with its owner in GET /keys', async () => {
    const { token } = await pending(1);
    const { keys } = (await (
      await server.pluginFetch(token, 'GET', `${API_PREFIX}/keys`)
    ).json()) as { keys: Array<{ kid: string; owner: string }> };
    const owners = Object.fromEntries(keys.map((k) => [k.kid, k.owner]));
    expect(owners[alice.id]).toBe('alice');
    expect(owners[alicesTablet.id]).toBe('alice');
    expect(owners[bob.id]).toBe('bob');
  });
});

describe('proposals: the credentials digest and the field names agree', () => {
  it('refuses a digest without field names, and field names without a digest', async () => {
    const { token } = await server.addInstance(`decisions-${++n}`);
    const base = await server.uploadBlob(token, injects(1, 'a'));
    const target = await server.uploadBlob(token, injects(1, 'b'));
    const propose = (creds: string | null, credentials: Record<string, string[]>) =>
      server.pluginFetch(token, 'POST', `${API_PREFIX}/deployments`, {
        base,
        target,
        creds,
        credentials,
        type: 'full',
        source: { user: 'dave', via: 'editor' },
      });
    const disagreeing: Array<[string | null, Record<string, string[]>]> = [
      ['c'.repeat(64), {}],
      ['c'.repeat(64), { 'inject-0': [] }],
      [null, { 'inject-0': ['password'] }],
    ];
    for (const [creds, credentials] of disagreeing) {
      const res = await propose(creds, credentials);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    }
    expect((await propose('c'.repeat(64), { 'inject-0': ['password'] })).status).toBe(201);
    expect((await propose(null, {})).status).toBe(201);
  });
});
