/**
 * A deployment held (and approved) while Node-RED stopped is not lost: its full request was in
 * memory only, so at the next start the gate re-proposes the flows it kept on disk, says in the log
 * that the credentials it set are dropped, and reports the old deployment failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_PREFIX, revOf } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, startNodeRedProcess, type RunningNodeRed } from '../helpers/node-red.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { postFlows } from './deploy.js';
import { endpointFlows, waitForAnswer } from './flows-fixture.js';

let server: TestServer;
let token: string;
let alice: TestDevice;
let nr: RunningNodeRed;
let heldId: string;
const userDir = mkdtempSync(join(tmpdir(), 'countersign-restart-'));
const flowsB = endpointFlows('B').map((n) =>
  n.id === 'tab-main-req' ? { ...n, credentials: { user: 'bob', password: 'secret-B' } } : n,
);

async function detail(
  id: string,
): Promise<{ status: string; target: string; creds: string | null; source: { via: string } }> {
  const res = await server.pluginFetch(token, 'GET', `${API_PREFIX}/deployments/${id}`);
  return (await res.json()) as {
    status: string;
    target: string;
    creds: string | null;
    source: { via: string };
  };
}

beforeAll(async () => {
  server = await startTestServer();
  ({ token } = await server.addInstance('line-1'));
  alice = await server.enrollDevice({ owner: 'alice' });
  const countersign = { server: server.url, instanceToken: token };

  const first = await startNodeRedProcess({
    userDir,
    flows: endpointFlows('A'),
    credentials: { 'tab-main-req': { user: 'alice', password: 'secret-A' } },
    countersign,
  });
  try {
    await waitForAnswer(first.nodeUrl, 'A');
    const res = await postFlows(first, flowsB);
    expect(res.status).toBe(423);
    heldId = /Deployment ([0-9a-f]{12})/.exec(await res.text())![1]!;
  } finally {
    await first.kill(); // a crash: the held request in memory is gone
  }
  // Approved while Node-RED is down.
  expect((await alice.decide(server.url, heldId)).status).toBe(200);
  expect((await detail(heldId)).status).toBe('approved');

  nr = await startNodeRed({ userDir, countersign });
  expect(nr.startError).toBeNull();
}, 90_000);

afterAll(async () => {
  await nr?.close();
  await server?.close();
  rmSync(userDir, { recursive: true, force: true });
});

it('re-proposes the held flows at the next start, saying the credentials it set are dropped', async () => {
  const line = await nr.waitForLog(
    new RegExp(
      `deployment ${heldId} was held \\(approved\\) when Node-RED stopped.*re-proposed its flows from disk as deployment ([0-9a-f]{12}), WITHOUT the credentials it set \\(tab-main-req: password, user\\)`,
    ),
  );
  const newId = /as deployment ([0-9a-f]{12})/.exec(line)![1]!;
  let old = await detail(heldId);
  for (let i = 0; i < 100 && old.status === 'approved'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    old = await detail(heldId);
  }
  expect(old.status).toBe('failed');
  const fresh = await detail(newId);
  expect(fresh.status).toBe('pending');
  expect(fresh.target).toBe(old.target);
  expect(fresh.target).toBe(await revOf(flowsB));
  expect(fresh.creds).toBeNull();
  expect(fresh.source.via).toMatch(/re-proposed after a restart/);

  // The re-proposal applies once approved, without the lost credentials.
  expect((await alice.decide(server.url, newId)).status).toBe(200);
  await waitForAnswer(nr.nodeUrl, 'B');
  expect(nr.RED.nodes.getCredentials('tab-main-req')).toEqual({
    user: 'alice',
    password: 'secret-A',
  });
});
