/**
 * A data directory holding a year of deployments (issue 13: 50 a day, 18,250 decided), built fast
 * and faithfully: a real server makes the directory, its instance and its phone; then the store's
 * own file code writes what a year of proposals and decisions leaves — the audit lines (the
 * `AuditFile` the server appends with, hash chain and all), every decided deployment in the
 * monthly history files (`HistoryFiles`), and what the retention keeps (the change lists and
 * snapshot blobs of the newest 500 decided, named in the document) — instead of 18,250 round trips
 * over HTTP. Every approval is a real ES256 JWS signed by the enrolled phone's key.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeChanges,
  decisionsDigest,
  randomId,
  revOf,
  snapshotBytes,
  type Change,
  type Flows,
  type Verdict,
} from '../protocol/index.js';
import { silentLog, startServer } from '../server/index.js';
import { AuditFile, type NumberedDraft } from '../server/audit/audit-file.js';
import { BlobFiles } from '../server/store/blob-files.js';
import { ChangeFiles } from '../server/store/change-files.js';
import { FileRefs } from '../server/store/file-refs.js';
import {
  HistoryFiles,
  changeOutline,
  type ArchivedDeployment,
} from '../server/store/history-files.js';
import { recentOf, type LiveDocument } from '../server/store/live-document.js';
import { DEFAULT_RETENTION, pruneSlack } from '../server/store/retention.js';
import type { DeploymentRecord } from '../server/store/types.js';
import { TestDevice } from '../test/helpers/device.js';
import { mutatedCopy } from './flows-10k.js';

/** What a built directory holds, for the measurements that follow. */
export type BuiltHistory = { dataDir: string; token: string };

const POLICY = { requiredApprovals: 1, forbidSelfApproval: false, expiresIn: '24h' };

/** A change list of one proposal: what the record, the history and the change file keep. */
type Proposal = { target: string; changes: Change[]; flows: Flows | null };

/**
 * Builds a data directory with `decided` decided deployments of `base`-sized flows, `perDay` a day
 * ending now; the newest `DEFAULT_RETENTION.keep` are live, the rest archived.
 */
