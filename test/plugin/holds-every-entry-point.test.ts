/**
 * Every way flows reach a real Node-RED 4.1 is held: the answer is 423 text/plain naming the
 * deployment, the proposal on the approval server is exactly the requested flows, and nothing
 * changed — not the active rev, not the running nodes, not the credential cache, not the files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revOf, type Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { ask, endpointFlows } from './flows-fixture.js';
import { expectGateUnchanged, gateStateOf, type GateState } from './gate-state.js';

const flowsA = endpointFlows('A');
let nr: RunningNodeRed;
let phone: TestDevice;
let before: GateState;
const notices: Array<{
  topic: string;
  data: { id: string | null; status: string; message: string };
}> = [];

const snapshot = (): GateState => gateStateOf(nr, 'tab-main-fn');

/** Nothing changed: active rev, the running node instances, the credential cache, the files. */
async function expectNothingChanged(): Promise<void> {
  await expectGateUnchanged(nr, before, 'tab-main-fn', 'A');
  expect(nr.RED.nodes.getNode('tab-new-fn')).toBeNull();
}

/** A 423 text/plain answer naming a deployment; returns the id. */
async function expectHeld(res: Response): Promise<string> {
  expect(res.status).toBe(423);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  const match =
    /^Deployment ([0-9a-f]{12}) is held for approval\. Approve it on your registered device\.$/.exec(
      text,
    );
  expect(match, text).not.toBeNull();
  return match![1]!;
}

async function expectProposal(id: string, type: string, target: Flows): Promise<void> {
  const deployment = await phone.deployment(nr.approvalUrl, id);
  expect(deployment.type).toBe(type);
  expect(deployment.base).toBe(before.rev);
  expect(deployment.target).toBe(await revOf(target));
  expect(['pending', 'superseded']).toContain(deployment.status);
}

