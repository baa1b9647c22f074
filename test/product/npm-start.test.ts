/**
 * `npm start` as a person meets it: a real Node-RED from its own command line with the plugin and the
 * embedded approval server; it does not rebuild a fresh build; after Node-RED's own start-up lines it
 * prints the editor URL, the approval URL and an enrolment link; a deployment is held; Ctrl-C stops
 * everything cleanly. With `--host 0.0.0.0` it lists the network addresses and says plainly why a
 * phone needs HTTPS and how to get it; a plain-http public URL is refused with the same advice.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { npmStart, type NpmStart } from '../helpers/npm-start.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const temp = mkdtempSync(join(tmpdir(), 'countersign-start-'));
// A folder with a space in its name, with npm start's default user directory in it.
const folder = join(temp, 'my project');
const userDir = join(folder, '.countersign');
let start: NpmStart;
let editorPort = 0;
let approvalPort = 0;

const qrRows = (text: string): number =>
  text.split('\n').filter((line) => /^[█▀▄ ]{30,}$/.test(line)).length;

beforeAll(async () => {
  editorPort = await freePort();
  approvalPort = await freePort();
  start = npmStart([
    '--user-dir',
    userDir,
    '--editor-port',
    String(editorPort),
    '--approval-port',
    String(approvalPort),
    '--owner',
    'maria',
  ]);
  await start.waitFor(/#\/enroll\?code=/);
}, 120_000);

afterAll(async () => {
  await start?.stop();
  rmSync(temp, { recursive: true, force: true });
});

describe('npm start', () => {
  it('runs `node bin/start.js`, and does not rebuild a fresh build', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('node bin/start.js');
    expect(start.output()).not.toMatch(/countersign: building/);
  });

  it("ends its output with the URLs and the enrolment link, after Node-RED's own start-up lines", () => {
    const output = start.output();
    const announced = output.indexOf('Countersign is guarding this Node-RED.');
    expect(announced).toBeGreaterThan(output.indexOf('Started flows'));
    expect(announced).toBeGreaterThan(output.indexOf('Your flow credentials file is encrypted'));
    const tail = output.slice(announced);
    expect(tail).toContain(`Editor:          http://127.0.0.1:${editorPort}/`);
    expect(tail).toContain(`Approval server: http://localhost:${approvalPort}`);
    expect(tail).toMatch(
      new RegExp(`http://localhost:${approvalPort}/#/enroll\\?code=[A-Za-z0-9_-]{43}`),
    );
    // A localhost link opens the phone itself: offered to this computer, with no QR code for a phone.
    expect(tail).toContain("Enrol a browser on this computer as maria's device");
    expect(tail).toContain('Reaching your phone');
    expect(qrRows(tail)).toBe(0);
    expect(existsSync(join(userDir, 'countersign', 'admin.token'))).toBe(true);
  });

  it('starts a brand-new install quietly: no drift, nothing trusted', () => {
    expect(start.output()).toContain('first start with no flows');
    expect(start.output()).not.toMatch(/drift|trusting the flows on disk/);
  });

  it('listens on this machine only unless --host says otherwise', () => {
    const settings = readFileSync(join(userDir, 'countersign-settings.cjs'), 'utf8');
    expect(settings).toContain('uiHost: "127.0.0.1"');
    expect(settings).toContain('"host": "127.0.0.1"');
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

  it('lets the command line find the embedded server from the folder, or with --data-dir', () => {
    const run = (args: string[], cwd = root): string =>
      execFileSync(process.execPath, [join(root, 'bin/countersign.js'), ...args], {
        encoding: 'utf8',
        cwd,
      });
    const printed = run([
      'enroll',
      '--data-dir',
      join(userDir, 'countersign'),
      '--owner',
      'bob',
      '--name',
      "Bob's phone",
      '--json',
    ]);
    const invitation = JSON.parse(printed) as { code: string; url: string; expiresAt: string };
    expect(invitation.url).toBe(
      `http://localhost:${approvalPort}/#/enroll?code=${invitation.code}`,
    );
    expect(Date.parse(invitation.expiresAt)).toBeGreaterThan(Date.now());
    // In the folder where `npm start` ran (its user directory is ./.countersign), no flag is needed.
    const status = run(['status'], folder);
    expect(status).toContain(`phones use http://localhost:${approvalPort}`);
    expect(status).toMatch(/Deployments: 1 pending \(1 in all\)/);
  });

  it('stops cleanly on Ctrl-C', async () => {
    expect(await start.stop()).toBe(0);
    // The embedded server removed its address file on the way out.
    expect(existsSync(join(userDir, 'countersign', 'server.json'))).toBe(false);
  });
});

describe('npm start -- --host 0.0.0.0', () => {
  it('prints the network addresses, and why and how a phone needs HTTPS', async () => {
    const port = await freePort();
    const wide = npmStart([
      '--user-dir',
      join(temp, 'wide'),
      '--editor-port',
      String(await freePort()),
      '--approval-port',
      String(port),
      '--host',
      '0.0.0.0',
    ]);
    try {
      await wide.waitFor(/#\/enroll\?code=/);
      const tail = wide.output().slice(wide.output().indexOf('Countersign is guarding'));
      expect(tail).toMatch(new RegExp(`On your network it answers at:\\n  http://\\S+:${port}/`));
      expect(tail).toContain('A phone cannot use Countersign over plain http');
      for (const recipe of [
        'tailscale serve',
        'cloudflared tunnel',
        'caddy reverse-proxy',
        '--tls-cert',
      ])
        expect(tail).toContain(recipe);
      expect(readFileSync(join(temp, 'wide', 'countersign-settings.cjs'), 'utf8')).toContain(
        'uiHost: "0.0.0.0"',
      );
    } finally {
      expect(await wide.stop()).toBe(0);
    }
  });

  it('refuses a plain-http public URL on another address, saying why and what to do', async () => {
    const refused = npmStart([
      '--user-dir',
      join(temp, 'refused'),
      '--host',
      '0.0.0.0',
      '--public-url',
      'http://192.168.1.20:1881',
    ]);
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toContain('--public-url http://192.168.1.20:1881 is plain http');
    expect(refused.output()).toContain('browsers allow service workers, push');
    expect(existsSync(join(temp, 'refused', 'countersign-settings.cjs'))).toBe(false);
  });
});
