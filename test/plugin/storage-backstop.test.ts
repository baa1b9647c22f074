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
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';

const require = createRequire(import.meta.url);
const storageModule = require('../../plugin/storage.cjs') as {
  saveFlows(flows: unknown, user?: unknown): Promise<unknown>;
  saveCredentials(credentials: unknown): Promise<unknown>;
};
let nr: RunningNodeRed;
let phone: TestDevice;
/** Node-RED's own functions, taken before the plugin wrapped anything (as code in the process could). */
const unwrapped: {
  setFlows?: (flows: unknown, credentials: unknown, type: string) => Promise<unknown>;
  saveFlows?: (config: unknown) => Promise<unknown>;
} = {};

beforeAll(async () => {
  nr = await startNodeRed({
    flows: endpointFlows('A'),
    credentials: { 'tab-main-req': { user: 'alice', password: 'secret-A' } },
    settings: { storageModule },
    beforeStart: (RED) => {
      const internal = RED.runtime._ as unknown as {
        flows: { setFlows: typeof unwrapped.setFlows };
        storage: { saveFlows: typeof unwrapped.saveFlows };
      };
      unwrapped.setFlows = internal.flows.setFlows;
      unwrapped.saveFlows = internal.storage.saveFlows;
    },
  });
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

it("keeps unapproved flows and credentials off the disk when code calls Node-RED's unwrapped functions", async () => {
  const files = (): string[] =>
    ['flows.json', 'flows_cred.json'].map((f) => readFileSync(join(nr.userDir, f), 'utf8'));
  const before = { files: files(), rev: nr.RED.runtime._.flows.getFlows()!.rev };
  const evil = endpointFlows('EVIL').map((n) =>
    n.id === 'tab-main-req' ? { ...n, credentials: { password: 'stolen' } } : n,
  );
  // The internal setFlows saves through storage's saveFlows, which the gate wraps in the process.
  expect(unwrapped.setFlows).not.toBe(nr.RED.runtime._.flows.setFlows);
  await expect(unwrapped.setFlows!(evil, null, 'full')).rejects.toMatchObject({
    code: 'ERR_FORBIDDEN',
  });
  // Storage's own saveFlows, unwrapped in the process, reaches the settings.js storage module.
  for (const credentialsDirty of [false, true]) {
    await expect(
      unwrapped.saveFlows!({ flows: evil, credentials: { x: { p: 1 } }, credentialsDirty }),
    ).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });
  }
  expect(files()).toEqual(before.files);
  expect(nr.RED.runtime._.flows.getFlows()!.rev).toBe(before.rev);
  expect(await ask(nr.nodeUrl)).toBe('A');
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
