/**
 * The storage backstop of settings.js (`storageModule: require('node-red-contrib-countersign/plugin/storage.cjs')`):
 * flows reach the disk only for a rev an approval released. An approved deployment is saved; a save
 * that bypasses the gate is refused and writes nothing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revOf } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { endpointFlows, waitForAnswer } from './flows-fixture.js';

const require = createRequire(import.meta.url);
const storageModule = require('../../plugin/storage.cjs') as {
  saveFlows(flows: unknown, user?: unknown): Promise<unknown>;
  saveCredentials(credentials: unknown): Promise<unknown>;
};
let nr: RunningNodeRed;
let phone: TestDevice;

beforeAll(async () => {
  nr = await startNodeRed({ flows: endpointFlows('A'), settings: { storageModule } });
  expect(nr.startError).toBeNull();
  await waitForAnswer(nr.nodeUrl, 'A');
  phone = await nr.enrollDevice({ owner: 'alice' });
});

afterAll(async () => {
  await nr?.close();
});

it('refuses to write flows or credentials no approval released, writing nothing', async () => {
  const before = readFileSync(join(nr.userDir, 'flows.json'), 'utf8');
  await expect(storageModule.saveFlows(endpointFlows('EVIL'))).rejects.toMatchObject({
    code: 'ERR_FORBIDDEN',
  });
  await expect(storageModule.saveCredentials({ x: { password: 'p' } })).rejects.toMatchObject({
    code: 'ERR_FORBIDDEN',
  });
  expect(readFileSync(join(nr.userDir, 'flows.json'), 'utf8')).toBe(before);
});

it('lets an approved deployment through to the disk', async () => {
  const flowsB = endpointFlows('B');
  const err = await nr.RED.runtime.flows
    .setFlows({ flows: { flows: flowsB } })
    .catch((e: unknown) => e);
  const id = (err as { deploymentId: string }).deploymentId;
  expect((await phone.decide(nr.approvalUrl, id)).status).toBe(200);
  await waitForAnswer(nr.nodeUrl, 'B');
  const saved = JSON.parse(readFileSync(join(nr.userDir, 'flows.json'), 'utf8')) as unknown[];
  expect(await revOf(saved as never)).toBe(await revOf(flowsB));
});
