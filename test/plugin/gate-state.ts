/**
 * What a held deployment must leave alone in a gated Node-RED: the active rev, the flow and
 * credential files, one running node instance and the credential cache.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RunningNodeRed } from '../helpers/node-red.js';
import { activeRev } from './deploy.js';
import { ask } from './flows-fixture.js';

/** The state a held deployment must not change. */
export type GateState = { rev: string; files: string[]; fnNode: unknown; credentials: unknown };

/** Node-RED's state now, with the running instance of node `nodeId` and `tab-main-req`'s credentials. */
export function gateStateOf(nr: RunningNodeRed, nodeId: string): GateState {
  return {
    rev: activeRev(nr),
    files: ['flows.json', 'flows_cred.json'].map((f) => readFileSync(join(nr.userDir, f), 'utf8')),
    fnNode: nr.RED.nodes.getNode(nodeId),
    credentials: structuredClone(nr.RED.nodes.getCredentials('tab-main-req')),
  };
}

/** Nothing changed since `before`: active rev, the running node instance, the credential cache, the files, the answer. */
export async function expectGateUnchanged(
  nr: RunningNodeRed,
  before: GateState,
  nodeId: string,
  answer: string,
): Promise<void> {
  const now = gateStateOf(nr, nodeId);
  expect(now.rev).toBe(before.rev);
  expect(now.fnNode).toBe(before.fnNode); // the very same running instance: not restarted
  expect(now.credentials).toEqual(before.credentials);
  expect(now.files).toEqual(before.files);
  expect(await ask(nr.nodeUrl)).toBe(answer);
}
