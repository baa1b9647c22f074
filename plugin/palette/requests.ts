/**
 * Each palette request turned into the module descriptor it proposes (7.1), with Node-RED's own
 * answers for requests it would refuse anyway (a module already loaded, not found, types in use),
 * so nothing is held that could not be applied. Installs fetch their tarball into quarantine first
 * and describe those bytes.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ValidationError,
  isPackageName,
  moduleUsage,
  parseModuleDescriptor,
  type ModuleDescriptor,
  type ModuleSource,
} from '../../protocol/index.js';
import { FlowRequestError } from '../flows/targets.js';
import type { InternalFlows, InternalNodes, ModuleInfo, NodeSetInfo } from '../runtime-modules.js';
import type { Quarantine } from './quarantine.js';
import { inspectTarball } from './tarball.js';

/** What the request builders read. */
export type PaletteContext = {
  nodes: Pick<InternalNodes, 'getModuleInfo' | 'getNodeInfo'>;
  flows: Pick<InternalFlows, 'getFlows' | 'checkTypeInUse'>;
  settings: Record<string, unknown>;
  quarantine: Quarantine;
};

/** An install request: from the registry or a URL/path (`module`, `version`, `url`), or an uploaded tarball. */
export type InstallCall =
  | { module: unknown; version?: unknown; url?: unknown }
  | { tarball: { name: string; buffer: Uint8Array } };

const HTTP_URL = /^https?:\/\//;
const GIT_URL = /^git(|\+https?|\+ssh|\+file):\/\//;
const LOCAL_TGZ = /^([a-zA-Z]:|\/).+tgz$/;

function failure(status: number, code: string, message: string): FlowRequestError {
  return new FlowRequestError(message, status, code);
}

function settingsAvailable(settings: Record<string, unknown>): boolean {
  const available = settings.available;
  return typeof available !== 'function' || (available as () => boolean).call(settings) !== false;
}

/** Node-RED's refusal when its settings cannot be saved (installs need them). */
export function checkSettingsAvailable(settings: Record<string, unknown>): void {
  if (!settingsAvailable(settings))
    throw failure(400, 'settings_unavailable', 'Settings unavailable');
}

/** Every type of a module's node sets. */
function typesOfSets(sets: readonly NodeSetInfo[]): string[] {
  return [...new Set(sets.flatMap((s) => s.types ?? []))];
}

async function fetchTarball(
  context: PaletteContext,
  call: InstallCall,
): Promise<{ bytes: Uint8Array; source: ModuleSource; origin: string; expected: string | null }> {
  if ('tarball' in call) {
    return {
      bytes: call.tarball.buffer,
      source: 'upload',
      origin: call.tarball.name,
      expected: null,
    };
  }
  const module = typeof call.module === 'string' ? call.module : '';
  const version = typeof call.version === 'string' && call.version !== '' ? call.version : null;
  const url = typeof call.url === 'string' && call.url !== '' ? call.url : null;
  const expected = isPackageName(module) ? module : null;
  if (url !== null) {
    if (GIT_URL.test(url)) {
      throw failure(
        400,
        'invalid_module_url',
        "Installing from git is not supported while Countersign holds palette changes: npm runs a git package's scripts to build it. Install a published version or upload a tarball.",
      );
    }
    if (HTTP_URL.test(url)) {
      return { ...(await context.quarantine.pack(url)), source: 'url', origin: url, expected };
    }
    if (LOCAL_TGZ.test(url)) {
      const bytes = await readFile(url).catch(() => {
        throw failure(404, 'not_found', 'Module not found');
      });
      return { bytes, source: 'file', origin: url, expected };
    }
    throw failure(400, 'invalid_module_url', 'Invalid url');
  }
  if (expected !== null) {
    const spec = `${module}@${version ?? 'latest'}`;
    return { ...(await context.quarantine.pack(spec)), source: 'registry', origin: spec, expected };
  }
  if (/[\\/]/.test(module)) {
    // A folder with a package.json: packed (its scripts not run) so what is approved cannot change.
    const isDir = await stat(join(module, 'package.json')).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!isDir) throw failure(404, 'not_found', 'Module not found');
    return {
      ...(await context.quarantine.pack(module)),
      source: 'file',
      origin: module,
      expected: null,
    };
  }
  throw failure(400, 'invalid_module_name', 'Invalid module name');
}

