/**
 * Every way flows reach the runtime, wrapped (DESIGN 7): the runtime API the editor's admin routes
 * and `RED.runtime.flows` call (`setFlows` for full, nodes, flows and reload deployments, `addFlow`,
 * `updateFlow`, `deleteFlow`, `setState`), the internal flows module and its copies in the nodes
 * module (`setFlows`, `load`/`loadFlows`, `addFlow`, `updateFlow`, `removeFlow`), storage's
 * `getFlows` (the start-up check) and `saveFlows` (the backstop), and the editor API's
 * `rejectHandler` (the 423 answer). Each entry point turns its arguments into a hold request; the
 * request is applied later through the original function captured here.
 */
import {
  parseFlows,
  ValidationError,
  type DeploymentSource,
  type DeploymentType,
  type Flows,
} from '../../protocol/index.js';
import { guardedSaveFlows, revOfSaved } from './backstop.js';
import type { Gate } from './gate.js';
import { HeldError, heldAwareRejectHandler } from './held-error.js';
import { GUARDED_PROJECT_FUNCTIONS, checkProjects, guardProjects } from './projects-guard.js';
import { markingRequestLogObject, viaOfLogObject } from './request-origin.js';
import {
  replaceFunction,
  type ApiFlows,
  type ApiOpts,
  type EditorUtil,
  type InternalFlows,
  type InternalNodes,
  type RuntimeModules,
  type StorageIndex,
  type StoredFlows,
} from '../runtime-modules.js';
import {
  FlowRequestError,
  targetOfAddFlow,
  targetOfDeleteFlow,
  targetOfUpdateFlow,
} from './targets.js';

/** The original functions, bound to their modules, captured before anything is wrapped. */
export type Originals = {
  api: Pick<ApiFlows, 'setFlows' | 'addFlow' | 'updateFlow' | 'deleteFlow' | 'setState'>;
  flows: Pick<
    InternalFlows,
    'setFlows' | 'load' | 'loadFlows' | 'addFlow' | 'updateFlow' | 'removeFlow'
  >;
  nodes: Pick<
    InternalNodes,
    'setFlows' | 'loadFlows' | 'addFlow' | 'updateFlow' | 'removeFlow' | 'loadContextsPlugin'
  >;
  storage: Pick<StorageIndex, 'getFlows' | 'saveFlows'>;
  rejectHandler: EditorUtil['rejectHandler'] | null;
  stop: () => Promise<unknown>;
};

type AnyFn = (...args: never[]) => unknown;

function bind<T extends object, K extends keyof T & string>(
  target: T,
  names: readonly K[],
): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const name of names) {
    const fn = target[name];
    if (typeof fn === 'function') out[name] = (fn as AnyFn).bind(target) as T[K];
  }
  return out;
}

/**
 * Captures the originals of whatever was found (before anything is wrapped). The caller checks
 * completeness with `checkRuntimeModules` before using them as `Originals`.
 */
export function captureOriginals(modules: Partial<RuntimeModules>): Partial<Originals> {
  const out: Partial<Originals> = {};
  if (modules.api)
    out.api = bind(modules.api, ['setFlows', 'addFlow', 'updateFlow', 'deleteFlow', 'setState']);
  if (modules.flows) {
    out.flows = bind(modules.flows, [
      'setFlows',
      'load',
      'loadFlows',
      'addFlow',
      'updateFlow',
      'removeFlow',
    ]);
  }
  if (modules.nodes) {
    out.nodes = bind(modules.nodes, [
      'setFlows',
      'loadFlows',
      'addFlow',
      'updateFlow',
      'removeFlow',
      'loadContextsPlugin',
    ]);
  }
  if (modules.storage) out.storage = bind(modules.storage, ['getFlows', 'saveFlows']);
  const util = modules.editorUtil;
  out.rejectHandler =
    util && typeof util.rejectHandler === 'function' ? util.rejectHandler.bind(util) : null;
  if (typeof modules.runtime?.stop === 'function')
    out.stop = modules.runtime.stop.bind(modules.runtime);
  return out;
}

