/**
 * A realistic deployment for browser tests, screenshots and the benchmark: the real flows of the
 * Hackuarium bioreactor (shared fixtures), edited the way a person would in the editor: function
 * code changed, a new HTTP request node wired in, a node rewired, a switch rule changed, the MQTT
 * broker moved to TLS with new credentials, and a few nodes dragged on another tab.
 */
import { join } from 'node:path';
import type { CredentialFields, FlowNode, Flows } from '../../protocol/index.js';
import { FIXTURES_DIR, loadFlows } from '../helpers/fixtures.js';

/** A base and target with what the proposal must carry about credentials. */
export type Scenario = {
  base: Flows;
  target: Flows;
  credentials: CredentialFields;
  creds: string | null;
};

const FILE = 'Hackuarium__bioreactor-docker__flows.json';
const FORMAT = 'f23c470d.dad1f8';
const CHECK_EPOCH = '1cef8f82.9e01f';
const BROKER = '1013011c.82c3ef';
const NEW_NODE = 'c0ffee00.a1b2c3';

function find(flows: Flows, id: string): FlowNode {
  const node = flows.find((n) => n.id === id);
  if (node === undefined) throw new Error(`scenario: node ${id} missing from ${FILE}`);
  return node;
}

/** The real bioreactor flows, unchanged. */
export function bioreactorFlows(): Flows {
  return loadFlows(join(FIXTURES_DIR, 'real-flows', FILE));
}

/** The full scenario: six kinds of change across two tabs. */
export function bioreactorScenario(): Scenario {
  const base = bioreactorFlows();
  const target = structuredClone(base);

  const format = find(target, FORMAT);
  format.func = String(format.func)
    .replace('entry.time = entry.epoch*1e6;', 'entry.time = Math.round(entry.epoch * 1e6);')
    .replace(
      'msg.payload = msg.payload.map(entry => formatEntry(entry));',
      'msg.payload = msg.payload.map(entry => formatEntry(entry));\nif (logNumber > 100) node.warn(`large batch: ${logNumber}`);',
    );
  (format.wires as string[][])[0]!.push(NEW_NODE);

  target.push({
    id: NEW_NODE,
    type: 'http request',
    z: format.z,
    name: 'Notify ops',
    method: 'POST',
    ret: 'txt',
    paytoqs: 'ignore',
    url: 'https://ops.example.com/hooks/bioreactor',
    tls: '',
    persist: false,
    proxy: '',
    authType: '',
    senderr: false,
    x: 760,
    y: 520,
    wires: [[]],
  });

  const check = find(target, CHECK_EPOCH);
  const [first] = check.wires as string[][];
  check.wires = [[...first!.slice(1), NEW_NODE]];

  const broker = find(target, BROKER);
  broker.usetls = true;
  broker.port = '8883';

  const monitor = target.filter((n) => n.z === '65ca72ac.afdd4c' && typeof n.x === 'number');
  for (const node of monitor.slice(0, 3)) {
    node.x = (node.x as number) + 120;
    node.y = (node.y as number) + 40;
  }

  return {
    base,
    target,
    credentials: { [BROKER]: ['password', 'user'] },
    creds: 'a3f1c9e2b7d4058e6f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70',
  };
}

/** Only the function code edit: one card, for quick reviews. */
export function functionEditScenario(): Scenario {
  const base = bioreactorFlows();
  const target = structuredClone(base);
  const format = find(target, FORMAT);
  format.func = String(format.func).replace(
    'entry.time = entry.epoch*1e6;',
    'entry.time = Math.round(entry.epoch * 1e6);',
  );
  return { base, target, credentials: {}, creds: null };
}

/** The same nodes in another order: the change list is empty. */
export function reorderScenario(): Scenario {
  const base = bioreactorFlows();
  const target = [...structuredClone(base)].reverse();
  return { base, target, credentials: {}, creds: null };
}
