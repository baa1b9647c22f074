/**
 * A failed apply leaves no half state (issue 9 item 6). Each case provokes a real failure after the
 * runtime already changed something: the flows file cannot be written after Node-RED updated its
 * credential cache and wrote the credentials file; a reload whose stored credentials do not decrypt
 * (Node-RED wipes every credential and starts the flows anyway); a reload of flows with a
 * `__proto__` key (the flows start and Node-RED reports another rev). In each the deployment is
 * reported `failed` with the reason, and the last approved flows and credentials are back, in
 * memory and on disk.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revOf, type Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { activeRev, deploy } from './deploy.js';
import { ask, endpointFlows, waitForAnswer } from './flows-fixture.js';
import { until } from './until.js';

const SECRET = 'countersign-test-secret'; // the helper's credentialSecret
const ORIGINAL = { user: 'alice', password: 'secret-A' };

let nr: RunningNodeRed;
let phone: TestDevice;
let approved: Flows;

/** The credentials file as Node-RED encrypted it (aes-256-ctr, key SHA-256 of the secret). */
function credentialsOnDisk(): Record<string, Record<string, unknown>> {
  const { $: text } = JSON.parse(readFileSync(join(nr.userDir, 'flows_cred.json'), 'utf8')) as {
    $: string;
  };
  const key = createHash('sha256').update(SECRET).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(text.slice(0, 32), 'hex'));
  return JSON.parse(
    decipher.update(text.slice(32), 'base64', 'utf8') + decipher.final('utf8'),
  ) as Record<string, Record<string, unknown>>;
}

/** Approves `id` on the phone and waits for the gate to report it failed; returns its log line. */
async function approveAndFail(id: string): Promise<string> {
  expect((await phone.decide(nr.approvalUrl, id)).status).toBe(200);
  const line = await nr.waitForLog(new RegExp(`deployment ${id} (failed|applied)`), 30_000);
  // The outcome is kept on disk first, then reported: the server has it a moment after the log.
  const reported = await until(nr, 'the outcome at the server', async () => {
    const { status } = await phone.deployment(nr.approvalUrl, id);
    return status === 'approved' ? undefined : status;
  });
  expect(reported).toBe('failed');
  return line;
}

/** The last approved flows run, with their credentials, in memory and on disk. */
async function expectNothingChanged(): Promise<void> {
  expect(activeRev(nr)).toBe(await revOf(approved));
  await waitForAnswer(nr.nodeUrl, 'A');
  expect(nr.RED.nodes.getCredentials('tab-main-req')).toEqual(ORIGINAL);
  expect(credentialsOnDisk()['tab-main-req']).toEqual(ORIGINAL);
  expect(JSON.parse(readFileSync(join(nr.userDir, 'flows.json'), 'utf8'))).toEqual(approved);
}

beforeAll(async () => {
  approved = endpointFlows('A');
  nr = await startNodeRed({ flows: approved });
  expect(nr.startError).toBeNull();
  await waitForAnswer(nr.nodeUrl, 'A');
  phone = await nr.enrollDevice({ owner: 'alice' });
  // A first approved deployment sets the credentials: the files on disk are Node-RED's own.
  const id = await deploy(
    nr,
    approved.map((n) => (n.id === 'tab-main-req' ? { ...n, credentials: ORIGINAL } : n)),
  );
  expect((await phone.decide(nr.approvalUrl, id)).status).toBe(200);
  await nr.waitForLog(new RegExp(`deployment ${id} (approved by|failed)`));
  expect(credentialsOnDisk()['tab-main-req']).toEqual(ORIGINAL);
});

afterAll(async () => {
  await nr?.close();
});

it('puts the credentials back when the flows file cannot be written after they were saved', async () => {
  const target = endpointFlows('B').map((n) =>
    n.id === 'tab-main-req' ? { ...n, credentials: { user: 'bob', password: 'secret-B' } } : n,
  );
  const id = await deploy(nr, target);
  // Node-RED writes flows.json through a temporary file: a directory in its place fails the write,
  // after the credential cache changed and flows_cred.json was written.
  const blocker = join(nr.userDir, 'flows.json.$$$');
  mkdirSync(blocker);
  let line: string;
  try {
    line = await approveAndFail(id);
  } finally {
    rmSync(blocker, { recursive: true, force: true });
  }
  expect(line).toMatch(/failed: Node-RED did not apply it: .*EISDIR/);
  expect(line).toContain('the last approved flows and credentials were put back');
  await expectNothingChanged();
});

it('puts the flows and credentials back when a reload brings credentials that do not decrypt', async () => {
  writeFileSync(join(nr.userDir, 'flows.json'), JSON.stringify(endpointFlows('C')));
  writeFileSync(
    join(nr.userDir, 'flows_cred.json'),
    JSON.stringify({ $: `${'0'.repeat(32)}bm90IHdoYXQgd2FzIGVuY3J5cHRlZA==` }),
  );
  const id = await deploy(nr, null, 'reload');
  const line = await approveAndFail(id);
  expect(line).toMatch(
    /failed: Node-RED could not load what was approved \(credentials_load_failed\)/,
  );
  expect(line).toContain('the last approved flows and credentials were put back');
  await expectNothingChanged();
  expect(await ask(nr.nodeUrl)).toBe('A');
});

it('puts the flows back when a reload of flows with a __proto__ key starts something else', async () => {
  const text = JSON.stringify(endpointFlows('P')).replace(
    '"name":"answer"',
    '"name":"answer","__proto__":{"polluted":true}',
  );
  writeFileSync(join(nr.userDir, 'flows.json'), text);
  const res = await fetch(`${nr.editorUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'reload' },
    body: '{}',
  });
  const body = await res.text();
  if (res.status === 423) {
    const id = /Deployment ([0-9a-f]{12})/.exec(body)![1]!;
    const line = await approveAndFail(id);
    expect(line).toContain('the last approved flows and credentials were put back');
  } else {
    // Refused outright by the gate's shape check: nothing held, nothing run.
    expect(res.status, body).toBe(400);
  }
  writeFileSync(join(nr.userDir, 'flows.json'), JSON.stringify(approved));
  await expectNothingChanged();
});
