/**
 * `npm start` as a person meets it: a real Node-RED from its own command line with the plugin and the
 * embedded approval server; with no device enrolled it prints the editor URL, the approval URL and an
 * enrolment link with a QR code; a deployment is held; Ctrl-C stops everything cleanly.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const userDir = join(mkdtempSync(join(tmpdir(), 'countersign-start-')), 'user dir');
let start: ChildProcess;
let output = '';
let editorPort = 0;
let approvalPort = 0;

async function waitForOutput(pattern: RegExp, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(output)) {
    if (start.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    if (Date.now() > until) throw new Error(`no ${pattern} within ${ms} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  editorPort = await freePort();
  approvalPort = await freePort();
  // What `npm start -- …` runs after its build step (`npm test` has built already).
  start = spawn(
    process.execPath,
    [
      join(root, 'bin/start.js'),
      '--user-dir',
      userDir,
      '--editor-port',
      String(editorPort),
      '--approval-port',
      String(approvalPort),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForOutput(/#\/enroll\?code=/);
  await waitForOutput(/Started flows/);
}, 120_000);

afterAll(() => {
  if (start.exitCode === null) start.kill('SIGKILL');
  rmSync(dirname(userDir), { recursive: true, force: true });
});

describe('npm start', () => {
  it('prints the editor URL, the approval URL and an enrolment link with a QR code', () => {
    expect(output).toContain(`Editor:          http://127.0.0.1:${editorPort}/`);
    expect(output).toContain(`Approval server: http://localhost:${approvalPort}`);
    expect(output).toMatch(
      new RegExp(`http://localhost:${approvalPort}/#/enroll\\?code=[A-Za-z0-9_-]{43}`),
    );
    // The QR code: rows of block characters.
    expect(output.split('\n').filter((line) => /^[█▀▄ ]{30,}$/.test(line)).length).toBeGreaterThan(
      10,
    );
    expect(existsSync(join(userDir, 'countersign', 'admin.token'))).toBe(true);
  });

  it('answers a deployment from the editor with "held for approval"', async () => {
    const res = await fetch(`http://127.0.0.1:${editorPort}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: JSON.stringify([{ id: 'tab1', type: 'tab', label: 'Held' }]),
    });
    expect(res.status).toBe(423);
    expect(await res.text()).toMatch(/^Deployment [0-9a-f]{12} is held for approval\./);
  });

  it('lets the command line enrol against the embedded server with --data-dir', () => {
    const printed = execFileSync(
      process.execPath,
      [
        join(root, 'bin/countersign.js'),
        'enroll',
        '--data-dir',
        join(userDir, 'countersign'),
        '--owner',
        'bob',
        '--name',
        "Bob's phone",
        '--json',
      ],
      { encoding: 'utf8' },
    );
    const invitation = JSON.parse(printed) as { code: string; url: string; expiresAt: string };
    expect(invitation.url).toBe(
      `http://localhost:${approvalPort}/#/enroll?code=${invitation.code}`,
    );
    expect(Date.parse(invitation.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('stops cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((r) => start.once('exit', (code) => r(code)));
    start.kill('SIGINT');
    expect(await exited).toBe(0);
    // The embedded server removed its address file on the way out.
    expect(existsSync(join(userDir, 'countersign', 'server.json'))).toBe(false);
  });
});
