/**
 * What a module tarball holds, read from its bytes without unpacking it to disk or running anything:
 * its `package.json` (name, version, install scripts, dependencies, Node-RED node and plugin sets),
 * and the node types its node sets' HTML defines, found the way Node-RED's own loader finds them
 * (`<script data-template-name="…">`). The SHA-512 integrity is npm's (SRI `sha512-<base64>`).
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { INSTALL_SCRIPTS, ValidationError } from '../../protocol/index.js';

/** What the gate learns from a tarball. */
export type TarballFacts = {
  name: string;
  version: string;
  integrity: string;
  size: number;
  types: string[];
  plugins: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

/** Largest tarball the gate reads (the registry's own limit is far lower for most packages). */
export const MAX_TARBALL_BYTES = 200 * 1024 * 1024;
const MAX_TEXT_FILE = 8 * 1024 * 1024;
const MAX_UNPACKED = 1024 * 1024 * 1024;

function refuse(message: string): never {
  throw new ValidationError(`module tarball: ${message}`);
}

/** npm's integrity string of some bytes: `sha512-<base64>`. */
export function integrityOf(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** Reads the text files the facts need (every path relative to the package root). */
async function readFiles(
  bytes: Uint8Array,
  wanted: (path: string) => boolean,
): Promise<{ files: Map<string, string>; paths: Set<string> }> {
  const files = new Map<string, string>();
  const paths = new Set<string>();
  let unpacked = 0;
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry(entry: ReadEntry) {
        // npm strips the first path segment (`package/` for npm-made tarballs).
        const path = posix.normalize(entry.path.split('/').slice(1).join('/'));
        unpacked += entry.size ?? 0;
        if (unpacked > MAX_UNPACKED) {
          reject(new ValidationError('module tarball: unpacks to more than 1 GiB'));
          entry.resume();
          return;
        }
        if (entry.type === 'File') paths.add(path);
        if (entry.type !== 'File' || !wanted(path) || (entry.size ?? 0) > MAX_TEXT_FILE) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => files.set(path, Buffer.concat(chunks).toString('utf8')));
      },
    });
    parser.on('error', (err: Error) => reject(err));
    parser.on('end', () => resolve());
    parser.end(Buffer.from(bytes));
  }).catch((cause: unknown) => {
    if (cause instanceof ValidationError) throw cause;
    throw new ValidationError(`module tarball: not a readable .tgz (${(cause as Error).message})`, {
      cause,
    });
  });
  return { files, paths };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The node types an HTML file defines, as Node-RED's loader reads them. */
export function typesInHtml(html: string): string[] {
  const out: string[] = [];
  const re = /<script (?:[^>]*)data-template-name\s*=\s*['"]([^'"]*)['"]/gi;
  let match: RegExpExecArray | null;
  while ((match = re.exec(html)) !== null) out.push(match[1]!);
  return out;
}

/** Reads a module tarball's facts; throws `ERR_BAD_REQUEST` for anything that is not a Node-RED module. */
export async function inspectTarball(bytes: Uint8Array): Promise<TarballFacts> {
  if (bytes.length === 0 || bytes.length > MAX_TARBALL_BYTES) refuse('empty or too large');
  const first = await readFiles(bytes, (p) => p === 'package.json');
  const pkgText = first.files.get('package.json');
  if (pkgText === undefined) refuse('it has no package.json at its root');
  let pkg: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(pkgText);
    if (!isObject(parsed)) throw new Error('not an object');
    pkg = parsed;
  } catch {
    refuse('its package.json is not JSON');
  }
  const { name, version } = pkg;
  if (typeof name !== 'string' || typeof version !== 'string')
    refuse('package.json has no name or version');
  const nodeRed = pkg['node-red'];
  if (!isObject(nodeRed))
    refuse(`${name} is not a Node-RED module (package.json has no "node-red")`);
  const nodeSets = stringMap(nodeRed.nodes);
  const pluginSets = stringMap(nodeRed.plugins);

  // Node-RED loads each node set's HTML from the .js file's name with .html.
  const htmlOf = (file: string): string =>
    posix.normalize(file.replace(/\.[cm]?js$/, '') + '.html');
  const htmlFiles = new Set(Object.values(nodeSets).map(htmlOf));
  const second = await readFiles(bytes, (p) => htmlFiles.has(p));
  const types: string[] = [];
  for (const file of Object.values(nodeSets)) {
    for (const type of typesInHtml(second.files.get(htmlOf(file)) ?? '')) {
      if (!types.includes(type)) types.push(type);
    }
  }

  const allScripts = stringMap(pkg.scripts);
  const scripts: Record<string, string> = {};
  for (const key of INSTALL_SCRIPTS)
    if (allScripts[key] !== undefined) scripts[key] = allScripts[key];
  // npm runs `node-gyp rebuild` for a package with a binding.gyp and no install script of its own.
  if (
    first.paths.has('binding.gyp') &&
    scripts.install === undefined &&
    scripts.preinstall === undefined
  ) {
    scripts.install = 'node-gyp rebuild';
  }
  return {
    name,
    version,
    integrity: integrityOf(bytes),
    size: bytes.length,
    types,
    plugins: Object.keys(pluginSets),
    scripts,
    dependencies: { ...stringMap(pkg.optionalDependencies), ...stringMap(pkg.dependencies) },
  };
}
