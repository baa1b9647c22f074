/**
 * The plugin's start (Node-RED awaits it while loading plugins, before it loads any flows): check
 * the settings, find the runtime's modules, reach the approval server, and wrap every entry point.
 * Anything wrong stops Node-RED's start with one clear line instead of running unguarded.
 */
import pRetry from 'p-retry';
import { CountersignError, isCountersignError, nowSeconds } from '../protocol/index.js';
import { UsedJtis } from './approval/used-jtis.js';
import { ApprovalCheck } from './approval/verify-approvals.js';
import {
  UNTIL_REACHED,
  proposeDrift,
  reproposeHeld,
  type AfterStartOptions,
} from './startup/after-start.js';
import { connect, type Connection } from './link/connect.js';
import { honourRetryAfter } from './link/client.js';
import {
  captureOriginals,
  closeEntryPoints,
  installEntryPoints,
  type EntryState,
  type Originals,
} from './flows/entry-points.js';
import { Gate, type GateLog } from './flows/gate.js';
import { HeldError } from './flows/held-error.js';
import { Restorer } from './flows/restore.js';
import { createNotifier } from './editor/notice.js';
import { GateRecords } from './startup/records.js';
import { OutcomeReports } from './link/outcome.js';
import {
  checkRuntimeModules,
  locateRuntimeModules,
  type RuntimeModules,
} from './runtime-modules.js';
import { editorOriginsOf, parseGateSettings } from './settings.js';
import { StartupCheck } from './startup/startup-check.js';
import { Watcher } from './link/watcher.js';
import {
  applierOf,
  capturePaletteOriginals,
  closePaletteEntryPoints,
  installPaletteEntryPoints,
  type PaletteOriginals,
} from './palette/entry-points.js';
import { PaletteGate } from './palette/palette-gate.js';
import { Quarantine } from './palette/quarantine.js';
import { Releases } from './palette/releases.js';

/** The Node-RED plugin API (`RED`), as far as Countersign uses it. */
export type NodeRedApi = {
  plugins: { registerPlugin(id: string, definition: Record<string, unknown>): void };
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
  hooks?: unknown;
  comms?: { publish?: (topic: string, data: unknown, retain?: boolean) => void };
  server?: { address?: () => unknown; listening?: boolean } | null;
};

/** How Node-RED was started: from its own command line (`red.js`) or embedded in another program. */
export type LoadContext = { cli?: boolean };

/** Read-only facts about the running gate (the plugin definition's `status()`). */
export type GateStatus = {
  mode: 'embedded' | 'standalone';
  approvalUrl: string;
  publicUrl: string | null;
  held: string[];
  approvedRev: string | null;
  eventsConnected: boolean;
};

/** Registers the Countersign plugin with Node-RED. */
export async function register(RED: NodeRedApi, context: LoadContext = {}): Promise<void> {
  const log: GateLog = RED.log;
  const found = locateRuntimeModules(RED.hooks);
  const originals: Partial<Originals> = found ? captureOriginals(found) : {};
  const paletteOriginals = found ? capturePaletteOriginals(found) : {};
  let connection: Connection | null = null;
  try {
    const modules = checkRuntimeModules(found);
    const settings = parseGateSettings(modules.settings.countersign, {
      userDir: String(modules.settings.userDir ?? process.cwd()),
      editorOrigins: editorOriginsOf(modules.settings, listeningPort(RED.server)),
    });
    connection = await connect(settings, log);
    if (!paletteOriginals.nodes || !paletteOriginals.registry) {
      throw new CountersignError(
        'ERR_GATE_UNSUPPORTED',
        'cannot find the palette functions to hold (nodes.installModule, registry.enableNode...)',
      );
    }
    await start(
      RED,
      modules,
      { flows: originals as Originals, palette: paletteOriginals as PaletteOriginals },
      settings,
      connection,
      log,
    );
  } catch (err) {
    await connection?.close().catch(() => undefined);
    stopTheStart(RED, found, originals, err, context);
  }
}

function listeningPort(server: NodeRedApi['server']): number | undefined {
  try {
    const address = server?.listening ? server.address?.() : null;
    return typeof address === 'object' && address !== null
      ? (address as { port?: number }).port
      : undefined;
  } catch {
    return undefined;
  }
}

