/**
 * A smoke run against Node-RED 5.x (`node-red-5`, on Node 20 with its engine warning): the gate
 * loads, holds a deployment without changing anything, and applies it once a device approves.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revOf } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { postFlows } from './deploy.js';
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';

let nr: RunningNodeRed;
let phone: TestDevice;

beforeAll(async () => {
  nr = await startNodeRed({ nodeRed: 'node-red-5', flows: endpointFlows('A') });
  expect(nr.startError).toBeNull();
  await waitForAnswer(nr.nodeUrl, 'A');
  phone = await nr.enrollDevice({ owner: 'alice' });
});

afterAll(async () => {
  await nr?.close();
});

it('runs Node-RED 5', () => {
  expect(nr.logs.join('\n')).toMatch(/Node-RED version: v5\./);
});

it('holds a deployment on Node-RED 5 and applies it after approval', async () => {
  const before = nr.RED.runtime._.flows.getFlows()!.rev;
  const flowsB = endpointFlows('B');
  const res = await postFlows(nr, flowsB);
  expect(res.status).toBe(423);
  const id = /Deployment ([0-9a-f]{12})/.exec(await res.text())![1]!;
  expect(nr.RED.runtime._.flows.getFlows()!.rev).toBe(before);
  expect(await ask(nr.nodeUrl)).toBe('A');

  expect((await phone.decide(nr.approvalUrl, id)).status).toBe(200);
  await waitForAnswer(nr.nodeUrl, 'B');
  expect(nr.RED.runtime._.flows.getFlows()!.rev).toBe(await revOf(flowsB));
});
