/**
 * Fail closed: with the approval server down, a real Node-RED still starts with its approved flows,
 * and every deployment is held, with a message saying why. Nothing changes.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { postFlows } from './deploy.js';
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';

let nr: RunningNodeRed;
let closedPort = 0;

beforeAll(async () => {
  // A port nothing listens on: the standalone approval server is down.
  closedPort = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  nr = await startNodeRed({
    flows: endpointFlows('A'),
    countersign: {
      server: `http://127.0.0.1:${closedPort}`,
      instanceToken: 'token-of-a-server-that-is-down',
    },
  });
  expect(nr.startError).toBeNull();
  await waitForAnswer(nr.nodeUrl, 'A');
});

afterAll(async () => {
  await nr?.close();
});

it('holds a deployment from the editor when the approval server cannot be reached, and says why', async () => {
  const rev = nr.RED.runtime._.flows.getFlows()!.rev;
  const files = readFileSync(join(nr.userDir, 'flows.json'), 'utf8');
  const res = await postFlows(nr, endpointFlows('B'));
  expect(res.status).toBe(423);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  expect(text).toMatch(
    /^Deployment held: the approval server cannot be reached \(.*ECONNREFUSED\)/,
  );
  expect(text).toContain(String(closedPort));
  expect(nr.RED.runtime._.flows.getFlows()!.rev).toBe(rev);
  expect(readFileSync(join(nr.userDir, 'flows.json'), 'utf8')).toBe(files);
  expect(await ask(nr.nodeUrl)).toBe('A');
});

it('holds a deployment from code in the process too', async () => {
  const err = await nr.RED.runtime.flows
    .setFlows({ flows: { flows: endpointFlows('C') } })
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'ERR_HELD', deploymentId: null });
  expect((err as Error).message).toMatch(/cannot be reached/);
  expect(await ask(nr.nodeUrl)).toBe('A');
});
