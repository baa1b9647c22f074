/**
 * Item 6 of T4: Countersign guards its own removal and disabling. Installed as a user module (listed
 * in the user directory's package.json, as `npm install node-red-contrib-countersign` leaves it),
 * removing or disabling it from the palette is held like any palette change, high risk.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COUNTERSIGN_PACKAGE } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { heldId, nodeList, nodesRequest } from './palette-modules.js';

let nr: RunningNodeRed;
let phone: TestDevice;
let userDir: string;

beforeAll(async () => {
  userDir = mkdtempSync(join(tmpdir(), 'countersign-self-'));
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify({ name: 'node-red-project', dependencies: { [COUNTERSIGN_PACKAGE]: '*' } }),
  );
  nr = await startNodeRed({ userDir });
  expect(nr.startError).toBeNull();
  phone = await nr.enrollDevice({ owner: 'alice' });
});

afterAll(async () => {
  await nr?.close();
  rmSync(userDir, { recursive: true, force: true });
});

it('holds its own removal: nothing is removed, and the review says it is high risk', async () => {
  const id = await heldId(await nodesRequest(nr, 'DELETE', `/nodes/${COUNTERSIGN_PACKAGE}`));
  expect(existsSync(join(userDir, 'node_modules', COUNTERSIGN_PACKAGE, 'package.json'))).toBe(true);
  expect(nr.status()?.held).toContain(id);
  const change = (await phone.deployment(nr.approvalUrl, id)).changes[0]!;
  expect(change.module!.descriptor).toMatchObject({ action: 'remove', name: COUNTERSIGN_PACKAGE });
  expect(change.module!.descriptor.plugins).toEqual([`${COUNTERSIGN_PACKAGE}/countersign`]);
  expect(change.risk).toBe('high');
});

it('holds its own disabling', async () => {
  const id = await heldId(
    await nodesRequest(nr, 'PUT', `/nodes/${COUNTERSIGN_PACKAGE}`, { enabled: false }),
  );
  expect((await phone.deployment(nr.approvalUrl, id)).changes[0]!.module!.descriptor.action).toBe(
    'disable',
  );
  // A held disable of the gate's module changes nothing: the plugin still answers.
  expect(nr.status()?.held).toContain(id);
  expect(Array.isArray(await nodeList(nr))).toBe(true);
});
