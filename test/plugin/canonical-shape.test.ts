/**
 * The canonical shape at the gate (DESIGN 5.2, T9), against a real Node-RED 4.1: a deployment that
 * Node-RED would run differently from how a review reads it — a wire hidden in a nested array or
 * given as a number, a reserved key, a number JSON cannot keep — is refused at every entry point
 * with 400 text/plain naming the node and the rule. Nothing is held, nothing is proposed, nothing
 * runs: not the active rev, not the running nodes, not the files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, type DeploymentSummary, type Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';
import { expectGateUnchanged, gateStateOf, type GateState } from './gate-state.js';

/** The endpoint flows, a debug node whose id is a number's text, and a pair of link nodes. */
const base: Flows = [
  ...endpointFlows('A'),
  {
    id: '123',
    type: 'debug',
    z: 'tab-main',
    name: 'sink',
    active: true,
    x: 500,
    y: 200,
    wires: [],
  },
  { id: 'lo', type: 'link out', z: 'tab-main', name: '', links: ['li'], x: 100, y: 300, wires: [] },
  {
    id: 'li',
    type: 'link in',
    z: 'tab-main',
    name: '',
    links: ['lo'],
    x: 300,
    y: 300,
    wires: [[]],
  },
] as Flows;

let nr: RunningNodeRed;
let phone: TestDevice;
let before: GateState;

/** A hostile node: its JSON text (so that keys such as `__proto__` and `1e400` survive), and what the refusal must name. */
type Shape = { name: string; id: string; node: string; rule: RegExp; nodeText: string };

/** The JSON text of node `id` of `base` with `change` applied, then `edit` on the text. */
function hostile(
  id: string,
  change: Record<string, unknown>,
  edit: (text: string) => string = (t) => t,
): string {
  return edit(JSON.stringify({ ...base.find((n) => n.id === id)!, ...change }));
}

