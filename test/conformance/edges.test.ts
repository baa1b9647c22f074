/**
 * Less travelled corners of DESIGN.md 5, from an independent client: a server behind a reverse
 * proxy (htu against the public URL), forwarded-address headers and the enrolment rate limit,
 * critical header extensions, private keys offered as public ones, and the admin API kept off the
 * public port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API,
  Device,
  call,
  enrolled,
  flows,
  instance,
  randomJti,
  sha256Hex,
  startTarget,
  stopTarget,
  type Plugin,
  type Target,
} from './client.js';
import { storedText } from '../helpers/stored.js';
import { expectError } from './expect-error.js';

const PUBLIC = 'https://approvals.example.com';
let t: Target;
let plugin: Plugin;
let alice: Device;

beforeAll(async () => {
  t = await startTarget({ publicUrl: PUBLIC });
  plugin = await instance(t, 'line-1');
  alice = await enrolled(t, { owner: 'alice' });
});

afterAll(async () => {
  await stopTarget(t);
});

describe('behind a reverse proxy (5.7)', () => {
  it('checks htu against the configured public URL, not the address it listens on', async () => {
    expect(t.server.publicUrl.replace(/\/$/, '')).toBe(PUBLIC);
    expect((await alice.request(t, 'GET', '/devices')).status).toBe(200);
    const listen = await alice.request(t, 'GET', '/devices', undefined, {
      htu: `${t.url}${API}/devices`,
    });
    expectError(listen, 401, 'ERR_PROOF_HTU');
  });

  it('ignores forwarded host and scheme headers when checking htu', async () => {
    const url = `${t.url}${API}/devices`;
    const proof = await alice.proof('GET', url);
    const reply = await call(url, {
      headers: {
        dpop: proof,
        'x-forwarded-host': new URL(t.url).host,
        'x-forwarded-proto': 'http',
        forwarded: `host=${new URL(t.url).host};proto=http`,
      },
    });
    expectError(reply, 401, 'ERR_PROOF_HTU');
  });

  it('builds invitation URLs on the public URL', async () => {
    const reply = await alice.request(t, 'POST', '/invitations', { owner: 'alice', name: 'phone' });
    expect(reply.status).toBe(201);
    expect(reply.body.url.startsWith(`${PUBLIC}/#/enroll?code=`)).toBe(true);
    const left = Date.parse(reply.body.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(590_000);
    expect(left).toBeLessThanOrEqual(600_000);
  });
});

describe('the enrolment rate limit (5.5)', () => {
  it('cannot be dodged with X-Forwarded-For or Forwarded headers', async () => {
    const device = await Device.create();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const code = Buffer.alloc(32, 40 + i).toString('base64url');
      const reply = await call(`${t.url}${API}/devices`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-for': `203.0.113.${i + 1}`,
          'x-real-ip': `203.0.113.${i + 1}`,
          forwarded: `for=203.0.113.${i + 1}`,
        },
        body: JSON.stringify({
          code,
          name: 'n',
          publicJwk: device.publicJwk,
          push: null,
          proof: await device.enrollProof(code, t.serverId),
        }),
      });
      statuses.push(reply.status);
    }
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429, 429]);
  });
});

describe('header extensions and keys', () => {
  it('refuses an approval with a critical header extension', async () => {
    const { id } = await plugin.propose(flows('c1'), flows('c2'));
    const detail = (await alice.request(t, 'GET', `/deployments/${id}`)).body;
    const claims = alice.approvalClaims(t, detail);
    const header = { alg: 'ES256', typ: 'countersign-approval+jwt', kid: alice.id };
    const crit = await alice.signRaw({ ...header, crit: ['b64'], b64: false }, claims);
    const reply = await alice.decide(t, id, crit);
    expect(reply.status).toBe(422);
    expect(['ERR_APPROVAL_HEADER', 'ERR_APPROVAL_MALFORMED']).toContain(reply.body.code);
    // the same header without the extension, signed the same way, is accepted
    const plain = await alice.signRaw(header, { ...claims, jti: randomJti() });
    expect((await alice.decide(t, id, plain)).body.status).toBe('approved');
  });

  it('refuses a proof with a critical header extension', async () => {
    const url = `${PUBLIC}${API}/devices`;
    const proof = await alice.signRaw(
      { typ: 'dpop+jwt', alg: 'ES256', jwk: alice.publicJwk, crit: ['x'], x: 1 },
      { jti: randomJti(), htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000) },
    );
    expectError(await call(`${t.url}${API}/devices`, { headers: { dpop: proof } }), 401);
  });

  it('refuses to enrol a publicJwk that carries the private key, or another curve', async () => {
    const device = await Device.create();
    const withD = { ...device.publicJwk, d: Buffer.alloc(32, 3).toString('base64url') };
    const { code } = await t.server.invite({ owner: 'x', name: 'phone' });
    const proof = await device.enrollProof(code, t.serverId, { jwk: withD });
    const reply = await device.enroll(t, code, { publicJwk: withD, proof });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.body.code).toMatch(/^ERR_/);
    const stored = await storedText(t.dataDir);
    expect(stored).not.toContain(withD.d);
    const p384 = { kty: 'EC', crv: 'P-384', x: 'AAAA', y: 'AAAA' };
    const { code: code2 } = await t.server.invite({ owner: 'x', name: 'phone' });
    const reply2 = await device.enroll(t, code2, { publicJwk: p384 as never });
    expect(reply2.status).toBeGreaterThanOrEqual(400);
    expect(reply2.status).toBeLessThan(500);
  });
});

describe('the admin API', () => {
  it('is not on the public port, and needs the admin token on its own port', async () => {
    const token = fs.readFileSync(path.join(t.dataDir, 'admin.token'), 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };
    for (const p of ['/admin/devices', `${API}/admin/devices`]) {
      const reply = await call(`${t.url}${p}`, { headers: auth });
      expect(reply.status).toBe(404);
    }
    const noToken = await call(`${t.server.adminUrl}${API}/admin/devices`);
    expectError(noToken, 401);
    const wrong = await call(`${t.server.adminUrl}${API}/admin/devices`, {
      headers: { authorization: `Bearer ${sha256Hex(token)}` },
    });
    expectError(wrong, 401);
    const right = await call(`${t.server.adminUrl}${API}/admin/devices`, { headers: auth });
    expect(right.status).toBe(200);
  });
});
