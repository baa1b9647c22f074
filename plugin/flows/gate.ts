/**
 * The gate (DESIGN 3, 7): holds a deployment by proposing it to the approval server, keeps the full
 * request in memory only, and applies it through the original, unwrapped runtime function once the
 * gate itself has verified the approvals (5.4, against the change list it recomputes) and the three
 * bindings (base, target, credentials). An apply that fails is undone (`Restorer`).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  collectCredentials,
  computeChanges,
  credentialFieldsOf,
  credentialsDigest,
  fingerprintOf,
  isCountersignError,
  parseFlows,
  sha256Hex,
  snapshotText,
  nowSeconds,
  utf8,
  type CredentialFields,
  type DeploymentEvent,
  type DeploymentSource,
  type DeploymentType,
  type Flows,
  type Outcome,
} from '../../protocol/index.js';
import { releaseRev } from './backstop.js';
import type { ApprovalClient } from '../link/client.js';
import { HeldError, heldMessage, unreachableMessage } from './held-error.js';
import type { Notice } from '../editor/notice.js';
import { approverName, oneLine, rejectionOf } from '../editor/rejection.js';
import type { GateRecords } from '../startup/records.js';
import { checkRequest } from './request-checks.js';
import type { InternalFlows, RuntimeEvents } from '../runtime-modules.js';
import type { ApprovalCheck } from '../approval/verify-approvals.js';
import type { Restorer } from './restore.js';
import type { OutcomeReports } from '../link/outcome.js';

/** Applies held flows through the original runtime function; resolves to the rev Node-RED reports. */
export type Apply = (flows: Flows, credentials: unknown) => Promise<unknown>;

/** A deployment to hold. `flows` may carry credentials; `credentials` is Node-RED's separate argument. */
export type HoldRequest = {
  type: DeploymentType;
  source: DeploymentSource;
  /** The flows as the caller received them: the gate checks their shape once (`checkRequest`). */
  flows: unknown;
  credentials?: unknown;
  apply: Apply;
  /** Base rev to propose against instead of the active flows' (the start-up check uses this). */
  base?: { rev: string; text: string };
};

/** A held deployment: the full request lives here, in memory only. */
type Held = {
  id: string;
  type: DeploymentType;
  source: DeploymentSource;
  base: string;
  /** The base snapshot as proposed (its SHA-256 is `base`): the change list is recomputed from it. */
  baseText: string;
  target: string;
  creds: string | null;
  credentialFields: CredentialFields;
  flows: Flows;
  credentials: unknown;
  apply: Apply;
  /** When the server took the proposal, Unix seconds (5.4 rows 6 and 8 for the plugin). */
  proposedAt: number;
  approvals?: string[];
};

/** The gate's log: short lines for people, never secrets or flow content. */
export type GateLog = { info(m: string): void; warn(m: string): void; error(m: string): void };

/** What the gate needs. */
export type GateOptions = {
  flows: Pick<InternalFlows, 'getFlows'>;
  events: RuntimeEvents;
  client: ApprovalClient;
  /** Outcomes, kept until the server has taken them. */
  outcomes: Pick<OutcomeReports, 'report'>;
  /** The plugin's approval check (5.4 rows 2 and 4–13, quorum of owners, recorded jtis). */
  approvals: ApprovalCheck;
  /** Puts the runtime back when an apply fails. */
  restorer: Restorer;
  records: GateRecords;
  log: GateLog;
  notify: (notice: Notice) => void;
  /** How long to wait for `flows:started` after applying (default 30 s). */
  startedTimeoutMs?: number;
};

const EMPTY_TEXT = '[]';

