import { timingSafeEqual } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import {
  CountersignError,
  DEPLOYMENT_STATES,
  type AuditEntry,
  type Change,
  type DeploymentStatus,
  type PushSubscriptionJson,
} from '../../protocol/index.js';
import { AuditFile, type NumberedDraft } from '../audit/audit-file.js';
import type { Clock } from '../clock.js';
import { nextTurn } from '../next-turn.js';
import { BlobFiles } from './blob-files.js';
import { ChangeFiles } from './change-files.js';
import { decideOn, notFound, notLive, transition } from './deployment-rules.js';
import { confirmIn, enrolUnder, isActive, revokeIn, usableInvitation } from './device-rules.js';
import { EventCounter } from './event-counter.js';
import { FileRefs } from './file-refs.js';
import { writeFileAtomic } from './files.js';
import { HistoryFiles, changeOutline, type ArchivedDeployment } from './history-files.js';
import { JtiJournal } from './jti-journal.js';
import { checkDocument, emptyDocument, recentOf, type LiveDocument } from './live-document.js';
import { isDecided, splitRetained, type RecentDecision, type Retention } from './retention.js';
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
} from './types.js';

/** Computes a deployment's change list again from its snapshots (`blob` reads one by rev). */
export type RecomputeChanges = (
  d: DeploymentRecord,
  blob: (rev: string) => Promise<Uint8Array | null>,
) => Promise<Change[]>;

/** How long a blob or change list nothing refers to is kept after it was written (a proposal in flight). */
const GRACE_MS = 10 * 60_000;

/** Spent invitations stay this long past their expiry (for `countersign devices` and the trail). */
const INVITATION_KEEP_MS = 86_400_000;

