import { randomBytes, timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import webpush from 'web-push';
import {
  CountersignError,
  DEPLOYMENT_STATES,
  randomId,
  type AuditEntry,
  type Change,
  type DeploymentStatus,
  type PushSubscriptionJson,
} from '../../../protocol/index.js';
import { GENESIS, auditHash } from '../../audit/audit-file.js';
import type { Clock } from '../../clock.js';
import type { VapidKeys } from '../../secrets.js';
import { decideOn, notFound, notLive, transition } from '../deployment-rules.js';
import { confirmIn, enrolUnder, isActive, revokeIn, usableInvitation } from '../device-rules.js';
import { verifiedBlob } from '../blob-files.js';
import { changeOutline } from '../history-files.js';
import { isDecided, splitRetained, type Retention } from '../retention.js';
import type {
  AuditDraft,
  EnrolmentInput,
  AuditVerification,
  DecisionInput,
  DeploymentEvent,
  DeploymentPage,
  DeploymentRecord,
  DeviceRecord,
  InstanceRecord,
  InvitationRecord,
  PruneReport,
  RevocationResult,
  Store,
  StoreStats,
} from '../types.js';
import { auditPieces } from './audit-pieces.js';
import { LOCKS, migrate } from './migrations.js';

/** The channel every replica listens on (notified by migration 2's commit trigger): a new row in `deployment_events`. */
const CHANNEL = 'countersign_deployment';

/** How long a blob nothing refers to is kept after its upload (a proposal in flight). */
const GRACE_MS = 10 * 60_000;
/** Spent invitations stay this long past their expiry. */
const INVITATION_KEEP_MS = 86_400_000;
/** Rows of `deployment_events` and `rate_events` are kept this long (every replica has read them). */
const EVENT_KEEP_MS = 86_400_000;

/** The secrets every replica must share, kept in the database (made by the first replica). */
export type SharedSecrets = { vapid: VapidKeys; adminToken: string };

/** What a command collects: audit lines and changed deployments, written at its commit. */
class Tx {
  readonly drafts: AuditDraft[] = [];
  readonly events: DeploymentRecord[] = [];
  constructor(readonly client: pg.PoolClient) {}
  audit(...drafts: AuditDraft[]): void {
    this.drafts.push(...drafts);
  }
  /** A new deployment, or one whose status changed (then audited as `deployment-<status>`). */
  changed(d: DeploymentRecord, statusChanged: boolean): void {
    if (statusChanged) {
      this.drafts.push({
        type: `deployment-${d.status}`,
        data: { deployment: d.id, instance: d.instance },
      });
    }
    this.events.push(d);
  }
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.client.query<R>(text, values);
  }
}

type DeploymentRow = { record: DeploymentRecord };

/** Connections per replica; `POOL_MIN` of them are opened at start and kept while idle. */
const POOL_MAX = 20;
const POOL_MIN = 10;

