/**
 * The start-up check scenario (T3), shared by the `hold` and `stop` test files: a first Node-RED (in
 * a child process) trusts flows A and a phone enrols with push; flows.json is then edited on disk;
 * the second Node-RED (in the test's process) starts with the chosen `onStartMismatch`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import {
  embeddedAdmin,
  startNodeRed,
  startNodeRedProcess,
  type RunningNodeRed,
} from '../helpers/node-red.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { endpointFlows, waitForAnswer } from './flows-fixture.js';

/** What the scenario leaves for the assertions. */
export type StartupScenario = {
  nr: RunningNodeRed;
  phone: TestDevice;
  receiver: PushReceiver;
  approved: Flows;
  onDisk: Flows;
  cleanup(): Promise<void>;
};

/**
 * Runs the two starts; the second one with `onStartMismatch: mode`. `diskText` replaces what is
 * written to flows.json between them (default: `onDisk` as JSON).
 */
export async function runStartupScenario(
  mode: 'hold' | 'stop',
  diskText?: string,
): Promise<StartupScenario> {
  const userDir = mkdtempSync(join(tmpdir(), 'countersign-t3-'));
  const receiver = await startPushReceiver();
  const approved = endpointFlows('approved A');
  const onDisk = endpointFlows('edited on disk');

  const first = await startNodeRedProcess({ userDir, flows: approved, countersign: { port: 0 } });
  let phone: TestDevice;
  try {
    await waitForAnswer(first.nodeUrl, 'approved A');
    expect(first.logs.join('\n')).toMatch(/first start: trusting the flows on disk/);
    phone = await embeddedAdmin(userDir).enrollDevice(first.approvalUrl, {
      owner: 'alice',
      push: receiver.createPushSubscription(),
    });
  } finally {
    await first.stop();
  }

  // Between the two starts, someone edits flows.json.
  writeFileSync(join(userDir, 'flows.json'), diskText ?? JSON.stringify(onDisk, null, 4));

  const nr = await startNodeRed({ userDir, countersign: { port: 0, onStartMismatch: mode } });
  return {
    nr,
    phone,
    receiver,
    approved,
    onDisk,
    async cleanup() {
      await nr.close();
      await receiver.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
