/** One writer, no lost write: 100 concurrent proposals and 100 concurrent decisions, then a restart. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, type Flows } from '../../protocol/index.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { TestDevice } from '../helpers/device.js';

const dataDir = mkdtempSync(join(tmpdir(), 'countersign-concurrency-'));
let server: TestServer;
let alice: TestDevice;
let base: Flows;
let target: Flows;
const tokens: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ dataDir });
  alice = await server.enrollDevice({ owner: 'alice' });
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('function__switch__01'))![1]);
  target = base.map((n) => (n.type === 'switch' ? { ...n, name: 'routed' } : n));
  for (let i = 0; i < 100; i++) tokens.push((await server.addInstance(`line-${i}`)).token);
  const baseRev = await server.uploadBlob(tokens[0]!, base);
  expect(baseRev).toMatch(/^[0-9a-f]{64}$/);
});
afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('concurrent writes', () => {
  it('keeps all of 100 concurrent proposals and 100 concurrent decisions across a restart', async () => {
    const proposals = await Promise.all(tokens.map((token) => server.propose(token, base, target)));
    const ids = proposals.map((p) => p.id);
    expect(new Set(ids).size).toBe(100);

    const answers = await Promise.all(ids.map((id) => alice.decide(server.url, id)));
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));

    await server.close();
    server = await startTestServer({ dataDir });
    const store = server.ctx.store;
    const mine = (await store.deployments({})).filter((d) => ids.includes(d.id));
    expect(mine).toHaveLength(100);
    expect(mine.every((d) => d.status === 'approved' && d.approvals.length === 1)).toBe(true);
    // Every approval's jti stays used across the restart.
    const now = Math.floor(Date.now() / 1000);
    const jtis = mine.map(
      (d) =>
        (
          JSON.parse(Buffer.from(d.approvals[0]!.jws.split('.')[1]!, 'base64url').toString()) as {
            jti: string;
          }
        ).jti,
    );
    const used = await Promise.all(jtis.map((jti) => store.approvalJtiUsed(jti, now)));
    expect(used).toEqual(Array(100).fill(true));
  });

  it('supersedes so that exactly one proposal of an instance stays pending under concurrency', async () => {
    const token = tokens[0]!;
    const variants = Array.from({ length: 20 }, (_, i) =>
      target.map((n) => (n.type === 'switch' ? { ...n, name: `v${i}` } : n)),
    );
    const results = await Promise.all(variants.map((v) => server.propose(token, base, v)));
    const ours = await Promise.all(results.map((r) => server.ctx.store.deployment(r.id)));
    expect(ours.filter((d) => d?.status === 'pending')).toHaveLength(1);
    expect(ours.filter((d) => d?.status === 'superseded')).toHaveLength(19);
  });

  it('accepts one of ten concurrent posts of the same approval and answers the rest as replays', async () => {
    const { token } = await server.addInstance('race', { requiredApprovals: 2 });
    const { id } = await server.propose(token, base, target);
    const body = await alice.signedDecision(server.url, id);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => alice.post(server.url, id, body)),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(
      answers.filter((a) => (a.body as { code?: string }).code === 'ERR_APPROVAL_REPLAY'),
    ).toHaveLength(9);
    const detail = await alice.call<{ approvals: unknown[] }>(
      server.url,
      'GET',
      `${API_PREFIX}/deployments/${id}`,
    );
    expect(detail.body.approvals).toHaveLength(1);
  });
});
