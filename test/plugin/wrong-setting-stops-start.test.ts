/**
 * A wrong `countersign` setting stops Node-RED's start with one line naming the setting: embedded,
 * `RED.start()` rejects, no flows load and every deployment is refused; from Node-RED's own command
 * line, the process exits non-zero.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prepareUserDir, startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { postFlows } from './deploy.js';
import { ask, endpointFlows } from './flows-fixture.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let nr: RunningNodeRed;

beforeAll(async () => {
  nr = await startNodeRed({
    flows: endpointFlows('A'),
    countersign: { port: 0, requiredApprovals: 0 },
  });
});

afterAll(async () => {
  await nr?.close();
});

it('rejects the start with one log line naming the setting', () => {
  expect(nr.startError).toMatchObject({ code: 'ERR_CONFIG' });
  const lines = nr.logs.filter((l) => /countersign/i.test(l));
  expect(lines).toEqual([
    '[error] Countersign: countersign.requiredApprovals must be an integer from 1 to 100 (got 0). Node-RED will not start.',
  ]);
});

it('loads and runs no flows, and refuses every deployment', async () => {
  expect(nr.RED.runtime._.flows.getFlows()).toBeNull();
  expect(await ask(nr.nodeUrl)).toBe('HTTP 404');
  const res = await postFlows(nr, endpointFlows('B'));
  expect(res.status).toBe(423);
  expect(await res.text()).toMatch(
    /Countersign is not guarding this Node-RED \(countersign\.requiredApprovals/,
  );
  const err = await nr.RED.runtime.flows
    .setFlows({ flows: { flows: endpointFlows('B') } })
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'ERR_HELD' });
  expect(nr.RED.runtime._.flows.getFlows()).toBeNull();
});

it("exits non-zero from Node-RED's command line, naming the setting", async () => {
  const { userDir } = prepareUserDir({ userDir: mkdtempSync(join(tmpdir(), 'countersign-cli-')) });
  try {
    writeFileSync(
      join(userDir, 'settings.js'),
      `module.exports = { uiPort: 0, flowFile: 'flows.json', countersign: { onStartMismatch: 'ignore' } };\n`,
    );
    const child = spawn(
      process.execPath,
      [
        join(root, 'node_modules/node-red/red.js'),
        '-u',
        userDir,
        '-s',
        join(userDir, 'settings.js'),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
    expect(code).toBe(1);
    expect(output).toMatch(
      /Countersign: countersign\.onStartMismatch must be "hold" or "stop" \(got "ignore"\)\. Node-RED will not start\./,
    );
    expect(output).not.toMatch(/Server now running/);
  } finally {
    rmSync(userDir, { recursive: true, force: true });
  }
}, 60_000);
