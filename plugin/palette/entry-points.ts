/**
 * Every way a palette change reaches Node-RED, held (7.1, T4): the runtime nodes API the editor's
 * `/nodes` routes call (`addModule` for installs, updates and uploads, `removeModule`,
 * `setModuleState`, `setNodeSetState`), the internal nodes module in-process code can call
 * (`installModule`, `uninstallModule`, `enableNode`, `disableNode`), and below them Node-RED's own
 * `preInstall`/`preUninstall` hooks and the registry's `enableNode`/`disableNode`, which refuse
 * whatever an approval did not release. Approved changes are applied through the originals
 * captured here, before anything was wrapped.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeploymentSource, ModuleDescriptor } from '../../protocol/index.js';
import { sourceOfApi } from '../flows/entry-points.js';
import { FlowRequestError } from '../flows/targets.js';
import {
  replaceFunction,
  type ApiOpts,
  type InternalNodes,
  type PaletteOpts,
  type Registry,
  type RuntimeModules,
} from '../runtime-modules.js';
import type { PaletteApplier, PaletteGate } from './palette-gate.js';
import type { Quarantine } from './quarantine.js';
import { guardedSetState, preInstallHook, preUninstallHook, type Releases } from './releases.js';
import {
  checkSettingsAvailable,
  installDescriptor,
  removeDescriptor,
  stateDescriptor,
  type InstallCall,
  type PaletteContext,
} from './requests.js';

type NodesOriginals = Pick<
  InternalNodes,
  'installModule' | 'uninstallModule' | 'enableNode' | 'disableNode'
>;

/** The palette's original functions, bound, captured before anything is wrapped. */
export type PaletteOriginals = { nodes: NodesOriginals; registry: Registry };

const NODES_FUNCTIONS = ['installModule', 'uninstallModule', 'enableNode', 'disableNode'] as const;
const API_FUNCTIONS = ['addModule', 'removeModule', 'setModuleState', 'setNodeSetState'] as const;
const HOOK_LABEL = 'countersign';

/** Captures the originals of whatever was found (checked later by `checkRuntimeModules`). */
export function capturePaletteOriginals(
  modules: Partial<RuntimeModules>,
): Partial<PaletteOriginals> {
  const out: Partial<PaletteOriginals> = {};
  const nodes = modules.nodes as Record<string, unknown> | undefined;
  if (nodes && NODES_FUNCTIONS.every((f) => typeof nodes[f] === 'function')) {
    out.nodes = Object.fromEntries(
      NODES_FUNCTIONS.map((f) => [f, (nodes[f] as (...a: unknown[]) => unknown).bind(nodes)]),
    ) as NodesOriginals;
  }
  const registry = modules.registry;
  if (
    registry &&
    typeof registry.enableNode === 'function' &&
    typeof registry.disableNode === 'function'
  ) {
    out.registry = {
      enableNode: registry.enableNode.bind(registry),
      disableNode: registry.disableNode.bind(registry),
    };
  }
  return out;
}

/** What the wrappers need. */
export type PaletteEntryOptions = {
  modules: RuntimeModules;
  originals: PaletteOriginals;
  gate: PaletteGate;
  context: PaletteContext;
  releases: Releases;
};

const RUNTIME: DeploymentSource = { user: 'runtime', via: 'runtime' };

function sourceOf(opts: PaletteOpts): DeploymentSource {
  const source = sourceOfApi(opts as ApiOpts, false);
  return opts.req ? { ...source, via: 'palette' } : source;
}

function invalid(): FlowRequestError {
  return new FlowRequestError('Invalid request', 400, 'invalid_request');
}

/** An uploaded file's name, made printable for the review (it is only shown, never used). */
function fileName(name: unknown): string {
  const text = typeof name === 'string' && name !== '' ? name : 'uploaded tarball';
  return text.replace(/\p{C}/gu, '?').slice(0, 200);
}

function paletteSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const external = settings.externalModules as { palette?: Record<string, unknown> } | undefined;
  return external?.palette ?? {};
}

