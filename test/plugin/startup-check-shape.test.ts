/**
 * T3 meets the canonical shape (DESIGN 5.2): flows.json edited between two starts so that a wire
 * hides in a nested array. The gate cannot propose what a review cannot show, so the flows on disk
 * do not run and are not proposed: the last approved flows run, the log says why (node and rule),
 * and every device gets a `drift` push.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_PREFIX, type DeploymentSummary, type Flows } from '../../protocol/index.js';
import { startNodeRedProcess } from '../helpers/node-red.js';
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';
import { until } from './until.js';
import { runStartupScenario, type StartupScenario } from './startup-scenario.js';

let s: StartupScenario;

/** Endpoint flows whose function node sends to a node hidden in a nested array. */
function withHiddenWire(answer: string): Flows {
  return endpointFlows(answer).map((n) =>
    n.id === 'tab-main-fn' ? { ...n, wires: [['tab-main-out', ['tab-main-req']]] } : n,
  ) as Flows;
}

beforeAll(async () => {
  s = await runStartupScenario('hold', JSON.stringify(withHiddenWire('edited on disk')));
  expect(s.nr.startError).toBeNull();
  await s.nr.waitForLog(/Started flows/);
}, 90_000);

afterAll(async () => {
  await s?.cleanup();
});

it('runs the last approved flows, not the flows on disk, and says why', async () => {
  await waitForAnswer(s.nr.nodeUrl, 'approved A');
  const log = s.nr.logs.join('\n');
  expect(log).toContain('the flows on disk cannot be reviewed, so they do not run');
  expect(log).toMatch(
    /node "tab-main-fn" \(function\): wires must be an array of arrays of node ids, but wires\[0\]\[1\] is an array/,
  );
  expect(log).toContain('Running the last approved flows; nothing is proposed.');
});

it('proposes nothing, and tells every device with a drift push', async () => {
  const messages = await s.receiver.waitForMessages(1);
  expect(messages.map((m) => (m.payload as { kind: string }).kind)).toContain('drift');
  await s.nr.waitForLog(/cannot be reviewed: .*Nothing was proposed: fix flows\.json, or deploy\./);
  const pending = await s.phone.call<{ deployments: DeploymentSummary[] }>(
    s.nr.approvalUrl,
    'GET',
    `${API_PREFIX}/deployments?status=pending`,
  );
  expect(pending.body.deployments).toEqual([]);
  expect(s.nr.status()!.held).toEqual([]);
});

it('does not trust flows of that shape at a first start: runs none, and says why', async () => {
  const userDir = mkdtempSync(join(tmpdir(), 'countersign-shape-'));
  const first = await startNodeRedProcess({
    userDir,
    flows: withHiddenWire('first'),
    countersign: { port: 0 },
  });
  try {
    await until(first, 'Started flows', async () =>
      first.logs.some((l) => l.includes('Started flows')),
    );
    const log = first.logs.join('\n');
    expect(log).toContain('No approved flows are recorded (a first start): running NO flows');
    expect(log).not.toMatch(/first start: trusting the flows on disk/);
    expect(await ask(first.nodeUrl)).toBe('HTTP 404');
  } finally {
    await first.stop();
    rmSync(userDir, { recursive: true, force: true });
  }
});
