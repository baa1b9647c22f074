/**
 * 5.4 row 7 across a restart: a compromised approval server replays an approval the plugin applied
 * before, after Node-RED restarted (so nothing in memory remembers it), for a deployment of exactly
 * the same base and target that it names with the old id. The plugin refuses it from the `jti`s it
 * records under the user directory, and the flows stay as they are. Node-RED runs in child processes
 * (a restart needs a second one); the real server and the lying proxy run in the test's process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRedProcess, type NodeRedProcess } from '../helpers/node-red.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startApprovalProxy, type ApprovalProxy } from './approval-proxy.js';
import { postFlows, statusOf, viewOf } from './deploy.js';
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';
import { until } from './until.js';

let server: TestServer;
let proxy: ApprovalProxy;
let token: string;
let alice: TestDevice;
let userDir: string;
let nr: NodeRedProcess | null = null;

async function start(flows?: Flows): Promise<NodeRedProcess> {
  const child = await startNodeRedProcess({
    userDir,
    ...(flows ? { flows } : {}),
    countersign: { server: proxy.url, instanceToken: token },
  });
  await until(child, 'the flows to start', async () =>
    child.logs.some((l) => l.includes('Started flows')),
  );
  return child;
}

/** Deploys `flows` to the child and returns the id its 423 answer names. */
async function deployTo(child: NodeRedProcess, flows: Flows): Promise<string> {
  const res = await postFlows(child, flows, 'full');
  const text = await res.text();
  expect(res.status, text).toBe(423);
  return /Deployment ([0-9a-f]{12})/.exec(text)![1]!;
}

async function approveAndApply(child: NodeRedProcess, flows: Flows): Promise<string> {
  const id = await deployTo(child, flows);
  expect((await alice.decide(server.url, id)).status).toBe(200);
  await until(
    child,
    `${id} applied`,
    async () => (await statusOf(server, token, id)) === 'applied',
  );
  return id;
}

beforeAll(async () => {
  server = await startTestServer();
  ({ token } = await server.addInstance('line-1'));
  proxy = await startApprovalProxy(server.url);
  alice = await server.enrollDevice({ owner: 'alice' });
  userDir = mkdtempSync(join(tmpdir(), 'countersign-replay-'));
});

afterAll(async () => {
  await nr?.stop();
  await proxy?.close();
  await server?.close();
  rmSync(userDir, { recursive: true, force: true });
});

it('refuses an approval replayed after a Node-RED restart, for the same base and target under the same id', async () => {
  const flowsA = endpointFlows('A');
  const flowsB = endpointFlows('B');
  nr = await start(flowsA);
  await waitForAnswer(nr.nodeUrl, 'A');

  // X: A → B, approved and applied. Y: B → A, approved and applied. The flows are A again.
  const x = await approveAndApply(nr, flowsB);
  await waitForAnswer(nr.nodeUrl, 'B');
  const approvalsOfX = (await viewOf(server, token, x)).approvals;
  await approveAndApply(nr, flowsA);
  await waitForAnswer(nr.nodeUrl, 'A');

  await nr.stop();
  nr = await start();
  await waitForAnswer(nr.nodeUrl, 'A');

  // The lying server answers the next proposal of B with X's id, then reports X approved with
  // X's own approval: same subject, base, target, credentials and change list, still unexpired.
  let realId = '';
  proxy.pause();
  try {
    proxy.rewriteProposal = (answer) => {
      realId = (answer.body as { id: string }).id;
      return { status: answer.status, body: { ...(answer.body as object), id: x } };
    };
    expect(await deployTo(nr, flowsB)).toBe(x);
    proxy.rewriteProposal = null;
    expect(realId).not.toBe('');
    proxy.rewrite = (view) =>
      view.id === realId ? { ...view, id: x, status: 'approved', approvals: approvalsOfX } : view;
  } finally {
    proxy.resume();
  }
  const child = nr;
  await until(child, 'the replay to be refused', async () =>
    child.logs.some((l) => l.includes(`deployment ${x} failed`)),
  );
  proxy.rewrite = null;
  expect(child.logs.find((l) => l.includes(`deployment ${x} failed`))).toMatch(
    /the approvals did not verify: .*ERR_APPROVAL_REPLAY/,
  );
  expect(await ask(child.nodeUrl)).toBe('A');
}, 120_000);
