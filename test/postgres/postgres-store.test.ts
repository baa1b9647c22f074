/**
 * The PostgreSQL store on a real PostgreSQL (DESIGN 6 and 11), as two replicas see it: two stores
 * opened on one database at once. Migrations run once, the server id and secrets are shared,
 * decisions hold single use and one decision per device across both, changes reach the other
 * replica's subscribers through LISTEN/NOTIFY, and the audit chain stays one chain that finds an
 * edited row. The server and conformance suites also run on this store (the `postgres` project).
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { ApprovalError } from '../../protocol/index.js';
import { credentialFieldsOf, type DeploymentStatus } from '../../protocol/index.js';
import { GENESIS, auditHash } from '../../server/audit/audit-file.js';
import { DEFAULT_POLICY } from '../../server/policy.js';
import { PostgresStore } from '../../server/store/postgres/postgres-store.js';
import { MIGRATIONS } from '../../server/store/postgres/migrations.js';
import type {
  DecisionInput,
  DeploymentEvent,
  DeploymentRecord,
  DeviceRecord,
} from '../../server/store/types.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TestClock } from '../helpers/server.js';

const clock = new TestClock();
const open: PostgresStore[] = [];

async function database(): Promise<string> {
  const server = process.env.COUNTERSIGN_TEST_POSTGRES;
  if (!server) throw new Error('the postgres global setup did not run');
  return freshDatabase(server);
}

async function store(url: string): Promise<PostgresStore> {
  const s = await PostgresStore.open(url, clock);
  open.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const at = (): string => new Date(clock.now()).toISOString();

function deploymentOf(id: string, instanceId: string): DeploymentRecord {
  return {
    id,
    instanceId,
    instance: instanceId,
    status: 'pending',
    createdAt: at(),
    expiresAt: new Date(clock.now() + 3_600_000).toISOString(),
    source: { user: 'admin', via: 'editor' },
    base: 'a'.repeat(64),
    target: 'b'.repeat(64),
    creds: null,
    credentials: credentialFieldsOf({}),
    type: 'full',
    changeIds: [],
    policy: DEFAULT_POLICY,
    approvals: [],
    outcome: null,
    decidedAt: null,
  };
}

async function device(s: PostgresStore, id: string, owner: string): Promise<DeviceRecord> {
  const codeHash = id.padEnd(64, '0').slice(0, 64);
  await s.addInvitation(
    {
      codeHash,
      owner,
      name: id,
      createdAt: at(),
      expiresAt: new Date(clock.now() + 600_000).toISOString(),
      usedAt: null,
      by: 'admin',
    },
    [],
  );
  return s.enrollDevice(
    {
      codeHash,
      id,
      jwk: { kty: 'EC', crv: 'P-256', x: id, y: id },
      name: null,
      push: null,
      at: at(),
      nowMs: clock.now(),
    },
    () => [{ type: 'device-enrolled', data: { device: id } }],
  );
}

/** A decision that approves once `quorum` devices did. */
function decision(deploymentId: string, deviceId: string, jti: string, quorum = 1): DecisionInput {
  return {
    deploymentId,
    deviceId,
    verdict: 'approve',
    jws: `jws-${deviceId}`,
    changes: {},
    jti,
    jtiUntil: Math.floor(clock.now() / 1000) + 300,
    at: at(),
    nowMs: clock.now(),
    settle: (d): DeploymentStatus => (d.approvals.length >= quorum ? 'approved' : 'pending'),
  };
}

async function instance(s: PostgresStore, name: string): Promise<string> {
  const { instance: i } = await s.saveInstance(
    { name, id: `id-${name}`, tokenHash: 'c'.repeat(64), policy: DEFAULT_POLICY, at: at() },
    'create',
    () => [],
  );
  return i.id;
}