function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${nr.editorUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

const flowsB: Flows = [...flowsA, ...endpointFlows('new', { tab: 'tab-new', path: '/new' })];

beforeAll(async () => {
  nr = await startNodeRed({
    flows: flowsA,
    credentials: { 'tab-main-req': { user: 'alice', password: 'secret-A' } },
    settings: { runtimeState: { enabled: true } },
  });
  expect(nr.startError).toBeNull();
  phone = await nr.enrollDevice({ owner: 'alice' });
  nr.RED.events.on('comms', (event) => notices.push(event as (typeof notices)[number]));
  await nr.waitForLog(/Started flows/);
  expect(await ask(nr.nodeUrl)).toBe('A');
  before = snapshot();
  expect(before.credentials).toEqual({ user: 'alice', password: 'secret-A' });
});

afterAll(async () => {
  await nr?.close();
});

describe('the admin HTTP API', () => {
  it('holds POST /flows (API v1, full deployment)', async () => {
    const id = await expectHeld(await post('/flows', flowsB));
    await expectProposal(id, 'full', flowsB);
    await expectNothingChanged();
  });

  it('serves the editor notice plugin, which only listens', async () => {
    const res = await fetch(`${nr.editorUrl}/plugins`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    expect(html).toContain('RED.comms.subscribe(TOPIC');
    expect(html).toContain('Waiting for approval on a registered device.');
    // It watches the editor's own requests and notices; it sends nothing of its own.
    expect(html).not.toMatch(/\$\.(ajax|get|post)\(|RED\.comms\.send|fetch\(/);
  });

  it('tells the editor, through comms, that the deployment waits for approval', () => {
    const held = notices.filter(
      (n) => n.topic === 'countersign/deployment' && n.data.status === 'held',
    );
    expect(held.length).toBeGreaterThan(0);
    expect(held[0]!.data.message).toMatch(/^Deployment [0-9a-f]{12} is held for approval/);
  });

  it('holds POST /flows with the nodes deployment type', async () => {
    const id = await expectHeld(
      await post('/flows', flowsB, { 'Node-RED-Deployment-Type': 'nodes' }),
    );
    await expectProposal(id, 'nodes', flowsB);
    await expectNothingChanged();
  });

  it('holds POST /flows (API v2 with the editor rev, flows deployment type)', async () => {
    const id = await expectHeld(
      await post(
        '/flows',
        { flows: flowsB, rev: before.rev },
        { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'flows' },
      ),
    );
    await expectProposal(id, 'flows', flowsB);
    // A script sending what the editor sends is still a script: labelled the admin API.
    const deployment = await phone.deployment(nr.approvalUrl, id);
    expect(deployment.source.via).toBe('admin-api');
    await expectNothingChanged();
  });

  it('labels a deployment from a page of the editor itself "editor" (a label, not a check)', async () => {
    const id = await expectHeld(
      await post(
        '/flows',
        { flows: flowsB, rev: before.rev },
        {
          'Node-RED-API-Version': 'v2',
          'Node-RED-Deployment-Type': 'flows',
          'Sec-Fetch-Site': 'same-origin',
        },
      ),
    );
    expect((await phone.deployment(nr.approvalUrl, id)).source).toMatchObject({
      user: 'anonymous',
      via: 'editor',
    });
    const crossSite = await expectHeld(
      await post('/flows', flowsB, { 'Sec-Fetch-Site': 'cross-site' }),
    );
    expect((await phone.deployment(nr.approvalUrl, crossSite)).source.via).toBe('admin-api');
    await expectNothingChanged();
  });

  it('answers a stale editor rev with Node-RED conflict, proposing nothing', async () => {
    const res = await post(
      '/flows',
      { flows: flowsB, rev: '0'.repeat(64) },
      { 'Node-RED-API-Version': 'v2' },
    );
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('version_mismatch');
    await expectNothingChanged();
  });

  it('holds a deployment that sets a credential without changing the credential cache', async () => {
    const withCredentials = flowsB.map((n) =>
      n.id === 'tab-main-req'
        ? { ...n, credentials: { user: 'mallory', password: 'secret-B' } }
        : n,
    );
    const id = await expectHeld(await post('/flows', withCredentials));
    const deployment = await phone.deployment(nr.approvalUrl, id);
    expect(deployment.credentials).toEqual({ 'tab-main-req': ['password', 'user'] });
    expect(deployment.creds).toMatch(/^[0-9a-f]{64}$/);
    await expectNothingChanged();
  });

  it('holds POST /flow (add a flow)', async () => {
    const res = await post('/flow', {
      label: 'Added',
      nodes: [{ id: 'added-inject', type: 'inject', x: 100, y: 100, wires: [[]] }],
    });
    const id = await expectHeld(res);
    const deployment = await phone.deployment(nr.approvalUrl, id);
    expect(deployment.type).toBe('flow-add');
    expect(deployment.base).toBe(before.rev);
    expect(deployment.changes.map((c) => c.id)).toContain('node:added-inject');
    await expectNothingChanged();
  });

  it('holds PUT /flow/:id (update a flow)', async () => {
    const res = await fetch(`${nr.editorUrl}/flow/tab-main`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'tab-main',
        label: 'Main renamed',
        nodes: flowsA.filter((n) => n.z === 'tab-main'),
      }),
    });
    const id = await expectHeld(res);
    const deployment = await phone.deployment(nr.approvalUrl, id);
    expect(deployment.type).toBe('flow-update');
    expect(deployment.changes.map((c) => c.id)).toContain('flow:tab-main');
    await expectNothingChanged();
  });

  it('holds DELETE /flow/:id (delete a flow)', async () => {
    const id = await expectHeld(await fetch(`${nr.editorUrl}/flow/tab-main`, { method: 'DELETE' }));
    await expectProposal(id, 'flow-delete', []);
    await expectNothingChanged();
  });

  it('answers an unknown flow id 404 and proposes nothing', async () => {
    const res = await fetch(`${nr.editorUrl}/flow/no-such-flow`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    await expectNothingChanged();
  });
});

describe('code in the Node-RED process', () => {
  it('holds RED.runtime.flows.setFlows (the runtime API)', async () => {
    const err = await nr.RED.runtime.flows
      .setFlows({ flows: { flows: flowsB } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_HELD' });
    const id = (err as { deploymentId: string }).deploymentId;
    await expectProposal(id, 'full', flowsB);
    expect((await phone.deployment(nr.approvalUrl, id)).source).toEqual({
      user: 'runtime',
      via: 'runtime',
    });
    await expectNothingChanged();
  });

  it('holds RED.runtime.flows.addFlow, updateFlow and deleteFlow', async () => {
    for (const call of [
      () => nr.RED.runtime.flows.addFlow({ flow: { label: 'x', nodes: [] } }),
      () => nr.RED.runtime.flows.updateFlow({ id: 'tab-main', flow: { label: 'y', nodes: [] } }),
      () => nr.RED.runtime.flows.deleteFlow({ id: 'tab-main' }),
    ]) {
      expect(await call().catch((e: unknown) => e)).toMatchObject({ code: 'ERR_HELD' });
    }
    await expectNothingChanged();
  });

  it("holds the runtime's internal setFlows, addFlow, updateFlow, removeFlow and loadFlows", async () => {
    const internal = nr.RED.runtime._.flows as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    const nodes = nr.RED.runtime._.nodes as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    const calls: Array<() => Promise<unknown>> = [
      () => internal.setFlows!(flowsB, null, 'full'),
      () => internal.setFlows!(flowsB, 'nodes'),
      () => nodes.setFlows!(flowsB, null, 'flows'),
      () => internal.addFlow!({ label: 'x', nodes: [] }),
      () => nodes.updateFlow!('tab-main', { label: 'y', nodes: [] }),
      () => internal.removeFlow!('tab-main'),
      () => internal.loadFlows!(true),
      () => nodes.loadFlows!(),
    ];
    for (const call of calls) {
      expect(await call().catch((e: unknown) => e)).toMatchObject({ code: 'ERR_HELD' });
    }
    await expectNothingChanged();
  });

  it("refuses a direct call of storage's saveFlows for flows no approval released", async () => {
    const storage = nr.RED.runtime._.storage as { saveFlows(config: unknown): Promise<unknown> };
    const err = await storage
      .saveFlows({ flows: flowsB, credentials: {}, credentialsDirty: false })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_FORBIDDEN' });
    await expectNothingChanged();
  });
});

describe('a reload', () => {
  it('holds POST /flows with the reload deployment type, proposing the flows on disk', async () => {
    const onDisk = endpointFlows('edited on disk');
    const original = readFileSync(join(nr.userDir, 'flows.json'), 'utf8');
    writeFileSync(join(nr.userDir, 'flows.json'), JSON.stringify(onDisk));
    try {
      const id = await expectHeld(
        await post('/flows', {}, { 'Node-RED-Deployment-Type': 'reload' }),
      );
      await expectProposal(id, 'reload', onDisk);
      expect(nr.RED.runtime._.flows.getFlows()!.rev).toBe(before.rev);
      expect(nr.RED.nodes.getNode('tab-main-fn')).toBe(before.fnNode);
      expect(await ask(nr.nodeUrl)).toBe('A');
    } finally {
      writeFileSync(join(nr.userDir, 'flows.json'), original);
    }
    await expectNothingChanged();
  });
});

describe('the flows state endpoint (last: it restarts the running nodes)', () => {
  it('stops and starts the approved flows, changing no flows', async () => {
    const state = (body: unknown): Promise<Response> => post('/flows/state', body);
    const stopped = await state({ state: 'stop' });
    expect(stopped.status).toBe(200);
    expect(await ask(nr.nodeUrl)).toBe('HTTP 404');
    const started = await state({ state: 'start' });
    expect(started.status).toBe(200);
    expect(nr.RED.runtime._.flows.getFlows()!.rev).toBe(before.rev);
    const end = Date.now() + 10_000;
    while ((await ask(nr.nodeUrl)) !== 'A' && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    expect(await ask(nr.nodeUrl)).toBe('A');
    // Node-RED saves the run state in the background; let it land before the directory goes.
    const runtimeFile = join(nr.userDir, '.config.runtime.json');
    while (
      !/"runtimeFlowState":\s*"start"/.test(readFileSync(runtimeFile, 'utf8')) &&
      Date.now() < end
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