async function start(
  RED: NodeRedApi,
  modules: RuntimeModules,
  both: { flows: Originals; palette: PaletteOriginals },
  settings: ReturnType<typeof parseGateSettings>,
  connection: Connection,
  log: GateLog,
): Promise<void> {
  const originals = both.flows;
  const userDir = String(modules.settings.userDir ?? process.cwd());
  const records = new GateRecords(userDir);
  const jtis = new UsedJtis(records.dir);
  await jtis.load(nowSeconds());
  const outcomes = new OutcomeReports({ client: connection.client, records, log });
  const notify = createNotifier(RED.comms);
  const approvals = new ApprovalCheck({
    client: connection.client,
    serverId: () => connection.serverId(),
    requiredApprovals: settings.requiredApprovals,
    forbidSelfApproval: settings.forbidSelfApproval,
    expiresInS: settings.expiresInS,
    jtis,
  });
  const gate: Gate = new Gate({
    flows: modules.flows,
    events: modules.events,
    client: connection.client,
    outcomes,
    approvals,
    restorer: new Restorer({
      nodes: modules.nodes,
      storage: modules.storage,
      setFlows: originals.flows.setFlows,
      stopFlows: () => modules.flows.stopFlows(),
      activeRev: () => gate.activeRev(),
    }),
    records,
    log,
    notify,
  });
  const state: EntryState = { pinned: null, startupLoadSeen: false };
  const check = new StartupCheck({
    records,
    mode: settings.onStartMismatch,
    readStorage: originals.storage.getFlows,
    log,
    setApprovedRev: (rev) => {
      gate.approvedRev = rev;
    },
    // A drift notice reaches every enrolled device; at a true first install there are none yet.
    onFirstStart: (rev) =>
      connection.client.drift(
        rev,
        `First start: the flows on disk (rev ${rev.slice(0, 12)}) were trusted without an approval. ` +
          'If Countersign guarded this Node-RED before, its record (countersign-gate) was removed.',
      ),
  });
  // Palette changes (7.1): held like deployments, applied through Node-RED's own installer.
  const quarantine = new Quarantine(userDir, modules.npm);
  const releases = new Releases();
  const palette = new PaletteGate({
    client: connection.client,
    outcomes,
    approvals,
    activeSnapshot: () => gate.activeSnapshot(),
    apply: applierOf({
      originals: both.palette,
      nodes: modules.nodes,
      quarantine,
      releases,
      userDir,
    }),
    tidy: (held) => quarantine.tidy(held),
    log,
    notify,
  });
  let closed = false;
  const watcher = new Watcher({
    client: connection.client,
    onDeployment: (view) =>
      palette.owns(view.id) ? palette.onDeployment(view) : gate.onDeployment(view),
    heldIds: () => [...gate.heldIds(), ...palette.heldIds()],
    // Outcomes the server could not take while it was away.
    onConnected: () => void outcomes.flush(),
    log,
  });
  const afterStart: AfterStartOptions = {
    gate,
    client: connection.client,
    records,
    log,
    applyAs: (type) => (flows) =>
      originals.flows.setFlows(flows, null, type, undefined, undefined, undefined),
  };

  const afterLoad = async (): Promise<void> => {
    // First what an earlier run held, then the start-up check's own proposal (which supersedes).
    // The first try is awaited; while the server cannot be reached the retries go on behind.
    let firstTried = (): void => undefined;
    const tried = new Promise<void>((resolve) => (firstTried = resolve));
    const reproposal = pRetry(() => reproposeHeld(afterStart), {
      ...UNTIL_REACHED,
      shouldRetry: () => !closed,
      onFailedAttempt: async ({ error, attemptNumber }) => {
        if (closed) return;
        if (attemptNumber === 1) {
          log.warn(`Countersign: cannot re-propose held deployments yet: ${error.message}`);
          firstTried();
        }
        await honourRetryAfter(error);
      },
    }).catch(() => undefined); // stopped: Node-RED is closing
    await Promise.race([reproposal, tried]);
    const finding = check.finding;
    if (finding?.kind === 'mismatch') {
      await proposeDrift(finding, afterStart, () => closed).catch((err: unknown) =>
        log.error(`Countersign: could not propose the flows on disk: ${(err as Error).message}`),
      );
    }
    if (!closed) watcher.start();
  };

  installEntryPoints({
    modules,
    originals,
    gate,
    state,
    getFlowsAtStart: () => check.getFlows(),
    onStartupLoaded: () => {
      void afterLoad();
    },
    onRefusedSave: (rev) =>
      log.error(
        `Countersign: refused to save flows rev ${rev.slice(0, 12)}: no approval released it`,
      ),
    onStop: async () => {
      if (closed) return;
      closed = true;
      await watcher.close();
      await connection.close();
    },
  });

  installPaletteEntryPoints({
    modules,
    originals: both.palette,
    gate: palette,
    releases,
    context: { nodes: modules.nodes, flows: modules.flows, settings: modules.settings, quarantine },
  });
  await quarantine.tidy(() => []);

  RED.plugins.registerPlugin('countersign', {
    type: 'countersign-gate',
    status: (): GateStatus => ({
      mode: settings.server.kind,
      approvalUrl: connection.url,
      publicUrl: connection.publicUrl,
      held: [...gate.heldIds(), ...palette.heldIds()],
      approvedRev: gate.approvedRev,
      eventsConnected: watcher.connected,
    }),
  });
  log.info(
    `Countersign: guarding every deployment; approval server ${connection.publicUrl ?? connection.url} (${settings.server.kind}), ` +
      `${settings.requiredApprovals} approval(s) required`,
  );
}

/**
 * Stops Node-RED's start: one line naming the problem, every entry point refusing, no flows loaded,
 * `RED.start()` rejecting, and, under Node-RED's own command line, exit code 1.
 */
function stopTheStart(
  RED: NodeRedApi,
  modules: Partial<RuntimeModules> | null,
  originals: Partial<Originals>,
  err: unknown,
  context: LoadContext,
): void {
  const reason = err instanceof Error ? err.message : String(err);
  const error = isCountersignError(err)
    ? err
    : new CountersignError('ERR_GATE_UNSUPPORTED', reason, { cause: err });
  RED.log.error(`Countersign: ${reason}. Node-RED will not start.`);
  closeEntryPoints(modules ?? {}, originals, reason, error);
  closePaletteEntryPoints(modules ?? {}, async () => {
    throw new HeldError(
      `Countersign is not guarding this Node-RED (${reason}); no palette change can be made.`,
    );
  });
  if (context.cli) process.exit(1);
}
