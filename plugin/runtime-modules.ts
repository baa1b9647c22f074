/**
 * The running Node-RED runtime's own modules, found in the require cache (they are singletons). A
 * plugin's `RED` has no flows API, so the gate reaches the modules the editor's admin routes and
 * in-process code really call. Checked against Node-RED 4.1.x and 5.0.x.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CountersignError } from '../protocol/index.js';

/** The flows array and rev Node-RED keeps active (`getFlows()`), or null before the first load. */
export type ActiveConfig = { flows: Array<Record<string, unknown>>; rev: string } | null;

/** What Node-RED's storage returns for the flows: `{flows, credentials, rev}`. */
export type StoredFlows = { flows: unknown[]; credentials: unknown; rev: string };

type Fn = (...args: never[]) => unknown;

/** `@node-red/runtime/lib/api/flows.js`: what the editor's admin routes and `RED.runtime.flows` call. */
export type ApiFlows = {
  setFlows(opts: ApiOpts): Promise<unknown>;
  addFlow(opts: ApiOpts): Promise<unknown>;
  updateFlow(opts: ApiOpts): Promise<unknown>;
  deleteFlow(opts: ApiOpts): Promise<unknown>;
  setState(opts: ApiOpts): Promise<unknown>;
  getFlows(opts: ApiOpts): Promise<unknown>;
};

/** The options object of the runtime API. */
export type ApiOpts = {
  user?: { username?: unknown } | null;
  req?: { ip?: unknown; path?: unknown } | null;
  flows?: unknown;
  flow?: unknown;
  id?: unknown;
  deploymentType?: unknown;
  state?: unknown;
};

/** `@node-red/runtime/lib/flows/index.js` (and the copies of its functions in `nodes/index.js`). */
export type InternalFlows = {
  setFlows(
    config: unknown,
    credentials?: unknown,
    type?: unknown,
    muteLog?: unknown,
    forceStart?: unknown,
    user?: unknown,
  ): Promise<string>;
  load(forceStart?: unknown): Promise<string>;
  loadFlows(forceStart?: unknown): Promise<string>;
  addFlow(flow: unknown, user?: unknown): Promise<string>;
  updateFlow(id: unknown, flow: unknown, user?: unknown): Promise<unknown>;
  removeFlow(id: unknown, user?: unknown): Promise<unknown>;
  getFlows(): ActiveConfig;
  state(): string;
  stopFlows(): Promise<unknown>;
  /** Throws Node-RED's `type_in_use` error when the active flows use a node set's types. */
  checkTypeInUse(id: string): void;
};

/** `@node-red/runtime/lib/nodes/index.js`. */
export type InternalNodes = {
  setFlows: InternalFlows['setFlows'];
  loadFlows: InternalFlows['loadFlows'];
  addFlow: InternalFlows['addFlow'];
  updateFlow: InternalFlows['updateFlow'];
  removeFlow: InternalFlows['removeFlow'];
  getFlows: InternalFlows['getFlows'];
  loadContextsPlugin(): Promise<unknown>;
  /** The credential cache (restored after a failed apply). */
  getCredentials(id: string): unknown;
  addCredentials(id: string, credentials: unknown): Promise<unknown>;
  deleteCredentials(id: string): unknown;
  exportCredentials(): Promise<unknown>;
  installModule(module: unknown, version?: unknown, url?: unknown): Promise<unknown>;
  uninstallModule(module: unknown): Promise<unknown>;
  enableNode(id: unknown): Promise<unknown>;
  disableNode(id: unknown): Promise<unknown>;
  getModuleInfo(module: string): ModuleInfo | null | undefined;
  getNodeInfo(id: string): NodeSetInfo | null | undefined;
};

/** A node set as Node-RED's registry reports it. */
export type NodeSetInfo = {
  id: string;
  name: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: unknown;
};

/** A module as Node-RED's registry reports it (`getModuleInfo`). */
export type ModuleInfo = {
  name: string;
  version: string;
  user?: boolean;
  nodes: NodeSetInfo[];
  plugins?: Array<{ id: string }>;
};

/** `@node-red/runtime/lib/api/nodes.js`: what the editor's `/nodes` routes call. */
export type ApiNodes = {
  addModule(opts: PaletteOpts): Promise<unknown>;
  removeModule(opts: PaletteOpts): Promise<unknown>;
  setModuleState(opts: PaletteOpts): Promise<unknown>;
  setNodeSetState(opts: PaletteOpts): Promise<unknown>;
};

/** The options object of the runtime nodes API. */
export type PaletteOpts = {
  user?: { username?: unknown } | null;
  req?: { ip?: unknown; path?: unknown } | null;
  module?: unknown;
  version?: unknown;
  url?: unknown;
  tarball?: { name?: unknown; size?: unknown; buffer?: unknown } | null;
  id?: unknown;
  enabled?: unknown;
};

