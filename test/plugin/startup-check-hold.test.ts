/**
 * T3 with `onStartMismatch: 'hold'`: flows.json edited on disk between two starts of a real
 * Node-RED is caught. The last approved flows run, the version on disk is proposed for approval, the
 * log says so loudly and every device gets a `drift` push; once approved, the disk version runs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_PREFIX, revOf, type DeploymentSummary } from '../../protocol/index.js';
import { ask } from './flows-fixture.js';
import { runStartupScenario, type StartupScenario } from './startup-scenario.js';

let s: StartupScenario;

beforeAll(async () => {
  s = await runStartupScenario('hold');
  expect(s.nr.startError).toBeNull();
  await s.nr.waitForLog(/Started flows/);
}, 90_000);

afterAll(async () => {
  await s?.cleanup();
});

it('runs the last approved flows, not the flows edited on disk', async () => {
  expect(s.nr.RED.runtime._.flows.getFlows()!.rev).toBe(await revOf(s.approved));
  expect(await ask(s.nr.nodeUrl)).toBe('approved A');
  await s.nr.waitForLog(/the flows on disk are NOT the last approved flows/);
  await s.nr.waitForLog(/Running the last approved flows; the version on disk is proposed/);
});

it('proposes the version on disk and pushes a drift notice to every device', async () => {
  const messages = await s.receiver.waitForMessages(2);
  const kinds = messages.map((m) => (m.payload as { kind: string }).kind);
  expect(kinds).toContain('drift');
  expect(kinds).toContain('deployment');
  const pending = await s.phone.call<{ deployments: DeploymentSummary[] }>(
    s.nr.approvalUrl,
    'GET',
    `${API_PREFIX}/deployments?status=pending`,
  );
  const startup = pending.body.deployments.find((d) => d.source.via === 'startup-check');
  expect(startup).toBeDefined();
  const detail = await s.phone.deployment(s.nr.approvalUrl, startup!.id);
  expect(detail.type).toBe('startup');
  expect(detail.base).toBe(await revOf(s.approved));
  expect(detail.target).toBe(await revOf(s.onDisk));
});

it('runs the version on disk once it is approved', async () => {
  const pending = await s.phone.call<{ deployments: DeploymentSummary[] }>(
    s.nr.approvalUrl,
    'GET',
    `${API_PREFIX}/deployments?status=pending`,
  );
  const id = pending.body.deployments.find((d) => d.source.via === 'startup-check')!.id;
  expect((await s.phone.decide(s.nr.approvalUrl, id)).status).toBe(200);
  await s.nr.waitForLog(new RegExp(`deployment ${id} approved by .*; applied`));
  expect(s.nr.RED.runtime._.flows.getFlows()!.rev).toBe(await revOf(s.onDisk));
  expect(await ask(s.nr.nodeUrl)).toBe('edited on disk');
});
