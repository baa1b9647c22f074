/**
 * The README's Caddy recipe, end to end: `caddy` (Debian's package) with its internal CA in front of
 * the approval server of `npm start -- --public-url https://localhost:<caddy port> --trust-proxy
 * 127.0.0.1`; Chromium trusts the certificate Caddy presents (checked against Caddy's own root), and
 * a person enrols, reviews and signs through the https:// public URL, after which Node-RED runs the
 * signed flows. Device proofs are checked against the public URL, not the address the server
 * listens on; `X-Forwarded-For` names the client only when Caddy (the configured proxy) sends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX } from '../../protocol/index.js';
import { TestDevice } from '../helpers/device.js';
import { freePort } from '../helpers/free-port.js';
import { embeddedAdmin } from '../helpers/node-red.js';
import { npmStart, type NpmStart } from '../helpers/npm-start.js';
import type { Browser } from '../pwa/browser.js';
import {
  browserTrusting,
  deployHeld,
  enrolReviewAndSign,
  httpsRequest,
  pemOf,
  smallFlows,
  waitForTls,
} from './phone-over-https.js';

const temp = mkdtempSync(join(tmpdir(), 'countersign-caddy-'));
const userDir = join(temp, 'node-red');
const caddyRoot = join(temp, 'caddy-data', 'pki', 'authorities', 'local', 'root.crt');
let caddy: ChildProcess;
let caddyLog = '';
let start: NpmStart;
let browser: Browser;
let page: Page;
let editorUrl = '';
let approvalPort = 0;
let publicUrl = '';

beforeAll(async () => {
  const httpsPort = await freePort();
  approvalPort = await freePort();
  const editorPort = await freePort();
  editorUrl = `http://127.0.0.1:${editorPort}`;
  publicUrl = `https://localhost:${httpsPort}`;
  writeFileSync(
    join(temp, 'Caddyfile'),
    `{
	admin off
	skip_install_trust
	local_certs
	storage file_system ${join(temp, 'caddy-data')}
	http_port ${await freePort()}
	https_port ${httpsPort}
}

localhost:${httpsPort} {
	reverse_proxy 127.0.0.1:${approvalPort}
}
`,
  );
  caddy = spawn('caddy', ['run', '--config', join(temp, 'Caddyfile'), '--adapter', 'caddyfile'], {
    cwd: temp,
    env: {
      ...process.env,
      HOME: temp,
      XDG_DATA_HOME: join(temp, 'xdg-data'),
      XDG_CONFIG_HOME: join(temp, 'xdg-config'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  caddy.stdout!.on('data', (d: Buffer) => (caddyLog += d.toString()));
  caddy.stderr!.on('data', (d: Buffer) => (caddyLog += d.toString()));

  start = npmStart([
    '--user-dir',
    userDir,
    '--editor-port',
    String(editorPort),
    '--approval-port',
    String(approvalPort),
    '--public-url',
    publicUrl,
    '--trust-proxy',
    '127.0.0.1',
    '--owner',
    'alice',
  ]);
  await start.waitFor(/#\/enroll\?code=/);
  const leaf = await waitForTls(httpsPort, pemOf(caddyRoot)).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${caddyLog}`);
  });
  browser = await browserTrusting(leaf);
  page = await browser.context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await start?.stop();
  if (caddy && caddy.exitCode === null) {
    const exited = new Promise((r) => caddy.once('exit', r));
    caddy.kill('SIGTERM');
    await exited;
  }
  rmSync(temp, { recursive: true, force: true });
});

describe('Caddy with its internal CA in front of the approval server', () => {
  it('prints the https enrolment link with a QR code a phone can scan', () => {
    const tail = start.output().slice(start.output().indexOf('Countersign is guarding'));
    expect(tail).toContain(`Approval server: ${publicUrl}`);
    expect(tail).toContain(`your proxy or tunnel forwards to http://127.0.0.1:${approvalPort}`);
    expect(tail).toMatch(new RegExp(`Open this link on alice's phone`));
    expect(tail.split('\n').filter((l) => /^[█▀▄ ]{30,}$/.test(l)).length).toBeGreaterThan(10);
  });

  it('enrols, reviews and signs through the https public URL, and Node-RED runs it', async () => {
    const link = /(https:\/\/localhost:\d+\/#\/enroll\?code=[A-Za-z0-9_-]{43})/.exec(
      start.output(),
    )![1]!;
    const flows = smallFlows('Signed over HTTPS');
    const id = await deployHeld(editorUrl, flows);
    const fingerprint = await enrolReviewAndSign(page, { link, publicUrl, editorUrl, id, flows });
    await start.waitFor(
      new RegExp(`deployment ${id} approved by \\S+ \\(${fingerprint}\\); applied`),
    );
  });

  it('checks device proofs against the public URL, not the address the server listens on', async () => {
    const admin = embeddedAdmin(userDir);
    const direct = `http://127.0.0.1:${approvalPort}`;
    const device = await admin.enrollDevice(direct, { owner: 'bob' });
    const path = `${API_PREFIX}/devices`;
    const listenProof = await device.fetch(direct, 'GET', path);
    expect(listenProof.status).toBe(401);
    expect(((await listenProof.json()) as { code: string }).code).toBe('ERR_PROOF_HTU');
    const publicProof = await device.proof(`${publicUrl}${path}`, 'GET');
    expect(
      (await device.fetch(direct, 'GET', path, undefined, { proof: publicProof })).status,
    ).toBe(200);
  });

  it('takes X-Forwarded-For from Caddy, and from nobody else', async () => {
    // An enrolment with a wrong invitation code: each one counts against the client's address.
    const guesser = await TestDevice.create({ owner: 'mallory' });
    const body = JSON.stringify({
      code: 'x'.repeat(43),
      name: 'guess',
      publicJwk: guesser.key.publicJwk,
      push: null,
      proof: 'x',
    });
    // Straight to the server from 127.0.0.2 (not the proxy): a forged header changes nothing.
    const direct = (forwarded: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: approvalPort,
            path: `${API_PREFIX}/devices`,
            method: 'POST',
            localAddress: '127.0.0.2',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': forwarded },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.once('error', reject);
        req.end(body);
      });
    const throughCaddy = async (from: string): Promise<number> =>
      (
        await httpsRequest(`${publicUrl}${API_PREFIX}/devices`, {
          ca: pemOf(caddyRoot)(),
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1' },
          body,
          localAddress: from,
        })
      ).status;

    const forged: number[] = [];
    for (let i = 1; i <= 6; i++) forged.push(await direct(`203.0.113.${i}`));
    expect(forged.slice(0, 5).every((s) => s !== 429)).toBe(true);
    expect(forged[5]).toBe(429);

    // Through Caddy, each client is itself: 127.0.0.3 runs out of tries, 127.0.0.4 does not.
    const three: number[] = [];
    for (let i = 0; i < 6; i++) three.push(await throughCaddy('127.0.0.3'));
    expect(three[5]).toBe(429);
    expect(await throughCaddy('127.0.0.4')).not.toBe(429);
  });
});
