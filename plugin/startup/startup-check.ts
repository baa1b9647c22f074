/**
 * The start-up check (T3): the flows Node-RED loads from storage are compared with the last
 * approved rev recorded under the user directory. On a mismatch, `hold` runs the last approved
 * flows and `stop` runs none; either way the on-disk version is proposed for approval, the log says
 * so loudly, and every device gets a `drift` push. A first start with no record trusts the flows on
 * disk once and records them. Flows on disk outside the canonical shape (DESIGN 5.2) are never
 * trusted and cannot be proposed: they are a mismatch whose `refused` says why.
 */
import { parseFlows, sha256Hex, type Flows } from '../../protocol/index.js';
import { revOfSaved } from '../flows/backstop.js';
import type { GateLog } from '../flows/gate.js';
import type { GateRecords } from './records.js';
import type { StoredFlows } from '../runtime-modules.js';

/** What the check found at start; `proposal` is set on a mismatch. */
export type StartupFinding =
  | { kind: 'first-start'; rev: string }
  | { kind: 'match'; rev: string }
  | {
      kind: 'mismatch';
      diskRev: string;
      approvedRev: string | null;
      running: 'approved' | 'none';
      diskFlows: Flows;
      /** Why the flows on disk cannot be proposed (they break the canonical shape), or null. */
      refused: string | null;
      /** The flows now active, which the proposal is based on. */
      base: { rev: string; text: string };
    };

/** Options of the check. */
export type StartupCheckOptions = {
  records: GateRecords;
  mode: 'hold' | 'stop';
  readStorage: () => Promise<StoredFlows>;
  log: GateLog;
  /** Told the approved rev whenever the check settles it. */
  setApprovedRev: (rev: string) => void;
  /**
   * Called (and awaited, before any flow starts) when a first start trusts the flows on disk: the
   * devices are told, since deleting the gate's record would otherwise pass tampered flows quietly.
   */
  onFirstStart?: (rev: string) => Promise<void>;
};

function loud(log: GateLog, lines: string[]): void {
  const bar = '*'.repeat(72);
  log.error(bar);
  for (const line of lines) log.error(`* ${line}`);
  log.error(bar);
}

/** Serves storage's `getFlows`, returning only approved flows to the runtime. */
export class StartupCheck {
  readonly #o: StartupCheckOptions;
  /** What the first load found (the caller proposes a mismatch once the load completed). */
  finding: StartupFinding | null = null;

  constructor(options: StartupCheckOptions) {
    this.#o = options;
  }

  /** Storage's `getFlows`, checked. */
  async getFlows(): Promise<StoredFlows> {
    const { log, records } = this.#o;
    const disk = await this.#o.readStorage();
    const diskRev = revOfSaved(disk.flows);
    let diskFlows: Flows = [];
    let refused: string | null = null;
    try {
      diskFlows = parseFlows(disk.flows);
    } catch (err) {
      refused = (err as Error).message;
    }
    let approved: Awaited<ReturnType<GateRecords['readApproved']>>;
    try {
      approved = await records.readApproved();
    } catch (err) {
      // An unreadable record is not a first start: run nothing unapproved.
      log.error(`Countersign: ${(err as Error).message}`);
      approved = {
        record: { v: 1, rev: '', deployment: null, approvals: [], at: '', reason: 'applied' },
        flows: null,
      };
    }

    if (!approved && refused === null) {
      const text = JSON.stringify(disk.flows);
      await records.writeApproved(
        {
          v: 1,
          rev: diskRev,
          deployment: null,
          approvals: [],
          at: new Date().toISOString(),
          reason: 'first-start',
        },
        text,
      );
      this.#o.setApprovedRev(diskRev);
      this.finding ??= { kind: 'first-start', rev: diskRev };
      if (Array.isArray(disk.flows) && disk.flows.length === 0) {
        // A brand-new install: no flows run, so nothing was trusted and there is nothing to announce.
        log.info('Countersign: first start with no flows; every deployment from now on is held');
        return disk;
      }
      log.warn(
        `Countersign: first start: trusting the flows on disk (rev ${diskRev.slice(0, 12)}) once and recording them as approved`,
      );
      await this.#o
        .onFirstStart?.(diskRev)
        .catch((err: unknown) =>
          log.warn(
            `Countersign: could not tell the devices about the first start: ${(err as Error).message}`,
          ),
        );
      return disk;
    }
    if (approved && refused === null && approved.record.rev === diskRev) {
      log.info(
        `Countersign: the flows on disk are the last approved flows (rev ${diskRev.slice(0, 12)})`,
      );
      this.#o.setApprovedRev(diskRev);
      this.finding ??= { kind: 'match', rev: diskRev };
      return disk;
    }

    const approvedRev = approved?.record.rev || null;
    const approvedFlows = this.#o.mode === 'hold' ? (approved?.flows ?? null) : null;
    const runApproved = approvedFlows !== null;
    const baseText = runApproved ? JSON.stringify(approvedFlows) : '[]';
    const base = { rev: runApproved ? approvedRev! : await sha256Hex('[]'), text: baseText };
    const proposed = refused === null ? 'the version on disk is proposed' : 'nothing is proposed';
    loud(log, [
      refused === null
        ? 'Countersign: the flows on disk are NOT the last approved flows.'
        : 'Countersign: the flows on disk cannot be reviewed, so they do not run.',
      ...(refused === null ? [] : [`They break the canonical shape: ${refused}. Fix flows.json.`]),
      `On disk: rev ${diskRev.slice(0, 12)}; last approved: ${approvedRev ? `rev ${approvedRev.slice(0, 12)}` : 'unknown'}.`,
      runApproved
        ? `Running the last approved flows; ${proposed}.`
        : !approved
          ? `No approved flows are recorded (a first start): running NO flows; ${proposed}.`
          : this.#o.mode === 'hold'
            ? `The last approved flows are missing or altered: running NO flows; ${proposed}.`
            : `onStartMismatch is "stop": running NO flows; ${proposed}.`,
    ]);
    if (runApproved) this.#o.setApprovedRev(approvedRev!);
    this.finding ??= {
      kind: 'mismatch',
      diskRev,
      approvedRev,
      running: runApproved ? 'approved' : 'none',
      diskFlows,
      refused,
      base,
    };
    return runApproved
      ? { flows: approvedFlows, credentials: disk.credentials, rev: approvedRev! }
      : { flows: [], credentials: disk.credentials, rev: base.rev };
  }
}