/** The rev of snapshot bytes (5.1), hashed here and now: the hold path waits for nothing else. */
function revOfBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A copy of `value` through JSON (undefined stays undefined). */
function jsonCopy(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

/** Node ids whose credentials an apply of `flows` (with `credentials`) over `base` can touch. */
function credentialIdsOf(base: Flows, flows: Flows, credentials: unknown): Set<string> {
  const ids = new Set<string>([...base.map((n) => n.id), ...flows.map((n) => n.id)]);
  for (const id of Object.keys(collectCredentials(flows, credentials))) if (id !== '$') ids.add(id);
  return ids;
}

/** The gate. */
export class Gate {
  readonly #o: GateOptions;
  /** HMAC key of the credentials digest (5.1): 32 random bytes, in memory only. */
  readonly #credentialsKey = new Uint8Array(randomBytes(32));
  readonly #held = new Map<string, Held>();
  readonly #finished = new Set<string>();
  readonly #uploaded = new Set<string>();
  readonly #baseRevs = new WeakMap<object, { rev: string; text: string }>();
  #holdQueue: Promise<unknown> = Promise.resolve();
  #settleQueue: Promise<unknown> = Promise.resolve();
  #queued = new Set<string>();
  /** The rev of the flows last approved (or trusted at a first start). */
  approvedRev: string | null = null;

  constructor(options: GateOptions) {
    this.#o = options;
  }

  /** Marks a deployment as settled elsewhere, so later reports of it are ignored. */
  markFinished(id: string): void {
    this.#finished.add(id);
  }

  /** Ids of held deployments (for polling). */
  heldIds(): string[] {
    return [...this.#held.keys()];
  }

  /** The active flows' rev and snapshot text, re-hashed from the active flows (never taken on trust). */
  async activeSnapshot(): Promise<{ rev: string; text: string }> {
    const active = this.#o.flows.getFlows();
    if (!active) return { rev: await sha256Hex(EMPTY_TEXT), text: EMPTY_TEXT };
    const known = this.#baseRevs.get(active);
    if (known) return known;
    const text = snapshotText(active.flows as Flows);
    const snapshot = { rev: await sha256Hex(text), text };
    this.#baseRevs.set(active, snapshot);
    return snapshot;
  }

  /** The active rev (see `activeSnapshot`). */
  async activeRev(): Promise<string> {
    return (await this.activeSnapshot()).rev;
  }

  /**
   * Holds a deployment: proposes it and rejects with `HeldError` (423). Nothing in the runtime
   * changes. When the server cannot take it, the deployment is held all the same and the message
   * says why.
   */
  async hold(request: HoldRequest): Promise<never> {
    const id = await this.propose(request);
    throw new HeldError(heldMessage(id), id);
  }

  /** Proposes a deployment and keeps it held; resolves to its id, or rejects with `HeldError`. */
  propose(request: HoldRequest): Promise<string> {
    let flows: Flows;
    try {
      flows = checkRequest(request.flows, request.credentials);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // Snapshot the request now, synchronously: what is proposed is the request as it was called.
    const targetText = snapshotText(flows);
    const credentialSet = collectCredentials(flows, request.credentials);
    const checked = { ...request, flows };
    const result = this.#holdQueue.then(() => this.#propose(checked, targetText, credentialSet));
    this.#holdQueue = result.catch(() => undefined);
    return result;
  }

  async #propose(
    request: HoldRequest & { flows: Flows },
    targetText: string,
    credentialSet: ReturnType<typeof collectCredentials>,
  ): Promise<string> {
    const { client, log } = this.#o;
    const base = request.base ?? (await this.activeSnapshot());
    const baseRev = base.rev;
    // The snapshot is encoded once: these bytes are hashed, uploaded and kept on disk as they are
    // (Node's encoder: about twice as fast as TextEncoder on a large snapshot).
    const targetBytes = Buffer.from(targetText, 'utf8');
    const target = revOfBytes(targetBytes);
    // Written to disk while the server takes the proposal; filed under its id once it has one.
    const draft = this.#o.records.draftHeld(targetBytes);
    const credentialFields = credentialFieldsOf(credentialSet);
    // Digested while the snapshot uploads.
    const digest = credentialsDigest(credentialSet, this.#credentialsKey);
    digest.catch(() => undefined);
    let creds: string | null;
    let id: string;
    try {
      if (!this.#uploaded.has(baseRev)) {
        await client.uploadBlob(baseRev, utf8(base.text));
        this.#uploaded.add(baseRev);
      }
      if (!this.#uploaded.has(target)) {
        await client.uploadBlob(target, targetBytes);
        this.#uploaded.add(target);
      }
      creds = await digest;
      const proposal = {
        base: baseRev,
        target,
        creds,
        credentials: credentialFields,
        type: request.type,
        source: request.source,
      };
      try {
        id = (await client.propose(proposal)).id;
      } catch (err) {
        // The server lost a blob we thought it had: upload both again once.
        if (!isCountersignError(err) || err.code !== 'ERR_BLOB_MISSING') throw err;
        this.#uploaded.clear();
        await client.uploadBlob(baseRev, utf8(base.text));
        await client.uploadBlob(target, targetBytes);
        id = (await client.propose(proposal)).id;
      }
    } catch (err) {
      await draft.discard().catch(() => undefined);
      const reason = err instanceof Error ? err.message : String(err);
      log.warn(
        `Countersign: ${request.type} deployment by ${request.source.user} held, not proposed: ${reason}`,
      );
      const message = unreachableMessage(reason);
      this.#o.notify({ id: null, status: 'unreachable', message });
      throw new HeldError(message, null, { cause: err });
    }
    this.#held.set(id, {
      id,
      type: request.type,
      source: request.source,
      base: baseRev,
      baseText: base.text,
      target,
      creds,
      credentialFields,
      flows: request.flows,
      credentials: request.credentials,
      apply: request.apply,
      proposedAt: nowSeconds(),
    });
    // The 423 waits for the record: a restart from here on finds the held deployment on disk.
    try {
      await draft.keep({
        v: 1,
        id,
        type: request.type,
        source: request.source,
        base: baseRev,
        target,
        credentials: credentialFields,
        at: new Date().toISOString(),
      });
    } catch (err) {
      log.warn(
        `Countersign: deployment ${id} is held but could not be recorded on disk: ${(err as Error).message}`,
      );
    }
    const fields = Object.keys(credentialFields).length;
    log.info(
      `Countersign: deployment ${id} held for approval (${request.type} by ${request.source.user} via ${request.source.via}` +
        `${fields > 0 ? `, sets credentials of ${fields} node(s)` : ''})`,
    );
    this.#o.notify({ id, status: 'held', message: heldMessage(id) });
    return id;
  }

  /** Takes a deployment the server reported; applies, drops or ignores it. Never throws. */
  onDeployment(view: DeploymentEvent): void {
    if (this.#finished.has(view.id) || this.#queued.has(view.id)) return;
    const held = this.#held.get(view.id);
    if (!held) {
      if (view.status === 'approved') {
        // Approved here but not held by this process (it restarted): say so rather than leave it.
        this.#queue(view.id, () => this.#forgotten(view.id));
      }
      return;
    }
    if (view.status === 'rejected' || view.status === 'expired' || view.status === 'superseded') {
      this.#queue(view.id, () => this.#drop(held, view));
    } else if (view.status === 'approved') {
      this.#queue(view.id, () => this.#settle(held, view));
    }
  }

  /** Resolves when every queued decision has been handled. */
  async idle(): Promise<void> {
    for (;;) {
      const current = this.#settleQueue;
      await current;
      if (current === this.#settleQueue) return;
    }
  }

  #queue(id: string, task: () => Promise<void>): void {
    this.#queued.add(id);
    this.#settleQueue = this.#settleQueue
      .then(task)
      .catch((err: unknown) =>
        this.#o.log.error(`Countersign: deployment ${id}: ${(err as Error).message}`),
      )
      .finally(() => this.#queued.delete(id));
  }

  async #forgotten(id: string): Promise<void> {
    this.#finished.add(id);
    const message =
      'approved, but this Node-RED no longer holds the request (it restarted); deploy again';
    this.#o.log.warn(`Countersign: deployment ${id} ${message}`);
    await this.#report(id, 'failed', await this.activeRev(), message);
  }

  async #drop(held: Held, view: DeploymentEvent): Promise<void> {
    const { status } = view;
    this.#forget(held.id);
    if (status !== 'rejected') {
      this.#o.log.info(`Countersign: deployment ${held.id} ${status}; nothing applied`);
      this.#o.notify({
        id: held.id,
        status,
        message: `Deployment ${held.id} was ${status}. Nothing changed.`,
      });
      return;
    }
    // DESIGN 7: the approver's note reaches the deployer, in the editor and in Node-RED's log.
    const { device, note } = rejectionOf(view);
    const jwks = device ? await this.#o.client.keys().catch(() => null) : null;
    const by = device ? approverName(device, jwks) : null;
    this.#o.log.warn(
      `Countersign: deployment ${held.id} rejected${by ? ` by ${by}` : ''}; nothing applied` +
        (note ? `. Note: "${oneLine(note)}"` : ' (no note)'),
    );
    this.#o.notify({
      id: held.id,
      status,
      message: `Deployment ${held.id} was rejected${by ? ` by ${by}` : ''}. Nothing changed.`,
      ...(by ? { by } : {}),
      ...(note ? { note } : {}),
    });
  }

  #forget(id: string): void {
    this.#held.delete(id);
    this.#finished.add(id);
    this.#o.records.removeHeld(id).catch(() => undefined);
  }

  /** Verifies and applies an approved deployment, then reports the outcome. */
  async #settle(held: Held, view: DeploymentEvent): Promise<void> {
    const { log } = this.#o;
    this.#forget(held.id);
    const fail = async (status: Outcome, message: string): Promise<void> => {
      log.warn(`Countersign: deployment ${held.id} ${status}: ${message}`);
      this.#o.notify({
        id: held.id,
        status,
        message: `Deployment ${held.id} was not applied (${status}): ${message}`,
      });
      await this.#report(held.id, status, await this.activeRev(), message);
    };

    // 1. The request: freeze a copy now, then check it is exactly what was proposed. The copy is
    // made through JSON, so what runs is the JSON the approver reviewed (a number such as 1e400,
    // which JSON shows as null, must not run as Infinity).
    let flows: Flows;
    let credentials: unknown;
    try {
      flows = jsonCopy(held.flows) as Flows;
      credentials = jsonCopy(held.credentials);
    } catch (err) {
      await fail('failed', `the held request cannot be copied: ${(err as Error).message}`);
      return;
    }
    const targetText = snapshotText(flows);
    if ((await sha256Hex(targetText)) !== held.target) {
      await fail('failed', 'the held flows changed after the proposal; nothing applied');
      return;
    }
    const creds = await credentialsDigest(
      collectCredentials(flows, credentials),
      this.#credentialsKey,
    );
    if (creds !== held.creds) {
      await fail('failed', 'the held credentials changed after the proposal; nothing applied');
      return;
    }
    const baseFlows = parseFlows(JSON.parse(held.baseText));

    // 2. The approvals, verified here (5.4 rows 2 and 4–13) with the device keys, against the change
    // list recomputed from the held request and the base it was proposed on, not taken on the
    // server's word. Their jtis are recorded before anything runs.
    let by: string;
    try {
      const changeIds = computeChanges(
        baseFlows,
        parseFlows(JSON.parse(targetText)),
        held.credentialFields,
      ).map((c) => c.id);
      const verified = await this.#o.approvals.check(view, {
        id: held.id,
        base: held.base,
        target: held.target,
        creds: held.creds,
        changeIds,
        user: held.source.user,
        proposedAt: held.proposedAt,
      });
      held.approvals = verified.approvals.map((a) => a.jws);
      by = verified.approvals
        .map((a) => `${a.device.owner} (${fingerprintOf(a.device.id)})`)
        .join(', ');
    } catch (err) {
      const code = isCountersignError(err) ? `${err.code} ` : '';
      await fail('failed', `the approvals did not verify: ${code}${(err as Error).message}`);
      return;
    }

    // 3. The base: the active flows must still be the ones the approver saw.
    const active = await this.activeRev();
    if (active !== held.base) {
      await fail(
        'stale',
        `the active flows changed since the proposal (rev ${active.slice(0, 12)}, not ${held.base.slice(0, 12)})`,
      );
      return;
    }

    // 4. Apply through the original function, with the backstop releasing exactly this rev. What
    // the apply can touch is copied first and put back if it fails (no half state). The editor
    // that deployed it hears the rev first, so that it can take Node-RED's own "flows deployed"
    // news for this rev as its own deployment (DESIGN 7: brought in step).
    const saved = this.#o.restorer.snapshot(credentialIdsOf(baseFlows, flows, credentials));
    this.#o.notify({
      id: held.id,
      status: 'applying',
      rev: held.target,
      message: `Deployment ${held.id} was approved; applying it.`,
    });
    const withdraw = releaseRev(held.target);
    const started = this.#waitForStart();
    const loading = this.#watchLoadErrors();
    let rev: unknown;
    let failure: string | null = null;
    try {
      rev = await held.apply(flows, credentials);
    } catch (err) {
      failure = `Node-RED did not apply it: ${(err as Error).message}`;
    } finally {
      withdraw();
      loading.stop();
    }
    if (failure === null && loading.error !== null) {
      failure = `Node-RED could not load what was approved (${loading.error})`;
    }
    if (failure === null) {
      started.applied();
      const after = await this.activeRev();
      if (after !== held.target || (typeof rev === 'string' && rev !== held.target)) {
        failure = `Node-RED reports rev ${after.slice(0, 12)} after applying, not the approved ${held.target.slice(0, 12)}`;
      }
    }
    if (failure !== null) {
      started.cancel();
      log.error(`Countersign: deployment ${held.id}: ${failure}; putting the last approved back`);
      let undone = 'the last approved flows and credentials were put back';
      try {
        await this.#o.restorer.restore(saved, baseFlows);
      } catch (err) {
        undone = (err as Error).message;
        log.error(`Countersign: deployment ${held.id}: ${undone}`);
      }
      await fail('failed', `${failure}; ${undone}`);
      return;
    }
    const startNote = await started.done;

    // 5. Record for the start-up check, then report.
    this.approvedRev = held.target;
    try {
      await this.#o.records.writeApproved(
        {
          v: 1,
          rev: held.target,
          deployment: held.id,
          approvals: held.approvals ?? [],
          at: new Date().toISOString(),
          reason: 'applied',
        },
        targetText,
      );
    } catch (err) {
      log.error(
        `Countersign: deployment ${held.id} applied but not recorded: ${(err as Error).message}`,
      );
    }
    log.info(
      `Countersign: deployment ${held.id} approved by ${by}; applied rev ${held.target.slice(0, 12)}${startNote ? ` (${startNote})` : ''}`,
    );
    this.#o.notify({
      id: held.id,
      status: 'applied',
      rev: held.target,
      message: `Deployment ${held.id} approved and applied.`,
    });
    await this.#report(held.id, 'applied', held.target, startNote ?? undefined);
  }

  /**
   * Errors Node-RED reports while it loads what is applied: a credentials set that does not
   * decrypt (it then wipes every credential and starts the flows anyway), a project that cannot
   * load. States of the start that follows (missing types, safe mode) carry `state` and are not
   * load errors: what was approved was saved, and the start note says why it does not run.
   */
  #watchLoadErrors(): { readonly error: string | null; stop(): void } {
    const { events } = this.#o;
    let error: string | null = null;
    const listener = (event: unknown): void => {
      const e = event as { id?: string; payload?: { state?: unknown; error?: unknown } };
      if (e?.id === 'runtime-state' && e.payload?.error && e.payload.state === undefined) {
        error ??= String(e.payload.error).slice(0, 100);
      }
    };
    events.on('runtime-event', listener);
    return {
      get error() {
        return error;
      },
      stop: () => events.removeListener('runtime-event', listener),
    };
  }

  /**
   * Waits for `flows:started` after an apply, or for a runtime state saying the flows did not start
   * (missing types, a stopped runtime), with a timeout. Call `applied()` once the apply resolved.
   */
  #waitForStart(): { done: Promise<string | null>; applied(): void; cancel(): void } {
    const { events } = this.#o;
    let finish: (note: string | null) => void = () => undefined;
    const done = new Promise<string | null>((resolve) => {
      finish = resolve;
    });
    let applied = false;
    const onStarted = (): void => finish(null);
    const onRuntimeEvent = (event: unknown): void => {
      const e = event as { id?: string; payload?: { state?: string; error?: string } };
      if (e?.id !== 'runtime-state' || !e.payload) return;
      if (e.payload.error) finish(`flows not started: ${e.payload.error}`);
      // The stop half of a deploy is over once the apply resolved: a later 'stop' means not started.
      else if (applied && e.payload.state === 'stop') finish('flows saved; the runtime is stopped');
    };
    events.on('flows:started', onStarted);
    events.on('runtime-event', onRuntimeEvent);
    const timer = setTimeout(
      () => finish('flows did not report started in time'),
      this.#o.startedTimeoutMs ?? 30_000,
    );
    timer.unref?.();
    void done.then(() => {
      clearTimeout(timer);
      events.removeListener('flows:started', onStarted);
      events.removeListener('runtime-event', onRuntimeEvent);
    });
    return {
      done,
      applied: () => {
        applied = true;
      },
      cancel: () => finish(null),
    };
  }

  #report(id: string, status: Outcome, rev: string, message?: string): Promise<void> {
    return this.#o.outcomes.report(id, status, rev, message);
  }
}
