/**
 * Palette changes (DESIGN 7.1, T4): the module descriptor a `module` deployment proposes, its one
 * parser, its canonical text (the target blob, whose SHA-256 is the deployment's `target`), and the
 * one `module` change the server, the phone and the plugin compute from it and the running flows.
 */
import { canonicalJson } from './canonical.js';
import type { Change, FlowRef } from './changes/types.js';
import { ValidationError } from './errors.js';
import type { Flows } from './flows.js';
import { riskOfModule } from './risk.js';

export { functionLibsOf, type FunctionLib } from './function-libs.js';

/** What a palette change does. */
export const MODULE_ACTIONS = ['install', 'update', 'remove', 'enable', 'disable'] as const;
export type ModuleAction = (typeof MODULE_ACTIONS)[number];

/**
 * Where the tarball came from: the npm registry, an upload in the Palette Manager, a file or folder
 * on the Node-RED machine, an http(s) URL; `installed` for a change to a module already there.
 */
export const MODULE_SOURCES = ['registry', 'upload', 'file', 'url', 'installed'] as const;
export type ModuleSource = (typeof MODULE_SOURCES)[number];

/** The npm lifecycle scripts an install runs (`install` also stands for npm's implicit `node-gyp rebuild`). */
export const INSTALL_SCRIPTS = [
  'preinstall',
  'install',
  'postinstall',
  'preprepare',
  'prepare',
  'postprepare',
] as const;

/**
 * The module descriptor of 7.1, every key always present (so the canonical text has one form):
 * `integrity` (SRI `sha512-…` of the exact tarball) and `size` are null when no tarball is
 * installed; `previous` is what runs now, for an update; `sets` the node sets an enable or disable
 * changes; `plugins` the plugin sets the package adds (code the runtime loads); `dependencies` what
 * npm resolves from the registry when it installs the tarball.
 */
export type ModuleDescriptor = {
  action: ModuleAction;
  name: string;
  version: string;
  integrity: string | null;
  size: number | null;
  types: string[];
  scripts: Record<string, string>;
  source: ModuleSource;
  origin: string;
  previous: { version: string; types: string[] } | null;
  sets: string[];
  plugins: string[];
  dependencies: Record<string, string>;
};

/** Flows whose nodes use the module's types (in the running flows, `base`). */
export type ModuleUse = { flow: FlowRef | null; types: string[]; nodes: number };

/** What a `module` change carries: the descriptor, and who uses its types. */
export type ModuleChange = { descriptor: ModuleDescriptor; usedBy: ModuleUse[] };

const KEYS = [
  'action',
  'name',
  'version',
  'integrity',
  'size',
  'types',
  'scripts',
  'source',
  'origin',
  'previous',
  'sets',
  'plugins',
  'dependencies',
] as const;

const NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[A-Za-z0-9~-][A-Za-z0-9._~-]*$/;
const VERSION = /^[0-9A-Za-z.+-]{1,100}$/;
const INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/;
// Printable text: no control, format (invisible or reordering), surrogate, private or unassigned characters.
const PRINTABLE = /^[^\p{C}]*$/u;
const MAX_SCRIPT = 64 * 1024;
const MAX_LIST = 1000;

function bad(message: string): never {
  throw new ValidationError(`module descriptor: ${message}`, { code: 'ERR_FLOWS_INVALID' });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(value: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(value, key);
}

function text(value: unknown, what: string, max: number, allowEmpty = false): string {
  if (typeof value !== 'string' || value.length > max || (!allowEmpty && value === '')) {
    bad(`${what} must be a string of ${allowEmpty ? 'at most' : '1 to'} ${max} characters`);
  }
  if (!PRINTABLE.test(value)) bad(`${what} holds an invisible or control character`);
  return value;
}

function textList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_LIST) bad(`${what} must be a list`);
  const out = value.map((v, i) => text(v, `${what}[${i}]`, 200));
  if (new Set(out).size !== out.length) bad(`${what} lists an entry twice`);
  return out;
}

function textMap(value: unknown, what: string, check: (key: string, v: unknown) => string) {
  if (!isObject(value)) bad(`${what} must be an object`);
  const out: Record<string, string> = {};
  const keys = Object.keys(value);
  if (keys.length > MAX_LIST) bad(`${what} has too many entries`);
  for (const key of keys) out[key] = check(key, value[key]);
  return out;
}

/** True for an npm package name (`name` or `@scope/name`; old packages' capitals allowed). */
export function isPackageName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 214 && NAME.test(value);
}

