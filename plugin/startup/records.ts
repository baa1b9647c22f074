/**
 * What the gate keeps under the Node-RED user directory (`<userDir>/countersign-gate/`):
 * - `approved.json` and `approved-flows.json`: the last approved rev, its approvals and its exact
 *   snapshot, for the start-up check (T3);
 * - `held/<id>.json` and `held/<id>.flows.json`: each held deployment without its credentials, so
 *   one held when Node-RED stops is re-proposed at the next start rather than lost;
 * - `outcomes/<id>.json`: each outcome not yet taken by the server, sent again when it is back.
 * Writes are atomic (temp file, rename). Credentials are never written here.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CountersignError,
  isSha256Hex,
  parseFlows,
  sha256Hex,
  type CredentialFields,
  type DeploymentSource,
  type DeploymentType,
  OUTCOMES,
  type Flows,
  type Outcome,
} from '../../protocol/index.js';

/** The last approved flows. `deployment` is null when they were trusted at a first start. */
export type ApprovedRecord = {
  v: 1;
  rev: string;
  deployment: string | null;
  approvals: string[];
  at: string;
  reason: 'applied' | 'first-start';
};

/** A held deployment as kept on disk (no credentials). */
export type HeldRecord = {
  v: 1;
  id: string;
  type: DeploymentType;
  source: DeploymentSource;
  base: string;
  target: string;
  credentials: CredentialFields;
  at: string;
};

/** An outcome the server has not taken yet (5.7 `POST /deployments/:id/outcome`). */
export type OutcomeRecord = {
  v: 1;
  id: string;
  status: Outcome;
  rev: string;
  message?: string;
  at: string;
};

/**
 * A held deployment's snapshot, written to disk while the deployment is being proposed (before the
 * server has given it an id), so that the proposal and the write overlap.
 */
export type HeldDraft = {
  /** Files the snapshot under the record's id and writes the record; resolves once both are on disk. */
  keep(record: HeldRecord): Promise<void>;
  /** Removes the snapshot (the deployment was not proposed). */
  discard(): Promise<void>;
};

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

/** The names in `dir`; none when it does not exist (nothing was ever written there). */
async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** The gate's files under the user directory. */
export class GateRecords {
  readonly dir: string;

  constructor(userDir: string) {
    this.dir = join(userDir, 'countersign-gate');
  }

