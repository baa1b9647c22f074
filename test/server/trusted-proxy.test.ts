/**
 * Rate limits behind a reverse proxy (DESIGN 5.5, `trustProxy`): the client address comes from
 * `X-Forwarded-For` only when the request arrives from a configured trusted proxy. The attack of
 * the issue: behind one proxy every phone shares the proxy's address, so five bad enrolment codes
 * lock every phone out. A real Caddy (Debian's package) stands in front of the server; clients
 * connect to it from distinct loopback addresses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX } from '../../protocol/index.js';
import { TestDevice } from '../helpers/device.js';
import { freePort } from '../helpers/free-port.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../plugin/until.js';

let dir: string;
let caddy: ChildProcess | null = null;
let caddyUrl: string;
let upstreamPort: number;

/** Starts Caddy as a reverse proxy on 127.0.0.1 in front of `upstreamPort` (replaced per test). */
async function startCaddy(): Promise<void> {
  const port = await freePort();
  upstreamPort = await freePort();
  const config = join(dir, 'Caddyfile');
  writeFileSync(
    config,
    `{\n  admin off\n  auto_https off\n  storage file_system ${join(dir, 'caddy')}\n}\nhttp://127.0.0.1:${port} {\n  reverse_proxy 127.0.0.1:${upstreamPort}\n}\n`,
  );
  caddy = spawn('caddy', ['run', '--config', config, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: 'ignore',
  });
  caddyUrl = `http://127.0.0.1:${port}`;
  await until({ logs: [] }, 'Caddy to listen', () =>
    fetch(`${caddyUrl}/`)
      .then(() => true)
      .catch(() => false),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-proxy-'));
  await startCaddy();
}, 60_000);
afterAll(() => {
  caddy?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** `POST /devices` through Caddy from the loopback address `from`, with `headers` of its own. */
function enrolFrom(
  from: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${caddyUrl}${API_PREFIX}/devices`,
      {
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          const parsed = JSON.parse(text) as { code?: string };
          resolve({ status: res.statusCode ?? 0, code: parsed.code ?? '' });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function withServer(
  trustProxy: string[] | undefined,
  fn: (server: TestServer) => Promise<void>,
): Promise<void> {
  // On the port Caddy proxies to.
  const server = await startTestServer({
    ...(trustProxy ? { trustProxy } : {}),
    publicUrl: caddyUrl,
    port: upstreamPort,
  });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** Five bad codes from `from`, each claiming another client address of its own. */
async function badCodes(from: string, device: TestDevice, serverUrl: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const body = await device.enrollBody(serverUrl, Buffer.alloc(32, i + 1).toString('base64url'));
    const spoof = { 'x-forwarded-for': `198.51.100.${i + 1}` };
    statuses.push((await enrolFrom(from, body, spoof)).status);
  }
  return statuses;
}

describe('the enrolment rate limit behind a reverse proxy (5.5)', () => {
  it('counts each client behind a trusted proxy on its own', async () => {
    await withServer(['127.0.0.1'], async (server) => {
      const attacker = await TestDevice.create({ owner: 'x' });
      expect(await badCodes('127.0.0.2', attacker, server.url)).toEqual(Array(5).fill(403));
      expect(
        (await enrolFrom('127.0.0.2', await attacker.enrollBody(server.url, 'x'.repeat(43))))
          .status,
      ).toBe(429);
      // Another phone behind the same proxy still enrols.
      const { code } = await server.invite({ owner: 'alice', name: 'phone' });
      const phone = await TestDevice.create({ owner: 'alice' });
      const answer = await enrolFrom('127.0.0.3', await phone.enrollBody(server.url, code));
      expect(answer.status).toBe(201);
    });
  });

  it('without trustProxy, takes the proxy as the client (X-Forwarded-For is not believed)', async () => {
    await withServer(undefined, async (server) => {
      const attacker = await TestDevice.create({ owner: 'x' });
      await badCodes('127.0.0.2', attacker, server.url);
      const { code } = await server.invite({ owner: 'alice', name: 'phone' });
      const phone = await TestDevice.create({ owner: 'alice' });
      expect((await enrolFrom('127.0.0.3', await phone.enrollBody(server.url, code))).status).toBe(
        429,
      );
    });
  });
});
