/**
 * The lowdb store's files after a crash at any point: audit lines committed with the document are
 * finished at the next start, a torn last line is cut off, the line index is rebuilt, an archive
 * interrupted half way is not duplicated, used jtis stay used, and an older document is upgraded.
 */
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  computeChanges,
  snapshotBytes,
  type AuditEntry,
  type Change,
} from '../../protocol/index.js';
import { recomputeChangeList } from '../../server/deployments/change-list.js';
import { sha256HexSync } from '../../server/store/files.js';
import { AuditFile } from '../../server/audit/audit-file.js';
import { HistoryFiles, type ArchivedDeployment } from '../../server/store/history-files.js';
import { LowdbStore } from '../../server/store/lowdb-store.js';
import type { DeploymentRecord } from '../../server/store/types.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { TestClock, startTestServer } from '../helpers/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-store-'));
  dirs.push(dir);
  return dir;
}

async function withStore<T>(dir: string, fn: (store: LowdbStore) => Promise<T>): Promise<T> {
  const store = await LowdbStore.open(dir, new TestClock());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function invite(store: LowdbStore, owner: string): Promise<void> {
  const at = new Date().toISOString();
  await store.addInvitation(
    {
      codeHash: 'ab'.repeat(32),
      owner,
      name: 'phone',
      createdAt: at,
      expiresAt: at,
      usedAt: null,
      by: 'admin',
    },
    [{ type: 'invitation-created', data: { owner } }],
  );
}

async function everything(store: LowdbStore): Promise<AuditEntry[]> {
  return store.audit({ after: 0, limit: 1000 });
}

describe('the audit log after a crash', () => {
  it('appends at start the lines committed with the document that the log did not get', async () => {
    const dir = tempDir();
    const written = await withStore(dir, async (store) => {
      for (let i = 0; i < 3; i++) await invite(store, `o${i}`);
      return everything(store);
    });
    // A crash after the document was written and before its audit line reached the log.
    const path = join(dir, 'audit.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, lines.slice(0, -2).join('\n') + '\n');
    await withStore(dir, async (store) => {
      expect(await everything(store)).toEqual(written);
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 3 });
    });
  });

  it('cuts off a last line torn by a crash, and goes on from the line before', async () => {
    const dir = tempDir();
    await withStore(dir, (store) => invite(store, 'a'));
    appendFileSync(join(dir, 'audit.jsonl'), '{"seq":2,"at":"2026-');
    await withStore(dir, async (store) => {
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 1 });
      await invite(store, 'b');
      expect((await everything(store)).map((e) => e.seq)).toEqual([1, 2]);
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 2 });
    });
  });

  it('rebuilds a missing or short line index from the log', async () => {
    const dir = tempDir();
    const written = await withStore(dir, async (store) => {
      for (let i = 0; i < 9; i++) await invite(store, `o${i}`);
      return everything(store);
    });
    const index = join(dir, 'audit.idx');
    expect(statSync(index).size).toBe(9 * 8);
    truncateSync(index, 4 * 8 + 3);
    await withStore(dir, async (store) => {
      expect(await everything(store)).toEqual(written);
      expect(await store.audit({ before: 7, limit: 3 })).toEqual([
        written[5],
        written[4],
        written[3],
      ]);
    });
    unlinkSync(index);
    await withStore(dir, async (store) => {
      expect(await store.audit({ after: 6, limit: 10 })).toEqual(written.slice(6));
    });
    expect(statSync(index).size).toBe(9 * 8);
  });
});

function sampleRecord(id: string, decidedAt: string): DeploymentRecord {
  return {
    id,
    instanceId: 'i',
    instance: 'line-1',
    status: 'rejected',
    createdAt: decidedAt,
    expiresAt: decidedAt,
    source: { user: 'u', via: 'editor' },
    base: 'a'.repeat(64),
    target: 'b'.repeat(64),
    creds: null,
    credentials: {},
    type: 'full',
    changeIds: [],
    policy: { requiredApprovals: 1, forbidSelfApproval: false, expiresIn: '24h' },
    approvals: [],
    outcome: null,
    decidedAt,
  };
}

