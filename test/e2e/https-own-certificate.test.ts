/**
 * The README's own-certificate recipe, end to end: a CA and a server certificate made here with
 * openssl, `npm start -- --tls-cert server.crt --tls-key server.key`, so that the approval server
 * itself serves https (and the plugin reaches it over loopback). Chromium trusts that certificate,
 * and a person enrols, reviews and signs through the https:// public URL; Node-RED runs the signed
 * flows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { npmStart, type NpmStart } from '../helpers/npm-start.js';
import type { Browser } from '../pwa/browser.js';
import {
  browserTrusting,
  deployHeld,
  enrolReviewAndSign,
  makeCertificate,
  smallFlows,
  waitForTls,
} from './phone-over-https.js';

const temp = mkdtempSync(join(tmpdir(), 'countersign-own-cert-'));
let start: NpmStart;
let browser: Browser;
let page: Page;
let editorUrl = '';
let approvalPort = 0;

beforeAll(async () => {
  const certificate = makeCertificate(temp);
  approvalPort = await freePort();
  const editorPort = await freePort();
  editorUrl = `http://127.0.0.1:${editorPort}`;
  start = npmStart([
    '--user-dir',
    join(temp, 'node-red'),
    '--editor-port',
    String(editorPort),
    '--approval-port',
    String(approvalPort),
    '--tls-cert',
    certificate.cert,
    '--tls-key',
    certificate.key,
  ]);
  await start.waitFor(/#\/enroll\?code=/);
  const ca = readFileSync(certificate.ca, 'utf8');
  browser = await browserTrusting(await waitForTls(approvalPort, () => ca));
  page = await browser.context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await start?.stop();
  rmSync(temp, { recursive: true, force: true });
});

describe('npm start with your own certificate', () => {
  it('serves https itself, at the public URL it prints', () => {
    const output = start.output();
    expect(output).toContain(`listening on https://127.0.0.1:${approvalPort}`);
    expect(output).toContain(`Approval server: https://localhost:${approvalPort}`);
    expect(output).toContain('phones must trust the certificate of --tls-cert');
  });

  it('enrols, reviews and signs through the https public URL, and Node-RED runs it', async () => {
    const publicUrl = `https://localhost:${approvalPort}`;
    const link = /(https:\/\/localhost:\d+\/#\/enroll\?code=[A-Za-z0-9_-]{43})/.exec(
      start.output(),
    )![1]!;
    const flows = smallFlows('Signed with our own certificate');
    const id = await deployHeld(editorUrl, flows);
    const fingerprint = await enrolReviewAndSign(page, { link, publicUrl, editorUrl, id, flows });
    await start.waitFor(
      new RegExp(`deployment ${id} approved by \\S+ \\(${fingerprint}\\); applied`),
    );
  });
});
