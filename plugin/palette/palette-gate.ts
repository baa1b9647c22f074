/**
 * The palette gate (7.1): a palette change is proposed as a `module` deployment (target: the SHA-256
 * of the module descriptor's canonical text, stored as a blob; base: the running flows) and held.
 * Once approved, the gate checks every approval itself with the plugin's one verification, checks
 * that the running flows are still the base and that the descriptor it holds is byte for byte the
 * approved target, and only then applies that descriptor through Node-RED's own functions, one
 * change at a time.
 */
import {
  fingerprintOf,
  isCountersignError,
  moduleChange,
  moduleDescriptorText,
  nowSeconds,
  parseFlows,
  parseModuleBlob,
  sha256Hex,
  utf8,
  type DeploymentEvent,
  type DeploymentSource,
  type ModuleDescriptor,
  type Outcome,
} from '../../protocol/index.js';
import type { ApprovalCheck } from '../approval/verify-approvals.js';
import type { OutcomeReports } from '../link/outcome.js';
import type { Notice } from '../editor/notice.js';
import type { GateLog } from '../flows/gate.js';
import { HeldError, heldMessage, unreachableMessage } from '../flows/held-error.js';
import type { ApprovalClient } from '../link/client.js';

/** Applies an approved descriptor through Node-RED's own functions; throws when Node-RED refuses. */
export type PaletteApplier = (descriptor: ModuleDescriptor) => Promise<void>;

/** What the palette gate needs. */
export type PaletteGateOptions = {
  client: ApprovalClient;
  /** Outcomes, kept until the server has taken them. */
  outcomes: Pick<OutcomeReports, 'report'>;
  /** The plugin's one approval check, shared with the flows gate (5.4). */
  approvals: ApprovalCheck;
  /** The running flows' rev and snapshot text (the flows gate's, re-hashed from the active flows). */
  activeSnapshot: () => Promise<{ rev: string; text: string }>;
  apply: PaletteApplier;
  /** Called after every settled or dropped change, with what tells the descriptors still held. */
  tidy: (held: () => ModuleDescriptor[]) => Promise<void>;
  log: GateLog;
  notify: (notice: Notice) => void;
};

type Held = {
  id: string;
  base: string;
  /** The running flows' snapshot at the proposal (its SHA-256 is `base`). */
  baseText: string;
  target: string;
  text: string;
  source: DeploymentSource;
  /** When the server took the proposal, Unix seconds (5.4 rows 6 and 8 for the plugin). */
  proposedAt: number;
};

