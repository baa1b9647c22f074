/** HTTP hardening: security headers, CSP, caching, CORS closed, errors as {code, message}, the PWA, TLS. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX } from '../../protocol/index.js';
import { CONTENT_SECURITY_POLICY, silentLog, startServer } from '../../server/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = mkdtempSync(join(tmpdir(), 'countersign-app-'));
let server: TestServer;
let bare: TestServer;

beforeAll(async () => {
  mkdirSync(join(appDir, 'assets'));
  writeFileSync(
    join(appDir, 'index.html'),
    '<!doctype html><title>app</title><script type="module" src="/assets/index-AbCd1234.js"></script>',
  );
  writeFileSync(join(appDir, 'sw.js'), 'self.addEventListener("push", () => {});');
  writeFileSync(join(appDir, 'assets', 'index-AbCd1234.js'), 'console.log(1);');
  writeFileSync(join(appDir, 'manifest.webmanifest'), '{}');
  server = await startTestServer({ appDir });
  bare = await startTestServer({ appDir: null });
});
afterAll(async () => {
  await server?.close();
  await bare?.close();
  rmSync(appDir, { recursive: true, force: true });
});

function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(res.headers.get('permissions-policy')).toBeTruthy();
  expect(res.headers.get('x-powered-by')).toBeNull();
  expect(res.headers.get('access-control-allow-origin')).toBeNull();
}

describe('headers', () => {
  it('sends the CSP and security headers on the app, the API and errors alike', async () => {
    for (const path of ['/', '/sw.js', `${API_PREFIX}/config`, `${API_PREFIX}/nope`, '/nope']) {
      expectSecurityHeaders(await fetch(`${server.url}${path}`));
    }
  });
  it('marks API answers no-store', async () => {
    expect((await fetch(`${server.url}${API_PREFIX}/config`)).headers.get('cache-control')).toBe(
      'no-store',
    );
    expect((await fetch(`${server.url}${API_PREFIX}/devices`)).headers.get('cache-control')).toBe(
      'no-store',
    );
  });
  it('keeps CORS closed: a preflight from another origin gets no allow headers', async () => {
    const res = await fetch(`${server.url}${API_PREFIX}/deployments`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('connections', () => {
  it('keeps an idle connection longer than a reverse proxy keeps its own (Caddy: 2 minutes)', async () => {
    // Node's default of 5 s closed connections Caddy still held: a request sent on one just then
    // was answered 502. The answer's Keep-Alive hint is the server's idle timeout, in seconds.
    const agent = new http.Agent({ keepAlive: true });
    const hint = await new Promise<string | undefined>((resolve, reject) => {
      http
        .get(`${server.url}${API_PREFIX}/config`, { agent }, (res) => {
          res.resume();
          res.on('end', () => {
            const value = res.headers['keep-alive'];
            resolve(typeof value === 'string' ? value : undefined);
          });
        })
        .on('error', reject);
    }).finally(() => agent.destroy());
    const seconds = Number(/timeout=(\d+)/.exec(hint ?? '')?.[1]);
    expect(seconds).toBeGreaterThan(120);
  });
});

describe('errors', () => {
  it('answers unknown routes with 404 {code, message}', async () => {
    for (const path of [`${API_PREFIX}/nope`, '/nope', `${API_PREFIX}/admin/status`]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        code: 'ERR_NOT_FOUND',
        message: expect.any(String) as string,
      });
    }
  });
  it('refuses bodies that are not application/json with 400 and bodies over the limit with 413', async () => {
    const res = await fetch(`${server.url}${API_PREFIX}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    const big = await fetch(`${server.url}${API_PREFIX}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'x'.repeat(2 << 20) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
  });
  it('answers plugin routes without a token 401, and the admin API is not on the public port', async () => {
    const res = await fetch(`${server.url}${API_PREFIX}/keys`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'ERR_UNAUTHORIZED' });
    const admin = await fetch(`${server.adminUrl}${API_PREFIX}/admin/status`, {
      headers: { authorization: 'Bearer wrong' },
    });
    expect(admin.status).toBe(401);
  });
});

describe('the phone app', () => {
  it('serves index.html at / and never caches it or the service worker long', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>app</title>');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${server.url}/sw.js`)).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${server.url}/manifest.webmanifest`)).headers.get('cache-control')).toBe(
      'no-cache',
    );
  });
  it('serves hashed assets as immutable', async () => {
    const asset = await fetch(`${server.url}/assets/index-AbCd1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });
  it('does not serve files outside the app', async () => {
    const res = await fetch(`${server.url}/..%2F..%2Fetc%2Fpasswd`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
  it('says so when the app is not built', async () => {
    const res = await fetch(`${bare.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('not built');
    expectSecurityHeaders(res);
  });
});

describe('TLS', () => {
  it('serves https with HSTS when given a certificate and key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-tls-'));
    const running = await startServer({
      dataDir,
      port: 0,
      log: silentLog,
      appDir: null,
      tls: {
        cert: join(here, 'tls/cert.pem'),
        key: readFileSync(join(here, 'tls/key.pem'), 'utf8'),
      },
    });
    try {
      expect(running.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const answer = await new Promise<{ status: number; hsts: string | undefined; body: string }>(
        (resolve, reject) => {
          https
            .get(
              `${running.url}${API_PREFIX}/config`,
              { ca: readFileSync(join(here, 'tls/cert.pem')) },
              (res) => {
                let body = '';
                res.on('data', (d: Buffer) => (body += d.toString()));
                res.on('end', () =>
                  resolve({
                    status: res.statusCode ?? 0,
                    hsts: res.headers['strict-transport-security'],
                    body,
                  }),
                );
              },
            )
            .on('error', reject);
        },
      );
      expect(answer.status).toBe(200);
      expect(answer.hsts).toMatch(/max-age=\d+/);
      expect(JSON.parse(answer.body)).toMatchObject({ serverId: running.serverId });
    } finally {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  it('refuses a plain-http public URL that is not this machine', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-tls-'));
    try {
      await expect(
        startServer({
          dataDir,
          port: 0,
          log: silentLog,
          publicUrl: 'http://approvals.example.com',
        }),
      ).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
