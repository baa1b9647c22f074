/**
 * Approvals racing other deployments, a replayed approval, a reload whose flows file changes again
 * while it waits, and a compromised approval server putting markup in what the editor shows: a real
 * Node-RED 4.1 with the gate against a real standalone approval server, through a proxy that can
 * hold back or rewrite what the plugin learns.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revOf, type Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import type { RunningNodeRed } from '../helpers/node-red.js';
import type { TestServer } from '../helpers/server.js';
import type { ApprovalProxy } from './approval-proxy.js';
import { activeRev, deploy, postFlows, statusOf, viewOf } from './deploy.js';
import { ask, endpointFlows } from './flows-fixture.js';
import { startProxiedGate, type ProxiedGate } from './proxied-gate.js';
import { until } from './until.js';

let rig: ProxiedGate;
let server: TestServer;
let proxy: ApprovalProxy;
let nr: RunningNodeRed;
let token: string;
let alice: TestDevice;

async function approveAndApply(flows: Flows): Promise<string> {
  const id = await deploy(nr, flows);
  expect((await alice.decide(server.url, id)).status).toBe(200);
  await until(nr, `${id} applied`, async () => (await statusOf(server, token, id)) === 'applied');
  return id;
}

beforeAll(async () => {
  rig = await startProxiedGate();
  ({ server, proxy, nr, token } = rig);
  alice = await server.enrollDevice({ owner: 'alice' });
});

afterAll(async () => {
  await rig?.close();
});

describe('races', () => {
  it('applies exactly the approved deployment, never a newer one held meanwhile', async () => {
    const flowsX = endpointFlows('X');
    const flowsY = endpointFlows('Y');
    proxy.pause();
    let x: string;
    let y: string;
    try {
      x = await deploy(nr, flowsX);
      expect((await alice.decide(server.url, x)).status).toBe(200);
      // A newer deployment arrives after the approval, before the plugin hears of it.
      y = await deploy(nr, flowsY);
      expect(await statusOf(server, token, y)).toBe('pending');
    } finally {
      proxy.resume();
    }
    await until(nr, 'x applied', async () => (await statusOf(server, token, x)) === 'applied');
    expect(activeRev(nr)).toBe(await revOf(flowsX));
    expect(await ask(nr.nodeUrl)).toBe('X');
    // The newer one was proposed against the old base: approving it now is stale, not applied.
    expect((await alice.decide(server.url, y)).status).toBe(200);
    await until(nr, 'y settled', async () => (await statusOf(server, token, y)) !== 'approved');
    expect(await statusOf(server, token, y)).toBe('stale');
    expect(activeRev(nr)).toBe(await revOf(flowsX));
    expect(await ask(nr.nodeUrl)).toBe('X');
  });

  it('does not apply a replayed approval, even once its base is active again', async () => {
    const flowsP = endpointFlows('P');
    const back = endpointFlows('X');
    const p = await approveAndApply(flowsP);
    const replay = { ...(await viewOf(server, token, p)), status: 'approved' };
    await approveAndApply(back); // the flows are back to P's base
    expect(activeRev(nr)).toBe(replay.base);
    // A compromised server replays P's approval in place of the next deployment's events.
    const next = endpointFlows('N');
    proxy.rewrite = (view) => (view.status === 'pending' ? { ...replay, id: p } : view);
    let n: string;
    try {
      n = await deploy(nr, next);
    } finally {
      proxy.rewrite = null;
    }
    // Events are handled in order: had the replay been applied, the next deployment would be stale.
    expect((await alice.decide(server.url, n)).status).toBe(200);
    await until(nr, 'n applied', async () => (await statusOf(server, token, n)) === 'applied');
    expect(activeRev(nr)).toBe(await revOf(next));
    expect(await statusOf(server, token, p)).toBe('applied');
  });
});

describe('what runs', () => {
  it('is what a review can show: a number JSON cannot hold (1e400) is refused, naming the node and the rule, nothing held', async () => {
    const before = activeRev(nr);
    const flows = endpointFlows('J');
    const body = JSON.stringify(flows).replace('"name":"answer"', '"name":"answer","limit":1e400');
    const res = await fetch(`${nr.editorUrl}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    expect(res.status, text).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text.replaceAll('&quot;', '"')).toBe(
      'node "tab-main-fn" (function): limit is not a finite number (every number must be finite)',
    );
    expect(nr.status()!.held).toEqual([]);
    expect(activeRev(nr)).toBe(before);
  });
});

describe('credentials alone', () => {
  it('are held, then set exactly as approved, the flows unchanged', async () => {
    const active = nr.RED.runtime._.flows.getFlows()!.flows as Flows;
    const rev = activeRev(nr);
    const withCredentials = active.map((n) =>
      n.id === 'tab-main-req' ? { ...n, credentials: { user: 'u2', password: 'only-this' } } : n,
    );
    const id = await deploy(nr, withCredentials);
    const view = await viewOf(server, token, id);
    expect(view.base).toBe(rev);
    expect(view.target).toBe(rev);
    expect(nr.RED.nodes.getCredentials('tab-main-req')).not.toMatchObject({
      password: 'only-this',
    });
    expect((await alice.decide(server.url, id)).status).toBe(200);
    await until(nr, 'applied', async () => (await statusOf(server, token, id)) === 'applied');
    expect(nr.RED.nodes.getCredentials('tab-main-req')).toEqual({
      user: 'u2',
      password: 'only-this',
    });
    expect(activeRev(nr)).toBe(rev);
  });
});

describe('a reload', () => {
  it('applies the flows file as proposed, even if the file changes again before the approval', async () => {
    const flowsFile = join(nr.userDir, 'flows.json');
    const proposed = endpointFlows('R1');
    writeFileSync(flowsFile, JSON.stringify(proposed));
    const id = await deploy(nr, null, 'reload');
    expect((await viewOf(server, token, id)).target).toBe(await revOf(proposed));
    writeFileSync(flowsFile, JSON.stringify(endpointFlows('R2 swapped in')));
    expect((await alice.decide(server.url, id)).status).toBe(200);
    await until(
      nr,
      'reload applied',
      async () => (await statusOf(server, token, id)) === 'applied',
    );
    expect(activeRev(nr)).toBe(await revOf(proposed));
    expect(await ask(nr.nodeUrl)).toBe('R1');
    expect(readFileSync(flowsFile, 'utf8')).toContain('R2 swapped in');
  });
});

describe('a compromised approval server', () => {
  it('cannot put markup into the 423 answer through the deployment id: the answer is refused at the boundary', async () => {
    const before = activeRev(nr);
    proxy.rewriteProposal = (answer) => ({
      status: answer.status,
      body: { ...(answer.body as object), id: '<img src=x onerror=alert(1)>' },
    });
    let res: Response;
    try {
      res = await postFlows(nr, endpointFlows('M1'), 'full');
    } finally {
      proxy.rewriteProposal = null;
    }
    const text = await res.text();
    expect(res.status).toBe(423);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text).not.toMatch(/[<>]/);
    expect(text).not.toContain('img src');
    // protocol/wire's parser refuses an id that is not an id: nothing is held under it.
    expect(text).toContain('malformed answer to POST /deployments: id must be an id');
    expect(activeRev(nr)).toBe(before);
  });

  it('cannot put markup into the 423 answer through a refusal message', async () => {
    const before = activeRev(nr);
    proxy.rewriteProposal = () => ({
      status: 400,
      body: { code: 'ERR_X', message: '<script>alert(document.cookie)</script>' },
    });
    let res: Response;
    try {
      res = await postFlows(nr, endpointFlows('M2'), 'full');
    } finally {
      proxy.rewriteProposal = null;
    }
    const text = await res.text();
    expect(res.status).toBe(423);
    expect(text).not.toMatch(/[<>]/);
    expect(text).toContain('&lt;script&gt;');
    expect(activeRev(nr)).toBe(before);
    expect(await ask(nr.nodeUrl)).toBe('R1');
  });
});
