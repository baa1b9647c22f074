/**
 * The gate computes the flows of `POST /flow`, `PUT /flow/:id` and `DELETE /flow/:id` itself (Node-RED
 * computes them inside functions the gate cannot intercept). Checked against a plain Node-RED 4.1 (no
 * plugin) on a real user's flows: the gate's array has exactly the rev Node-RED's own call produces.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revOf, type Flows } from '../../protocol/index.js';
import {
  targetOfAddFlow,
  targetOfDeleteFlow,
  targetOfUpdateFlow,
} from '../../plugin/flows/targets.js';
import { loadFlows, realFlowsFiles } from '../helpers/fixtures.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { activeRev } from './deploy.js';

let nr: RunningNodeRed;
const real = realFlowsFiles()
  .map(([, path]) => loadFlows(path))
  .find(
    (flows) =>
      flows.filter((n) => n.type === 'tab').length >= 2 && flows.some((n) => n.type === 'subflow'),
  )!;

const active = (): Flows => structuredClone(nr.RED.runtime._.flows.getFlows()!.flows) as Flows;

beforeAll(async () => {
  nr = await startNodeRed({ plugin: false, flows: real });
  expect(nr.startError).toBeNull();
});

afterAll(async () => {
  await nr?.close();
});

it('computes the flows of adding a flow as Node-RED does', async () => {
  const before = active();
  const flow = {
    label: 'Added',
    info: 'a new tab',
    nodes: [{ id: 'cs-added-1', type: 'comment', name: 'hi', x: 100, y: 40, wires: [] }],
    configs: [{ id: 'cs-added-cfg', type: 'global-config', env: [] }],
  };
  const id = (await nr.RED.runtime.flows.addFlow({ flow: structuredClone(flow) })) as string;
  expect(await revOf(targetOfAddFlow(before, flow, id).flows)).toBe(activeRev(nr));
});

it('computes the flows of updating a flow as Node-RED does', async () => {
  const before = active();
  const tab = before.find((n) => n.type === 'tab')!;
  const flow = {
    ...(await (await fetch(`${nr.editorUrl}/flow/${tab.id}`)).json()),
    label: 'Renamed',
  } as Record<string, unknown>;
  await nr.RED.runtime.flows.updateFlow({ id: tab.id, flow: structuredClone(flow) });
  expect(await revOf(targetOfUpdateFlow(before, tab.id, flow))).toBe(activeRev(nr));
});

it('computes the flows of updating the global flow as Node-RED does', async () => {
  const before = active();
  const flow = (await (await fetch(`${nr.editorUrl}/flow/global`)).json()) as Record<
    string,
    unknown
  >;
  await nr.RED.runtime.flows.updateFlow({ id: 'global', flow: structuredClone(flow) });
  expect(await revOf(targetOfUpdateFlow(before, 'global', flow))).toBe(activeRev(nr));
});

it('computes the flows of deleting a flow as Node-RED does', async () => {
  const before = active();
  const tab = before.filter((n) => n.type === 'tab')[1]!;
  await nr.RED.runtime.flows.deleteFlow({ id: tab.id });
  expect(await revOf(targetOfDeleteFlow(before, tab.id))).toBe(activeRev(nr));
});