const SHAPES: Shape[] = [
  {
    name: 'a wire hidden in a nested array',
    id: 'tab-main-fn',
    nodeText: hostile('tab-main-fn', { wires: [['tab-main-out', ['123']]] }),
    node: '"tab-main-fn" (function)',
    rule: /wires must be an array of arrays of node ids, but wires\[0\]\[1\] is an array/,
  },
  {
    name: 'a wire given as a number equal to a numeric node id',
    id: 'tab-main-fn',
    nodeText: hostile('tab-main-fn', { wires: [['tab-main-out', 123]] }),
    node: '"tab-main-fn" (function)',
    rule: /wires\[0\]\[1\] is a number/,
  },
  {
    name: 'wires that are not a list of ports',
    id: 'tab-main-fn',
    nodeText: hostile('tab-main-fn', { wires: ['tab-main-out'] }),
    node: '"tab-main-fn" (function)',
    rule: /wires\[0\] is a string/,
  },
  {
    name: 'a link list naming a node by number',
    id: 'lo',
    nodeText: hostile('lo', { links: [123] }),
    node: '"lo" (link out)',
    rule: /links must be an array of node ids, but links\[0\] is a number/,
  },
  {
    name: 'a flow id that is not a string',
    id: 'tab-main-fn',
    nodeText: hostile('tab-main-fn', { z: 7 }),
    node: '"tab-main-fn" (function)',
    rule: /z must be a string/,
  },
  {
    name: 'a node property named __proto__',
    id: 'tab-main-fn',
    nodeText: hostile('tab-main-fn', {}, (t) => t.replace(/^\{/, '{"__proto__":{"x":1},')),
    node: '"tab-main-fn" (function)',
    rule: /the key "__proto__" \(at __proto__\) is not allowed/,
  },
  {
    name: 'a nested key named constructor',
    id: 'tab-main-fn',
    nodeText: hostile('tab-main-fn', { libs: [{ constructor: 'os', var: 'os' }] }),
    node: '"tab-main-fn" (function)',
    rule: /the key "constructor" \(at libs\[0\]\.constructor\) is not allowed/,
  },
  {
    name: 'a key named prototype',
    id: 'tab-main-out',
    nodeText: hostile('tab-main-out', { headers: { prototype: 'x' } }),
    node: '"tab-main-out" (http response)',
    rule: /the key "prototype" \(at headers\.prototype\) is not allowed/,
  },
  {
    name: 'a number JSON reads as Infinity',
    id: 'tab-main-fn',
    nodeText: hostile('tab-main-fn', { timeout: 0 }, (t) =>
      t.replace('"timeout":0', '"timeout":1e400'),
    ),
    node: '"tab-main-fn" (function)',
    rule: /timeout is not a finite number/,
  },
  {
    name: 'a type that is not a string',
    id: '123',
    nodeText: hostile('123', { type: 5 }),
    node: '"123"',
    rule: /has no string type/,
  },
];

/** The flows text of `base` with the hostile node in place of its original. */
function flowsText(shape: Shape, nodes: Flows = base): string {
  return `[${nodes.map((n) => (n.id === shape.id ? shape.nodeText : JSON.stringify(n))).join(',')}]`;
}

function send(method: string, path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${nr.editorUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

/** 400, text/plain, naming the node and the rule; returns the text. */
async function expectRefusal(res: Response, shape: Shape): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  // The editor shows the body as HTML: quotes arrive escaped, markup never.
  const plain = text.replaceAll('&quot;', '"');
  expect(plain).toContain(`node ${shape.node}`);
  expect(plain).toMatch(shape.rule);
  return plain;
}

async function pendingCount(): Promise<number> {
  const answer = await phone.call<{ deployments: DeploymentSummary[] }>(
    nr.approvalUrl,
    'GET',
    `${API_PREFIX}/deployments?status=pending`,
  );
  return answer.body.deployments.length;
}

/** Nothing held, nothing proposed, nothing changed. */
async function expectNothingHeld(pendingBefore: number): Promise<void> {
  expect(nr.status()!.held).toEqual([]);
  expect(await pendingCount()).toBe(pendingBefore);
  await expectGateUnchanged(nr, before, 'tab-main-fn', 'A');
}

beforeAll(async () => {
  nr = await startNodeRed({
    flows: base,
    credentials: { 'tab-main-req': { user: 'alice', password: 'secret-A' } },
  });
  expect(nr.startError).toBeNull();
  phone = await nr.enrollDevice({ owner: 'alice' });
  await waitForAnswer(nr.nodeUrl, 'A');
  before = gateStateOf(nr, 'tab-main-fn');
});

afterAll(async () => {
  await nr?.close();
});

describe.each(SHAPES)('$name', (shape) => {
  it('is refused by POST /flows, API v1 and v2, every deployment type', async () => {
    const pending = await pendingCount();
    const text = flowsText(shape);
    for (const type of ['full', 'nodes', 'flows']) {
      await expectRefusal(
        await send('POST', '/flows', text, { 'Node-RED-Deployment-Type': type }),
        shape,
      );
      await expectRefusal(
        await send('POST', '/flows', `{"flows":${text},"rev":"${before.rev}"}`, {
          'Node-RED-Deployment-Type': type,
          'Node-RED-API-Version': 'v2',
        }),
        shape,
      );
    }
    await expectNothingHeld(pending);
  });

  it('is refused by the runtime API and the internal setFlows (code in the process)', async () => {
    const pending = await pendingCount();
    const flows = JSON.parse(flowsText(shape)) as Flows;
    const viaApi = await nr.RED.runtime.flows
      .setFlows({ flows: { flows } })
      .catch((e: unknown) => e);
    expect(viaApi).toMatchObject({ code: 'ERR_FLOWS_INVALID' });
    expect((viaApi as Error).message).toMatch(shape.rule);
    const internal = nr.RED.runtime._.flows as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
    const viaInternal = await internal.setFlows!(flows, null, 'full').catch((e: unknown) => e);
    expect(viaInternal).toMatchObject({ code: 'ERR_FLOWS_INVALID' });
    await expectNothingHeld(pending);
  });

  it('on disk, is refused by a reload, which says so and starts nothing', async () => {
    const pending = await pendingCount();
    const file = join(nr.userDir, 'flows.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, flowsText(shape));
    try {
      const text = await expectRefusal(
        await send('POST', '/flows', '{}', { 'Node-RED-Deployment-Type': 'reload' }),
        shape,
      );
      expect(text).toMatch(/^Reload refused: the flows on disk cannot be reviewed: /);
      expect(text).toContain('Nothing was reloaded');
      const internal = nr.RED.runtime._.flows as Record<
        string,
        (...a: unknown[]) => Promise<unknown>
      >;
      expect(await internal.loadFlows!(true).catch((e: unknown) => e)).toMatchObject({
        code: 'ERR_FLOWS_INVALID',
      });
      expect(await ask(nr.nodeUrl)).toBe('A');
    } finally {
      writeFileSync(file, original);
    }
    await expectNothingHeld(pending);
  });
});

// These doors set each node's `z` themselves; every other rule reaches them as sent.
describe.each(SHAPES.filter((s) => !s.name.includes('flow id')))('$name', (shape) => {
  it('is refused by PUT /flow/:id, PUT /flow/global, POST /flow and the runtime addFlow', async () => {
    const pending = await pendingCount();
    const onTab = base.filter((n) => n.z === 'tab-main');
    const update = `{"id":"tab-main","label":"Main tab-main","nodes":${flowsText(shape, onTab)}}`;
    await expectRefusal(await send('PUT', '/flow/tab-main', update), shape);
    const copy = shape.nodeText.replace(`"id":"${shape.id}"`, `"id":"copy-${shape.id}"`);
    const copied = { ...shape, node: shape.node.replace(`"${shape.id}"`, `"copy-${shape.id}"`) };
    await expectRefusal(await send('POST', '/flow', `{"label":"Copy","nodes":[${copy}]}`), copied);
    const global = `{"id":"global","configs":[${copy}],"subflows":[]}`;
    await expectRefusal(await send('PUT', '/flow/global', global), copied);
    const viaRuntime = await nr.RED.runtime.flows
      .addFlow({ flow: { label: 'Copy', nodes: [JSON.parse(copy) as unknown] } })
      .catch((e: unknown) => e);
    expect(viaRuntime).toMatchObject({ code: 'ERR_FLOWS_INVALID' });
    await expectNothingHeld(pending);
  });
});