/** The descriptor of an install or update, from the tarball's bytes (kept in quarantine). */
export async function installDescriptor(
  context: PaletteContext,
  call: InstallCall,
): Promise<ModuleDescriptor> {
  const fetched = await fetchTarball(context, call);
  const facts = await inspectTarball(fetched.bytes);
  if (fetched.expected !== null && facts.name !== fetched.expected) {
    throw new ValidationError(`the tarball holds ${facts.name}, not ${fetched.expected}`);
  }
  const existing = context.nodes.getModuleInfo(facts.name);
  if (existing?.user && existing.version === facts.version) {
    throw failure(400, 'module_already_loaded', 'Module already loaded');
  }
  await context.quarantine.store(fetched.bytes);
  const update = existing?.user === true;
  return checked({
    action: update ? 'update' : 'install',
    name: facts.name,
    version: facts.version,
    integrity: facts.integrity,
    size: facts.size,
    types: facts.types,
    scripts: facts.scripts,
    source: fetched.source,
    origin: fetched.origin,
    previous: update ? { version: existing.version, types: typesOfSets(existing.nodes) } : null,
    sets: [],
    plugins: facts.plugins,
    dependencies: facts.dependencies,
  });
}

/** A descriptor the gate built, checked like any other; a module it cannot describe is refused. */
function checked(descriptor: ModuleDescriptor): ModuleDescriptor {
  return parseModuleDescriptor(descriptor);
}

/**
 * Node-RED refuses to remove or disable types the flows use; the refusal names the flows, and
 * nothing is held.
 */
function refuseTypesInUse(context: PaletteContext, sets: readonly NodeSetInfo[], verb: string) {
  for (const set of sets) {
    try {
      context.flows.checkTypeInUse(set.id);
    } catch (err) {
      const flows = context.flows.getFlows()?.flows ?? [];
      const users = moduleUsage(flows as never, set.types ?? [])
        .map((u) => (u.flow ? u.flow.label : 'global configuration'))
        .join(', ');
      throw failure(
        400,
        'type_in_use',
        `${(err as Error).message}${users ? ` (used in ${users})` : ''}. Node-RED refuses to ${verb} node types the flows use; nothing was held.`,
      );
    }
  }
}

function installedDescriptor(
  action: 'remove' | 'enable' | 'disable',
  info: ModuleInfo,
  sets: readonly NodeSetInfo[],
): ModuleDescriptor {
  return checked({
    action,
    name: info.name,
    version: info.version,
    integrity: null,
    size: null,
    types: typesOfSets(sets),
    scripts: {},
    source: 'installed',
    origin: '',
    previous: null,
    sets: sets.map((s) => s.id),
    plugins: action === 'remove' ? (info.plugins ?? []).map((p) => p.id) : [],
    dependencies: {},
  });
}

/** The descriptor of a module's removal (`DELETE /nodes/:module`). */
export function removeDescriptor(context: PaletteContext, module: unknown): ModuleDescriptor {
  const info = typeof module === 'string' ? context.nodes.getModuleInfo(module) : null;
  if (!info) throw failure(404, 'not_found', 'Module not found');
  if (!info.user) throw failure(400, 'unexpected_error', `Unrecognised module: ${info.name}`);
  refuseTypesInUse(context, info.nodes, 'remove');
  return installedDescriptor('remove', info, info.nodes);
}

/** The descriptor of enabling or disabling a whole module (`PUT /nodes/:module`) or one node set. */
export function stateDescriptor(
  context: PaletteContext,
  target: { module: unknown } | { set: unknown },
  enabled: unknown,
): ModuleDescriptor {
  if (typeof enabled !== 'boolean') {
    throw failure(400, 'invalid_request', 'Invalid request: enabled must be true or false');
  }
  let info: ModuleInfo | null | undefined;
  let sets: NodeSetInfo[];
  if ('module' in target) {
    info = typeof target.module === 'string' ? context.nodes.getModuleInfo(target.module) : null;
    if (!info) throw failure(404, 'not_found', 'Module not found');
    sets = info.nodes;
  } else {
    const set = typeof target.set === 'string' ? context.nodes.getNodeInfo(target.set) : null;
    if (!set) throw failure(404, 'not_found', 'Node not found');
    info = context.nodes.getModuleInfo(set.module);
    if (!info) throw failure(404, 'not_found', 'Module not found');
    sets = [set];
  }
  if (!enabled)
    refuseTypesInUse(
      context,
      sets.filter((s) => s.enabled),
      'disable',
    );
  return installedDescriptor(enabled ? 'enable' : 'disable', info, sets);
}