  /** The last approved record and its flows (re-hashed), or null at a first start. */
  async readApproved(): Promise<{ record: ApprovedRecord; flows: Flows | null } | null> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'approved.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let record: ApprovedRecord;
    try {
      record = JSON.parse(text) as ApprovedRecord;
    } catch (cause) {
      throw new CountersignError(
        'ERR_STORE_CORRUPT',
        `${join(this.dir, 'approved.json')} does not parse`,
        { cause },
      );
    }
    if (record?.v !== 1 || !isSha256Hex(record.rev)) {
      throw new CountersignError(
        'ERR_STORE_CORRUPT',
        `${join(this.dir, 'approved.json')} is not an approval record`,
      );
    }
    let flows: Flows | null = null;
    try {
      const snapshot = await readFile(join(this.dir, 'approved-flows.json'), 'utf8');
      if ((await sha256Hex(snapshot)) === record.rev) flows = parseFlows(JSON.parse(snapshot));
    } catch {
      flows = null; // missing or altered: the caller runs nothing rather than unknown flows
    }
    return { record, flows };
  }

  /** Records the flows now approved (their exact snapshot text, whose SHA-256 is `record.rev`). */
  async writeApproved(record: ApprovedRecord, snapshot: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeAtomic(join(this.dir, 'approved-flows.json'), snapshot);
    await writeAtomic(join(this.dir, 'approved.json'), JSON.stringify(record, null, 2) + '\n');
  }

  /**
   * Keeps a held deployment (without credentials) until its outcome: starts writing its snapshot
   * (the exact bytes) under a temporary name now; `keep` renames it to `held/<id>.flows.json` and
   * then writes `held/<id>.json`, so a record on disk always finds its flows. A draft is not
   * `*.json`, so it is never read back as a held deployment.
   */
  draftHeld(snapshot: string | Uint8Array): HeldDraft {
    const dir = join(this.dir, 'held');
    const tmp = join(dir, `draft-${process.pid}-${randomBytes(6).toString('hex')}.flows.tmp`);
    const written = (async () => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, snapshot, { mode: 0o600 });
    })();
    // Awaited by keep or discard; until then a failure must not count as unhandled.
    written.catch(() => undefined);
    const discard = async (): Promise<void> => {
      await written.catch(() => undefined);
      await rm(tmp, { force: true });
    };
    return {
      keep: async (record) => {
        if (!SAFE_ID.test(record.id)) return discard();
        const path = join(dir, `${record.id}.json`);
        const recordTmp = `${path}.${process.pid}.${Date.now()}.tmp`;
        try {
          await written;
          // The flows are filed, then the record (a few hundred bytes) is written and renamed into
          // place, so it never stands without its flows. Three small calls, made synchronously:
          // together they take a fraction of a millisecond, while each asynchronous one would wait
          // its turn of the event loop behind whatever else runs there (the server's pushes, when
          // it is embedded), and the deploy's 423 waits for them.
          renameSync(tmp, join(dir, `${record.id}.flows.json`));
          writeFileSync(recordTmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
          renameSync(recordTmp, path);
        } catch (err) {
          await Promise.all([rm(tmp, { force: true }), rm(recordTmp, { force: true })]).catch(
            () => undefined,
          );
          throw err;
        }
      },
      discard,
    };
  }

  /** Forgets a held deployment. */
  async removeHeld(id: string): Promise<void> {
    if (!SAFE_ID.test(id)) return;
    const dir = join(this.dir, 'held');
    await rm(join(dir, `${id}.json`), { force: true });
    await rm(join(dir, `${id}.flows.json`), { force: true });
  }

  /** Keeps an outcome until the server has taken it. */
  async writeOutcome(record: OutcomeRecord): Promise<void> {
    if (!SAFE_ID.test(record.id)) return;
    const dir = join(this.dir, 'outcomes');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeAtomic(join(dir, `${record.id}.json`), JSON.stringify(record, null, 2) + '\n');
  }

  /** Forgets an outcome the server took (or refused for good). */
  async removeOutcome(id: string): Promise<void> {
    if (!SAFE_ID.test(id)) return;
    await rm(join(this.dir, 'outcomes', `${id}.json`), { force: true });
  }

  /** Every outcome still to report, oldest first; a file that does not read as one is skipped. */
  async readOutcomes(): Promise<OutcomeRecord[]> {
    const dir = join(this.dir, 'outcomes');
    const out: OutcomeRecord[] = [];
    const names = await namesIn(dir);
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      try {
        const r = JSON.parse(await readFile(join(dir, name), 'utf8')) as OutcomeRecord;
        if (r?.v !== 1 || !SAFE_ID.test(r.id) || `${r.id}.json` !== name) continue;
        if (
          !(OUTCOMES as readonly string[]).includes(r.status) ||
          !isSha256Hex(r.rev) ||
          typeof r.at !== 'string'
        )
          continue;
        if (r.message !== undefined && typeof r.message !== 'string') continue;
        out.push(r);
      } catch {
        // unreadable: left for a person to look at, never sent
      }
    }
    return out.sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Every held deployment left on disk, oldest first, with its flows when they re-hash to `target`. */
  async readHeld(): Promise<Array<{ record: HeldRecord; flows: Flows | null }>> {
    const dir = join(this.dir, 'held');
    const out: Array<{ record: HeldRecord; flows: Flows | null }> = [];
    const names = await namesIn(dir);
    for (const name of names) {
      // A draft of an earlier process was never kept (it stopped while proposing): nothing reads it.
      const draftPid = /^draft-(\d+)-[0-9a-f]+\.flows\.tmp$/.exec(name)?.[1];
      if (draftPid !== undefined && Number(draftPid) !== process.pid) {
        await rm(join(dir, name), { force: true });
        continue;
      }
      if (!name.endsWith('.json') || name.endsWith('.flows.json')) continue;
      try {
        const record = JSON.parse(await readFile(join(dir, name), 'utf8')) as HeldRecord;
        if (record?.v !== 1 || !SAFE_ID.test(record.id) || !isSha256Hex(record.target)) continue;
        let flows: Flows | null = null;
        try {
          const snapshot = await readFile(join(dir, `${record.id}.flows.json`), 'utf8');
          if ((await sha256Hex(snapshot)) === record.target)
            flows = parseFlows(JSON.parse(snapshot));
        } catch {
          flows = null;
        }
        out.push({ record, flows });
      } catch {
        // An unreadable record is skipped; the server still knows the deployment.
      }
    }
    return out.sort((a, b) => a.record.at.localeCompare(b.record.at));
  }
}