/** `@node-red/registry` (its index): the layer below the runtime's nodes module. */
export type Registry = {
  enableNode(id: unknown): Promise<unknown>;
  disableNode(id: unknown): Promise<unknown>;
};

/** Node-RED's hooks (`@node-red/util` hooks, the plugin API's `RED.hooks`). */
export type Hooks = {
  add(id: string, callback: (payload: Record<string, unknown>) => unknown): void;
  remove(id: string): void;
};

/** `@node-red/runtime/lib/storage/index.js`. */
export type StorageIndex = {
  getFlows(): Promise<StoredFlows>;
  saveFlows(
    config: { flows: unknown[]; credentials?: unknown; credentialsDirty?: boolean },
    user?: unknown,
  ): Promise<string>;
  saveCredentials(credentials: unknown): Promise<unknown>;
  /** Present when Node-RED's projects feature is enabled (and git found). */
  projects?: ProjectsStorage;
};

/** `@node-red/runtime/lib/storage/localfilesystem/projects/index.js`, as far as the gate wraps it. */
export type ProjectsStorage = Record<string, unknown> & {
  getActiveProject(user?: unknown): { name?: string; isMerging?: () => boolean } | null | undefined;
};

/** `@node-red/editor-api/lib/util.js`. */
export type EditorUtil = {
  rejectHandler(req: unknown, res: HttpResponse, err: unknown): void;
  /** The request summary the admin routes hand the runtime API as `opts.req`. */
  getRequestLogObject?: (req: unknown) => unknown;
};

/** The parts of an express response the 423 answer uses. */
export type HttpResponse = {
  status(code: number): HttpResponse;
  set(field: string, value: string): HttpResponse;
  send(body: string): unknown;
};

/** Node-RED's event bus (`@node-red/util` events). */
export type RuntimeEvents = {
  on(event: string, listener: (payload: unknown) => void): unknown;
  removeListener(event: string, listener: (payload: unknown) => void): unknown;
  emit(event: string, payload: unknown): unknown;
};

/** The internal runtime object (`require('@node-red/runtime')._`). */
type InternalRuntime = {
  flows: InternalFlows;
  nodes: InternalNodes;
  storage: StorageIndex;
  events: RuntimeEvents;
  hooks: unknown;
  settings: Record<string, unknown>;
};

/** `require('@node-red/runtime')`. */
type RuntimeIndex = {
  _: InternalRuntime;
  flows: ApiFlows;
  nodes: ApiNodes;
  stop(): Promise<unknown>;
};

/** Handles on every module the gate wraps. */
export type RuntimeModules = {
  runtimeDir: string;
  runtime: RuntimeIndex;
  api: ApiFlows;
  flows: InternalFlows;
  nodes: InternalNodes;
  storage: StorageIndex;
  events: RuntimeEvents;
  settings: Record<string, unknown>;
  /** Absent when Node-RED runs without its editor API. */
  editorUtil: EditorUtil | null;
  /** The palette's seams (7.1). */
  apiNodes: ApiNodes;
  registry: Registry;
  hooks: Hooks;
  /** Node-RED's own npm, as its installer runs it. */
  npm: { execPath: string; npmCli: string };
};

/** Every function the gate wraps or calls, by module; one missing means the gate cannot hold. */
export const REQUIRED_FUNCTIONS = {
  runtime: ['stop'],
  api: ['setFlows', 'addFlow', 'updateFlow', 'deleteFlow', 'setState', 'getFlows'],
  flows: [
    'setFlows',
    'load',
    'loadFlows',
    'addFlow',
    'updateFlow',
    'removeFlow',
    'getFlows',
    'state',
    'stopFlows',
    'checkTypeInUse',
  ],
  nodes: [
    'setFlows',
    'loadFlows',
    'addFlow',
    'updateFlow',
    'removeFlow',
    'getFlows',
    'loadContextsPlugin',
    'getCredentials',
    'addCredentials',
    'deleteCredentials',
    'exportCredentials',
    'installModule',
    'uninstallModule',
    'enableNode',
    'disableNode',
    'getModuleInfo',
    'getNodeInfo',
  ],
  storage: ['getFlows', 'saveFlows', 'saveCredentials'],
  editorUtil: ['rejectHandler'],
  apiNodes: ['addModule', 'removeModule', 'setModuleState', 'setNodeSetState'],
  registry: ['enableNode', 'disableNode'],
  hooks: ['add', 'remove'],
} as const;

const RUNTIME_INDEX = /[\\/]@node-red[\\/]runtime[\\/]lib[\\/]index\.js$/;

/**
 * Finds the runtime that loaded this plugin: the `@node-red/runtime` in the require cache whose
 * hooks are the plugin API's hooks. Returns what it finds, unchecked (null without a runtime).
 */