/** Installs every palette wrapper and backstop; throws `ERR_GATE_UNSUPPORTED` if one does not take. */
export function installPaletteEntryPoints(options: PaletteEntryOptions): void {
  const { modules, gate, context, releases, originals } = options;
  const hold = (descriptor: ModuleDescriptor, source: DeploymentSource): Promise<never> =>
    gate.hold(descriptor, source);

  // --- The runtime nodes API (the editor's Palette Manager, the admin API's /nodes) -----------
  replaceFunction(modules.apiNodes, 'addModule', async function addModule(opts: PaletteOpts = {}) {
    checkSettingsAvailable(context.settings);
    let call: InstallCall;
    if (opts.tarball) {
      // Node-RED's own checks of an upload, in its order.
      if (paletteSettings(context.settings).upload === false) throw invalid();
      if (opts.module || opts.version || opts.url) throw invalid();
      const buffer = opts.tarball.buffer;
      if (!(buffer instanceof Uint8Array)) throw invalid();
      call = { tarball: { name: fileName(opts.tarball.name), buffer } };
    } else if (opts.module) {
      const existing =
        typeof opts.module === 'string' ? context.nodes.getModuleInfo(opts.module) : null;
      if (existing?.user && (!opts.version || existing.version === opts.version)) {
        throw new FlowRequestError('Module already loaded', 400, 'module_already_loaded');
      }
      call = { module: opts.module, version: opts.version, url: opts.url };
    } else {
      throw invalid();
    }
    return hold(await installDescriptor(context, call), sourceOf(opts));
  });
  replaceFunction(
    modules.apiNodes,
    'removeModule',
    async function removeModule(opts: PaletteOpts = {}) {
      checkSettingsAvailable(context.settings);
      return hold(removeDescriptor(context, opts.module), sourceOf(opts));
    },
  );
  replaceFunction(
    modules.apiNodes,
    'setModuleState',
    async function setModuleState(opts: PaletteOpts = {}) {
      checkSettingsAvailable(context.settings);
      return hold(stateDescriptor(context, { module: opts.module }, opts.enabled), sourceOf(opts));
    },
  );
  replaceFunction(
    modules.apiNodes,
    'setNodeSetState',
    async function setNodeSetState(opts: PaletteOpts = {}) {
      checkSettingsAvailable(context.settings);
      return hold(stateDescriptor(context, { set: opts.id }, opts.enabled), sourceOf(opts));
    },
  );

  // --- The internal nodes module (code in the process) -----------------------------------------
  replaceFunction(
    modules.nodes,
    'installModule',
    async function installModule(module: unknown, version?: unknown, url?: unknown) {
      const call: InstallCall =
        module instanceof Uint8Array
          ? { tarball: { name: 'tarball given by code in the runtime', buffer: module } }
          : { module, version, url };
      return hold(await installDescriptor(context, call), RUNTIME);
    },
  );
  replaceFunction(
    modules.nodes,
    'uninstallModule',
    async function uninstallModule(module: unknown) {
      return hold(removeDescriptor(context, module), RUNTIME);
    },
  );
  replaceFunction(modules.nodes, 'enableNode', async function enableNode(id: unknown) {
    return hold(stateDescriptor(context, { set: setIdOf(context, id) }, true), RUNTIME);
  });
  replaceFunction(modules.nodes, 'disableNode', async function disableNode(id: unknown) {
    return hold(stateDescriptor(context, { set: setIdOf(context, id) }, false), RUNTIME);
  });

  // --- The backstop: Node-RED's install hooks and the registry's set state ----------------------
  const activeFlows = () => (context.flows.getFlows()?.flows ?? []) as never;
  try {
    modules.hooks.add(`preInstall.${HOOK_LABEL}`, preInstallHook(releases, activeFlows));
    modules.hooks.add(`preUninstall.${HOOK_LABEL}`, preUninstallHook(releases));
  } catch (cause) {
    throw new FlowRequestError(
      `Countersign cannot add its palette hooks: ${(cause as Error).message}`,
      500,
      'unexpected_error',
    );
  }
  replaceFunction(
    modules.registry,
    'enableNode',
    guardedSetState(releases, originals.registry.enableNode, true),
  );
  replaceFunction(
    modules.registry,
    'disableNode',
    guardedSetState(releases, originals.registry.disableNode, false),
  );
}

