/** What survives a restart (DESIGN 6), a corrupt store, and the audit chain. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, type ConfigResponse, type Flows } from '../../protocol/index.js';
import { startServer } from '../../server/index.js';
import { silentLog } from '../../server/log.js';
import { TestDevice } from '../helpers/device.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/server.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-restart-'));
  dirs.push(dir);
  return dir;
}
let base: Flows;
let target: Flows;

beforeAll(() => {
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('function__delay__01'))![1]);
  target = base.map((n) => (n.type === 'delay' ? { ...n, timeout: '9' } : n));
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('restart', () => {
  it('keeps pending deployments, devices, invitations, used jtis, keys and the audit chain', async () => {
    const dataDir = tempDir();
    const first = await startTestServer({ dataDir });
    const { token } = await first.addInstance('line-1', { requiredApprovals: 2 });
    const alice = await first.enrollDevice({ owner: 'alice' });
    const bob = await first.enrollDevice({ owner: 'bob' });
    const { code } = await first.invite({ owner: 'carol', name: 'tablet' });
    const { id } = await first.propose(token, base, target);
    const body = await alice.signedDecision(first.url, id);
    expect((await alice.post(first.url, id, body)).body).toMatchObject({
      status: 'pending',
    });
    const proofUsed = await alice.proof(`${first.url}${API_PREFIX}/devices`, 'GET');
    expect(
      (
        await alice.fetch(first.url, 'GET', `${API_PREFIX}/devices`, undefined, {
          proof: proofUsed,
        })
      ).status,
    ).toBe(200);
    const config1 = (await (
      await fetch(`${first.url}${API_PREFIX}/config`)
    ).json()) as ConfigResponse;
    const changes1 = (await alice.deployment(first.url, id)).changes;
    await first.close();

    const second = await startTestServer({ dataDir });
    try {
      const config2 = (await (
        await fetch(`${second.url}${API_PREFIX}/config`)
      ).json()) as ConfigResponse;
      expect(config2.serverId).toBe(config1.serverId);
      expect(config2.vapidPublicKey).toBe(config1.vapidPublicKey);
      // The device's proofs name the new port; the device itself is the same.
      const detail = await alice.deployment(second.url, id);
      expect(detail.status).toBe('pending');
      expect(detail.changes).toEqual(changes1);
      expect(detail.approvals.map((a) => a.device)).toEqual([alice.id]);
      // An approval jti used before the restart stays used.
      expect((await alice.post(second.url, id, body)).body).toMatchObject({
        code: 'ERR_APPROVAL_REPLAY',
      });
      // A proof jti from before the restart stays used (same server URL is needed for htu, so check
      // the journal the store reloaded it from).
      const usedJti = (
        JSON.parse(Buffer.from(proofUsed.split('.')[1]!, 'base64url').toString()) as { jti: string }
      ).jti;
      expect(readFileSync(join(dataDir, 'jtis.jsonl'), 'utf8')).toContain(
        JSON.stringify(`p:${alice.id}:${usedJti}`),
      );
      // The invitation made before the restart still works once.
      const carol = await TestDevice.create({ owner: 'carol' });
      expect((await carol.enroll(second.url, code)).owner).toBe('carol');
      // The instance token still works; the quorum completes.
      expect((await second.pluginFetch(token, 'GET', `${API_PREFIX}/keys`)).status).toBe(200);
      expect((await bob.decide(second.url, id)).body).toMatchObject({ status: 'approved' });
      const verify = await fetch(`${second.adminUrl}${API_PREFIX}/admin/audit/verify`, {
        headers: { authorization: `Bearer ${second.adminToken}` },
      });
      expect(await verify.json()).toMatchObject({ ok: true });
    } finally {
      await second.close();
    }
  });

  it('refuses to start on a store that does not parse, and leaves it untouched', async () => {
    const dataDir = tempDir();
    const server = await startTestServer({ dataDir });
    await server.addInstance('x');
    await server.close();
    const path = join(dataDir, 'countersign.json');
    const broken = readFileSync(path, 'utf8').slice(0, 40);
    writeFileSync(path, broken);
    await expect(
      startServer({ dataDir, port: 0, log: silentLog, appDir: null }),
    ).rejects.toMatchObject({
      code: 'ERR_STORE_CORRUPT',
      message: expect.stringContaining('does not parse') as string,
    });
    expect(readFileSync(path, 'utf8')).toBe(broken);
  });

  it('refuses a store written by a newer schema', async () => {
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, 'countersign.json'),
      JSON.stringify({
        schema: 99,
        serverId: 'x',
        instances: [],
        devices: [],
        invitations: [],
        deployments: [],
        approvalJtis: {},
        proofJtis: {},
      }),
    );
    await expect(
      startServer({ dataDir, port: 0, log: silentLog, appDir: null }),
    ).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });

  it('refuses a second server on the same data directory', async () => {
    const dataDir = tempDir();
    const server = await startTestServer({ dataDir });
    try {
      await expect(
        startServer({ dataDir, port: 0, log: silentLog, appDir: null }),
      ).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    } finally {
      await server.close();
    }
  });

  it('keeps VAPID keys, the admin token and server.json readable by the owner only, and the same across restarts', async () => {
    const dataDir = tempDir();
    const first = await startTestServer({ dataDir });
    for (const file of ['vapid.json', 'admin.token', 'server.json']) {
      expect((statSync(join(dataDir, file)).mode & 0o777).toString(8)).toBe('600');
    }
    const vapid = readFileSync(join(dataDir, 'vapid.json'), 'utf8');
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8');
    expect(vapid).toContain('privateKey');
    await first.close();
    const second = await startTestServer({ dataDir });
    try {
      expect(readFileSync(join(dataDir, 'vapid.json'), 'utf8')).toBe(vapid);
      expect(readFileSync(join(dataDir, 'admin.token'), 'utf8')).toBe(admin);
    } finally {
      await second.close();
    }
  });

  it('finds an edited audit line', async () => {
    const dataDir = tempDir();
    const server = await startTestServer({ dataDir });
    try {
      await server.addInstance('audit-me');
      await server.invite({ owner: 'alice', name: 'phone' });
      // A command answers once its document is written; its audit lines follow. Reading the log
      // through the server waits for them, so the file is complete before it is edited.
      const written = await fetch(`${server.adminUrl}${API_PREFIX}/admin/audit`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      });
      expect(JSON.stringify(await written.json())).toContain('invitation-created');
      const path = join(dataDir, 'audit.jsonl');
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      const edited = lines.map((l) =>
        l.includes('"invitation-created"') ? l.replace('"alice"', '"mallory"') : l,
      );
      expect(edited).not.toEqual(lines);
      writeFileSync(path, edited.join('\n') + '\n');
      const res = await fetch(`${server.adminUrl}${API_PREFIX}/admin/audit/verify`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      });
      const result = (await res.json()) as { ok: boolean; badSeq: number; reason: string };
      expect(result.ok).toBe(false);
      expect(result.badSeq).toBe(lines.findIndex((l) => l.includes('"invitation-created"')) + 1);
      expect(result.reason).toBe('hash mismatch');
    } finally {
      await server.close();
    }
  });
});
