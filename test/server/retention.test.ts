/**
 * Constant cost (DESIGN 6): decided deployments past the retention move to the monthly history
 * files, their blobs and change lists go once nothing live refers to them, the audit log keeps
 * everything, and history and audit stay readable a page at a time, newest first.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  revOf,
  type DeploymentDetail,
  type DeploymentPageResponse,
  type AuditPageResponse,
  type Flows,
} from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../helpers/server.js';

let base: Flows;
/** The test's server; every server a test starts is closed after it. */
let server: TestServer;
const opened: TestServer[] = [];

async function start(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  server = await startTestServer(options);
  opened.push(server);
  return server;
}

beforeAll(() => {
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1]);
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

function variant(i: number): Flows {
  return base.map((n) => (n.type === 'http in' ? { ...n, url: `/r${i}` } : n));
}

async function admin<T>(s: TestServer, method: string, path: string): Promise<T> {
  const res = await fetch(`${s.adminUrl}${API_PREFIX}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${s.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** A server with `retention` on a clock starting at `startMs`, an instance and a phone. */
async function started(
  retention: { days: number; keep: number },
  startMs?: number,
): Promise<{ clock: TestClock; token: string; phone: TestDevice }> {
  const clock = new TestClock(startMs);
  await start({ clock, retention });
  const { token } = await server.addInstance('line-1');
  const phone = await server.enrollDevice({ owner: 'alice' });
  return { clock, token, phone };
}

/** Proposes and rejects `count` deployments, one after the other; returns their ids, oldest first. */
async function decided(
  s: TestServer,
  token: string,
  phone: TestDevice,
  count: number,
  clock: TestClock,
) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { id } = await s.propose(token, base, variant(i));
    expect((await phone.decide(s.url, id, { verdict: 'reject' })).status).toBe(200);
    ids.push(id);
    clock.advance(1000);
  }
  return ids;
}

/** Every page of `GET /deployments`, following `next`. */
async function allPages(s: TestServer, phone: TestDevice, limit: number) {
  const pages: DeploymentPageResponse[] = [];
  let next: string | null = '';
  while (next !== null) {
    const query: string = next === '' ? '' : `&before=${encodeURIComponent(next)}`;
    const answer = await phone.call<DeploymentPageResponse>(
      s.url,
      'GET',
      `${API_PREFIX}/deployments?limit=${limit}${query}`,
    );
    expect(answer.status).toBe(200);
    pages.push(answer.body);
    next = answer.body.next;
  }
  return pages;
}

describe('retention and pruning', () => {
  it('keeps the files of the newest `keep` decided deployments, deletes the others, and the history keeps every one', async () => {
    const { clock, token, phone } = await started(
      { days: 90, keep: 3 },
      Date.parse('2026-10-30T12:00:00Z'),
    );
    const ids = await decided(server, token, phone, 8, clock);
    const { id: pendingId } = await server.propose(token, base, variant(99));
    const auditBefore = await server.ctx.store.audit({ after: 0, limit: 1000 });
    clock.advance(11 * 60_000); // past the grace of blobs uploaded for proposals in flight

    // The document holds what waits for a decision, and the decided ones only by reference.
    const document = (): { deployments: { id: string }[] } =>
      JSON.parse(readFileSync(join(server.dataDir, 'countersign.json'), 'utf8'));
    expect(document().deployments.map((d) => d.id)).toEqual([pendingId]);
    expect(readdirSync(join(server.dataDir, 'history')).sort()).toEqual([
      '2026-10.jsonl',
      'index.jsonl',
    ]);

    const report = await admin<{
      pastRetention: number;
      blobsDeleted: number;
      changesDeleted: number;
    }>(server, 'POST', '/prune');
    expect(report).toEqual({ pastRetention: 5, blobsDeleted: 5, changesDeleted: 5 });
    const past = ids.slice(0, 5);
    for (const id of past) {
      expect(existsSync(join(server.dataDir, 'changes', `${id}.json`))).toBe(false);
    }
    for (const id of ids.slice(5)) {
      expect(existsSync(join(server.dataDir, 'changes', `${id}.json`))).toBe(true);
    }
    expect(existsSync(join(server.dataDir, 'blobs', `${await revOf(variant(0))}.json`))).toBe(
      false,
    );
    expect(existsSync(join(server.dataDir, 'blobs', `${await revOf(variant(7))}.json`))).toBe(true);
    expect(existsSync(join(server.dataDir, 'blobs', `${await revOf(base)}.json`))).toBe(true);
    // What the kept files are for is in files.jsonl, not in the document.
    expect((await server.ctx.store.stats()).deployments.retained).toBe(3);
    expect(readFileSync(join(server.dataDir, 'countersign.json'), 'utf8')).not.toContain(ids[7]!);

    // The audit log keeps everything it held, and says what passed the retention.
    const auditAfter = await server.ctx.store.audit({ after: 0, limit: 1000 });
    expect(auditAfter.slice(0, auditBefore.length)).toEqual(auditBefore);
    expect(auditAfter.at(-1)).toMatchObject({
      type: 'deployments-past-retention',
      data: { count: 5, deployments: past },
    });
    expect(await server.ctx.store.verifyAudit()).toEqual({ ok: true, entries: auditAfter.length });

    // Every decided deployment stays readable: who decided, and what the changes were; within the
    // retention with their content, past it without.
    const old = await phone.call<DeploymentDetail>(
      server.url,
      'GET',
      `${API_PREFIX}/deployments/${ids[0]}`,
    );
    expect(old.status).toBe(200);
    expect(old.body).toMatchObject({ id: ids[0], status: 'rejected', instance: 'line-1' });
    expect(old.body.approvals).toEqual([
      { device: phone.id, verdict: 'reject', at: expect.any(String) },
    ]);
    expect(old.body.changes.length).toBeGreaterThan(0);
    expect(old.body.changes.every((c) => c.before === undefined && c.delta === undefined)).toBe(
      true,
    );
    expect(old.body.changes.map((c) => c.id)).toEqual(
      (await server.ctx.store.deployment(ids[0]!))!.changeIds,
    );
    // Its audit lines come in one request, wherever they are in the log.
    const lines = await phone.call<AuditPageResponse>(
      server.url,
      'GET',
      `${API_PREFIX}/audit?deployment=${ids[0]}`,
    );
    expect(lines.body.entries.map((e) => e.type)).toEqual([
      'deployment-proposed',
      'decision',
      'deployment-rejected',
    ]);
    expect(lines.body.entries.every((e) => e.data.deployment === ids[0])).toBe(true);
    const recent = await phone.deployment(server.url, ids[7]!);
    expect(recent.changes.some((c) => c.before !== undefined || c.after !== undefined)).toBe(true);
  });

  it('pages every deployment newest first, live then decided, whatever the page size', async () => {
    const { clock, token, phone } = await started(
      { days: 90, keep: 2 },
      Date.parse('2026-11-29T08:00:00Z'),
    );
    const ids = await decided(server, token, phone, 7, clock);
    await admin(server, 'POST', '/prune');
    const { id: pendingId } = await server.propose(token, base, variant(50));
    const newestFirst = [pendingId, ...[...ids].reverse()];
    for (const limit of [1, 2, 3, 50]) {
      const pages = await allPages(server, phone, limit);
      expect(pages.flatMap((p) => p.deployments.map((d) => d.id))).toEqual(newestFirst);
      expect(pages.slice(0, -1).every((p) => p.deployments.length === limit)).toBe(true);
    }
    const history = await admin<DeploymentPageResponse>(server, 'GET', '/history?limit=3');
    expect(history.deployments.map((d) => d.id)).toEqual(newestFirst.slice(0, 3));
    expect(history.next).toEqual(expect.any(String));
  });

  it('lets the files of decided deployments go after `days`, never those of a live one', async () => {
    const { clock, token, phone } = await started(
      { days: 30, keep: 500 },
      Date.parse('2026-08-01T08:00:00Z'),
    );
    const ids = await decided(server, token, phone, 2, clock);
    const { id: approved } = await server.propose(token, base, variant(7));
    await phone.decide(server.url, approved);
    const { token: other } = await server.addInstance('line-2');
    const { id: pending } = await server.propose(other, base, variant(8), {});
    expect(
      (await server.ctx.store.prune(server.ctx.config.retention, clock.now())).pastRetention,
    ).toBe(0);

    clock.advance(31 * 86_400_000);
    // The pending one has expired by now: expiry is a decision too, kept another 30 days.
    await server.ctx.store.expireDue(clock.now());
    expect(
      (await server.ctx.store.prune(server.ctx.config.retention, clock.now())).pastRetention,
    ).toBe(2);
    clock.advance(31 * 86_400_000);
    expect(
      (await server.ctx.store.prune(server.ctx.config.retention, clock.now())).pastRetention,
    ).toBe(1);
    expect((await server.ctx.store.deployments({})).map((d) => d.id)).toEqual([approved]);
    expect(existsSync(join(server.dataDir, 'changes', `${approved}.json`))).toBe(true);
    expect(existsSync(join(server.dataDir, 'blobs', `${await revOf(variant(7))}.json`))).toBe(true);
    for (const id of [...ids, pending]) {
      expect((await server.ctx.store.deployment(id))?.id).toBe(id);
      expect(existsSync(join(server.dataDir, 'changes', `${id}.json`))).toBe(false);
    }
  });

  it('prunes on its own once the retained decided deployments are a batch past `keep`', async () => {
    const { clock, token, phone } = await started({ days: 90, keep: 1 });
    await decided(server, token, phone, 12, clock);
    const end = Date.now() + 20_000;
    while ((await server.ctx.store.stats()).deployments.retained > 1 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await server.ctx.store.stats()).deployments).toMatchObject({
      decided: 12,
      retained: 1,
    });
  });

  it('keeps an uploaded blob through the grace period, then deletes it when nothing uses it', async () => {
    const clock = new TestClock();
    await start({ clock });
    const { token } = await server.addInstance('line-1');
    const rev = await server.uploadBlob(token, variant(3));
    const path = join(server.dataDir, 'blobs', `${rev}.json`);
    await server.ctx.store.prune(server.ctx.config.retention, clock.now());
    expect(existsSync(path)).toBe(true);
    clock.advance(11 * 60_000);
    await server.ctx.store.prune(server.ctx.config.retention, clock.now());
    expect(existsSync(path)).toBe(false);
    expect(await server.ctx.store.blobOwners(rev)).toEqual([]);
  });

  it('pages the audit log newest first at any depth, and oldest first after a sequence', async () => {
    await start({});
    for (let i = 0; i < 30; i++) await server.invite({ owner: `o${i}`, name: 'phone' });
    const phone = await server.enrollDevice({ owner: 'alice' });
    const all = await server.ctx.store.audit({ after: 0, limit: 1000 });
    const newest = await phone.call<AuditPageResponse>(
      server.url,
      'GET',
      `${API_PREFIX}/audit?before=${Number.MAX_SAFE_INTEGER}&limit=7`,
    );
    expect(newest.body.entries.map((e) => e.seq)).toEqual(
      all
        .slice(-7)
        .map((e) => e.seq)
        .reverse(),
    );
    const older = await phone.call<AuditPageResponse>(
      server.url,
      'GET',
      `${API_PREFIX}/audit?before=${newest.body.next}&limit=7`,
    );
    expect(older.body.entries.map((e) => e.seq)).toEqual(
      all
        .slice(-14, -7)
        .map((e) => e.seq)
        .reverse(),
    );
    const first = await phone.call<AuditPageResponse>(
      server.url,
      'GET',
      `${API_PREFIX}/audit?before=3`,
    );
    expect(first.body).toEqual({ entries: [all[1], all[0]], next: null });
    const after = await phone.call<AuditPageResponse>(
      server.url,
      'GET',
      `${API_PREFIX}/audit?after=5&limit=4`,
    );
    expect(after.body).toEqual({ entries: all.slice(5, 9), next: 9 });
  });
});