export async function buildHistory(options: {
  base: Flows;
  decided: number;
  perDay: number;
}): Promise<BuiltHistory> {
  const { base, decided, perDay } = options;
  const dataDir = mkdtempSync(join(tmpdir(), `countersign-year-${decided}-`));
  const running = await startServer({ dataDir, port: 0, log: silentLog, appDir: null });
  const device = await TestDevice.create({ owner: 'bench', name: 'bench phone' });
  const { code } = await running.invite({ owner: 'bench', name: 'bench phone' });
  await device.enroll(running.url, code);
  const { token, id: instanceId } = await running.ensureInstance('bench', {
    requiredApprovals: 1,
  });
  const serverId = running.serverId;
  await running.close();

  const baseRev = await revOf(base);
  const liveCount = Math.min(decided, DEFAULT_RETENTION.keep);
  // Live deployments get distinct real snapshots (as successive deployments have); archived ones
  // share a pool of change lists (their blobs are gone anyway).
  const pool: Proposal[] = [];
  for (let i = 0; i < 20; i++) pool.push(await proposalOf(base, 1000 + i, false));
  const live: Proposal[] = [];
  for (let i = 0; i < liveCount; i++) live.push(await proposalOf(base, i + 1, true));

  const audit = new AuditFile(join(dataDir, 'audit.jsonl'));
  await audit.init();
  let seq = audit.lastSeq;
  const history = await HistoryFiles.open(join(dataDir, 'history'));
  const blobs = new BlobFiles(join(dataDir, 'blobs'));
  const changeFiles = new ChangeFiles(join(dataDir, 'changes'));
  const spacingMs = 86_400_000 / perDay;
  const startMs = Date.now() - decided * spacingMs;
  const retained: DeploymentRecord[] = [];
  const decidedIds: string[] = [];
  let drafts: NumberedDraft[] = [];
  let archived: ArchivedDeployment[] = [];
  const batch = pruneSlack(DEFAULT_RETENTION);

  for (let n = 0; n < decided; n++) {
    const isLive = n >= decided - liveCount;
    const proposal = isLive ? live[n - (decided - liveCount)]! : pool[n % pool.length]!;
    const createdMs = startMs + n * spacingMs;
    const at = (ms: number): string => new Date(ms).toISOString();
    const id = randomBytes(6).toString('hex');
    const verdict: Verdict = n % 10 === 9 ? 'reject' : 'approve';
    const status = verdict === 'reject' ? 'rejected' : 'applied';
    const changeIds = proposal.changes.map((c) => c.id);
    const decisionMap = Object.fromEntries(changeIds.map((c) => [c, verdict]));
    const iat = Math.floor((createdMs + 60_000) / 1000);
    const jti = randomId();
    const jws = await device.signApproval({
      iss: device.id,
      aud: serverId,
      sub: id,
      iat,
      exp: iat + 120,
      jti,
      base: baseRev,
      target: proposal.target,
      creds: null,
      verdict,
      decisions: await decisionsDigest(decisionMap),
    });
    const record: DeploymentRecord = {
      id,
      instanceId,
      instance: 'bench',
      status,
      createdAt: at(createdMs),
      expiresAt: at(createdMs + 86_400_000),
      source: { user: 'bench', via: 'editor' },
      base: baseRev,
      target: proposal.target,
      creds: null,
      credentials: {},
      type: 'full',
      changeIds,
      policy: POLICY,
      approvals: [
        { device: device.id, verdict, at: at(createdMs + 60_000), jws, changes: decisionMap },
      ],
      outcome:
        status === 'applied'
          ? { status: 'applied', rev: proposal.target, at: at(createdMs + 61_000) }
          : null,
      decidedAt: at(createdMs + 60_000),
    };
    const line = (type: string, data: Record<string, unknown>, ms: number): void => {
      drafts.push({ seq: ++seq, at: at(ms), type, data });
    };
    line(
      'deployment-proposed',
      {
        deployment: id,
        instance: 'bench',
        base: baseRev,
        target: proposal.target,
        creds: null,
        changes: changeIds.length,
        type: 'full',
        source: record.source,
      },
      createdMs,
    );
    line('decision', { deployment: id, device: device.id, verdict, jti, jws }, createdMs + 60_000);
    line(
      `deployment-${verdict === 'reject' ? 'rejected' : 'approved'}`,
      { deployment: id, instance: 'bench' },
      createdMs + 60_000,
    );
    if (status === 'applied') {
      line('deployment-applied', { deployment: id, instance: 'bench' }, createdMs + 61_000);
    }
    // Every decided deployment is in the history files; the retention keeps the newest files.
    archived.push({ ...record, changes: proposal.changes.map(changeOutline) });
    decidedIds.push(id);
    if (isLive) {
      retained.push(record);
      await changeFiles.put(id, proposal.changes);
      if (proposal.flows) {
        await blobs.put(proposal.target, new Uint8Array(snapshotBytes(proposal.flows)));
      }
    }
    if (archived.length === 200 || n === decided - 1) {
      await history.append(archived);
      archived = [];
    }
    // What the retention's prunes wrote: a batch past `keep` at a time.
    const past = decidedIds.length - DEFAULT_RETENTION.keep;
    if (past > 0 && past % batch === 0) {
      const ids = decidedIds.slice(past - batch, past);
      line(
        'deployments-past-retention',
        { count: ids.length, deployments: ids, blobs: ids.length },
        createdMs + 62_000,
      );
    }
    if (drafts.length >= 2000) {
      await audit.appendNumbered(drafts);
      drafts = [];
    }
  }
  await audit.appendNumbered(drafts);
  await audit.close();

  await blobs.put(baseRev, new Uint8Array(snapshotBytes(base)));
  const docPath = join(dataDir, 'countersign.json');
  const doc = JSON.parse(readFileSync(docPath, 'utf8')) as LiveDocument;
  doc.deployments = [];
  doc.decided = [];
  doc.outbox = [];
  writeFileSync(docPath, JSON.stringify(doc), { mode: 0o600 });
  // What the files are kept for: the uploads, and the decided deployments the retention keeps.
  const refs = await FileRefs.open(join(dataDir, 'files.jsonl'));
  const uploaded = new Date().toISOString();
  for (const rev of [baseRev, ...retained.map((d) => d.target)]) {
    await refs.recordBlob(rev, instanceId, uploaded);
  }
  await refs.addRecent(retained.map(recentOf));
  await refs.close();
  return { dataDir, token };
}

/** A proposal of `base` with 20 changes (seeded); with its flows kept when they will be a blob. */
async function proposalOf(base: Flows, seed: number, keepFlows: boolean): Promise<Proposal> {
  const flows = mutatedCopy(base, 20, seed);
  return {
    target: await revOf(flows),
    changes: computeChanges(base, flows, {}),
    flows: keepFlows ? flows : null,
  };
}