/** lowdb's adapter for `countersign.json`: written atomically and fsynced (temp file, rename). */
class DocumentFile implements Adapter<LiveDocument> {
  readonly #path: string;
  constructor(path: string) {
    this.#path = path;
  }
  async read(): Promise<LiveDocument | null> {
    return JSON.parse(await readFile(this.#path, 'utf8')) as LiveDocument;
  }
  write(data: LiveDocument): Promise<void> {
    return writeFileAtomic(this.#path, JSON.stringify(data), 0o600);
  }
}

/** What a command collects while it runs: audit lines, changed deployments, work after the write. */
class Transaction {
  dirty = false;
  readonly drafts: AuditDraft[] = [];
  readonly events: DeploymentRecord[] = [];
  /** Decided deployments whose files the retention now keeps (recorded before the document). */
  readonly retained: RecentDecision[] = [];
  readonly after: Array<() => Promise<void>> = [];

  audit(...drafts: AuditDraft[]): void {
    this.dirty = true;
    this.drafts.push(...drafts);
  }

  /** A new deployment, or one whose status changed (then audited as `deployment-<status>`). */
  changed(d: DeploymentRecord, statusChanged: boolean): void {
    this.dirty = true;
    if (statusChanged) {
      this.drafts.push({
        type: `deployment-${d.status}`,
        data: { deployment: d.id, instance: d.instance },
      });
    }
    this.events.push(d);
  }
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** `value` and everything in it made read-only. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * The default store (DESIGN 6): the live state in `countersign.json` through lowdb; change lists
 * in `changes/`, snapshots in `blobs/`, decided deployments in `history/`, short-lived jtis in
 * `jtis.jsonl`, the audit log in `audit.jsonl`. Commands run one at a time; each writes the
 * document once, with its audit lines and the deployments it decided in the document's outboxes,
 * then appends those to the audit log and (right after, off the caller's path) to the history
 * files; a crash in between is finished at the next start. No write grows with history.
 */
export class LowdbStore implements Store {
  readonly #db: Low<LiveDocument>;
  readonly #clock: Clock;
  readonly #blobs: BlobFiles;
  readonly #changes: ChangeFiles;
  readonly #history: HistoryFiles;
  readonly #audit: AuditFile;
  readonly #jtis: JtiJournal;
  readonly #refs: FileRefs;
  readonly #counter = new EventCounter();
  readonly #listeners = new Set<(event: DeploymentEvent) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  /**
   * Frozen copies of live records, for the queries of one record (`device`, `deployment`: every
   * device request reads both, and only reads them): each record is copied once, not on every
   * read, until a command may change it (`#commit` and `#reload` start afresh).
   */
  #views = new WeakMap<object, object>();
  #auditSeq = 0;
  /** The audit and history appends of commits, one after the other (see `#logOutboxes`). */
  #logChain: Promise<void> = Promise.resolve();
  /**
   * Change lists committed with their deployment but not yet in `changes/`: a proposal's answer
   * does not wait for that file (a crash before it is written is mended at the next start, from
   * the snapshots). Kept here until written; a list whose write failed stays here.
   */
  readonly #unwritten = new Map<string, Change[]>();
  readonly #writes = new Set<Promise<void>>();

  private constructor(parts: {
    db: Low<LiveDocument>;
    clock: Clock;
    blobs: BlobFiles;
    changes: ChangeFiles;
    history: HistoryFiles;
    audit: AuditFile;
    jtis: JtiJournal;
    refs: FileRefs;
  }) {
    this.#db = parts.db;
    this.#clock = parts.clock;
    this.#blobs = parts.blobs;
    this.#changes = parts.changes;
    this.#history = parts.history;
    this.#audit = parts.audit;
    this.#jtis = parts.jtis;
    this.#refs = parts.refs;
    this.#auditSeq = Math.max(parts.audit.lastSeq, ...this.#doc.outbox.map((e) => e.seq));
  }

  /**
   * Opens (or creates) the store in `dir`. A document that does not parse, or is not a store,
   * stops here with ERR_STORE_CORRUPT and is left exactly as it was. Audit lines committed with
   * the document but not yet in the log (a crash between the two) are appended now.
   */
  static async open(
    dir: string,
    clock: Clock,
    options: { recomputeChanges?: RecomputeChanges } = {},
  ): Promise<LowdbStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'history'), { recursive: true, mode: 0o700 });
    const path = join(dir, 'countersign.json');
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let parsed: ReturnType<typeof checkDocument> = { doc: emptyDocument(), upgrade: null };
    if (text !== null) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (cause) {
        throw new CountersignError(
          'ERR_STORE_CORRUPT',
          `${path} does not parse as JSON; the server will not start and has not changed it. Restore it from a backup.`,
          { cause },
        );
      }
      parsed = checkDocument(value, path, clock.now());
    }
    // `new Low(adapter)`, not JSONFilePreset: the preset keeps data in memory under NODE_ENV=test.
    const db = new Low<LiveDocument>(new DocumentFile(path), parsed.doc);
    const blobs = new BlobFiles(join(dir, 'blobs'));
    const changes = new ChangeFiles(join(dir, 'changes'));
    await blobs.init();
    await changes.init();
    const audit = new AuditFile(join(dir, 'audit.jsonl'));
    await audit.init();
    const history = await HistoryFiles.open(join(dir, 'history'));
    const jtis = await JtiJournal.open(
      join(dir, 'jtis.jsonl'),
      Math.floor(clock.now() / 1000),
      parsed.upgrade?.proofJtis,
    );
    const refs = await FileRefs.open(join(dir, 'files.jsonl'), {
      ...(parsed.upgrade ? { blobs: parsed.upgrade.blobs, recent: parsed.upgrade.recent } : {}),
    });
    if (parsed.upgrade) {
      await readFromAudit(audit, parsed.doc.devices, [
        ...parsed.doc.deployments,
        ...parsed.doc.decided,
      ]);
    }
    const store = new LowdbStore({ db, clock, blobs, changes, history, audit, jtis, refs });
    if (options.recomputeChanges) {
      await store.#mendChanges(
        [...parsed.doc.deployments, ...parsed.doc.decided],
        options.recomputeChanges,
      );
    }
    await audit.appendNumbered(parsed.doc.outbox);
    await store.#appendDecided();
    const before = parsed.doc.decided.length;
    parsed.doc.decided = parsed.doc.decided.filter((d) => !history.has(d.id));
    if (text === null || parsed.upgrade || parsed.doc.decided.length !== before) await db.write();
    return store;
  }

