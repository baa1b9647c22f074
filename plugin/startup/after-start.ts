/**
 * What the gate proposes once Node-RED has loaded its flows: the on-disk version after a start-up
 * mismatch (T3, with a `drift` push), and the deployments that were held when Node-RED last stopped.
 * Their full requests, credentials included, were in memory only: what can be re-proposed is the
 * flows kept on disk (without credentials), and the log says so.
 */
import pRetry from 'p-retry';
import type { DeploymentType, Flows } from '../../protocol/index.js';
import { honourRetryAfter, type ApprovalClient } from '../link/client.js';
import type { Apply, Gate, GateLog } from '../flows/gate.js';
import type { GateRecords } from './records.js';
import type { StartupFinding } from './startup-check.js';

/** What the start-up proposals need. */
export type AfterStartOptions = {
  gate: Gate;
  client: ApprovalClient;
  records: GateRecords;
  log: GateLog;
  /** Applies flows with a deployment type through the original runtime `setFlows`. */
  applyAs: (type: 'full' | 'nodes' | 'flows') => Apply;
};

/** While the server cannot be reached: again after 1 s, doubling to every 30 s, until Node-RED stops. */
export const UNTIL_REACHED = {
  retries: Infinity,
  minTimeout: 1_000,
  maxTimeout: 30_000,
  unref: true,
} as const;

function withRetries<T>(task: () => Promise<T>, isClosed: () => boolean): Promise<T> {
  return pRetry(task, {
    ...UNTIL_REACHED,
    shouldRetry: () => !isClosed(),
    onFailedAttempt: ({ error }) => honourRetryAfter(error),
  });
}

/**
 * Proposes the on-disk version after a mismatch and tells every device (drift push). Flows on disk
 * that break the canonical shape are not proposed (the gate would refuse them): the devices are
 * told why. Resolves to the new deployment's id, or null when nothing was proposed.
 */
export async function proposeDrift(
  finding: Extract<StartupFinding, { kind: 'mismatch' }>,
  options: AfterStartOptions,
  isClosed: () => boolean,
): Promise<string | null> {
  const { gate } = options;
  const running =
    finding.running === 'approved' ? 'running the last approved flows' : 'running no flows';
  if (finding.refused !== null) {
    const message =
      `The flows on disk (rev ${finding.diskRev.slice(0, 12)}) cannot be reviewed: ${finding.refused}; ` +
      `${running}. Nothing was proposed: fix flows.json, or deploy.`;
    await sendDrift(finding.diskRev, message, options, isClosed);
    return null;
  }
  const id = await withRetries(
    () =>
      gate.propose({
        type: 'startup',
        source: { user: 'runtime', via: 'startup-check' },
        flows: finding.diskFlows,
        base: finding.base,
        apply: options.applyAs('full'),
      }),
    isClosed,
  );
  const message =
    `The flows on disk (rev ${finding.diskRev.slice(0, 12)}) are not the last approved flows; ` +
    `${running}. The version on disk is proposed as deployment ${id}.`;
  await sendDrift(finding.diskRev, message, options, isClosed);
  return id;
}

async function sendDrift(
  rev: string,
  message: string,
  options: AfterStartOptions,
  isClosed: () => boolean,
): Promise<void> {
  const { client, log } = options;
  log.warn(`Countersign: ${message}`);
  try {
    await withRetries(() => client.drift(rev, message), isClosed);
  } catch (err) {
    log.warn(`Countersign: could not send the drift notice: ${(err as Error).message}`);
  }
}

function applyTypeOf(type: DeploymentType): 'full' | 'nodes' | 'flows' {
  return type === 'nodes' || type === 'flows' ? type : type.startsWith('flow-') ? 'flows' : 'full';
}

/**
 * Re-proposes the newest deployment that was held (pending or approved, not applied) when
 * Node-RED stopped, from the flows kept on disk. Returns the new id, or null when there was none.
 */
export async function reproposeHeld(options: AfterStartOptions): Promise<string | null> {
  const { gate, client, records, log } = options;
  // Only deployments held by an earlier run: this run's own proposals are in memory.
  const current = new Set(gate.heldIds());
  const held = (await records.readHeld()).filter((h) => !current.has(h.record.id));
  if (held.length === 0) return null;
  const newest = held[held.length - 1]!;
  const { record } = newest;
  let status: string;
  try {
    status = (await client.deployment(record.id)).status;
  } catch (err) {
    const code = (err as { httpStatus?: number | null }).httpStatus;
    if (code === 404) status = 'unknown';
    else throw err; // unreachable: try again when the server is back
  }
  let newId: string | null = null;
  if (status === 'pending' || status === 'approved') {
    const flows: Flows | null = newest.flows;
    if (!flows) {
      log.error(
        `Countersign: deployment ${record.id} was held when Node-RED stopped, and its flows kept on disk are missing or altered; it cannot be re-proposed. Deploy again.`,
      );
    } else {
      newId = await gate.propose({
        type: record.type,
        source: { ...record.source, via: `${record.source.via} (re-proposed after a restart)` },
        flows,
        apply: options.applyAs(applyTypeOf(record.type)),
      });
      const fields = Object.entries(record.credentials).map(
        ([node, names]) => `${node}: ${names.join(', ')}`,
      );
      log.warn(
        `Countersign: deployment ${record.id} was held (${status}) when Node-RED stopped. Its full request was kept in memory only; ` +
          `re-proposed its flows from disk as deployment ${newId}` +
          (fields.length > 0 ? `, WITHOUT the credentials it set (${fields.join('; ')})` : '') +
          '.',
      );
    }
    if (status === 'approved') {
      const message = newId
        ? `Node-RED restarted before applying it; re-proposed as ${newId}`
        : 'Node-RED restarted before applying it; deploy again';
      try {
        await client.outcome(record.id, { status: 'failed', rev: await gate.activeRev(), message });
      } catch (err) {
        log.warn(
          `Countersign: could not report deployment ${record.id} as failed: ${(err as Error).message}`,
        );
      }
      gate.markFinished(record.id);
    }
  }
  for (const { record: r } of held) await records.removeHeld(r.id);
  if (newId === null && status !== 'pending' && status !== 'approved') {
    log.info(
      `Countersign: deployment ${record.id}, held when Node-RED stopped, is ${status} now; nothing to re-propose`,
    );
  }
  return newId;
}
