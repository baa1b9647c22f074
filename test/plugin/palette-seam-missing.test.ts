/**
 * When a palette seam the gate must hold is missing from the running Node-RED (as a future version
 * might), the start stops naming it, and the palette routes refuse instead of installing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { nodesRequest } from './palette-modules.js';

let nr: RunningNodeRed;

beforeAll(async () => {
  nr = await startNodeRed({
    beforeStart: (RED) => {
      const api = (RED.runtime as unknown as { nodes: Record<string, unknown> }).nodes;
      delete api.setNodeSetState;
    },
  });
});

afterAll(async () => {
  await nr?.close();
});

it('stops the start, naming the missing palette function', () => {
  expect(nr.startError).toMatchObject({ code: 'ERR_GATE_UNSUPPORTED' });
  expect(nr.logs.filter((l) => /Countersign/.test(l))).toEqual([
    '[error] Countersign: cannot guard this Node-RED: apiNodes.setNodeSetState is missing, so deployments could bypass approval. Node-RED will not start.',
  ]);
});

it('refuses palette installs instead of running them', async () => {
  const res = await nodesRequest(nr, 'POST', '/nodes', { module: 'node-red-contrib-anything' });
  expect(res.status).toBe(423);
  expect(((await res.json()) as { message: string }).message).toMatch(/not guarding/);
});