  get #doc(): LiveDocument {
    return this.#db.data;
  }

  get serverId(): string {
    return this.#doc.serverId;
  }

  /**
   * Runs `mutate` alone; when it changed anything, writes the document: the commit. The caller
   * has its answer then, and the next command may run; the audit lines and the history append
   * follow on the log chain in commit order (`#logOutboxes`), and come from the document's
   * outboxes after a crash. With `waitForAll` the command (and its caller) waits for them, then
   * runs its `after` jobs.
   */
  #commit<T>(
    mutate: (doc: LiveDocument, tx: Transaction) => T | Promise<T>,
    options: { waitForAll?: boolean } = {},
  ): Promise<T> {
    let answer!: (value: T) => void;
    let fail!: (err: unknown) => void;
    const answered = new Promise<T>((resolve, reject) => {
      answer = resolve;
      fail = reject;
    });
    const run = this.#queue.then(async () => {
      const tx = new Transaction();
      let result: T;
      // The command changes records in place: reads from now on copy them afresh, and once more
      // when it has finished (a read in between may have copied a record half changed).
      this.#views = new WeakMap();
      try {
        result = await mutate(this.#doc, tx);
      } catch (err) {
        if (tx.dirty) await this.#reload();
        throw err;
      } finally {
        this.#views = new WeakMap();
      }
      if (!tx.dirty) return answer(result);
      const at = new Date(this.#clock.now()).toISOString();
      const numbered: NumberedDraft[] = tx.drafts.map((d) => ({ seq: ++this.#auditSeq, at, ...d }));
      // Each deployment keeps the numbers of the lines about it (its history entry reads them).
      for (const line of numbered) {
        const id = line.data.deployment;
        if (typeof id !== 'string') continue;
        const d =
          this.#doc.deployments.find((x) => x.id === id) ??
          this.#doc.decided.find((x) => x.id === id);
        if (d) d.auditSeqs = [...(d.auditSeqs ?? []), line.seq];
      }
      const written = this.#audit.lastSeq;
      this.#doc.outbox = [...this.#doc.outbox.filter((e) => e.seq > written), ...numbered];
      this.#doc.decided = this.#doc.decided.filter((d) => !this.#history.has(d.id));
      try {
        await this.#refs.addRecent(tx.retained);
        await this.#db.write();
      } catch (err) {
        await this.#reload();
        throw err;
      }
      for (const d of tx.events) this.#emit(d);
      const logged = this.#logOutboxes();
      // The next command need not wait for the logs' fsyncs: it is committed, and the outboxes
      // hold its lines until they are appended (by the log chain, in order).
      if (!options.waitForAll) return answer(result);
      await logged;
      for (const job of tx.after) await job();
      answer(result);
    });
    this.#queue = run.catch((err: unknown) => fail(err));
    return answered;
  }

  /**
   * Appends the document's outboxes to the audit log, then the decided deployments to the history
   * files, after every earlier append (one chain, so the logs keep commit order). Rejects when the
   * audit append failed (its lines stay in the outbox for the next commit or the next start); the
   * chain itself never does.
   */
  #logOutboxes(): Promise<void> {
    const run = this.#logChain.then(async () => {
      await nextTurn();
      await this.#audit.appendNumbered(this.#doc.outbox);
      if (this.#doc.decided.length === 0) return;
      await this.#appendDecided().catch(() => {
        // Kept in the outbox: the next commit, or the next start, appends them.
      });
    });
    this.#logChain = run.catch(() => undefined);
    return run;
  }

  /** Appends the outbox's decided deployments the history files do not hold, with their change outlines. */
  async #appendDecided(): Promise<void> {
    const fresh = this.#doc.decided.filter((d) => !this.#history.has(d.id));
    const archived: ArchivedDeployment[] = [];
    for (const d of fresh) {
      const changes = this.#unwritten.get(d.id) ?? (await this.#changes.get(d.id)) ?? [];
      archived.push({ ...clone(d), changes: changes.map(changeOutline) });
    }
    await this.#history.append(archived);
  }

  /**
   * Writes again the change lists of `deployments` that a crash left without their file. One that
   * cannot be computed (a snapshot gone or altered on disk) stays without a list and does not stop
   * the start: the phone then finds the snapshots' differences unlisted and refuses to sign (T8).
   */
  async #mendChanges(deployments: DeploymentRecord[], recompute: RecomputeChanges): Promise<void> {
    for (const d of deployments) {
      if (this.#history.has(d.id) || (await this.#changes.has(d.id))) continue;
      try {
        await this.#changes.put(d.id, await recompute(d, (rev) => this.#blobs.get(rev)));
      } catch {
        // Left without a list (see above).
      }
    }
  }

  /** Writes a committed change list to `changes/`, off the caller's path (see `#unwritten`). */
  #writeChanges(id: string, changes: Change[]): void {
    const write = nextTurn()
      .then(() => this.#changes.put(id, changes))
      .then(
        () => {
          this.#unwritten.delete(id);
        },
        () => {
          // Kept in memory; the next start writes it from the snapshots.
        },
      );
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
  }

  /** Moves `d` (just decided) from the live deployments to the decided outbox and the retention. */
  #decided(doc: LiveDocument, tx: Transaction, d: DeploymentRecord): void {
    doc.deployments = doc.deployments.filter((x) => x !== d);
    doc.decided.push(d);
    tx.retained.push(recentOf(d));
    tx.changed(d, true);
  }

  /** After a failed command: the document as last written. */
  async #reload(): Promise<void> {
    await this.#db.read();
    this.#views = new WeakMap();
    this.#auditSeq = Math.max(this.#audit.lastSeq, ...this.#doc.outbox.map((e) => e.seq));
  }

  #emit(d: DeploymentRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener({ deployment: clone(d) });
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** A frozen copy of the live record `record`, made once until the next command. */
  #view<T extends object>(record: T): T {
    let view = this.#views.get(record) as T | undefined;
    if (view === undefined) {
      view = deepFreeze(clone(record));
      this.#views.set(record, view);
    }
    return view;
  }

  // Queries

  async instances(): Promise<InstanceRecord[]> {
    return clone(this.#doc.instances);
  }

  async instanceByName(name: string): Promise<InstanceRecord | null> {
    return clone(this.#doc.instances.find((i) => i.name === name) ?? null);
  }

  async instanceByTokenHash(tokenHash: string): Promise<InstanceRecord | null> {
    const hash = Buffer.from(tokenHash, 'hex');
    let found: InstanceRecord | null = null;
    for (const instance of this.#doc.instances) {
      const stored = Buffer.from(instance.tokenHash, 'hex');
      if (stored.length === hash.length && timingSafeEqual(hash, stored)) found = instance;
    }
    return clone(found);
  }

  async devices(): Promise<DeviceRecord[]> {
    return clone(this.#doc.devices);
  }

  async device(id: string): Promise<DeviceRecord | null> {
    const found = this.#doc.devices.find((d) => d.id === id);
    return found ? this.#view(found) : null;
  }

  async invitation(codeHash: string): Promise<InvitationRecord | null> {
    const found = usableInvitation(
      this.#doc.invitations,
      this.#doc.devices,
      codeHash,
      this.#clock.now(),
    );
    return clone(found ?? null);
  }

  async deployment(id: string): Promise<DeploymentRecord | null> {
    const live =
      this.#doc.deployments.find((d) => d.id === id) ?? this.#doc.decided.find((d) => d.id === id);
    if (live) return this.#view(live);
    const archived = await this.#history.get(id);
    return archived ? recordOf(archived) : null;
  }

  async deployments(query: {
    status?: DeploymentStatus;
    instanceId?: string;
  }): Promise<DeploymentRecord[]> {
    const out: DeploymentRecord[] = [];
    for (let i = this.#doc.deployments.length - 1; i >= 0; i--) {
      const d = this.#doc.deployments[i]!;
      if (query.status !== undefined && d.status !== query.status) continue;
      if (query.instanceId !== undefined && d.instanceId !== query.instanceId) continue;
      out.push(clone(d));
    }
    return out;
  }

  async history(query: { before?: string | null; limit: number }): Promise<DeploymentPage> {
    const limit = Math.max(1, query.limit);
    const cursor = parseCursor(query.before ?? null);
    const out: DeploymentRecord[] = [];
    if (cursor.kind === 'live') {
      // What the document holds, newest first: live deployments, then the decided ones on their
      // way to the history files.
      const head = [
        ...[...this.#doc.deployments].reverse(),
        ...this.#doc.decided.filter((d) => !this.#history.has(d.id)).reverse(),
      ];
      let i = 0;
      if (cursor.after) {
        const at = head.findIndex((d) => d.id === cursor.after!.id);
        i = at === -1 ? head.length : at + 1;
      }
      for (; i < head.length && out.length < limit; i++) out.push(clone(head[i]!));
      if (out.length === limit && i < head.length + this.#history.size) {
        const last = out.at(-1)!;
        return { deployments: out, next: `l:${last.createdAt}|${last.id}` };
      }
    }
    const skip = new Set([...this.#doc.deployments.map((d) => d.id), ...out.map((d) => d.id)]);
    let position = cursor.kind === 'archive' ? cursor.position : this.#history.size;
    while (out.length < limit && position > 0) {
      const from = Math.max(0, position - (limit - out.length));
      for (const d of await this.#history.slice(from, position)) {
        if (!skip.has(d.id)) out.push(recordOf(d));
      }
      position = from;
    }
    return { deployments: out, next: position > 0 ? `a:${position}` : null };
  }

  async changes(id: string): Promise<Change[] | null> {
    // The full list while the deployment is live or within the retention; then what the history keeps.
    const full = this.#hasFiles(id)
      ? (this.#unwritten.get(id) ?? (await this.#changes.get(id)))
      : null;
    return full ?? (await this.#history.get(id))?.changes ?? null;
  }

  /** True when `id` is a decided deployment (in the outbox or the history files). */
  #isDecided(id: string): boolean {
    return this.#history.has(id) || this.#doc.decided.some((d) => d.id === id);
  }

  /** True while `id`'s change list and snapshots are kept (live, or decided within the retention). */
  #hasFiles(id: string): boolean {
    const doc = this.#doc;
    return (
      doc.deployments.some((d) => d.id === id) ||
      doc.decided.some((d) => d.id === id) ||
      this.#refs.hasRecent(id)
    );
  }

  async blob(rev: string): Promise<Uint8Array<ArrayBuffer> | null> {
    return this.#blobs.get(rev);
  }

  async blobOwners(rev: string): Promise<string[]> {
    return [...(this.#refs.blob(rev)?.owners ?? [])];
  }

  async approvalJtiUsed(jti: string, nowS: number): Promise<boolean> {
    const until = this.#doc.approvalJtis[jtiKey(jti)];
    return until !== undefined && until >= nowS;
  }

  async audit(query: { after?: number; before?: number; limit: number }): Promise<AuditEntry[]> {
    await this.#settled();
    if (query.before !== undefined) return this.#audit.before(query.before, query.limit);
    return this.#audit.after(query.after ?? 0, query.limit);
  }

  async deploymentAudit(id: string): Promise<AuditEntry[]> {
    await this.#settled();
    const d = await this.deployment(id);
    return d ? this.#audit.at(d.auditSeqs ?? []) : [];
  }

  async verifyAudit(): Promise<AuditVerification> {
    await this.#settled();
    return this.#audit.verify();
  }

  /**
   * Resolves once every command so far has finished, with its audit and history appends and its
   * change-list file (tests that play a lying server edit those files).
   */
  async settled(): Promise<void> {
    await this.#settled();
    await Promise.all(this.#writes);
  }

  /** Resolves once every command so far, and its audit and history appends, have finished. */
  async #settled(): Promise<void> {
    for (let queue = this.#queue, chain = this.#logChain; ;) {
      await queue;
      await chain;
      if (queue === this.#queue && chain === this.#logChain) break;
      queue = this.#queue;
      chain = this.#logChain;
    }
  }

  async stats(): Promise<StoreStats> {
    const { devices, deployments } = this.#doc;
    // Decided, committed, and not yet in the history files.
    const pending = this.#doc.decided.filter((d) => !this.#history.has(d.id));
    const count = (status: DeploymentStatus): number =>
      deployments.filter((d) => d.status === status).length;
    return {
      devices: {
        active: devices.filter(isActive).length,
        suspended: devices.filter((d) => d.revokedAt === null && d.suspendedAt !== null).length,
        revoked: devices.filter((d) => d.revokedAt !== null).length,
        withPush: devices.filter((d) => isActive(d) && d.push !== null).length,
      },
      instances: this.#doc.instances.length,
      deployments: {
        pending: count('pending'),
        approved: count('approved'),
        decided: this.#history.size + pending.length,
        retained: this.#refs.recent().length,
        byStatus: Object.fromEntries(
          DEPLOYMENT_STATES.map((state) => [
            state,
            count(state) +
              this.#history.count(state) +
              pending.filter((d) => d.status === state).length,
          ]),
        ) as Record<DeploymentStatus, number>,
      },
      auditEntries: this.#audit.lastSeq,
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
    return this.#commit((doc, tx) => {
      let instance = doc.instances.find((i) => i.name === input.name);
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
      } else {
        instance = {
          id: input.id,
          name: input.name,
          tokenHash: input.tokenHash,
          policy: input.policy,
          createdAt: input.at,
        };
        doc.instances.push(instance);
      }
      const result = { instance: clone(instance), created };
      tx.audit(...audit(result));
      return result;
    });
  }

  addInvitation(record: InvitationRecord, audit: AuditDraft[]): Promise<void> {
    return this.#commit((doc, tx) => {
      const keepAfter = this.#clock.now() - INVITATION_KEEP_MS;
      doc.invitations = doc.invitations.filter((i) => Date.parse(i.expiresAt) > keepAfter);
      doc.invitations.push(clone(record));
      tx.audit(...audit);
    });
  }

  enrollDevice(
    input: EnrolmentInput,
    audit: (device: DeviceRecord) => AuditDraft[],
  ): Promise<DeviceRecord> {
    return this.#commit((doc, tx) => {
      const { device } = enrolUnder(doc.invitations, doc.devices, input);
      doc.devices.push(device);
      tx.audit(...audit(clone(device)));
      return clone(device);
    });
  }

  revokeDevice(
    id: string,
    at: string,
    audit: (result: RevocationResult) => AuditDraft[],
  ): Promise<RevocationResult> {
    return this.#commit((doc, tx) => {
      const { device, suspended, changed } = revokeIn(doc.devices, id, at);
      const result = { device: clone(device), changed, suspended: clone(suspended) };
      if (changed) tx.audit(...audit(result));
      return result;
    });
  }

  confirmDevice(id: string, by: string, audit: AuditDraft[]): Promise<DeviceRecord> {
    return this.#commit((doc, tx) => {
      const { device, changed } = confirmIn(doc.devices, id, by);
      if (changed) tx.audit(...audit);
      return clone(device);
    });
  }

  setPush(
    deviceId: string,
    push: PushSubscriptionJson | null,
    audit: AuditDraft[],
  ): Promise<boolean> {
    return this.#commit((doc, tx) => {
      const d = doc.devices.find((x) => x.id === deviceId);
      if (!d || d.revokedAt !== null) return false;
      d.push = push;
      tx.audit(...audit);
      return true;
    });
  }

  dropPush(deviceId: string, endpoint: string, audit: AuditDraft[]): Promise<boolean> {
    return this.#commit((doc, tx) => {
      const device = doc.devices.find((d) => d.id === deviceId);
      if (device?.push?.endpoint !== endpoint) return false;
      device.push = null;
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
    // The file is written (its fsync on the thread pool) while the caller reads the bytes.
    const written = this.#blobs.put(rev, bytes);
    if (check) {
      try {
        await check();
      } catch (err) {
        if (await written.catch(() => false)) await this.#blobs.delete(rev).catch(() => false);
        throw err;
      }
    }
    await written;
    await this.#commit(async () => {
      // Written again if a prune removed it since (prunes run in this same queue).
      await this.#blobs.put(rev, bytes);
      const ref = this.#refs.blob(rev);
      const fresh = ref && Date.parse(at) - Date.parse(ref.at) < GRACE_MS / 2;
      if (!ref?.owners.includes(instanceId) || !fresh)
        await this.#refs.recordBlob(rev, instanceId, at);
    });
  }

  async propose(
    record: DeploymentRecord,
    changes: Change[],
    audit: AuditDraft[],
  ): Promise<{ superseded: DeploymentRecord[] }> {
    // Readable from the moment the commit makes the deployment known.
    const known = this.#unwritten.has(record.id);
    if (!known) this.#unwritten.set(record.id, changes);
    let result: { superseded: DeploymentRecord[] };
    try {
      result = await this.#commitProposal(record, audit);
    } catch (err) {
      if (!known) this.#unwritten.delete(record.id);
      throw err;
    }
    this.#writeChanges(record.id, changes);
    return result;
  }

  #commitProposal(
    record: DeploymentRecord,
    audit: AuditDraft[],
  ): Promise<{ superseded: DeploymentRecord[] }> {
    return this.#commit((doc, tx) => {
      if (this.#hasFiles(record.id) || this.#history.has(record.id)) {
        throw new CountersignError('ERR_BAD_REQUEST', 'a deployment with this id exists');
      }
      const superseded = doc.deployments.filter(
        (d) => d.instanceId === record.instanceId && d.status === 'pending',
      );
      for (const d of superseded) transition(d, 'superseded');
      const added = clone(record);
      doc.deployments.push(added);
      tx.audit(...audit);
      tx.changed(added, false);
      for (const d of superseded) {
        d.decidedAt = record.createdAt;
        this.#decided(doc, tx, d);
      }
      return { superseded: clone(superseded) };
    });
  }

  decide(
    input: DecisionInput,
    audit: AuditDraft[],
  ): Promise<{ deployment: DeploymentRecord; changed: boolean }> {
    return this.#commit((doc, tx) => {
      const d = doc.deployments.find((x) => x.id === input.deploymentId);
      if (!d) throw notLive(input.deploymentId, this.#isDecided(input.deploymentId));
      // The state-dependent rows of 5.4, held here where no other command interleaves.
      const key = jtiKey(input.jti);
      const used = doc.approvalJtis[key];
      const device = doc.devices.find((x) => x.id === input.deviceId) ?? null;
      const { next, changed } = decideOn(
        d,
        device,
        used !== undefined && used >= Math.floor(input.nowMs / 1000),
        input,
        (n) => {
          const deciders = new Map<string, DeviceRecord>();
          for (const a of n.approvals) {
            const x = doc.devices.find((y) => y.id === a.device);
            if (x) deciders.set(x.id, clone(x));
          }
          return deciders;
        },
      );
      // Nothing above changed the document; from here on nothing throws.
      doc.approvalJtis[key] = input.jtiUntil;
      d.approvals = next.approvals;
      if (changed) {
        d.status = next.status;
        d.decidedAt = next.decidedAt;
      }
      tx.audit(...audit);
      if (changed && isDecided(d.status)) this.#decided(doc, tx, d);
      else if (changed) tx.changed(d, true);
      return { deployment: clone(d), changed };
    });
  }

  async expireDue(nowMs: number): Promise<DeploymentRecord[]> {
    const due = (d: DeploymentRecord): boolean =>
      d.status === 'pending' && Date.parse(d.expiresAt) <= nowMs;
    if (!this.#doc.deployments.some(due)) return [];
    return this.#commit((doc, tx) => {
      const at = new Date(nowMs).toISOString();
      const expired = doc.deployments.filter(due);
      for (const d of expired) {
        transition(d, 'expired');
        d.decidedAt = at;
        this.#decided(doc, tx, d);
      }
      return clone(expired);
    });
  }

  reportOutcome(
    id: string,
    instanceId: string,
    outcome: { status: 'applied' | 'stale' | 'failed'; rev: string; message?: string },
    at: string,
  ): Promise<DeploymentRecord> {
    return this.#commit(async (doc, tx) => {
      const d = doc.deployments.find((x) => x.id === id && x.instanceId === instanceId);
      if (!d) {
        const decided = doc.decided.find((x) => x.id === id) ?? (await this.#history.get(id));
        if (decided?.instanceId === instanceId) {
          throw new CountersignError(
            'ERR_INVALID_TRANSITION',
            `deployment ${id} cannot go from ${decided.status} to ${outcome.status}`,
          );
        }
        throw notFound(`no deployment ${id.slice(0, 64)}`);
      }
      transition(d, outcome.status);
      d.outcome = { ...outcome, at };
      this.#decided(doc, tx, d);
      return clone(d);
    });
  }

  useJti(key: string, untilS: number, nowS: number): Promise<boolean> {
    return this.#jtis.use(key, untilS, nowS);
  }

  async recordEvent(key: string, atMs: number, windowMs: number): Promise<void> {
    this.#counter.record(key, atMs, windowMs);
  }

  async eventAt(key: string, sinceMs: number, rank: number): Promise<number | null> {
    return this.#counter.at(key, sinceMs, rank);
  }

  async takeEvent(
    key: string,
    atMs: number,
    windowMs: number,
    max: number,
  ): Promise<number | null> {
    const at = this.#counter.at(key, atMs - windowMs, max);
    if (at === null) this.#counter.record(key, atMs, windowMs);
    return at;
  }

  appendAudit(entries: AuditDraft[]): Promise<void> {
    return this.#commit((_doc, tx) => tx.audit(...entries));
  }

  prune(retention: Retention, nowMs: number): Promise<PruneReport> {
    return this.#commit(
      async (doc, tx) => {
        const report: PruneReport = { pastRetention: 0, blobsDeleted: 0, changesDeleted: 0 };
        // Decided deployments reach the history files before their files can go (after the
        // appends of earlier commits: none starts while this command holds the queue), and no
        // change-list file is still being written when files are deleted.
        await this.#logChain;
        await Promise.all(this.#writes);
        await this.#appendDecided();
        const { kept, past } = splitRetained(this.#refs.recent(), retention, nowMs);
        const nowS = Math.floor(nowMs / 1000);
        const jtis = Object.entries(doc.approvalJtis).filter(([, until]) => until < nowS);
        const keepAfter = nowMs - INVITATION_KEEP_MS;
        const invitations = doc.invitations.filter((i) => Date.parse(i.expiresAt) > keepAfter);
        if (past.length > 0 || jtis.length > 0 || invitations.length !== doc.invitations.length) {
          tx.dirty = true;
        }
        for (const [key] of jtis) delete doc.approvalJtis[key];
        doc.invitations = invitations;

        const referenced = new Set(
          [...doc.deployments, ...doc.decided, ...kept].flatMap((d) => [d.base, d.target]),
        );
        const blobsGone = this.#refs
          .blobs()
          .filter(([rev, ref]) => !referenced.has(rev) && Date.parse(ref.at) <= nowMs - GRACE_MS)
          .map(([rev]) => rev);
        // Recorded before any file goes: a crash now leaves orphans, which the next prune deletes.
        await this.#refs.drop(
          past.map((d) => d.id),
          blobsGone,
        );
        if (past.length > 0) {
          tx.audit({
            type: 'deployments-past-retention',
            data: {
              count: past.length,
              deployments: past.map((d) => d.id),
              blobs: blobsGone.length,
            },
          });
        }
        // Files go once the document no longer names them; orphans of interrupted writes too.
        const work = async (): Promise<void> => {
          const known = new Set(this.#refs.blobs().map(([rev]) => rev));
          const cutoff = Date.now() - GRACE_MS;
          for (const rev of blobsGone) if (await this.#blobs.delete(rev)) report.blobsDeleted++;
          for (const rev of await this.#blobs.revsOlderThan(cutoff)) {
            if (!known.has(rev) && (await this.#blobs.delete(rev))) report.blobsDeleted++;
          }
          for (const d of past) {
            if (!this.#hasFiles(d.id) && (await this.#changes.delete(d.id)))
              report.changesDeleted++;
          }
          for (const id of await this.#changes.idsOlderThan(cutoff)) {
            if (!this.#hasFiles(id) && (await this.#changes.delete(id))) report.changesDeleted++;
          }
        };
        if (tx.dirty) tx.after.push(work);
        else await work();
        report.pastRetention = past.length;
        return report;
      },
      { waitForAll: true },
    );
  }

  subscribe(listener: (event: DeploymentEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.settled();
    await this.#jtis.close();
    await this.#refs.close();
    await this.#audit.close();
  }
}

/** The document key of an approval `jti`: prefixed, so a `jti` such as `__proto__` is plain data. */
function jtiKey(jti: string): string {
  return `j:${jti}`;
}

type Cursor =
  | { kind: 'live'; after: { createdAt: string; id: string } | null }
  | { kind: 'archive'; position: number };

/** A history cursor: `l:<createdAt>|<id>` after a live deployment, `a:<n>` before archive entry n. */
function parseCursor(text: string | null): Cursor {
  if (text === null || text === '') return { kind: 'live', after: null };
  const live = /^l:([0-9TZ:.-]{1,40})\|([0-9a-f]{1,64})$/.exec(text);
  if (live) return { kind: 'live', after: { createdAt: live[1]!, id: live[2]! } };
  const archive = /^a:(\d{1,12})$/.exec(text);
  if (archive) return { kind: 'archive', position: Number(archive[1]) };
  throw new CountersignError('ERR_BAD_REQUEST', 'before must be a cursor from a previous page');
}

/** An archived deployment without its change outlines. */
function recordOf(archived: ArchivedDeployment): DeploymentRecord {
  const record: Partial<ArchivedDeployment> = { ...archived };
  delete record.changes;
  return record as DeploymentRecord;
}

/**
 * For a document from before they were kept: devices' inviters from the audit log's enrolment
 * lines, and each deployment's audit line numbers.
 */
async function readFromAudit(
  audit: AuditFile,
  devices: DeviceRecord[],
  deployments: DeploymentRecord[],
): Promise<void> {
  const wanted = new Map(devices.filter((d) => d.invitedBy === null).map((d) => [d.id, d]));
  const byId = new Map(deployments.map((d) => [d.id, d]));
  if (wanted.size === 0 && byId.size === 0) return;
  for await (const entry of audit.entries()) {
    const deployment = byId.get(String(entry.data.deployment));
    if (deployment) deployment.auditSeqs = [...(deployment.auditSeqs ?? []), entry.seq];
    if (entry.type !== 'device-enrolled') continue;
    const d = wanted.get(String(entry.data.device));
    if (d && typeof entry.data.invitedBy === 'string') d.invitedBy = entry.data.invitedBy;
  }
}
