/**
 * A palette change against a standalone approval server that lies (through a proxy): the plugin
 * trusts no approval it has not verified itself with the plugin's one verification, and applies a
 * palette change only while the running flows are the ones the approver saw.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_PREFIX } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startApprovalProxy, type ApprovalProxy } from './approval-proxy.js';
import { deploy, statusOf } from './deploy.js';
import { endpointFlows } from './flows-fixture.js';
import { heldId, makeModule, nodeList, uploadModule, type TestModule } from './palette-modules.js';
import { until } from './until.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let server: TestServer;
let proxy: ApprovalProxy;
let nr: RunningNodeRed;
let token: string;
let alice: TestDevice;
let mod: TestModule;

beforeAll(async () => {
  server = await startTestServer();
  ({ token } = await server.addInstance('line-1'));
  proxy = await startApprovalProxy(server.url);
  alice = await server.enrollDevice({ owner: 'alice' });
  nr = await startNodeRed({
    flows: endpointFlows('A'),
    plugin: false,
    settings: { nodesDir: [root] },
    countersign: { server: proxy.url, instanceToken: token },
  });
  expect(nr.startError).toBeNull();
  await until(nr, 'the event stream', async () => nr.status()?.eventsConnected);
  mod = makeModule(mkdtempSync(join(tmpdir(), 'countersign-liar-')), {
    name: 'node-red-contrib-cs-liar',
    version: '1.0.0',
    type: 'cs-liar',
  });
}, 120_000);

afterAll(async () => {
  await nr?.close();
  await proxy?.close();
  await server?.close();
});

async function expectNotInstalled(): Promise<void> {
  expect(existsSync(mod.marker)).toBe(false);
  expect((await nodeList(nr)).some((s) => s.module === mod.name)).toBe(false);
}

it('installs nothing when the server claims an approval that is another deployment’s', async () => {
  const other = await server.addInstance('line-2');
  const foreign = await server.propose(other.token, endpointFlows('X'), endpointFlows('Y'));
  expect((await alice.decide(server.url, foreign.id)).status).toBe(200);
  const foreignApprovals = (
    (await (
      await server.pluginFetch(other.token, 'GET', `${API_PREFIX}/deployments/${foreign.id}`)
    ).json()) as { approvals: unknown[] }
  ).approvals;

  proxy.pause();
  try {
    const id = await heldId(await uploadModule(nr, mod));
    proxy.rewrite = (view) =>
      view.id === id ? { ...view, status: 'approved', approvals: foreignApprovals } : view;
    proxy.resume();
    await nr.waitForLog(new RegExp(`deployment ${id} failed: the approvals did not verify`));
  } finally {
    proxy.rewrite = null;
    proxy.resume();
  }
  await expectNotInstalled();
});

it('reports stale, and installs nothing, when the flows changed between proposal and apply', async () => {
  proxy.pause();
  let palette = '';
  try {
    palette = await heldId(await uploadModule(nr, mod));
    expect((await alice.decide(server.url, palette)).status).toBe(200);
    const flows = await deploy(nr, endpointFlows('B'));
    expect((await alice.decide(server.url, flows)).status).toBe(200);
    // The plugin hears of the flows deployment first; the palette change still looks pending.
    proxy.rewrite = (view) => (view.id === palette ? { ...view, status: 'pending' } : view);
    proxy.resume();
    await until(
      nr,
      'the flows applied',
      async () => (await statusOf(server, token, flows)) === 'applied',
    );
  } finally {
    proxy.rewrite = null;
    proxy.resume();
  }
  proxy.cutStreams(); // on reconnect the server sends the approved palette change again
  await until(
    nr,
    'the palette change settled',
    async () => (await statusOf(server, token, palette)) !== 'approved',
    60_000,
  );
  expect(await statusOf(server, token, palette)).toBe('stale');
  await expectNotInstalled();
});
