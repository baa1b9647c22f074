/**
 * A real Node-RED 4.1 with the gate, against a real standalone approval server (through a proxy that
 * can hold back or rewrite what the plugin learns). Approved deployments run exactly as approved;
 * an altered held request, a revoked device, a stale base and an approval for another deployment are
 * refused; credentials never reach the server and apply after approval.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, revOf, type Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import type { RunningNodeRed } from '../helpers/node-red.js';
import type { TestServer } from '../helpers/server.js';
import type { ApprovalProxy } from './approval-proxy.js';
import { activeRev, deploy, statusOf } from './deploy.js';
import { ask, endpointFlows } from './flows-fixture.js';
import { startProxiedGate, type ProxiedGate } from './proxied-gate.js';
import { until } from './until.js';

let rig: ProxiedGate;
let server: TestServer;
let proxy: ApprovalProxy;
let nr: RunningNodeRed;
let token: string;
let alice: TestDevice;
let bob: TestDevice;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

beforeAll(async () => {
  rig = await startProxiedGate({
    nodeRed: { credentials: { 'tab-main-req': { user: 'alice', password: 'secret-A' } } },
  });
  ({ server, proxy, nr, token } = rig);
  alice = await server.enrollDevice({ owner: 'alice' });
  bob = await server.enrollDevice({ owner: 'bob' });
});

afterAll(async () => {
  await rig?.close();
});

describe('an approved deployment', () => {
  it('runs exactly the approved flows: the rev Node-RED reports is the target and the new nodes answer', async () => {
    const flowsB = endpointFlows('B');
    const id = await deploy(nr, flowsB);
    expect(await ask(nr.nodeUrl)).toBe('A');
    const decided = await alice.decide(server.url, id);
    expect(decided.status).toBe(200);
    await until(nr, 'applied', async () => (await statusOf(server, token, id)) === 'applied');
    expect(activeRev(nr)).toBe(await revOf(flowsB));
    expect(await ask(nr.nodeUrl)).toBe('B');
    const record = JSON.parse(
      readFileSync(join(nr.userDir, 'countersign-gate', 'approved.json'), 'utf8'),
    ) as {
      rev: string;
      deployment: string;
      approvals: string[];
    };
    expect(record).toMatchObject({ rev: await revOf(flowsB), deployment: id });
    expect(record.approvals).toHaveLength(1);
  });

  it('sets a credential only after approval, and its value never reaches the server', async () => {
    const flowsC = endpointFlows('C').map((n) =>
      n.id === 'tab-main-req'
        ? { ...n, credentials: { user: 'carol', password: 'secret-C-4711' } }
        : n,
    );
    const id = await deploy(nr, flowsC);
    expect(nr.RED.nodes.getCredentials('tab-main-req')).toEqual({
      user: 'alice',
      password: 'secret-A',
    });
    for (const file of filesUnder(server.dataDir)) {
      expect(readFileSync(file, 'utf8'), file).not.toContain('secret-C-4711');
    }
    const detail = await alice.deployment(server.url, id);
    expect(detail.credentials).toEqual({ 'tab-main-req': ['password', 'user'] });
    expect(detail.changes.some((c) => c.kind === 'credentials')).toBe(true);

    await alice.decide(server.url, id);
    await until(nr, 'applied', async () => (await statusOf(server, token, id)) === 'applied');
    expect(nr.RED.nodes.getCredentials('tab-main-req')).toEqual({
      user: 'carol',
      password: 'secret-C-4711',
    });
    expect(await ask(nr.nodeUrl)).toBe('C');
    // Saved encrypted by Node-RED, never in clear.
    expect(readFileSync(join(nr.userDir, 'flows_cred.json'), 'utf8')).not.toContain(
      'secret-C-4711',
    );
  });
});

describe('refusals', () => {
  it('refuses a deployment whose held request was altered after the proposal', async () => {
    const before = activeRev(nr);
    const flows = endpointFlows('D');
    const err = await nr.RED.runtime.flows.setFlows({ flows: { flows } }).catch((e: unknown) => e);
    const id = (err as { deploymentId: string }).deploymentId;
    // Code in the process still holds the array it deployed, and changes it.
    (flows.find((n) => n.id === 'tab-main-fn') as unknown as { func: string }).func =
      "msg.payload = 'EVIL'; return msg;";
    await alice.decide(server.url, id);
    await until(nr, 'failed', async () => (await statusOf(server, token, id)) === 'failed');
    expect(activeRev(nr)).toBe(before);
    expect(await ask(nr.nodeUrl)).toBe('C');
    await nr.waitForLog(
      new RegExp(`deployment ${id} failed: the held flows changed after the proposal`),
    );
  });

  it('refuses an approval by a device revoked before the plugin applied it', async () => {
    const before = activeRev(nr);
    proxy.pause();
    try {
      const id = await deploy(nr, endpointFlows('E'));
      expect((await alice.decide(server.url, id)).status).toBe(200);
      expect(await statusOf(server, token, id)).toBe('approved');
      const revoked = await bob.call(
        server.url,
        'POST',
        `${API_PREFIX}/devices/${alice.id}/revoke`,
      );
      expect(revoked.status).toBe(200);
      proxy.resume();
      await until(nr, 'failed', async () => (await statusOf(server, token, id)) === 'failed');
      await nr.waitForLog(
        new RegExp(
          `deployment ${id} failed: the approvals did not verify.*not a registered, active device`,
        ),
      );
    } finally {
      proxy.resume();
    }
    expect(activeRev(nr)).toBe(before);
    expect(await ask(nr.nodeUrl)).toBe('C');
  });

  it('refuses an approval signed for another deployment, even of the same flows', async () => {
    const before = activeRev(nr);
    const flowsF = endpointFlows('F');
    // Another instance's deployment of exactly the same base and target, approved by bob.
    const other = await server.addInstance('line-2');
    const active = nr.RED.runtime._.flows.getFlows()!.flows as Flows;
    const foreign = await server.propose(other.token, active, flowsF);
    expect((await bob.decide(server.url, foreign.id)).status).toBe(200);
    const foreignDetail = (await (
      await server.pluginFetch(other.token, 'GET', `${API_PREFIX}/deployments/${foreign.id}`)
    ).json()) as { approvals: unknown[] };

    proxy.pause();
    try {
      const id = await deploy(nr, flowsF);
      // A compromised server claims this deployment was approved, with the other one's approval.
      proxy.rewrite = (view) =>
        view.id === id ? { ...view, status: 'approved', approvals: foreignDetail.approvals } : view;
      proxy.resume();
      await nr.waitForLog(
        new RegExp(`deployment ${id} failed: the approvals did not verify.*another deployment`),
      );
    } finally {
      proxy.rewrite = null;
      proxy.resume();
    }
    expect(activeRev(nr)).toBe(before);
    expect(await ask(nr.nodeUrl)).toBe('C');
  });

  it('reports stale, and applies nothing, when another deployment was applied first', async () => {
    proxy.pause();
    let first: string;
    let second: string;
    const flowsG = endpointFlows('G');
    try {
      first = await deploy(nr, flowsG);
      expect((await bob.decide(server.url, first)).status).toBe(200);
      second = await deploy(nr, endpointFlows('H'));
      expect((await bob.decide(server.url, second)).status).toBe(200);
    } finally {
      proxy.resume();
    }
    await until(
      nr,
      'both settled',
      async () =>
        (await statusOf(server, token, second)) !== 'approved' &&
        (await statusOf(server, token, first)) !== 'approved',
    );
    expect(await statusOf(server, token, first)).toBe('applied');
    expect(await statusOf(server, token, second)).toBe('stale');
    expect(activeRev(nr)).toBe(await revOf(flowsG));
    expect(await ask(nr.nodeUrl)).toBe('G');
  });

  it('still applies an approval when the event stream is down, by polling', async () => {
    proxy.blockEvents = true;
    proxy.cutStreams();
    try {
      await until(nr, 'the stream to drop', async () => !nr.status()?.eventsConnected);
      const flowsI = endpointFlows('I');
      const id = await deploy(nr, flowsI);
      expect((await bob.decide(server.url, id)).status).toBe(200);
      await until(
        nr,
        'applied by polling',
        async () => (await statusOf(server, token, id)) === 'applied',
        30_000,
      );
      expect(activeRev(nr)).toBe(await revOf(flowsI));
      expect(await ask(nr.nodeUrl)).toBe('I');
    } finally {
      proxy.blockEvents = false;
    }
  }, 45_000);
});
