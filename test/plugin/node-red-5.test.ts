/**
 * A smoke run against Node-RED 5.x (`node-red-5`, on Node 20 with its engine warning): the gate
 * loads, holds a deployment without changing anything, and applies it once a device approves; the
 * palette's seams are there too (an upload is held, then installed once approved). The plugin is
 * loaded from `nodesDir`, so npm in the user directory sees only what the test installs.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revOf } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { postFlows } from './deploy.js';
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';
import { heldId, makeModule, nodeList, uploadModule } from './palette-modules.js';
import { until } from './until.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let nr: RunningNodeRed;
let phone: TestDevice;

beforeAll(async () => {
  nr = await startNodeRed({
    nodeRed: 'node-red-5',
    flows: endpointFlows('A'),
    plugin: false,
    settings: { nodesDir: [root] },
  });
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

it('holds a palette upload on Node-RED 5 and installs it after approval', async () => {
  const mod = makeModule(mkdtempSync(join(tmpdir(), 'countersign-nr5-')), {
    name: 'node-red-contrib-cs-five',
    version: '1.0.0',
    type: 'cs-five',
  });
  const id = await heldId(await uploadModule(nr, mod));
  expect(existsSync(mod.marker)).toBe(false);
  expect((await nodeList(nr)).some((s) => s.module === mod.name)).toBe(false);

  expect((await phone.decide(nr.approvalUrl, id)).status).toBe(200);
  await until(nr, 'cs-five registered', async () =>
    (await nodeList(nr)).some((s) => s.types.includes('cs-five')),
  );
  expect(existsSync(mod.marker)).toBe(true);
});