const API_TYPES = ['full', 'nodes', 'flows', 'reload'] as const;
const RUNTIME_TYPES = ['full', 'nodes', 'flows'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function userName(user: unknown): string | null {
  const name = isObject(user) ? user.username : undefined;
  return typeof name === 'string' && name !== '' ? name.slice(0, 100) : null;
}

/**
 * Who deployed through the runtime API: a request's user (`anonymous` when Node-RED has no
 * `adminAuth`) and whether the editor or another client sent it; else the runtime.
 */
export function sourceOfApi(opts: ApiOpts, viaEditor: boolean): DeploymentSource {
  if (opts.req) {
    const ip = typeof opts.req.ip === 'string' ? opts.req.ip : undefined;
    return {
      user: userName(opts.user) ?? 'anonymous',
      via: viaOfLogObject(opts.req) ?? (viaEditor ? 'editor' : 'admin-api'),
      ...(ip ? { address: ip } : {}),
    };
  }
  return { user: userName(opts.user) ?? 'runtime', via: 'runtime' };
}

function runtimeSource(user: unknown): DeploymentSource {
  return { user: userName(user) ?? 'runtime', via: 'runtime' };
}

/** The state the wrappers share with the start-up check. */
export type EntryState = {
  /** Set while an approved reload is applied: storage then returns exactly these flows. */
  pinned: StoredFlows | null;
  /** The start-up load has been let through. */
  startupLoadSeen: boolean;
};

/** What the wrappers need. */
export type EntryPointsOptions = {
  modules: RuntimeModules;
  originals: Originals;
  gate: Gate;
  state: EntryState;
  /** The start-up check's `getFlows` (T3). */
  getFlowsAtStart: () => Promise<StoredFlows>;
  /** Called after the start-up load completed. */
  onStartupLoaded: () => void;
  /** Called when storage refused to save an unreleased rev. */
  onRefusedSave: (rev: string) => void;
  /** Called once Node-RED has stopped. */
  onStop: () => Promise<void>;
};

/** Installs every wrapper; throws `ERR_GATE_UNSUPPORTED` if one does not take. */
export function installEntryPoints(options: EntryPointsOptions): void {
  const { modules, originals, gate, state } = options;
  if (modules.storage.projects) checkProjects(modules.storage.projects);
  const activeFlows = (): Array<Record<string, unknown>> => modules.flows.getFlows()?.flows ?? [];

  const applyWith =
    (type: string, muteLog?: unknown, forceStart?: unknown, user?: unknown) =>
    (flows: Flows, credentials: unknown): Promise<unknown> =>
      originals.flows.setFlows(flows, credentials ?? null, type, muteLog, forceStart, user);

  /**
   * A reload proposes the flows in storage now, and later applies exactly those (pinned). Flows in
   * storage that break the canonical shape are refused, saying so: nothing is held or reloaded.
   */
  const holdReload = async (source: DeploymentSource): Promise<never> => {
    const stored = await originals.storage.getFlows();
    let flows: Flows;
    try {
      flows = parseFlows(stored.flows);
    } catch (err) {
      throw new ValidationError(
        `Reload refused: the flows on disk cannot be reviewed: ${(err as Error).message}. Nothing was reloaded; fix flows.json.`,
        { code: 'ERR_FLOWS_INVALID', cause: err },
      );
    }
    return gate.hold({
      type: 'reload',
      source,
      flows,
      credentials: stored.credentials,
      apply: async (held, credentials) => {
        state.pinned = { flows: held, credentials, rev: revOfSaved(held) };
        try {
          return await originals.flows.load(true);
        } finally {
          state.pinned = null;
        }
      },
    });
  };

  const holdFlows = (type: DeploymentType, user: unknown, flows: Flows): Promise<never> =>
    gate.hold({
      type,
      source: runtimeSource(user),
      flows,
      apply: applyWith('flows', true, null, user),
    });

  // --- The runtime API (admin routes v1 and v2, RED.runtime.flows) ---------------------------
  const api = modules.api;
  replaceFunction(api, 'setFlows', async function setFlows(opts: ApiOpts = {}) {
    const type = opts.deploymentType ?? 'full';
    if (typeof type !== 'string' || !(API_TYPES as readonly string[]).includes(type)) {
      throw new FlowRequestError(
        `Invalid deployment type: ${String(type).slice(0, 40)}`,
        400,
        'invalid_deployment_type',
      );
    }
    const body = opts.flows;
    const viaEditor = isObject(body) && Object.prototype.hasOwnProperty.call(body, 'rev');
    const source = sourceOfApi(opts, viaEditor);
    if (type === 'reload') return holdReload(source);
    if (!isObject(body))
      throw new FlowRequestError('flows must be an array of node objects', 400, 'invalid_request');
    // Node-RED's own check: a stale editor gets its usual conflict answer (nothing is held).
    if (
      Object.prototype.hasOwnProperty.call(body, 'rev') &&
      body.rev !== modules.flows.getFlows()?.rev
    ) {
      throw new FlowRequestError('', 409, 'version_mismatch');
    }
    return gate.hold({
      type: type as DeploymentType,
      source,
      flows: body.flows,
      credentials: body.credentials,
      apply: applyWith(type, undefined, undefined, opts.user),
    });
  });
  replaceFunction(api, 'addFlow', async function addFlow(opts: ApiOpts = {}) {
    const { flows } = targetOfAddFlow(activeFlows(), opts.flow);
    return gate.hold({
      type: 'flow-add',
      source: sourceOfApi(opts, false),
      flows,
      apply: applyWith('flows', true, null, opts.user),
    });
  });
  replaceFunction(api, 'updateFlow', async function updateFlow(opts: ApiOpts = {}) {
    const flows = targetOfUpdateFlow(activeFlows(), opts.id, opts.flow);
    return gate.hold({
      type: 'flow-update',
      source: sourceOfApi(opts, false),
      flows,
      apply: applyWith('flows', true, null, opts.user),
    });
  });
  replaceFunction(api, 'deleteFlow', async function deleteFlow(opts: ApiOpts = {}) {
    const flows = targetOfDeleteFlow(activeFlows(), opts.id);
    return gate.hold({
      type: 'flow-delete',
      source: sourceOfApi(opts, false),
      flows,
      apply: applyWith('flows', true, null, opts.user),
    });
  });
  replaceFunction(api, 'setState', async function setState(opts: ApiOpts = {}) {
    // Stopping never runs anything unapproved. Starting runs the active flows: they must be approved.
    if (opts?.state === 'start') {
      const rev = await gate.activeRev();
      const empty = activeFlows().length === 0;
      if (!empty && rev !== gate.approvedRev) {
        throw new HeldError(
          `Flows not started: the loaded flows (rev ${rev.slice(0, 12)}) are not approved. Deploy them for approval.`,
        );
      }
    }
    return originals.api.setState(opts);
  });

  // --- The internal flows module and its copies in the nodes module (code in the process) -----
  const internalSetFlows = async function setFlows(
    config: unknown,
    credentials?: unknown,
    type?: unknown,
    muteLog?: unknown,
    forceStart?: unknown,
    user?: unknown,
  ): Promise<never> {
    if (typeof credentials === 'string') {
      type = credentials;
      credentials = null;
    }
    type = type || 'full';
    if (type === 'load') return holdReload(runtimeSource(user));
    if (typeof type !== 'string' || !(RUNTIME_TYPES as readonly string[]).includes(type)) {
      throw new FlowRequestError(
        `Invalid deployment type: ${String(type).slice(0, 40)}`,
        400,
        'invalid_deployment_type',
      );
    }
    return gate.hold({
      type: type as DeploymentType,
      source: runtimeSource(user),
      flows: config,
      credentials,
      apply: applyWith(type, muteLog, forceStart, user),
    });
  };
  /** The first load is Node-RED's own start (checked by storage's getFlows); later ones are reloads. */
  const makeLoad = (original: (forceStart?: unknown) => Promise<string>) =>
    async function loadFlows(forceStart?: unknown): Promise<string> {
      if (!state.startupLoadSeen && modules.flows.getFlows() === null) {
        state.startupLoadSeen = true;
        const rev = await original(forceStart);
        options.onStartupLoaded();
        return rev;
      }
      return holdReload(runtimeSource(undefined));
    };
  const internalAddFlow = async function addFlow(flow: unknown, user?: unknown): Promise<never> {
    return holdFlows('flow-add', user, targetOfAddFlow(activeFlows(), flow).flows);
  };
  const internalUpdateFlow = async function updateFlow(
    id: unknown,
    flow: unknown,
    user?: unknown,
  ): Promise<never> {
    return holdFlows('flow-update', user, targetOfUpdateFlow(activeFlows(), id, flow));
  };
  const internalRemoveFlow = async function removeFlow(
    id: unknown,
    user?: unknown,
  ): Promise<never> {
    return holdFlows('flow-delete', user, targetOfDeleteFlow(activeFlows(), id));
  };
  for (const target of [modules.flows, modules.nodes] as Array<InternalFlows | InternalNodes>) {
    replaceFunction(target, 'setFlows', internalSetFlows);
    replaceFunction(target, 'addFlow', internalAddFlow);
    replaceFunction(target, 'updateFlow', internalUpdateFlow);
    replaceFunction(target, 'removeFlow', internalRemoveFlow);
  }
  const load = makeLoad(originals.flows.load);
  replaceFunction(modules.flows, 'load', load);
  replaceFunction(modules.flows, 'loadFlows', load);
  replaceFunction(modules.nodes, 'loadFlows', load);

  // --- Storage: the start-up check and the backstop --------------------------------------------
  replaceFunction(modules.storage, 'getFlows', async function getFlows() {
    if (state.pinned) return state.pinned;
    return options.getFlowsAtStart();
  });
  replaceFunction(
    modules.storage,
    'saveFlows',
    guardedSaveFlows(originals.storage.saveFlows, options.onRefusedSave),
  );
  // --- Node-RED projects: actions that would change flows or credentials are refused -----------
  if (modules.storage.projects) guardProjects(modules.storage.projects);

  // --- The 423 answer, the request label, and closing the gate with Node-RED ------------------
  if (modules.editorUtil && originals.rejectHandler) {
    replaceFunction(
      modules.editorUtil,
      'rejectHandler',
      heldAwareRejectHandler(originals.rejectHandler),
    );
  }
  const logObject = modules.editorUtil?.getRequestLogObject;
  if (modules.editorUtil && typeof logObject === 'function') {
    try {
      replaceFunction(
        modules.editorUtil,
        'getRequestLogObject',
        markingRequestLogObject(logObject.bind(modules.editorUtil)),
      );
    } catch {
      // Only the label "editor" or "admin API" depends on it; the body's `rev` decides instead.
    }
  }
  replaceFunction(modules.runtime, 'stop', async function stop() {
    try {
      return await originals.stop();
    } finally {
      await options.onStop();
    }
  });
}

/**
 * Shuts the gate (a wrong setting, an unsupported runtime): every entry point found refuses with
 * `reason`, storage serves no flows and saves nothing, and Node-RED's start rejects with `error`.
 */
export function closeEntryPoints(
  modules: Partial<RuntimeModules>,
  originals: Partial<Originals>,
  reason: string,
  error: Error,
): void {
  const refuse = async (): Promise<never> => {
    throw new HeldError(
      `Countersign is not guarding this Node-RED (${reason}); nothing can be deployed.`,
    );
  };
  const tryReplace = (target: object | null | undefined, name: string, fn: AnyFn): void => {
    if (!target || typeof (target as Record<string, unknown>)[name] !== 'function') return;
    try {
      (target as Record<string, unknown>)[name] = fn;
    } catch {
      // best effort: the start is refused below in any case
    }
  };
  for (const name of ['setFlows', 'addFlow', 'updateFlow', 'deleteFlow'])
    tryReplace(modules.api, name, refuse);
  tryReplace(modules.api, 'setState', refuse);
  for (const target of [modules.flows, modules.nodes]) {
    for (const name of ['setFlows', 'load', 'loadFlows', 'addFlow', 'updateFlow', 'removeFlow']) {
      tryReplace(target, name, refuse);
    }
  }
  tryReplace(modules.storage, 'getFlows', async () => ({
    flows: [],
    credentials: {},
    rev: revOfSaved([]),
  }));
  tryReplace(modules.storage, 'saveFlows', refuse);
  for (const name of GUARDED_PROJECT_FUNCTIONS) {
    if (name !== 'getActiveProject') tryReplace(modules.storage?.projects, name, refuse);
  }
  if (modules.editorUtil && originals.rejectHandler) {
    tryReplace(
      modules.editorUtil,
      'rejectHandler',
      heldAwareRejectHandler(originals.rejectHandler),
    );
  }
  // A rejected plugin promise is only logged by Node-RED's registry; this makes RED.start() reject.
  tryReplace(modules.nodes, 'loadContextsPlugin', async () => {
    throw error;
  });
}
