/**
 * A phone reaching Countersign over HTTPS, for the README's recipes: a certificate made here with
 * openssl, the certificate a TLS server really presents (checked against its CA), Chromium trusting
 * exactly that certificate (`--ignore-certificate-errors-spki-list` with its public key's hash), and
 * the person's path through the real PWA: enrol from the link `npm start` printed, review the held
 * deployment and sign it, then Node-RED runs it.
 */
import { execFileSync } from 'node:child_process';
import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { revOf, type Flows } from '../../protocol/index.js';
import { enrollThroughUi, launchBrowser, type Browser } from '../pwa/browser.js';
import { currentCard, nextCard } from '../pwa/review-cards.js';

/** PEM files of a test CA and of a certificate it signed for localhost and 127.0.0.1. */
export type TestCertificate = { ca: string; cert: string; key: string };

/** Makes a CA and a server certificate for `localhost` / `127.0.0.1` in `dir` (openssl). */
export function makeCertificate(dir: string): TestCertificate {
  const file = (name: string): string => join(dir, name);
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(
    ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2']
      .concat(['-subj', '/CN=Countersign test CA'])
      .concat(['-addext', 'basicConstraints=critical,CA:TRUE'])
      .concat(['-addext', 'keyUsage=critical,keyCertSign']),
  );
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(
    file('server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  run(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key'].concat([
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ]),
  );
  return { ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') };
}

/** The certificate `localhost:port` presents, verified against `caPem` (throws when it does not verify). */
export function servedCertificate(port: number, caPem: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: 'localhost', ca: caPem, rejectUnauthorized: true },
      () => {
        const cert = socket.getPeerX509Certificate();
        socket.end();
        if (cert) resolve(cert);
        else reject(new Error('no certificate'));
      },
    );
    socket.once('error', reject);
  });
}

/** Waits until `localhost:port` answers TLS with a certificate that verifies against `caPem`. */
export async function waitForTls(port: number, caPem: () => string): Promise<X509Certificate> {
  let last: unknown;
  for (let i = 0; i < 300; i++) {
    try {
      return await servedCertificate(port, caPem());
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no verified TLS on port ${port}: ${String(last)}`);
}

/** A Chromium that trusts exactly `cert` (base64 SHA-256 of its public key), sized like a phone. */
export function browserTrusting(cert: X509Certificate): Promise<Browser> {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(spki).digest('base64');
  return launchBrowser({ args: [`--ignore-certificate-errors-spki-list=${hash}`] });
}

/** A JSON request over https that trusts `ca` only (and may leave from `localAddress`). */
export function httpsRequest(
  url: string,
  options: {
    ca: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress?: string;
  },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = https.request(
      {
        host: '127.0.0.1',
        port: Number(u.port),
        path: u.pathname + u.search,
        servername: u.hostname,
        method: options.method ?? 'GET',
        ca: options.ca,
        headers: { host: u.host, ...options.headers },
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.once('error', reject);
    req.end(options.body);
  });
}

/** Small flows to deploy: a tab with an inject wired to a debug node. */
export function smallFlows(label: string): Flows {
  return [
    { id: 'tab-https', type: 'tab', label },
    {
      id: 'inject-https',
      type: 'inject',
      z: 'tab-https',
      name: 'every minute',
      repeat: '60',
      x: 140,
      y: 80,
      wires: [['debug-https']],
    },
    { id: 'debug-https', type: 'debug', z: 'tab-https', name: '', x: 360, y: 80, wires: [] },
  ];
}

/** Deploys `flows` through the editor's admin API; expects it held and returns its id. */
export async function deployHeld(editorUrl: string, flows: Flows): Promise<string> {
  const res = await fetch(`${editorUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
    body: JSON.stringify(flows),
  });
  const text = await res.text();
  expect(res.status, text).toBe(423);
  return /Deployment ([0-9a-f]{12}) is held/.exec(text)![1]!;
}

/**
 * The person's path at the https public URL: enrol from `link`, open the review of `id`, approve
 * every card, sign; then Node-RED must run `flows`. Returns the fingerprint the phone showed.
 */
export async function enrolReviewAndSign(
  page: Page,
  options: { link: string; publicUrl: string; editorUrl: string; id: string; flows: Flows },
): Promise<string> {
  const { fingerprint } = await enrollThroughUi(page, options.link, 'Phone over HTTPS');
  expect(new URL(page.url()).origin).toBe(options.publicUrl);
  await page.goto(`${options.publicUrl}/#/review/${options.id}`);
  await page.locator('cs-review .verified.ok').waitFor();
  for (let card = await currentCard(page); card !== null; card = await nextCard(page, card)) {
    await page.keyboard.press('ArrowRight');
  }
  await page.getByRole('button', { name: 'Approve and sign' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Sign' }).click();
  await page.getByText('Approved and signed').waitFor();
  const target = await revOf(options.flows);
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`${options.editorUrl}/flows`, {
      headers: { 'node-red-api-version': 'v2' },
    });
    if (((await res.json()) as { rev: string }).rev === target) return fingerprint;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('Node-RED did not run the signed flows');
}

/** Reads a PEM file (for the waits that read a file written later). */
export function pemOf(path: string): () => string {
  return () => readFileSync(path, 'utf8');
}
