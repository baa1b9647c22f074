/**
 * Installing into an existing Node-RED, as a user would: `npm pack`, `npm install <tarball>` in a
 * Node-RED user directory, the `countersign` block in settings.js, and Node-RED started from its own
 * command line. A deployment through the admin API must be held.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'countersign-install-'));
const userDir = join(work, 'node-red');
let nodeRed: ChildProcess | undefined;
let output = '';

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (nodeRed?.exitCode !== null) throw new Error(`Node-RED exited:\n${output}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${ms} ms:\n${output}`);
}

let editorPort = 0;

beforeAll(async () => {
  // The package as npm would publish it (dist/ is built by `npm test` before the tests run).
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], {
    cwd: root,
    stdio: 'pipe',
  });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
  execFileSync('mkdir', ['-p', userDir]);
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify({ name: 'node-red-project', private: true }),
  );
  execFileSync(
    'npm',
    ['install', join(work, tarball), '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev'],
    { cwd: userDir, stdio: 'pipe' },
  );
  editorPort = await freePort();
  const approvalPort = await freePort();
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = {
  uiPort: ${editorPort},
  flowFile: 'flows.json',
  countersign: { port: ${approvalPort} },
};
`,
  );
  nodeRed = spawn(
    process.execPath,
    [join(root, 'node_modules/node-red/red.js'), '-u', userDir, '-s', join(userDir, 'settings.js')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  nodeRed.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  nodeRed.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(`http://127.0.0.1:${editorPort}/settings`, 90_000);
}, 240_000);

afterAll(async () => {
  if (nodeRed && nodeRed.exitCode === null) {
    const exited = new Promise((r) => nodeRed!.once('exit', r));
    nodeRed.kill('SIGINT');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('installed into an existing Node-RED', () => {
  it('loads the plugin from the installed package', () => {
    expect(output).toMatch(/countersign/i);
  });

  it('holds a deployment made through the admin API', async () => {
    const flows = [
      { id: 'tab1', type: 'tab', label: 'Installed' },
      { id: 'inj1', type: 'inject', z: 'tab1', x: 100, y: 100, wires: [[]] },
    ];
    const res = await fetch(`http://127.0.0.1:${editorPort}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: JSON.stringify(flows),
    });
    expect(res.status).toBe(423);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/held for approval/);
    const active = (await (
      await fetch(`http://127.0.0.1:${editorPort}/flows`)
    ).json()) as unknown[];
    expect(active).toEqual([]);
  });
});