/** Checks a module descriptor (the `target` blob of a `module` deployment) into its type. */
export function parseModuleDescriptor(input: unknown): ModuleDescriptor {
  if (!isObject(input)) bad('must be an object');
  for (const key of Object.keys(input)) {
    if (!(KEYS as readonly string[]).includes(key)) bad(`unknown key ${JSON.stringify(key)}`);
  }
  for (const key of KEYS) if (!own(input, key)) bad(`${key} is missing`);
  const action = input.action as ModuleAction;
  if (!MODULE_ACTIONS.includes(action)) bad(`action must be one of ${MODULE_ACTIONS.join(', ')}`);
  const name = text(input.name, 'name', 214);
  if (!NAME.test(name)) bad('name is not an npm package name');
  const version = text(input.version, 'version', 100);
  if (!VERSION.test(version)) bad('version is not a version');
  const source = input.source as ModuleSource;
  if (!MODULE_SOURCES.includes(source)) bad(`source must be one of ${MODULE_SOURCES.join(', ')}`);
  const installs = action === 'install' || action === 'update';
  if (installs === (source === 'installed')) {
    bad(installs ? 'an install names where its tarball came from' : 'source must be "installed"');
  }
  const { integrity, size } = input;
  if (installs) {
    if (typeof integrity !== 'string' || !INTEGRITY.test(integrity))
      bad('integrity must be the sha512 of the tarball (sha512-…)');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
      bad('size must be the tarball size in bytes');
  } else if (integrity !== null || size !== null) {
    bad('integrity and size are null when no tarball is installed');
  }
  let previous: ModuleDescriptor['previous'] = null;
  if (action === 'update') {
    const p = input.previous;
    if (!isObject(p) || Object.keys(p).sort().join() !== 'types,version')
      bad('previous must be {version, types} for an update');
    const before = text(p.version, 'previous.version', 100);
    if (!VERSION.test(before)) bad('previous.version is not a version');
    previous = { version: before, types: textList(p.types, 'previous.types') };
  } else if (input.previous !== null) {
    bad('previous is null unless the action is update');
  }
  const scripts = textMapOfScripts(input.scripts);
  return {
    action,
    name,
    version,
    integrity: installs ? (integrity as string) : null,
    size: installs ? (size as number) : null,
    types: textList(input.types, 'types'),
    scripts,
    source,
    origin: text(input.origin, 'origin', 2000, true),
    previous,
    sets: textList(input.sets, 'sets'),
    plugins: textList(input.plugins, 'plugins'),
    dependencies: textMap(input.dependencies, 'dependencies', (key, v) => {
      text(key, 'a dependency name', 214);
      return text(v, `dependencies[${JSON.stringify(key)}]`, 500);
    }),
  };
}

function textMapOfScripts(value: unknown): Record<string, string> {
  return textMap(value, 'scripts', (key, v) => {
    if (!(INSTALL_SCRIPTS as readonly string[]).includes(key))
      bad(`scripts may only hold install scripts (${INSTALL_SCRIPTS.join(', ')})`);
    // Scripts are code: any character may appear, and the card shows each one visibly.
    if (typeof v !== 'string' || v.length > MAX_SCRIPT) bad(`scripts.${key} must be a string`);
    return v;
  });
}

/** The canonical text of a descriptor (RFC 8785): the bytes of the target blob. */
export function moduleDescriptorText(descriptor: ModuleDescriptor): string {
  return canonicalJson(descriptor)!;
}

/**
 * Parses the text of a target blob: JSON, a valid descriptor, and in canonical form (so one
 * descriptor has exactly one target, and duplicate keys cannot hide a value).
 */
export function parseModuleBlob(blobText: string): ModuleDescriptor {
  let value: unknown;
  try {
    value = JSON.parse(blobText);
  } catch {
    bad('not JSON');
  }
  const descriptor = parseModuleDescriptor(value);
  if (moduleDescriptorText(descriptor) !== blobText) bad('not in canonical form (RFC 8785)');
  return descriptor;
}

/** The types a change touches: the new and, for an update, the previous ones. */
export function typesOf(descriptor: ModuleDescriptor): string[] {
  return [...new Set([...descriptor.types, ...(descriptor.previous?.types ?? [])])];
}

/** Which flows of `flows` use any of `types`, in the flows' order (config nodes under null). */
export function moduleUsage(flows: Flows, types: readonly string[]): ModuleUse[] {
  const wanted = new Set(types);
  const containers = new Map<string, FlowRef>();
  for (const n of flows) {
    if (n.type === 'tab' || n.type === 'subflow') {
      const label = n.type === 'tab' ? n.label : n.name;
      containers.set(n.id, { id: n.id, label: typeof label === 'string' ? label : n.id });
    }
  }
  const uses = new Map<string, ModuleUse>();
  for (const n of flows) {
    if (!wanted.has(n.type)) continue;
    const flow = typeof n.z === 'string' ? (containers.get(n.z) ?? null) : null;
    const key = flow?.id ?? '';
    let use = uses.get(key);
    if (!use) {
      use = { flow, types: [], nodes: 0 };
      uses.set(key, use);
    }
    use.nodes += 1;
    if (!use.types.includes(n.type)) use.types.push(n.type);
  }
  return [...uses.values()];
}

const OPS = {
  install: 'added',
  update: 'changed',
  remove: 'removed',
  enable: 'changed',
  disable: 'changed',
} as const;

/** The one change of a `module` deployment, computed from the descriptor and the running flows. */
export function moduleChange(descriptor: ModuleDescriptor, base: Flows): Change {
  return {
    id: `module:${descriptor.name}`,
    kind: 'module',
    op: OPS[descriptor.action],
    flow: null,
    module: { descriptor, usedBy: moduleUsage(base, typesOf(descriptor)) },
    risk: riskOfModule(descriptor),
  };
}
