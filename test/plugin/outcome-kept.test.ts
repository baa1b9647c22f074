/**
 * An outcome the server cannot take is kept, not lost: a real Node-RED 4.1 with the gate applies an
 * approved deployment while every outcome report fails (the proxy answers 503, as a server that is
 * away), keeps the outcome under `countersign-gate/outcomes/`, and reports it once the event stream
 * reconnects to a server that takes it. A record that does not read as an outcome is never sent.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revOf } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { activeRev, deploy, statusOf } from './deploy.js';
import { ask, endpointFlows } from './flows-fixture.js';
import { startProxiedGate, type ProxiedGate } from './proxied-gate.js';
import { until } from './until.js';

let rig: ProxiedGate;
let alice: TestDevice;

beforeAll(async () => {
  rig = await startProxiedGate();
  alice = await rig.server.enrollDevice({ owner: 'alice' });
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

it(
  'keeps an applied outcome while the server cannot take it, and reports it when the stream is back',
  {
    timeout: 120_000,
  },
  async () => {
    const { nr, proxy, server, token } = rig;
    const flowsB = endpointFlows('B');
    const id = await deploy(nr, flowsB);
    proxy.failOutcomes = true;
    expect((await alice.decide(server.url, id)).status).toBe(200);
    await until(nr, 'the new flows', async () => (await ask(nr.nodeUrl)) === 'B');
    expect(activeRev(nr)).toBe(await revOf(flowsB));

    // Five tries fail; the outcome stays on disk and the server still says approved.
    const kept = join(nr.userDir, 'countersign-gate', 'outcomes', `${id}.json`);
    await until(nr, 'the retries to end', async () =>
      nr.logs.some((l) => l.includes(`could not report the outcome of deployment ${id}`)),
    );
    expect(proxy.outcomeRequests).toBe(5);
    expect(JSON.parse(readFileSync(kept, 'utf8'))).toMatchObject({
      v: 1,
      id,
      status: 'applied',
      rev: await revOf(flowsB),
    });
    expect(await statusOf(server, token, id)).toBe('approved');

    // A forged record beside it is not an outcome the gate made: never sent, left for a person.
    const forged = join(nr.userDir, 'countersign-gate', 'outcomes', 'forged.json');
    writeFileSync(
      forged,
      JSON.stringify({ v: 1, id: 'other', status: 'applied', rev: 'x', at: '' }),
    );

    // The server is back; the stream reconnects and the kept outcome is reported.
    proxy.failOutcomes = false;
    proxy.cutStreams();
    await until(nr, 'the outcome', async () => (await statusOf(server, token, id)) === 'applied');
    await until(nr, 'the kept outcome to go', async () => !existsSync(kept));
    expect(existsSync(forged)).toBe(true);
  },
);
