/**
 * Single use under concurrency, from an independent client: one invitation code, one DPoP proof,
 * one approval `jti` and one vote per device hold even when the same request arrives many times
 * at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API,
  Device,
  call,
  enrolled,
  flows,
  instance,
  randomJti,
  startTarget,
  stopTarget,
  type Plugin,
  type Target,
} from './client.js';

let t: Target;
let plugin: Plugin;
let alice: Device;
let bob: Device;

beforeAll(async () => {
  t = await startTarget();
  plugin = await instance(t, 'line-1');
  alice = await enrolled(t, { owner: 'alice' });
  bob = await enrolled(t, { owner: 'bob' });
});

afterAll(async () => {
  await stopTarget(t);
});

const count = (statuses: number[], status: number): number =>
  statuses.filter((s) => s === status).length;

describe('single use under concurrency', () => {
  it('enrols exactly one of many devices racing on one invitation code', async () => {
    const { code } = await t.server.invite({ owner: 'race', name: 'phone' });
    const devices = await Promise.all(Array.from({ length: 4 }, () => Device.create()));
    const replies = await Promise.all(devices.map((d) => d.enroll(t, code)));
    const statuses = replies.map((r) => r.status);
    expect(count(statuses, 201)).toBe(1);
    expect(count(statuses, 403)).toBe(3);
  });

  it('accepts one DPoP proof once, however many copies arrive together', async () => {
    const url = `${t.url}${API}/devices`;
    const proof = await alice.proof('GET', url);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => call(url, { headers: { dpop: proof } })),
    );
    const statuses = replies.map((r) => r.status);
    expect(count(statuses, 200)).toBe(1);
    expect(count(statuses, 401)).toBe(5);
    for (const r of replies.filter((x) => x.status === 401)) {
      expect(r.body.code).toBe('ERR_PROOF_REPLAY');
    }
  });

  it('accepts one approval JWS once when it is posted many times at once', async () => {
    const { id } = await plugin.propose(flows('r1'), flows('r2'));
    const detail = (await alice.request(t, 'GET', `/deployments/${id}`)).body;
    const jws = await alice.sign(alice.approvalClaims(t, detail));
    const replies = await Promise.all(Array.from({ length: 5 }, () => alice.decide(t, id, jws)));
    const statuses = replies.map((r) => r.status);
    expect(count(statuses, 200)).toBe(1);
    for (const r of replies.filter((x) => x.status !== 200)) {
      expect(['ERR_APPROVAL_REPLAY', 'ERR_DEPLOYMENT_NOT_PENDING']).toContain(r.body.code);
    }
    const after = (await bob.request(t, 'GET', `/deployments/${id}`)).body;
    expect(after.approvals).toHaveLength(1);
  });

  it('counts one vote per device when it sends several approvals at once', async () => {
    const quorum = await instance(t, 'quorum', { requiredApprovals: 2 });
    const { id } = await quorum.propose(flows('q1'), flows('q2'));
    const detail = (await alice.request(t, 'GET', `/deployments/${id}`)).body;
    const jwss = await Promise.all(
      Array.from({ length: 4 }, () =>
        alice.sign({ ...alice.approvalClaims(t, detail), jti: randomJti() }),
      ),
    );
    const replies = await Promise.all(jwss.map((jws) => alice.decide(t, id, jws)));
    const statuses = replies.map((r) => r.status);
    expect(count(statuses, 200)).toBe(1);
    expect(count(statuses, 409)).toBe(3);
    const after = (await bob.request(t, 'GET', `/deployments/${id}`)).body;
    expect(after.status).toBe('pending');
    expect(after.approvals).toHaveLength(1);
    expect((await bob.review(t, id)).reply.body.status).toBe('approved');
  });
});