describe('the PostgreSQL store, two replicas on one database', () => {
  it('migrates once when two replicas start together, and both share the server id and secrets', async () => {
    const url = await database();
    const [a, b] = await Promise.all([store(url), store(url)]);
    expect(a.serverId).toBe(b.serverId);
    expect(a.secrets).toEqual(b.secrets);
    expect(a.secrets.adminToken.length).toBeGreaterThanOrEqual(32);
    expect(a.secrets.vapid.publicKey).toMatch(/^[A-Za-z0-9_-]{80,}$/);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r: { version: number }) => r.version)).toEqual(
        MIGRATIONS.map((_, i) => i + 1),
      );
    } finally {
      await db.end();
    }
  });

  it('opens its pool at start and keeps it while idle: a first burst does not wait for connections', async () => {
    const url = await database();
    await store(url);
    const count = async (): Promise<number> => {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const { rows } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        return rows[0]!.n;
      } finally {
        await db.end();
      }
    };
    // Ten pooled connections and the listener's, before any request came.
    expect(await count()).toBeGreaterThanOrEqual(11);
    // Still open after the pool's idle timeout (10 s by default) has passed.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(await count()).toBeGreaterThanOrEqual(11);
  }, 60_000);

  it('refuses a database whose schema is newer than it knows, and leaves it as it was', async () => {
    const url = await database();
    await (await store(url)).close();
    open.length = 0;
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [
        MIGRATIONS.length + 1,
      ]);
      await expect(PostgresStore.open(url, clock)).rejects.toMatchObject({
        code: 'ERR_STORE_CORRUPT',
      });
      const { rows } = await db.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0].n).toBe(MIGRATIONS.length + 1);
    } finally {
      await db.end();
    }
  });

  it('accepts one approval jti once across replicas, and one decision per device', async () => {
    const url = await database();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const inst = await instance(a, 'line-1');
    await device(a, 'alice', 'alice');
    await device(a, 'bob', 'bob');
    await a.propose(deploymentOf('d1', inst), [], []);
    // The same approval posted to both replicas at once, ten times: one is accepted.
    const same = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).decide(decision('d1', 'alice', 'jti-1', 2), []),
      ),
    );
    expect(same.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of same) {
      if (r.status === 'rejected')
        expect((r.reason as ApprovalError).code).toBe('ERR_APPROVAL_REPLAY');
    }
    // The same device again with a new jti: a duplicate, on either replica.
    await expect(b.decide(decision('d1', 'alice', 'jti-2', 2), [])).rejects.toMatchObject({
      code: 'ERR_APPROVAL_DUPLICATE',
    });
    const d = await b.deployment('d1');
    expect(d?.approvals.map((x) => x.device)).toEqual(['alice']);
    expect(await a.approvalJtiUsed('jti-1', Math.floor(clock.now() / 1000))).toBe(true);
  });

  it('decides a deployment once when two devices race on two replicas', async () => {
    const url = await database();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const inst = await instance(a, 'line-1');
    await device(a, 'alice', 'alice');
    await device(a, 'bob', 'bob');
    for (let round = 0; round < 10; round++) {
      const id = `race-${round}`;
      await a.propose(deploymentOf(id, inst), [], []);
      const results = await Promise.allSettled([
        a.decide(decision(id, 'alice', `a-${round}`), []),
        b.decide(decision(id, 'bob', `b-${round}`), []),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: 'ERR_DEPLOYMENT_NOT_PENDING' });
      expect((await b.deployment(id))?.approvals).toHaveLength(1);
    }
  });

  it('keeps one pending proposal per instance when replicas propose at once', async () => {
    const url = await database();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const inst = await instance(a, 'line-1');
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).propose(deploymentOf(`p${i}`, inst), [], []),
      ),
    );
    expect(await a.deployments({ status: 'pending', instanceId: inst })).toHaveLength(1);
    expect((await b.stats()).deployments.byStatus.superseded).toBe(9);
  });

  it("tells a change committed on one replica to the other replica's subscribers, in order", async () => {
    const url = await database();
    const [a, b] = await Promise.all([store(url), store(url)]);
    const heard: DeploymentEvent[] = [];
    b.subscribe((e) => heard.push(e));
    const inst = await instance(a, 'line-1');
    await device(a, 'alice', 'alice');
    await a.propose(deploymentOf('e1', inst), [], []);
    await a.decide(decision('e1', 'alice', 'e-jti'), []);
    await a.reportOutcome('e1', inst, { status: 'applied', rev: 'b'.repeat(64) }, at());
    await expect
      .poll(() => heard.map((e) => `${e.deployment.id} ${e.deployment.status}`), {
        timeout: 10_000,
      })
      .toEqual(['e1 pending', 'e1 approved', 'e1 applied']);
    expect(heard[1]!.deployment.approvals[0]!.jws).toBe('jws-alice');
  });

  it("tells every change committed at once on two replicas to a third replica's subscribers, once each, in commit order", async () => {
    // Events are numbered at COMMIT under the audit head's lock, so a reader of "seq > last told"
    // woken by NOTIFY never passes over a row that commits later with a lower number.
    const url = await database();
    const [a, b, c] = await Promise.all([store(url), store(url), store(url)]);
    const heard: string[] = [];
    c.subscribe((e) => heard.push(`${e.deployment.id} ${e.deployment.status}`));
    const instances = await Promise.all(
      Array.from({ length: 10 }, (_, k) => instance(a, `line-${k}`)),
    );
    await Promise.all(
      instances.map(async (inst, k) => {
        for (let i = 0; i < 12; i++) {
          await (i % 2 ? a : b).propose(deploymentOf(`q${k}-${i}`, inst), [], []);
        }
      }),
    );
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query<{ e: string }>(
        `SELECT (record->>'id') || ' ' || (record->>'status') AS e FROM deployment_events ORDER BY seq`,
      );
      // Each proposal: its own event, and the one it superseded.
      expect(rows).toHaveLength(10 * 12 + 10 * 11);
      await expect.poll(() => heard.length, { timeout: 10_000 }).toBe(rows.length);
      expect(heard).toEqual(rows.map((r) => r.e));
    } finally {
      await db.end();
    }
  });

  it('keeps one audit chain across replicas, and verify finds an edited row', async () => {
    const url = await database();
    const [a, b] = await Promise.all([store(url), store(url)]);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).appendAudit([{ type: 'test', data: { i, who: 'alice' } }]),
      ),
    );
    expect(await a.verifyAudit()).toEqual({ ok: true, entries: 40 });
    const newest = await b.audit({ before: 41, limit: 40 });
    expect(newest.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 40 - i));
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await db.query(`UPDATE audit SET line = replace(line, '"alice"', '"mallory"') WHERE seq = 7`);
    } finally {
      await db.end();
    }
    expect(await b.verifyAudit()).toMatchObject({ ok: false, badSeq: 7, reason: 'hash mismatch' });
  });

  it('chains at commit in the database exactly as the audit file hashes: odd text, numbers, key order', async () => {
    const url = await database();
    const s = await store(url);
    const data = {
      z: 'last key first',
      a: { y: [1, 0.1, -0, 1e21, 2 ** 53 - 1], b: null, x: true },
      text: 'quote " backslash \\ newline \n tab \t line sep \u2028 nul \u0000 é 😀 \ud800',
      deployment: 'dep-1',
      '\u00e9 key': 'unicode key',
      '10': 'number-like key',
    };
    await s.appendAudit([
      { type: 'odd', data },
      { type: 'typ"e \u2028', data: {} },
    ]);
    expect(await s.verifyAudit()).toEqual({ ok: true, entries: 2 });
    const entries = await s.audit({ after: 0, limit: 10 });
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query<{ line: string; deployment: string | null }>(
        'SELECT line, deployment FROM audit ORDER BY seq',
      );
      // The stored line is the audit file's line: JSON.stringify of {seq, at, type, data, prev, hash}.
      expect(rows.map((r) => r.line)).toEqual(entries.map((e) => JSON.stringify(e)));
      expect(Object.keys(entries[0]!)).toEqual(['seq', 'at', 'type', 'data', 'prev', 'hash']);
      expect(rows.map((r) => r.deployment)).toEqual(['dep-1', null]);
      expect((await db.query('SELECT count(*)::int AS n FROM commit_tails')).rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
    expect(entries[0]!.data).toEqual(JSON.parse(JSON.stringify(data)));
    expect(entries[1]!.type).toBe('typ"e \u2028');
    // The hash the commit trigger made is the audit file's: sha256(prev + canonical entry).
    expect(entries[0]!.prev).toBe(GENESIS);
    expect(entries[1]!.prev).toBe(entries[0]!.hash);
    for (const { hash, ...body } of entries) expect(auditHash(body)).toBe(hash);
  });

  it('keeps state across a restart: instances, devices, pending deployments and used jtis', async () => {
    const url = await database();
    const first = await store(url);
    const inst = await instance(first, 'line-1');
    await device(first, 'alice', 'alice');
    await first.propose(deploymentOf('r1', inst), [{ id: 'c1' } as never], []);
    const nowS = Math.floor(clock.now() / 1000);
    expect(await first.useJti('p:alice:1', nowS + 300, nowS)).toBe(true);
    const serverId = first.serverId;
    await first.close();
    open.length = 0;
    const second = await store(url);
    expect(second.serverId).toBe(serverId);
    expect(await second.useJti('p:alice:1', nowS + 300, nowS)).toBe(false);
    expect((await second.deployment('r1'))?.status).toBe('pending');
    expect(await second.changes('r1')).toEqual([{ id: 'c1' }]);
    expect((await second.devices()).map((d) => d.id)).toEqual(['alice']);
    expect(await second.verifyAudit()).toMatchObject({ ok: true });
  });

  it('applies the retention: past it, snapshots go and the change list keeps what each change was', async () => {
    const url = await database();
    const s = await store(url);
    const inst = await instance(s, 'line-1');
    await device(s, 'alice', 'alice');
    const bytes = (text: string): Uint8Array<ArrayBuffer> => {
      const b = new Uint8Array(new ArrayBuffer(text.length));
      b.set(Buffer.from(text));
      return b;
    };
    const change = {
      id: 'c1',
      kind: 'node',
      op: 'changed',
      flow: 'f1',
      node: 'n1',
      fields: ['name'],
      risk: 'low',
      before: { name: 'a' },
      after: { name: 'b' },
    };
    const rev = (text: string): string => createHash('sha256').update(text).digest('hex');
    for (let i = 0; i < 3; i++) {
      const d = {
        ...deploymentOf(`k${i}`, inst),
        base: rev(`base ${i}`),
        target: rev(`target ${i}`),
      };
      await s.putBlob(d.base, bytes(`base ${i}`), inst, at());
      await s.putBlob(d.target, bytes(`target ${i}`), inst, at());
      await s.propose(d, [change as never], []);
      await s.decide(decision(d.id, 'alice', `k-${i}`), []);
      await s.reportOutcome(d.id, inst, { status: 'applied', rev: d.target }, at());
      clock.advance(1000);
    }
    // An upload nothing refers to stays through the grace period.
    await s.putBlob(rev('orphan'), bytes('orphan'), inst, at());
    const first = await s.prune({ days: 90, keep: 1 }, clock.now());
    expect(first).toEqual({ pastRetention: 2, blobsDeleted: 0, changesDeleted: 2 });
    expect(await s.changes('k0')).toEqual([
      {
        id: 'c1',
        kind: 'node',
        op: 'changed',
        flow: 'f1',
        node: 'n1',
        fields: ['name'],
        risk: 'low',
      },
    ]);
    expect((await s.changes('k2'))?.[0]).toMatchObject({ before: { name: 'a' } });
    expect((await s.deployment('k0'))?.status).toBe('applied');
    clock.advance(11 * 60_000);
    const second = await s.prune({ days: 90, keep: 1 }, clock.now());
    // k0's and k1's snapshots, and the orphan; k2's are kept.
    expect(second.blobsDeleted).toBe(5);
    expect(await s.blob(rev('base 0'))).toBeNull();
    expect(await s.blob(rev('orphan'))).toBeNull();
    expect(Buffer.from((await s.blob(rev('target 2')))!).toString()).toBe('target 2');
    expect((await s.stats()).deployments).toMatchObject({ decided: 3, retained: 1 });
    expect(await s.verifyAudit()).toMatchObject({ ok: true });
  });
});