/** Holds and applies palette changes. */
export class PaletteGate {
  readonly #o: PaletteGateOptions;
  readonly #held = new Map<string, Held>();
  readonly #finished = new Set<string>();
  /** Changes being proposed: their tarballs are in quarantine already, and must stay there. */
  readonly #proposing = new Set<ModuleDescriptor>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: PaletteGateOptions) {
    this.#o = options;
  }

  /** True when this gate holds deployment `id` (or settled it). */
  owns(id: string): boolean {
    return this.#held.has(id) || this.#finished.has(id);
  }

  /** Ids of held palette changes (for polling). */
  heldIds(): string[] {
    return [...this.#held.keys()];
  }

  /** The descriptors held now, and those being proposed. */
  heldDescriptors(): ModuleDescriptor[] {
    return [...[...this.#held.values()].map((h) => parseModuleBlob(h.text)), ...this.#proposing];
  }

  /** Proposes the change and rejects with `HeldError` (423): nothing was downloaded into Node-RED, run or removed. */
  async hold(descriptor: ModuleDescriptor, source: DeploymentSource): Promise<never> {
    // Counted as held from the first moment: a tidy under way keeps its tarball.
    this.#proposing.add(descriptor);
    try {
      return await this.#hold(descriptor, source);
    } finally {
      this.#proposing.delete(descriptor);
    }
  }

  async #hold(descriptor: ModuleDescriptor, source: DeploymentSource): Promise<never> {
    const { client, log } = this.#o;
    const text = moduleDescriptorText(descriptor);
    const target = await sha256Hex(text);
    let id: string;
    let base: string;
    let baseText: string;
    try {
      const active = await this.#o.activeSnapshot();
      base = active.rev;
      baseText = active.text;
      await client.uploadBlob(base, utf8(active.text));
      await client.uploadBlob(target, utf8(text));
      id = (
        await client.propose({
          base,
          target,
          creds: null,
          credentials: {},
          type: 'module',
          source,
        })
      ).id;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn(
        `Countersign: palette change (${descriptor.action} ${descriptor.name}) held, not proposed: ${reason}`,
      );
      const message = unreachableMessage(reason);
      this.#o.notify({ id: null, status: 'unreachable', message });
      await this.#tidy();
      throw new HeldError(message, null, { cause: err });
    }
    this.#held.set(id, { id, base, baseText, target, text, source, proposedAt: nowSeconds() });
    log.info(
      `Countersign: deployment ${id} held for approval (palette: ${descriptor.action} ${descriptor.name}@${descriptor.version} by ${source.user} via ${source.via})`,
    );
    this.#o.notify({ id, status: 'held', message: heldMessage(id) });
    throw new HeldError(heldMessage(id), id);
  }

  /** Takes a deployment the server reported; applies, drops or ignores it. Never throws. */
  onDeployment(view: DeploymentEvent): void {
    const held = this.#held.get(view.id);
    if (!held) return;
    if (view.status === 'rejected' || view.status === 'expired' || view.status === 'superseded') {
      this.#run(held, () => this.#drop(held, view.status));
    } else if (view.status === 'approved') {
      this.#run(held, () => this.#settle(held, view));
    }
  }

  #run(held: Held, task: () => Promise<void>): void {
    // Forgotten at once, so a second report of the same deployment is ignored.
    this.#held.delete(held.id);
    this.#finished.add(held.id);
    this.#queue = this.#queue
      .then(task)
      .catch((err: unknown) =>
        this.#o.log.error(`Countersign: deployment ${held.id}: ${(err as Error).message}`),
      )
      .finally(() => this.#tidy());
  }

  async #tidy(): Promise<void> {
    await this.#o.tidy(() => this.heldDescriptors()).catch(() => undefined);
  }

  async #drop(held: Held, status: string): Promise<void> {
    this.#o.log.info(`Countersign: deployment ${held.id} ${status}; nothing installed or removed`);
    this.#o.notify({
      id: held.id,
      status,
      message: `Deployment ${held.id} was ${status}. Nothing changed.`,
    });
  }

  async #settle(held: Held, view: DeploymentEvent): Promise<void> {
    const { log } = this.#o;
    const fail = async (status: Outcome, message: string): Promise<void> => {
      log.warn(`Countersign: deployment ${held.id} ${status}: ${message}`);
      this.#o.notify({
        id: held.id,
        status,
        message: `Deployment ${held.id} was not applied (${status}): ${message}`,
      });
      await this.#report(held.id, status, (await this.#o.activeSnapshot()).rev, message);
    };

    // 1. The approvals, verified here with the device keys (the plugin's one verification, 5.4
    // rows 2 and 4–13) against the one `module` change recomputed from the held descriptor; their
    // jtis recorded before anything is applied. The gate held it when this task was queued.
    let devices: string[];
    try {
      const changeIds = [
        moduleChange(parseModuleBlob(held.text), parseFlows(JSON.parse(held.baseText))).id,
      ];
      const verified = await this.#o.approvals.check(view, {
        id: held.id,
        base: held.base,
        target: held.target,
        creds: null,
        changeIds,
        user: held.source.user,
        proposedAt: held.proposedAt,
      });
      devices = verified.approvals.map((a) => a.device.id);
    } catch (err) {
      const code = isCountersignError(err) ? `${err.code} ` : '';
      await fail('failed', `the approvals did not verify: ${code}${(err as Error).message}`);
      return;
    }

    // 2. The base: the running flows are still the ones the approver saw (who uses which type).
    const active = (await this.#o.activeSnapshot()).rev;
    if (active !== held.base) {
      await fail(
        'stale',
        `the active flows changed since the proposal (rev ${active.slice(0, 12)})`,
      );
      return;
    }

    // 3. The target: what is applied is the approved descriptor, read back from its approved text.
    let descriptor: ModuleDescriptor;
    try {
      if ((await sha256Hex(held.text)) !== held.target)
        throw new Error('it changed after the proposal');
      descriptor = parseModuleBlob(held.text);
    } catch (err) {
      await fail(
        'failed',
        `the held module description is not the approved one: ${(err as Error).message}`,
      );
      return;
    }

    // 4. Apply through Node-RED's own installer (the tarball's integrity checked again there).
    try {
      await this.#o.apply(descriptor);
    } catch (err) {
      await fail('failed', `Node-RED did not apply it: ${(err as Error).message}`);
      return;
    }
    const by = devices.map(fingerprintOf).join(', ');
    log.info(
      `Countersign: deployment ${held.id} approved by ${by}; palette: ${descriptor.action} ${descriptor.name}@${descriptor.version} applied`,
    );
    this.#o.notify({
      id: held.id,
      status: 'applied',
      message: `Deployment ${held.id} approved and applied.`,
    });
    await this.#report(held.id, 'applied', held.target);
  }

  #report(id: string, status: Outcome, rev: string, message?: string): Promise<void> {
    return this.#o.outcomes.report(id, status, rev, message);
  }
}
