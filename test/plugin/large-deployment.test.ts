/**
 * A 2,000-change deployment approved end to end (issue 9 item 4): a real Node-RED 4.1 with the gate
 * and its embedded server; the phone's approval carries only the digest of its 2,000-entry decision
 * map and stays under 2 KiB; the map travels beside it; the plugin recomputes the 2,000 changes,
 * checks the map against them and the digest, and applies.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revOf, type Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { activeRev, deploy } from './deploy.js';
import { endpointFlows, waitForAnswer } from './flows-fixture.js';
import { until } from './until.js';

const COUNT = 2000;

/** The endpoint flows answering `answer`, plus a tab of `COUNT` inject nodes named after it. */
function large(answer: string): Flows {
  return [
    ...endpointFlows(answer),
    { id: 'tab-many', type: 'tab', label: 'Many', disabled: false, info: '' },
    ...Array.from({ length: COUNT }, (_, i) => ({
      id: `many-${i}`,
      type: 'inject',
      z: 'tab-many',
      name: `${answer} ${i}`,
      props: [],
      repeat: '',
      once: false,
      topic: '',
      x: 100 + (i % 20) * 150,
      y: 40 + Math.floor(i / 20) * 40,
      wires: [[]],
    })),
  ] as Flows;
}

let nr: RunningNodeRed;
let phone: TestDevice;

beforeAll(async () => {
  nr = await startNodeRed({ flows: large('A') });
  expect(nr.startError).toBeNull();
  await waitForAnswer(nr.nodeUrl, 'A');
  phone = await nr.enrollDevice({ owner: 'alice' });
});

afterAll(async () => {
  await nr?.close();
});

it('approves and applies a deployment of 2,000 changes with an approval under 2 KiB', async () => {
  const target = large('B');
  const id = await deploy(nr, target);
  const detail = await phone.deployment(nr.approvalUrl, id);
  expect(detail.changes.length).toBeGreaterThanOrEqual(COUNT);
  const body = await phone.signedDecision(nr.approvalUrl, id, { note: 'all of them' });
  expect(body.jws.length).toBeLessThan(2048);
  expect(Object.keys(body.changes as object)).toHaveLength(detail.changes.length);
  const answer = await phone.post(nr.approvalUrl, id, body);
  expect(answer.body).toMatchObject({ status: 'approved' });
  await nr.waitForLog(new RegExp(`deployment ${id} approved by alice`), 60_000);
  expect(activeRev(nr)).toBe(await revOf(target));
  await waitForAnswer(nr.nodeUrl, 'B');
  // The outcome report travels after the flows start; wait for the server to record it.
  await until(
    nr,
    'applied',
    async () => (await phone.deployment(nr.approvalUrl, id)).status === 'applied',
    60_000,
  );
}, 120_000);
