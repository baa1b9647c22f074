/**
 * When a function the gate must wrap is missing from the running Node-RED, the start stops with a
 * clear error naming it, instead of running unguarded.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { postFlows } from './deploy.js';
import { ask, endpointFlows } from './flows-fixture.js';

let nr: RunningNodeRed;

beforeAll(async () => {
  nr = await startNodeRed({
    flows: endpointFlows('A'),
    // A Node-RED whose internal flows module has no removeFlow (as a future version might).
    beforeStart: (RED) => {
      delete (RED.runtime._.flows as Record<string, unknown>).removeFlow;
    },
  });
});

afterAll(async () => {
  await nr?.close();
});

it('stops the start, naming the missing function', async () => {
  expect(nr.startError).toMatchObject({ code: 'ERR_GATE_UNSUPPORTED' });
  expect(nr.logs.filter((l) => /Countersign/.test(l))).toEqual([
    '[error] Countersign: cannot guard this Node-RED: flows.removeFlow is missing, so deployments could bypass approval. Node-RED will not start.',
  ]);
  expect(nr.RED.runtime._.flows.getFlows()).toBeNull();
  expect(await ask(nr.nodeUrl)).toBe('HTTP 404');
  const res = await postFlows(nr, endpointFlows('B'));
  expect(res.status).toBe(423);
});
