/**
 * T3 with `onStartMismatch: 'stop'`: flows.json edited on disk between two starts of a real
 * Node-RED is caught. No flows run, the version on disk is proposed, the log says so loudly and
 * every device gets a `drift` push; once approved, the disk version runs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_PREFIX, revOf, type DeploymentSummary } from '../../protocol/index.js';
import { ask } from './flows-fixture.js';
import { runStartupScenario, type StartupScenario } from './startup-scenario.js';

let s: StartupScenario;

beforeAll(async () => {
  s = await runStartupScenario('stop');
  expect(s.nr.startError).toBeNull();
  await s.nr.waitForLog(/Started flows/);
}, 90_000);

afterAll(async () => {
  await s?.cleanup();
});

it('runs no flows at all', async () => {
  await s.nr.waitForLog(/onStartMismatch is "stop": running NO flows/);
  expect(s.nr.RED.runtime._.flows.getFlows()!.flows).toEqual([]);
  expect(s.nr.RED.nodes.getNode('tab-main-fn')).toBeNull();
  expect(await ask(s.nr.nodeUrl)).toBe('HTTP 404');
});

it('proposes the version on disk, pushes a drift notice, and runs it once approved', async () => {
  const messages = await s.receiver.waitForMessages(2);
  expect(messages.map((m) => (m.payload as { kind: string }).kind)).toContain('drift');
  const pending = await s.phone.call<{ deployments: DeploymentSummary[] }>(
    s.nr.approvalUrl,
    'GET',
    `${API_PREFIX}/deployments?status=pending`,
  );
  const startup = pending.body.deployments.find((d) => d.source.via === 'startup-check')!;
  const detail = await s.phone.deployment(s.nr.approvalUrl, startup.id);
  expect(detail.target).toBe(await revOf(s.onDisk));
  expect((await s.phone.decide(s.nr.approvalUrl, startup.id)).status).toBe(200);
  await s.nr.waitForLog(new RegExp(`deployment ${startup.id} approved by .*; applied`));
  expect(s.nr.RED.runtime._.flows.getFlows()!.rev).toBe(await revOf(s.onDisk));
  expect(await ask(s.nr.nodeUrl)).toBe('edited on disk');
});