export function locateRuntimeModules(hooks: unknown): Partial<RuntimeModules> | null {
  const cache = createRequire(import.meta.url).cache;
  for (const [path, mod] of Object.entries(cache)) {
    if (!RUNTIME_INDEX.test(path) || !mod) continue;
    const runtime = mod.exports as Partial<RuntimeIndex> | undefined;
    if (!runtime?._ || runtime._.hooks !== hooks) continue;
    const runtimeDir = dirname(path);
    const internal = runtime._;
    const utilPath = join(runtimeDir, '..', '..', 'editor-api', 'lib', 'util.js');
    const editorIndexPath = join(runtimeDir, '..', '..', 'editor-api', 'lib', 'index.js');
    const editorLoaded = cache[editorIndexPath] !== undefined || cache[utilPath] !== undefined;
    const modules: Partial<RuntimeModules> = {
      runtimeDir,
      runtime: runtime as RuntimeIndex,
      editorUtil: editorLoaded
        ? ((cache[utilPath]?.exports as EditorUtil | undefined) ?? undefined)
        : null,
    };
    if (runtime.flows) modules.api = runtime.flows;
    if (internal.flows) modules.flows = internal.flows;
    if (internal.nodes) modules.nodes = internal.nodes;
    if (internal.storage) modules.storage = internal.storage;
    if (internal.events) modules.events = internal.events;
    if (internal.settings) modules.settings = internal.settings;
    if (runtime.nodes) modules.apiNodes = runtime.nodes;
    if (internal.hooks) modules.hooks = internal.hooks as Hooks;
    Object.assign(modules, locatePalette(path, cache));
    return modules;
  }
  return null;
}

/**
 * The registry the runtime loaded (`@node-red/registry`, resolved from the runtime as Node-RED
 * resolves it) and the npm its installer runs.
 */
function locatePalette(
  runtimeIndex: string,
  cache: NodeJS.Require['cache'],
): Partial<Pick<RuntimeModules, 'registry' | 'npm'>> {
  try {
    const registryPath = createRequire(runtimeIndex).resolve('@node-red/registry');
    const registry = cache[registryPath]?.exports as Registry | undefined;
    const npmPackage = createRequire(registryPath).resolve('npm/package.json');
    return {
      ...(registry ? { registry } : {}),
      npm: { execPath: process.execPath, npmCli: join(dirname(npmPackage), 'bin', 'npm-cli.js') },
    };
  } catch {
    return {};
  }
}

/** Checks that every module and function the gate wraps is there; throws `ERR_GATE_UNSUPPORTED`. */
export function checkRuntimeModules(found: Partial<RuntimeModules> | null): RuntimeModules {
  if (!found) {
    throw new CountersignError(
      'ERR_GATE_UNSUPPORTED',
      'cannot find the running Node-RED runtime (@node-red/runtime); nothing would be guarded',
    );
  }
  if (found.editorUtil === undefined) {
    throw new CountersignError(
      'ERR_GATE_UNSUPPORTED',
      "cannot find Node-RED's editor API helpers (editor-api/lib/util.js)",
    );
  }
  for (const [name, functions] of Object.entries(REQUIRED_FUNCTIONS)) {
    const target = found[name as keyof typeof REQUIRED_FUNCTIONS] as
      Record<string, unknown> | null | undefined;
    if (name === 'editorUtil' && target === null) continue;
    for (const fn of functions) {
      if (!target || typeof target[fn] !== 'function') {
        throw new CountersignError(
          'ERR_GATE_UNSUPPORTED',
          `cannot guard this Node-RED: ${name}.${fn} is missing, so deployments could bypass approval`,
        );
      }
    }
  }
  if (!found.npm) {
    throw new CountersignError(
      'ERR_GATE_UNSUPPORTED',
      "cannot find the npm Node-RED's installer runs, so palette changes could not be held",
    );
  }
  if (typeof found.events?.on !== 'function' || !found.settings) {
    throw new CountersignError(
      'ERR_GATE_UNSUPPORTED',
      'cannot find the runtime event bus or settings',
    );
  }
  return found as RuntimeModules;
}

/** Finds and checks the runtime's modules (see `locateRuntimeModules`, `checkRuntimeModules`). */
export function findRuntimeModules(hooks: unknown): RuntimeModules {
  return checkRuntimeModules(locateRuntimeModules(hooks));
}

/**
 * Replaces `target[name]` with `wrapper` and checks the replacement took (a frozen or read-only
 * property would leave the original in place, unguarded).
 */
export function replaceFunction<T extends object>(
  target: T,
  name: keyof T & string,
  wrapper: Fn,
): void {
  try {
    (target as Record<string, unknown>)[name] = wrapper;
  } catch (cause) {
    throw new CountersignError(
      'ERR_GATE_UNSUPPORTED',
      `Countersign cannot wrap ${name}: it is read-only`,
      { cause },
    );
  }
  if ((target as Record<string, unknown>)[name] !== wrapper) {
    throw new CountersignError(
      'ERR_GATE_UNSUPPORTED',
      `Countersign cannot wrap ${name}: the replacement did not take`,
    );
  }
}
