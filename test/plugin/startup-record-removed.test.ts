/**
 * T3 when the gate's own record is removed along with the flows file edited: with no record, a
 * start trusts the flows on disk once (a first install). That must not pass quietly: every enrolled
 * device gets a `drift` push before any flow starts, and the log says so.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revOf } from '../../protocol/index.js';
import {
  embeddedAdmin,
  startNodeRed,
  startNodeRedProcess,
  type RunningNodeRed,
} from '../helpers/node-red.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { endpointFlows, waitForAnswer } from './flows-fixture.js';

const userDir = mkdtempSync(join(tmpdir(), 'countersign-record-'));
const onDisk = endpointFlows('tampered');
let receiver: PushReceiver;
let nr: RunningNodeRed;

beforeAll(async () => {
  receiver = await startPushReceiver();
  const first = await startNodeRedProcess({
    userDir,
    flows: endpointFlows('approved A'),
    countersign: { port: 0 },
  });
  try {
    await waitForAnswer(first.nodeUrl, 'approved A');
    await embeddedAdmin(userDir).enrollDevice(first.approvalUrl, {
      owner: 'alice',
      push: receiver.createPushSubscription(),
    });
  } finally {
    await first.stop();
  }
  // Between the two starts, someone edits flows.json and removes the gate's record.
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(onDisk));
  rmSync(join(userDir, 'countersign-gate'), { recursive: true, force: true });
  nr = await startNodeRed({ userDir, countersign: { port: 0 } });
  expect(nr.startError).toBeNull();
}, 90_000);

afterAll(async () => {
  await nr?.close();
  await receiver?.close();
  rmSync(userDir, { recursive: true, force: true });
});

it('tells every device when a start finds no record and trusts the flows on disk', async () => {
  const [pushed] = await receiver.waitForMessages(1);
  expect(pushed!.payload).toMatchObject({ kind: 'drift', id: await revOf(onDisk) });
  await nr.waitForLog(/first start: trusting the flows on disk/);
  const audit = await embeddedAdmin(userDir).enrollDevice(nr.approvalUrl, { owner: 'bob' });
  const entries = await audit.call<{
    entries: Array<{ type: string; data: { message?: string } }>;
  }>(nr.approvalUrl, 'GET', '/api/v1/audit?after=0');
  const drift = entries.body.entries.find((e) => e.type === 'drift');
  expect(drift?.data.message).toMatch(/trusted without an approval/);
});