/**
 * The store for several server replicas on one PostgreSQL database (DESIGN 6 and 11). Each
 * command is one transaction: deployments it changes are locked (`FOR UPDATE`), so single use of
 * approval jtis and one decision per device hold across replicas; proof and enrolment jtis are
 * rows with a unique key and an expiry; audit lines are chained and appended by the database at
 * the transaction's COMMIT under the row lock of `audit_head`, so the chain stays one chain in
 * commit order and the lock is never held across a round trip to a replica. Changed deployments
 * go to `deployment_events` in the same commit, and a `NOTIFY` wakes every replica's listener,
 * which tells its subscribers (the plugins' event streams) in order.
 */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #url: string;
  readonly #clock: Clock;
  readonly #listeners = new Set<(event: DeploymentEvent) => void>();
  readonly serverId: string;
  readonly secrets: SharedSecrets;
  #listener: pg.Client | null = null;
  #lastEvent = 0;
  #reading: Promise<void> = Promise.resolve();
  #readQueued = false;
  #closed = false;
  #reconnect: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    url: string,
    pool: pg.Pool,
    clock: Clock,
    serverId: string,
    secrets: SharedSecrets,
  ) {
    this.#url = url;
    this.#pool = pool;
    this.#clock = clock;
    this.serverId = serverId;
    this.secrets = secrets;
  }

  /**
   * Connects to `url`, applies the migrations this database lacks (one replica at a time), reads
   * (or, on the first start, makes) the shared server id, VAPID keys and admin token, and starts
   * listening for deployment changes.
   */
  static async open(url: string, clock: Clock): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: POOL_MAX, min: POOL_MIN });
    // An idle client's error (the database restarting) is answered by the next query's error.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      let meta: Map<string, unknown>;
      try {
        await migrate(client);
        const proposed = {
          serverId: randomId(16),
          vapid: webpush.generateVAPIDKeys(),
          adminToken: randomBytes(32).toString('base64url'),
        };
        for (const [key, value] of Object.entries(proposed)) {
          await client.query(
            'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
            [key, JSON.stringify(value)],
          );
        }
        const { rows } = await client.query<{ key: string; value: unknown }>(
          'SELECT key, value FROM meta',
        );
        meta = new Map(rows.map((r) => [r.key, r.value]));
      } finally {
        client.release();
      }
      // Opened now, so a replica's first burst of requests does not wait for a backend per request.
      const warm = await Promise.all(Array.from({ length: POOL_MIN }, () => pool.connect()));
      for (const c of warm) c.release();
      const store = new PostgresStore(url, pool, clock, meta.get('serverId') as string, {
        vapid: meta.get('vapid') as VapidKeys,
        adminToken: meta.get('adminToken') as string,
      });
      await store.#listen();
      return store;
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }

  // The event stream: LISTEN on one connection, rows read in order of commit.

  async #listen(): Promise<void> {
    const { rows } = await this.#pool.query<{ seq: string | null }>(
      'SELECT max(seq) AS seq FROM deployment_events',
    );
    if (this.#lastEvent === 0) this.#lastEvent = Number(rows[0]?.seq ?? 0);
    const client = new pg.Client({ connectionString: this.#url });
    client.on('notification', () => this.#readEvents());
    client.on('error', () => this.#relisten(client));
    client.on('end', () => this.#relisten(client));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.#listener = client;
    // Whatever was committed while not listening.
    this.#readEvents();
  }

  #relisten(client: pg.Client): void {
    if (this.#closed || this.#listener !== client) return;
    this.#listener = null;
    client.end().catch(() => {});
    const retry = (): void => {
      this.#reconnect = null;
      if (this.#closed) return;
      this.#listen().catch(() => {
        if (!this.#closed) this.#reconnect = setTimeout(retry, 1000);
      });
    };
    this.#reconnect = setTimeout(retry, 200);
  }

  /** Reads the events after the last one told, in order, and tells the subscribers. */
  #readEvents(): void {
    // Notifications that arrive before a queued read starts are answered by that read.
    if (this.#readQueued) return;
    this.#readQueued = true;
    this.#reading = this.#reading.then(async () => {
      this.#readQueued = false;
      if (this.#closed) return;
      try {
        for (;;) {
          const { rows } = await this.#pool.query<{ seq: string; record: DeploymentRecord }>(
            'SELECT seq, record FROM deployment_events WHERE seq > $1 ORDER BY seq LIMIT 500',
            [this.#lastEvent],
          );
          for (const row of rows) {
            this.#lastEvent = Number(row.seq);
            this.#emit(row.record);
          }
          if (rows.length < 500) return;
        }
      } catch {
        // The next notification (or the listener's reconnection) reads them.
      }
    });
  }

  #emit(d: DeploymentRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener({ deployment: structuredClone(d) });
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Runs `fn` as one transaction, then writes its audit lines and events and commits. */
  async #tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const tx = new Tx(client);
        const result = await fn(tx);
        if (tx.drafts.length > 0 || tx.events.length > 0) await this.#appendAudit(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  /**
   * The commit's tail: the audit lines and the deployment events, handed to the database in one
   * row whose deferred trigger chains and appends them at COMMIT (migration 2), under the row lock
   * of `audit_head`, so the audit log is one chain and events are numbered in commit order while
   * the lock is held only inside the database. The entry's canonical text (DESIGN 6) is made here,
   * in pieces around `prev` and `seq`, which only the commit knows.
   */
  async #appendAudit(tx: Tx): Promise<void> {
    const at = new Date(this.#clock.now()).toISOString();
    const pieces = tx.drafts.map((draft) => {
      // A JSON round trip so the hash covers exactly what the line holds.
      const data = JSON.parse(JSON.stringify(draft.data)) as Record<string, unknown>;
      return {
        deployment: typeof data.deployment === 'string' ? data.deployment : null,
        ...auditPieces({ at, type: draft.type, data }),
      };
    });
    await tx.query(
      `INSERT INTO commit_tails (deployments, canonical_heads, canonical_tails, line_middles, events)
       VALUES ($1::text[], $2::text[], $3::text[], $4::text[], $5::json[])`,
      [
        pieces.map((p) => p.deployment),
        pieces.map((p) => p.canonicalHead),
        pieces.map((p) => p.canonicalTail),
        pieces.map((p) => p.lineMiddle),
        tx.events.map((d) => JSON.stringify(d)),
      ],
    );
  }

  /** Writes `d` back (its record and the columns queries use). */
  async #saveDeployment(tx: Tx, d: DeploymentRecord): Promise<void> {
    await tx.query(
      `UPDATE deployments SET status = $2, decided = $3, decided_at = $4, record = $5 WHERE id = $1`,
      [d.id, d.status, isDecided(d.status), d.decidedAt, JSON.stringify(d)],
    );
  }

  async #devicesLocked(tx: Tx): Promise<DeviceRecord[]> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.devices]);
    const { rows } = await tx.query<{ record: DeviceRecord }>(
      'SELECT record FROM devices ORDER BY n',
    );
    return rows.map((r) => r.record);
  }

  async #saveDevice(tx: Tx, d: DeviceRecord): Promise<void> {
    await tx.query('UPDATE devices SET record = $2 WHERE id = $1', [d.id, JSON.stringify(d)]);
  }

  // Queries

  async instances(): Promise<InstanceRecord[]> {
    const { rows } = await this.#pool.query<{ record: InstanceRecord }>(
      'SELECT record FROM instances ORDER BY n',
    );
    return rows.map((r) => r.record);
  }

  async instanceByName(name: string): Promise<InstanceRecord | null> {
    const { rows } = await this.#pool.query<{ record: InstanceRecord }>(
      'SELECT record FROM instances WHERE name = $1',
      [name],
    );
    return rows[0]?.record ?? null;
  }

  async instanceByTokenHash(tokenHash: string): Promise<InstanceRecord | null> {
    // Found by index: the key is the SHA-256 of a random 256-bit token, so how long the lookup
    // takes tells a guesser nothing about any token. The match is still compared in constant time.
    const { rows } = await this.#pool.query<{ record: InstanceRecord }>(
      'SELECT record FROM instances WHERE token_hash = $1',
      [tokenHash],
    );
    const hash = Buffer.from(tokenHash, 'hex');
    const instance = rows[0]?.record;
    const stored = Buffer.from(instance?.tokenHash ?? '', 'hex');
    return instance && stored.length === hash.length && timingSafeEqual(hash, stored)
      ? instance
      : null;
  }

  async devices(): Promise<DeviceRecord[]> {
    const { rows } = await this.#pool.query<{ record: DeviceRecord }>(
      'SELECT record FROM devices ORDER BY n',
    );
    return rows.map((r) => r.record);
  }

  async device(id: string): Promise<DeviceRecord | null> {
    const { rows } = await this.#pool.query<{ record: DeviceRecord }>(
      'SELECT record FROM devices WHERE id = $1',
      [id],
    );
    return rows[0]?.record ?? null;
  }

  async #invitations(tx?: Tx): Promise<InvitationRecord[]> {
    const text = 'SELECT record FROM invitations ORDER BY n';
    const { rows } = tx
      ? await tx.query<{ record: InvitationRecord }>(text)
      : await this.#pool.query<{ record: InvitationRecord }>(text);
    return rows.map((r) => r.record);
  }

  async invitation(codeHash: string): Promise<InvitationRecord | null> {
    const [invitations, devices] = [await this.#invitations(), await this.devices()];
    return usableInvitation(invitations, devices, codeHash, this.#clock.now()) ?? null;
  }

  async deployment(id: string): Promise<DeploymentRecord | null> {
    const { rows } = await this.#pool.query<DeploymentRow>(
      'SELECT record FROM deployments WHERE id = $1',
      [id],
    );
    return rows[0]?.record ?? null;
  }

  async deployments(query: {
    status?: DeploymentStatus;
    instanceId?: string;
  }): Promise<DeploymentRecord[]> {
    const { rows } = await this.#pool.query<DeploymentRow>(
      `SELECT record FROM deployments WHERE NOT decided
         AND ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR instance_id = $2)
       ORDER BY n DESC`,
      [query.status ?? null, query.instanceId ?? null],
    );
    return rows.map((r) => r.record);
  }

  async history(query: { before?: string | null; limit: number }): Promise<DeploymentPage> {
    const limit = Math.max(1, query.limit);
    const before = query.before ?? null;
    let cursor: [number, number] | null = null;
    if (before !== null && before !== '') {
      const m = /^p:([01]):(\d{1,15})$/.exec(before);
      if (!m) {
        throw new CountersignError(
          'ERR_BAD_REQUEST',
          'before must be a cursor from a previous page',
        );
      }
      cursor = [Number(m[1]), Number(m[2])];
    }
    // Live first, then decided; newest first within each.
    const { rows } = await this.#pool.query<DeploymentRow & { decided: boolean; n: string }>(
      `SELECT record, decided, n FROM deployments
       WHERE $1::int IS NULL OR (decided::int, -n) > ($1::int, -$2::bigint)
       ORDER BY decided, n DESC LIMIT $3`,
      [cursor?.[0] ?? null, cursor?.[1] ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      deployments: page.map((r) => r.record),
      next: rows.length > limit && last ? `p:${last.decided ? 1 : 0}:${last.n}` : null,
    };
  }

  async changes(id: string): Promise<Change[] | null> {
    const { rows } = await this.#pool.query<{ changes: Change[] }>(
      'SELECT changes FROM deployments WHERE id = $1',
      [id],
    );
    return rows[0]?.changes ?? null;
  }

  async blob(rev: string): Promise<Uint8Array<ArrayBuffer> | null> {
    const { rows } = await this.#pool.query<{ bytes: Buffer }>(
      'SELECT bytes FROM blobs WHERE rev = $1',
      [rev],
    );
    const buffer = rows[0]?.bytes;
    return buffer ? verifiedBlob(rev, buffer) : null;
  }

  async blobOwners(rev: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ owners: string[] }>(
      'SELECT owners FROM blobs WHERE rev = $1',
      [rev],
    );
    return rows[0]?.owners ?? [];
  }

  async approvalJtiUsed(jti: string, nowS: number): Promise<boolean> {
    const { rows } = await this.#pool.query('SELECT 1 FROM jtis WHERE key = $1 AND until_s >= $2', [
      approvalJtiKey(jti),
      nowS,
    ]);
    return rows.length > 0;
  }

  async audit(query: { after?: number; before?: number; limit: number }): Promise<AuditEntry[]> {
    const { rows } =
      query.before !== undefined
        ? await this.#pool.query<{ line: string }>(
            'SELECT line FROM audit WHERE seq < $1 ORDER BY seq DESC LIMIT $2',
            [query.before, query.limit],
          )
        : await this.#pool.query<{ line: string }>(
            'SELECT line FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2',
            [query.after ?? 0, query.limit],
          );
    return rows.map((r) => JSON.parse(r.line) as AuditEntry);
  }

  async deploymentAudit(id: string): Promise<AuditEntry[]> {
    const { rows } = await this.#pool.query<{ line: string }>(
      'SELECT line FROM audit WHERE deployment = $1 ORDER BY seq',
      [id],
    );
    return rows.map((r) => JSON.parse(r.line) as AuditEntry);
  }

  async verifyAudit(): Promise<AuditVerification> {
    let prev = GENESIS;
    let n = 0;
    for (let after = 0; ;) {
      const { rows } = await this.#pool.query<{ seq: string; line: string }>(
        'SELECT seq, line FROM audit WHERE seq > $1 ORDER BY seq LIMIT 5000',
        [after],
      );
      if (rows.length === 0) return { ok: true, entries: n };
      for (const row of rows) {
        n++;
        after = Number(row.seq);
        let entry: AuditEntry;
        try {
          entry = JSON.parse(row.line) as AuditEntry;
        } catch {
          return { ok: false, entries: n, badSeq: n, reason: 'not an entry' };
        }
        const bad =
          entry.seq !== n || after !== n
            ? 'sequence broken'
            : entry.prev !== prev
              ? 'prev link broken'
              : auditHash(entry) !== entry.hash
                ? 'hash mismatch'
                : null;
        if (bad) return { ok: false, entries: n, badSeq: n, reason: bad };
        prev = entry.hash;
      }
    }
  }

  async stats(): Promise<StoreStats> {
    const devices = await this.devices();
    const { rows: counts } = await this.#pool.query<{ status: DeploymentStatus; n: string }>(
      'SELECT status, count(*) AS n FROM deployments GROUP BY status',
    );
    const { rows: kept } = await this.#pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM deployments WHERE decided AND files_kept',
    );
    const { rows: more } = await this.#pool.query<{ instances: string; audit: string | null }>(
      'SELECT (SELECT count(*) FROM instances) AS instances, (SELECT max(seq) FROM audit) AS audit',
    );
    const byStatus = Object.fromEntries(DEPLOYMENT_STATES.map((s) => [s, 0])) as Record<
      DeploymentStatus,
      number
    >;
    for (const row of counts) byStatus[row.status] = Number(row.n);
    const decided = DEPLOYMENT_STATES.filter(isDecided).reduce((sum, s) => sum + byStatus[s], 0);
    return {
      devices: {
        active: devices.filter(isActive).length,
        suspended: devices.filter((d) => d.revokedAt === null && d.suspendedAt !== null).length,
        revoked: devices.filter((d) => d.revokedAt !== null).length,
        withPush: devices.filter((d) => isActive(d) && d.push !== null).length,
      },
      instances: Number(more[0]!.instances),
      deployments: {
        pending: byStatus.pending,
        approved: byStatus.approved,
        decided,
        retained: Number(kept[0]!.n),
        byStatus,
      },
      auditEntries: Number(more[0]!.audit ?? 0),
    };
  }

  // Commands

  saveInstance(
    input: {
      name: string;
      id: string;
      tokenHash: string;
      policy: InstanceRecord['policy'];
      at: string;
    },
    mode: 'create' | 'ensure',
    audit: (result: { instance: InstanceRecord; created: boolean }) => AuditDraft[],
  ): Promise<{ instance: InstanceRecord; created: boolean }> {
    return this.#tx(async (tx) => {
      // One name, one instance: replicas adding the same name meet at this lock.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.devices]);
      const { rows } = await tx.query<{ record: InstanceRecord }>(
        'SELECT record FROM instances WHERE name = $1 FOR UPDATE',
        [input.name],
      );
      let instance = rows[0]?.record;
      if (instance && mode === 'create') {
        throw new CountersignError(
          'ERR_BAD_REQUEST',
          `an instance named "${input.name}" exists already`,
        );
      }
      const created = !instance;
      if (instance) {
        instance.tokenHash = input.tokenHash;
        instance.policy = input.policy;
        await tx.query('UPDATE instances SET token_hash = $2, record = $3 WHERE id = $1', [
          instance.id,
          instance.tokenHash,
          JSON.stringify(instance),
        ]);
      } else {
        instance = {
          id: input.id,
          name: input.name,
          tokenHash: input.tokenHash,
          policy: input.policy,
          createdAt: input.at,
        };
        await tx.query(
          'INSERT INTO instances (id, name, token_hash, record) VALUES ($1, $2, $3, $4)',
          [instance.id, instance.name, instance.tokenHash, JSON.stringify(instance)],
        );
      }
      const result = { instance, created };
      tx.audit(...audit(structuredClone(result)));
      return result;
    });
  }

  addInvitation(record: InvitationRecord, audit: AuditDraft[]): Promise<void> {
    return this.#tx(async (tx) => {
      await tx.query('DELETE FROM invitations WHERE expires_at < $1', [
        new Date(this.#clock.now() - INVITATION_KEEP_MS),
      ]);
      await tx.query(
        'INSERT INTO invitations (code_hash, expires_at, record) VALUES ($1, $2, $3)',
        [record.codeHash, new Date(record.expiresAt), JSON.stringify(record)],
      );
      tx.audit(...audit);
    });
  }

  enrollDevice(
    input: EnrolmentInput,
    audit: (device: DeviceRecord) => AuditDraft[],
  ): Promise<DeviceRecord> {
    return this.#tx(async (tx) => {
      // The lock first: the invitations are read after any other enrolment committed.
      const devices = await this.#devicesLocked(tx);
      const { invitation, device } = enrolUnder(await this.#invitations(tx), devices, input);
      await tx.query('UPDATE invitations SET record = $2 WHERE code_hash = $1', [
        invitation.codeHash,
        JSON.stringify(invitation),
      ]);
      await tx.query('INSERT INTO devices (id, record) VALUES ($1, $2)', [
        device.id,
        JSON.stringify(device),
      ]);
      tx.audit(...audit(structuredClone(device)));
      return device;
    });
  }

  revokeDevice(
    id: string,
    at: string,
    audit: (result: RevocationResult) => AuditDraft[],
  ): Promise<RevocationResult> {
    return this.#tx(async (tx) => {
      const { device, suspended, changed } = revokeIn(await this.#devicesLocked(tx), id, at);
      for (const d of changed ? [device, ...suspended] : []) await this.#saveDevice(tx, d);
      const result = { device, changed, suspended };
      if (changed) tx.audit(...audit(structuredClone(result)));
      return result;
    });
  }

  confirmDevice(id: string, by: string, audit: AuditDraft[]): Promise<DeviceRecord> {
    return this.#tx(async (tx) => {
      const { device, changed } = confirmIn(await this.#devicesLocked(tx), id, by);
      if (changed) {
        await this.#saveDevice(tx, device);
        tx.audit(...audit);
      }
      return device;
    });
  }

  setPush(
    deviceId: string,
    push: PushSubscriptionJson | null,
    audit: AuditDraft[],
  ): Promise<boolean> {
    return this.#tx(async (tx) => {
      const device = (await this.#devicesLocked(tx)).find((x) => x.id === deviceId);
      if (!device || device.revokedAt !== null) return false;
      device.push = push;
      await this.#saveDevice(tx, device);
      tx.audit(...audit);
      return true;
    });
  }

  dropPush(deviceId: string, endpoint: string, audit: AuditDraft[]): Promise<boolean> {
    return this.#tx(async (tx) => {
      const device = (await this.#devicesLocked(tx)).find((x) => x.id === deviceId);
      if (device?.push?.endpoint !== endpoint) return false;
      device.push = null;
      await this.#saveDevice(tx, device);
      tx.audit(...audit);
      return true;
    });
  }

  async putBlob(
    rev: string,
    bytes: Uint8Array<ArrayBuffer>,
    instanceId: string,
    at: string,
    check?: () => Promise<void>,
  ): Promise<void> {
    await check?.();
    await this.#pool.query(
      `INSERT INTO blobs (rev, bytes, owners, at) VALUES ($1, $2, ARRAY[$3::text], $4)
       ON CONFLICT (rev) DO UPDATE SET at = greatest(blobs.at, EXCLUDED.at),
         owners = CASE WHEN $3 = ANY(blobs.owners) THEN blobs.owners
                       ELSE array_append(blobs.owners, $3::text) END`,
      [
        rev,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        instanceId,
        new Date(at),
      ],
    );
  }

  propose(
    record: DeploymentRecord,
    changes: Change[],
    audit: AuditDraft[],
  ): Promise<{ superseded: DeploymentRecord[] }> {
    return this.#tx(async (tx) => {
      // The instance's row lock: its proposals run one at a time, so one stays pending.
      await tx.query('SELECT 1 FROM instances WHERE id = $1 FOR UPDATE', [record.instanceId]);
      const { rows } = await tx.query<DeploymentRow>(
        `SELECT record FROM deployments WHERE instance_id = $1 AND status = 'pending' AND NOT decided
         ORDER BY id FOR UPDATE`,
        [record.instanceId],
      );
      const inserted = await tx.query(
        `INSERT INTO deployments (id, instance_id, status, decided, base, target, record, changes)
         VALUES ($1, $2, $3, false, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
        [
          record.id,
          record.instanceId,
          record.status,
          record.base,
          record.target,
          JSON.stringify(record),
          JSON.stringify(changes),
        ],
      );
      if (inserted.rowCount !== 1) {
        throw new CountersignError('ERR_BAD_REQUEST', 'a deployment with this id exists');
      }
      tx.audit(...audit);
      tx.changed(record, false);
      const superseded = rows.map((r) => r.record);
      for (const d of superseded) {
        transition(d, 'superseded');
        d.decidedAt = record.createdAt;
        await this.#saveDeployment(tx, d);
        tx.changed(d, true);
      }
      return { superseded };
    });
  }

  decide(
    input: DecisionInput,
    audit: AuditDraft[],
  ): Promise<{ deployment: DeploymentRecord; changed: boolean }> {
    return this.#tx(async (tx) => {
      // The deployment's row lock: decisions on it run one at a time on every replica.
      const { rows } = await tx.query<DeploymentRow & { decided: boolean }>(
        'SELECT record, decided FROM deployments WHERE id = $1 FOR UPDATE',
        [input.deploymentId],
      );
      const row = rows[0];
      if (!row || row.decided) throw notLive(input.deploymentId, row !== undefined);
      // The device, shared-locked so a revocation waits for this decision (or this one for it).
      const { rows: found } = await tx.query<{ record: DeviceRecord }>(
        'SELECT record FROM devices WHERE id = $1 FOR SHARE',
        [input.deviceId],
      );
      // The approval jti: unused (or expired) until now, and taken by this transaction.
      const nowS = Math.floor(input.nowMs / 1000);
      const taken = await tx.query(
        `INSERT INTO jtis (key, until_s) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET until_s = EXCLUDED.until_s WHERE jtis.until_s < $3`,
        [approvalJtiKey(input.jti), input.jtiUntil, nowS],
      );
      const deciderIds = [...row.record.approvals.map((a) => a.device), input.deviceId];
      const { rows: deciderRows } = await tx.query<{ record: DeviceRecord }>(
        'SELECT record FROM devices WHERE id = ANY($1::text[])',
        [deciderIds],
      );
      const deciders = new Map(deciderRows.map((r) => [r.record.id, r.record]));
      const { next, changed } = decideOn(
        row.record,
        found[0]?.record ?? null,
        taken.rowCount !== 1,
        input,
        () => deciders,
      );
      await this.#saveDeployment(tx, next);
      tx.audit(...audit);
      if (changed) tx.changed(next, true);
      return { deployment: next, changed };
    });
  }

  async expireDue(nowMs: number): Promise<DeploymentRecord[]> {
    const due = await this.#pool.query(
      `SELECT 1 FROM deployments WHERE NOT decided AND status = 'pending'
         AND (record->>'expiresAt')::timestamptz <= $1 LIMIT 1`,
      [new Date(nowMs)],
    );
    if (due.rows.length === 0) return [];
    return this.#tx(async (tx) => {
      const { rows } = await tx.query<DeploymentRow>(
        `SELECT record FROM deployments WHERE NOT decided AND status = 'pending'
           AND (record->>'expiresAt')::timestamptz <= $1 ORDER BY id FOR UPDATE`,
        [new Date(nowMs)],
      );
      const at = new Date(nowMs).toISOString();
      const expired: DeploymentRecord[] = [];
      for (const { record: d } of rows) {
        // Re-read under the lock: another replica may have decided it meanwhile.
        if (d.status !== 'pending') continue;
        transition(d, 'expired');
        d.decidedAt = at;
        await this.#saveDeployment(tx, d);
        tx.changed(d, true);
        expired.push(d);
      }
      return expired;
    });
  }

  reportOutcome(
    id: string,
    instanceId: string,
    outcome: { status: 'applied' | 'stale' | 'failed'; rev: string; message?: string },
    at: string,
  ): Promise<DeploymentRecord> {
    return this.#tx(async (tx) => {
      const { rows } = await tx.query<DeploymentRow>(
        'SELECT record FROM deployments WHERE id = $1 AND instance_id = $2 FOR UPDATE',
        [id, instanceId],
      );
      const d = rows[0]?.record;
      if (!d) throw notFound(`no deployment ${id.slice(0, 64)}`);
      transition(d, outcome.status);
      d.outcome = { ...outcome, at };
      await this.#saveDeployment(tx, d);
      tx.changed(d, true);
      return d;
    });
  }

  async useJti(key: string, untilS: number, nowS: number): Promise<boolean> {
    const taken = await this.#pool.query(
      `INSERT INTO jtis (key, until_s) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET until_s = EXCLUDED.until_s WHERE jtis.until_s < $3`,
      [key, untilS, nowS],
    );
    return taken.rowCount === 1;
  }

  async recordEvent(key: string, atMs: number): Promise<void> {
    // Rows past every window are deleted with the other expired rows.
    await this.#pool.query('INSERT INTO rate_events (key, at_ms) VALUES ($1, $2)', [key, atMs]);
  }

  async eventAt(key: string, sinceMs: number, rank: number): Promise<number | null> {
    const { rows } = await this.#pool.query<{ at_ms: string }>(
      'SELECT at_ms FROM rate_events WHERE key = $1 AND at_ms > $2 ORDER BY at_ms DESC OFFSET $3 LIMIT 1',
      [key, sinceMs, rank - 1],
    );
    return rows[0] ? Number(rows[0].at_ms) : null;
  }
  async takeEvent(
    key: string,
    atMs: number,
    windowMs: number,
    max: number,
  ): Promise<number | null> {
    // One round trip: the insert runs only when no max-th newest event blocks it.
    const { rows } = await this.#pool.query<{ at_ms: string }>(
      `WITH blocking AS (
         SELECT at_ms FROM rate_events WHERE key = $1 AND at_ms > $2
         ORDER BY at_ms DESC OFFSET $3 LIMIT 1
       ), recorded AS (
         INSERT INTO rate_events (key, at_ms) SELECT $1, $4 WHERE NOT EXISTS (SELECT 1 FROM blocking)
       )
       SELECT at_ms FROM blocking`,
      [key, atMs - windowMs, max - 1, atMs],
    );
    return rows[0] ? Number(rows[0].at_ms) : null;
  }

  async appendAudit(entries: AuditDraft[]): Promise<void> {
    await this.#tx(async (tx) => tx.audit(...entries));
  }

  prune(retention: Retention, nowMs: number): Promise<PruneReport> {
    return this.#tx(async (tx) => {
      const report: PruneReport = { pastRetention: 0, blobsDeleted: 0, changesDeleted: 0 };
      // One prune at a time across the replicas; another one running does this work.
      const { rows: lock } = await tx.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1) AS ok',
        [LOCKS.prune],
      );
      if (!lock[0]!.ok) return report;
      const nowS = Math.floor(nowMs / 1000);
      await tx.query('DELETE FROM jtis WHERE until_s < $1', [nowS]);
      await tx.query('DELETE FROM rate_events WHERE at_ms < $1', [nowMs - EVENT_KEEP_MS]);
      await tx.query('DELETE FROM deployment_events WHERE at < $1', [
        new Date(nowMs - EVENT_KEEP_MS),
      ]);
      await tx.query('DELETE FROM invitations WHERE expires_at < $1', [
        new Date(nowMs - INVITATION_KEEP_MS),
      ]);
      const { rows: recent } = await tx.query<{
        id: string;
        base: string;
        target: string;
        decided_at: Date;
      }>(
        `SELECT id, base, target, decided_at FROM deployments WHERE decided AND files_kept
         FOR UPDATE`,
      );
      const { past } = splitRetained(
        recent.map((r) => ({
          id: r.id,
          base: r.base,
          target: r.target,
          decidedAt: (r.decided_at ?? new Date(0)).toISOString(),
        })),
        retention,
        nowMs,
      );
      for (const d of past) {
        const { rows } = await tx.query<{ changes: Change[] }>(
          'SELECT changes FROM deployments WHERE id = $1',
          [d.id],
        );
        await tx.query('UPDATE deployments SET files_kept = false, changes = $2 WHERE id = $1', [
          d.id,
          JSON.stringify((rows[0]?.changes ?? []).map(changeOutline)),
        ]);
        report.changesDeleted++;
      }
      const { rowCount } = await tx.query(
        `DELETE FROM blobs b WHERE b.at <= $1 AND NOT EXISTS (
           SELECT 1 FROM deployments d WHERE d.files_kept AND (d.base = b.rev OR d.target = b.rev))`,
        [new Date(nowMs - GRACE_MS)],
      );
      report.blobsDeleted = rowCount ?? 0;
      report.pastRetention = past.length;
      if (past.length > 0) {
        tx.audit({
          type: 'deployments-past-retention',
          data: {
            count: past.length,
            deployments: past.map((d) => d.id),
            blobs: report.blobsDeleted,
          },
        });
      }
      return report;
    });
  }

  subscribe(listener: (event: DeploymentEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnect) clearTimeout(this.#reconnect);
    await this.#reading;
    const listener = this.#listener;
    this.#listener = null;
    await listener?.end().catch(() => {});
    await this.#pool.end();
  }
}

/** The key of an approval `jti` among the used jtis (proof jtis are `p:…`, enrolment proofs `e:…`). */
function approvalJtiKey(jti: string): string {
  return `a:${jti}`;
}

/** True when `value` names a PostgreSQL database (`postgres://` or `postgresql://`). */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//.test(value);
}