/** A node set id from an id or a type name (the runtime's `enableNode` takes either). */
function setIdOf(context: PaletteContext, idOrType: unknown): unknown {
  return typeof idOrType === 'string'
    ? (context.nodes.getNodeInfo(idOrType)?.id ?? idOrType)
    : idOrType;
}

/** What `applierOf` needs. */
export type ApplierOptions = {
  originals: PaletteOriginals;
  nodes: Pick<InternalNodes, 'getNodeInfo'>;
  quarantine: Quarantine;
  releases: Releases;
  userDir: string;
};

/**
 * Applies an approved descriptor, exactly: an install reads the quarantined tarball back (its
 * SHA-512 checked), releases that tarball alone and hands it to Node-RED's installer (the
 * `preInstall` hook hashes the file npm is given once more), then checks that npm recorded the same
 * integrity; a removal or state change releases that change alone.
 */
export function applierOf(options: ApplierOptions): PaletteApplier {
  const { originals, quarantine, releases } = options;
  return async (d) => {
    if (d.action === 'install' || d.action === 'update') {
      const integrity = d.integrity!;
      const bytes = await quarantine.read(integrity);
      await releases.during({ kind: 'install', name: d.name, integrity }, () =>
        d.source === 'upload'
          ? originals.nodes.installModule(bytes)
          : originals.nodes.installModule(d.name, d.version, quarantine.pathOf(integrity)),
      );
      await confirmInstalled(options.userDir, d);
      return;
    }
    if (d.action === 'remove') {
      await releases.during({ kind: 'remove', name: d.name }, () =>
        originals.nodes.uninstallModule(d.name),
      );
      return;
    }
    const enabled = d.action === 'enable';
    for (const id of d.sets) {
      const now = options.nodes.getNodeInfo(id);
      if (now && !now.err && now.enabled === enabled) continue;
      await releases.during({ kind: 'set', id, enabled }, () =>
        enabled ? originals.nodes.enableNode(id) : originals.nodes.disableNode(id),
      );
    }
  };
}

/** After an install: npm's lock records the approved integrity, and the approved version is in place. */
async function confirmInstalled(userDir: string, d: ModuleDescriptor): Promise<void> {
  const readJson = async (path: string): Promise<Record<string, unknown> | null> =>
    JSON.parse(await readFile(path, 'utf8').catch(() => 'null')) as Record<string, unknown> | null;
  const lock = await readJson(join(userDir, 'package-lock.json'));
  const entry = (lock?.packages as Record<string, { integrity?: unknown }> | undefined)?.[
    `node_modules/${d.name}`
  ];
  if (entry?.integrity !== undefined && entry.integrity !== d.integrity) {
    throw new Error(
      `npm installed ${d.name} with integrity ${String(entry.integrity).slice(0, 20)}…, not the approved one`,
    );
  }
  const pkg = await readJson(join(userDir, 'node_modules', d.name, 'package.json'));
  if (pkg?.version !== d.version) {
    throw new Error(
      `node_modules holds ${d.name}@${String(pkg?.version)}, not the approved ${d.version}`,
    );
  }
}

/** Shuts the palette (the gate could not start): every palette entry point refuses with `refuse`. */
export function closePaletteEntryPoints(
  modules: Partial<RuntimeModules>,
  refuse: () => Promise<never>,
): void {
  const tryReplace = (target: object | null | undefined, name: string): void => {
    if (!target || typeof (target as Record<string, unknown>)[name] !== 'function') return;
    try {
      (target as Record<string, unknown>)[name] = refuse;
    } catch {
      // best effort: the start is refused in any case
    }
  };
  for (const name of API_FUNCTIONS) tryReplace(modules.apiNodes, name);
  for (const name of NODES_FUNCTIONS) tryReplace(modules.nodes, name);
  tryReplace(modules.registry, 'enableNode');
  tryReplace(modules.registry, 'disableNode');
  for (const hook of ['preInstall', 'preUninstall']) {
    try {
      modules.hooks?.add(`${hook}.${HOOK_LABEL}`, () => refuse());
    } catch {
      // best effort, as above
    }
  }
}