describe('the history files', () => {
  const archived = (id: string, decidedAt: string): ArchivedDeployment => ({
    ...sampleRecord(id, decidedAt),
    changes: [],
  });

  it('holds a deployment once when an interrupted append runs again, across months', async () => {
    const dir = tempDir();
    const history = await HistoryFiles.open(dir);
    const batch = [
      archived('aaa1', '2026-10-31T23:59:00Z'),
      archived('aaa2', '2026-11-01T00:01:00Z'),
    ];
    await history.append(batch);
    await history.append([...batch, archived('aaa3', '2026-11-02T00:00:00Z')]);
    const again = await HistoryFiles.open(dir);
    expect(again.size).toBe(3);
    expect((await again.slice(0, 3)).map((d) => d.id)).toEqual(['aaa3', 'aaa2', 'aaa1']);
    expect((await again.get('aaa1'))?.decidedAt).toBe('2026-10-31T23:59:00Z');
    expect(readFileSync(join(dir, '2026-11.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('ignores a line the index never named, and an index line torn by a crash', async () => {
    const dir = tempDir();
    const history = await HistoryFiles.open(dir);
    await history.append([archived('bbb1', '2026-11-01T00:00:00Z')]);
    appendFileSync(
      join(dir, '2026-11.jsonl'),
      JSON.stringify(archived('bbb2', '2026-11-02T00:00:00Z')) + '\n',
    );
    appendFileSync(join(dir, 'index.jsonl'), '["bbb2","2026-11",');
    const again = await HistoryFiles.open(dir);
    expect(again.size).toBe(1);
    expect(again.has('bbb2')).toBe(false);
    await again.append([archived('bbb2', '2026-11-02T00:00:00Z')]);
    expect((await (await HistoryFiles.open(dir)).get('bbb2'))?.id).toBe('bbb2');
  });
});

describe('decided deployments after a crash', () => {
  it('reach the history files at the next start when the crash came before the append', async () => {
    const dir = tempDir();
    const clock = new TestClock(Date.parse('2026-11-29T10:00:00Z'));
    const store = await LowdbStore.open(dir, clock);
    const record = {
      ...sampleRecord('ccc1', '2026-11-29T10:00:00.000Z'),
      status: 'pending' as const,
      decidedAt: null,
      expiresAt: '2026-11-29T10:05:00.000Z',
    };
    await store.propose(record, [], []);
    expect(await store.expireDue(Date.parse('2026-11-29T10:06:00Z'))).toHaveLength(1);
    await store.close();
    // As if the process died before the history append: only the document holds the decision.
    rmSync(join(dir, 'history'), { recursive: true });
    await withStore(dir, async (again) => {
      expect(await again.history({ limit: 10 })).toMatchObject({
        deployments: [{ id: 'ccc1', status: 'expired' }],
        next: null,
      });
      expect((await again.stats()).deployments.decided).toBe(1);
    });
    expect((await HistoryFiles.open(join(dir, 'history'))).has('ccc1')).toBe(true);
  });
});

describe("a proposal's change list", () => {
  const pending = (id: string, base: string, target: string): DeploymentRecord => ({
    ...sampleRecord(id, '2026-11-29T10:00:00.000Z'),
    status: 'pending',
    decidedAt: null,
    expiresAt: '2099-01-01T00:00:00.000Z',
    base,
    target,
  });

  /** The store as the server opens it: change lists a crash lost are computed again. */
  const openMending = (dir: string): Promise<LowdbStore> =>
    LowdbStore.open(dir, new TestClock(), { recomputeChanges: recomputeChangeList });

  /** Two real snapshots in the store, and the change list between them. */
  async function snapshots(
    store: LowdbStore,
  ): Promise<{ base: string; target: string; changes: Change[] }> {
    const flows = loadFlows(exampleFiles()[0]![1]);
    const changed = structuredClone(flows);
    changed[changed.length - 1]!.name = 'renamed after the review';
    const at = new Date().toISOString();
    const put = async (f: typeof flows): Promise<string> => {
      const bytes = snapshotBytes(f);
      const rev = sha256HexSync(bytes);
      await store.putBlob(rev, bytes, 'i', at);
      return rev;
    };
    return {
      base: await put(flows),
      target: await put(changed),
      changes: computeChanges(flows, changed, {}),
    };
  }

  it('is written after the commit, and a crash before that is mended from the snapshots at the next start', async () => {
    const dir = tempDir();
    const open = (): Promise<LowdbStore> => openMending(dir);
    const store = await open();
    const { base, target, changes } = await snapshots(store);
    expect(changes).toHaveLength(1);
    await store.propose(pending('aaa1', base, target), changes, []);
    expect(await store.changes('aaa1')).toEqual(changes);
    await store.close();
    expect(JSON.parse(readFileSync(join(dir, 'changes', 'aaa1.json'), 'utf8'))).toEqual(changes);
    // As if the process died between the commit and the change list's file.
    unlinkSync(join(dir, 'changes', 'aaa1.json'));
    const again = await open();
    try {
      expect(await again.changes('aaa1')).toEqual(changes);
    } finally {
      await again.close();
    }
    expect(JSON.parse(readFileSync(join(dir, 'changes', 'aaa1.json'), 'utf8'))).toEqual(changes);
  });

  it('does not stop the start when a lost list cannot be computed again: it stays without one', async () => {
    const dir = tempDir();
    const store = await openMending(dir);
    const { base, target, changes } = await snapshots(store);
    await store.propose(pending('aaa1', base, target), changes, []);
    await store.close();
    unlinkSync(join(dir, 'changes', 'aaa1.json'));
    // The target snapshot altered on disk: it no longer hashes to its rev.
    writeFileSync(join(dir, 'blobs', `${target}.json`), '[]');
    const again = await openMending(dir);
    try {
      expect(await again.changes('aaa1')).toBeNull();
      expect((await again.deployment('aaa1'))?.status).toBe('pending');
    } finally {
      await again.close();
    }
  });

  it('is answered from memory while its file cannot be written, and written at the next start', async () => {
    const dir = tempDir();
    const open = (): Promise<LowdbStore> => openMending(dir);
    const store = await open();
    const { base, target, changes } = await snapshots(store);
    await store.propose(pending('aaa1', base, target), [], []);
    // The change lists' folder becomes a file: the next change list cannot be written.
    rmSync(join(dir, 'changes'), { recursive: true });
    writeFileSync(join(dir, 'changes'), '');
    await store.propose(pending('aaa2', base, target), changes, []);
    expect(await store.changes('aaa2')).toEqual(changes);
    await store.close();
    expect(readFileSync(join(dir, 'countersign.json'), 'utf8')).toContain('aaa2');
    rmSync(join(dir, 'changes'));
    const again = await open();
    try {
      expect(await again.changes('aaa2')).toEqual(changes);
      // The superseded one went to the history with the list it had.
      expect(await again.changes('aaa1')).toEqual([]);
    } finally {
      await again.close();
    }
    expect(JSON.parse(readFileSync(join(dir, 'changes', 'aaa2.json'), 'utf8'))).toEqual(changes);
  });
});

describe('short-lived jtis', () => {
  it('stay used across a restart, until they expire, without rewriting the document', async () => {
    const dir = tempDir();
    const now = Math.floor(Date.now() / 1000);
    const documentPath = join(dir, 'countersign.json');
    await withStore(dir, async (store) => {
      const before = readFileSync(documentPath, 'utf8');
      expect(await store.useJti('p:dev:1', now + 300, now)).toBe(true);
      expect(await store.useJti('p:dev:1', now + 300, now)).toBe(false);
      expect(await store.useJti('p:dev:old', now - 1, now - 400)).toBe(true);
      expect(readFileSync(documentPath, 'utf8')).toBe(before);
    });
    await withStore(dir, async (store) => {
      expect(await store.useJti('p:dev:1', now + 300, now)).toBe(false);
      expect(await store.useJti('p:dev:old', now + 300, now)).toBe(true);
    });
  });
  it('stay used when they come while the file is rewritten, and are on disk when use answers', async () => {
    const dir = tempDir();
    const now = Math.floor(Date.now() / 1000);
    const path = join(dir, 'jtis.jsonl');
    await withStore(dir, async (store) => {
      // Written before the answer: a process killed right after it finds the line at its start.
      expect(await store.useJti('p:dev:first', now + 300, now)).toBe(true);
      expect(readFileSync(path, 'utf8')).toContain('"p:dev:first"');
      // One key used again and again past its window piles up lines until the file is rewritten;
      // the keys of requests that come meanwhile must reach the new file.
      const answers: Promise<boolean>[] = [];
      for (let i = 0; i < 1500; i++) {
        answers.push(store.useJti('p:dev:again', now - 1, now));
        if (i % 5 === 0) answers.push(store.useJti(`p:dev:${i}`, now + 300, now));
      }
      expect(await Promise.all(answers)).toEqual(answers.map(() => true));
      // Rewritten: far fewer lines than the 1,801 written.
      expect(readFileSync(path, 'utf8').split('\n').length).toBeLessThan(1000);
    });
    await withStore(dir, async (store) => {
      expect(await store.useJti('p:dev:first', now + 300, now)).toBe(false);
      for (let i = 0; i < 1500; i += 5) {
        expect(await store.useJti(`p:dev:${i}`, now + 300, now), `p:dev:${i}`).toBe(false);
      }
    });
  });
  it('forget expired keys as new ones come: memory and file stay bounded by the live ones', async () => {
    const dir = tempDir();
    const start = Math.floor(Date.now() / 1000);
    const path = join(dir, 'jtis.jsonl');
    await withStore(dir, async (store) => {
      // A fresh key on every request, each used for 60 s, 100 requests a second for 300 s.
      for (let i = 0; i < 30_000; i++) {
        const nowS = start + Math.floor(i / 100);
        expect(await store.useJti(`p:dev:${i}`, nowS + 60, nowS)).toBe(true);
      }
      // About 6,000 keys are live at any time: the file is rewritten past twice that (and 1,024),
      // where without the sweep it kept all 30,000 lines.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readFileSync(path, 'utf8').split('\n').length).toBeLessThan(15_000);
      // The live ones stay used.
      expect(await store.useJti('p:dev:29999', start + 400, start + 299)).toBe(false);
    });
    await withStore(dir, async (store) => {
      expect(await store.useJti('p:dev:29999', start + 400, start + 299)).toBe(false);
      expect(await store.useJti('p:dev:24000', start + 400, start + 299)).toBe(false);
    });
  });
});

describe('a refused decision', () => {
  it('writes neither the document nor the audit log: only its proof jti is recorded', async () => {
    const server = await startTestServer();
    try {
      const alice = await server.enrollDevice({ owner: 'alice' });
      const { token } = await server.addInstance('line-1', { requiredApprovals: 2 });
      const base = loadFlows(
        exampleFiles().find(([n]) => n.startsWith('function__function__01'))![1],
      );
      const target = base.map((n) =>
        n.type === 'function' ? { ...n, func: `${String(n.func)}\n// changed` } : n,
      );
      const { id } = await server.propose(token, base, target);
      expect((await alice.decide(server.url, id)).body).toMatchObject({ status: 'pending' });
      const again = await alice.signedDecision(server.url, id);
      await server.running.handle.ctx.store.verifyAudit();
      const file = (name: string): string => readFileSync(join(server.dataDir, name), 'utf8');
      const before = { document: file('countersign.json'), audit: file('audit.jsonl') };
      const jtis = file('jtis.jsonl').split('\n').length;
      const refused = await alice.postDecision(server.url, id, again.jws, again.changes);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'ERR_APPROVAL_DUPLICATE' });
      await server.running.handle.ctx.store.verifyAudit();
      expect(file('countersign.json')).toBe(before.document);
      expect(file('audit.jsonl')).toBe(before.audit);
      // 5.3: the proof's jti stays used, so the refused request cannot be replayed either.
      expect(file('jtis.jsonl').split('\n').length).toBe(jtis + 1);
    } finally {
      await server.close();
    }
  });
});

describe('a document of schema 1', () => {
  it('is upgraded: jtis, blob owners, instance names and inviters move to their new places', async () => {
    const dir = tempDir();
    const now = Math.floor(Date.now() / 1000);
    const at = '2026-01-01T00:00:00.000Z';
    const log = new AuditFile(join(dir, 'audit.jsonl'));
    await log.init();
    await log.appendNumbered([
      { seq: 1, at, type: 'device-enrolled', data: { device: 'd1', invitedBy: 'admin' } },
      { seq: 2, at, type: 'device-enrolled', data: { device: 'd2', invitedBy: 'd1' } },
    ]);
    await log.close();
    const policy = { requiredApprovals: 1, forbidSelfApproval: false, expiresIn: '24h' };
    // Schema 1 records had no instance name.
    const old = (id: string, status: string): Record<string, unknown> => {
      const record: Record<string, unknown> = { ...sampleRecord(id, at), instanceId: 'i1', status };
      delete record.instance;
      return record;
    };
    const device = (id: string) => ({
      id,
      jwk: {},
      owner: 'alice',
      name: id,
      createdAt: at,
      revokedAt: null,
      push: null,
    });
    writeFileSync(
      join(dir, 'countersign.json'),
      JSON.stringify({
        schema: 1,
        serverId: 'server-1',
        instances: [{ id: 'i1', name: 'line-1', tokenHash: 'c'.repeat(64), policy, createdAt: at }],
        devices: [device('d1'), device('d2')],
        invitations: [],
        deployments: [old('ddd1', 'rejected'), old('ddd2', 'pending')],
        approvalJtis: { 'j:x': 'dep1' },
        proofJtis: { 'p:d1:old': now + 200 },
        blobOwners: { ['e'.repeat(64)]: ['i1'] },
      }),
    );
    await withStore(dir, async (store) => {
      expect(store.serverId).toBe('server-1');
      expect((await store.devices()).map((d) => [d.id, d.invitedBy, d.suspendedAt])).toEqual([
        ['d1', 'admin', null],
        ['d2', 'd1', null],
      ]);
      expect(await store.blobOwners('e'.repeat(64))).toEqual(['i1']);
      expect(await store.useJti('p:d1:old', now + 300, now)).toBe(false);
      expect(await store.approvalJtiUsed('x', now)).toBe(true);
      expect(await store.revokeDevice('d1', new Date().toISOString(), () => [])).toMatchObject({
        suspended: [{ id: 'd2' }],
      });
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 2 });
      // Decided deployments go to the history files; the live one stays, with its instance's name.
      expect((await store.deployments({})).map((d) => [d.id, d.instance])).toEqual([
        ['ddd2', 'line-1'],
      ]);
      expect((await store.deployment('ddd1'))?.status).toBe('rejected');
      expect((await store.stats()).deployments).toMatchObject({ decided: 1, retained: 1 });
    });
    const upgraded = JSON.parse(readFileSync(join(dir, 'countersign.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(upgraded.schema).toBe(2);
    expect(upgraded.proofJtis).toBeUndefined();
    expect(upgraded.blobOwners).toBeUndefined();
  });
});
