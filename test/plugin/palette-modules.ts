/**
 * Small Node-RED modules made in the test, packed with Node-RED's own npm (`npm pack`, nothing
 * fetched): one node type each, and a `postinstall` script that writes a marker file, so a test can
 * tell whether npm ever installed (and ran) the package.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunningNodeRed } from '../helpers/node-red.js';

const require = createRequire(import.meta.url);

/** Node-RED's bundled npm (the one its installer runs). */
export const NPM_CLI = join(
  dirname(createRequire(require.resolve('@node-red/registry')).resolve('npm/package.json')),
  'bin',
  'npm-cli.js',
);

/** A packed test module. */
export type TestModule = {
  name: string;
  version: string;
  type: string;
  /** The folder it was packed from. */
  folder: string;
  tarball: string;
  bytes: Buffer;
  /** Written by its postinstall script. */
  marker: string;
};

/** Makes and packs a module `name@version` adding node type `type`. */
export function makeModule(
  root: string,
  options: { name: string; version: string; type: string; extraScripts?: Record<string, string> },
): TestModule {
  const { name, version, type } = options;
  const folder = join(root, `${name}-${version}-src`);
  mkdirSync(folder, { recursive: true });
  const marker = join(root, `${name}-${version}.installed`);
  const write = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'installed')`;
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify(
      {
        name,
        version,
        description: 'a Countersign test module',
        license: 'MIT',
        scripts: {
          postinstall: `node -e "${write.replace(/"/g, '\\"')}"`,
          ...options.extraScripts,
        },
        'node-red': { nodes: { [type]: 'node.js' } },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(folder, 'node.js'),
    `module.exports = function (RED) {\n  function Node(config) { RED.nodes.createNode(this, config); }\n  RED.nodes.registerType(${JSON.stringify(type)}, Node);\n};\n`,
  );
  writeFileSync(
    join(folder, 'node.html'),
    `<script type="text/javascript">RED.nodes.registerType(${JSON.stringify(type)}, {category: 'function', defaults: {}, inputs: 1, outputs: 1, label: ${JSON.stringify(type)}});</script>\n` +
      `<script type="text/html" data-template-name="${type}"></script>\n<script type="text/html" data-help-name="${type}"><p>test</p></script>\n`,
  );
  const out = mkdtempSync(join(tmpdir(), 'countersign-pack-'));
  const json = execFileSync(
    process.execPath,
    [NPM_CLI, 'pack', '--ignore-scripts', '--json', '--pack-destination', out, folder],
    { encoding: 'utf8' },
  );
  const tarball = join(out, (JSON.parse(json) as Array<{ filename: string }>)[0]!.filename);
  return { name, version, type, folder, tarball, bytes: readFileSync(tarball), marker };
}

/** `POST /nodes` with the tarball as the Palette Manager uploads it (multipart, field `tarball`). */
export function uploadModule(
  nr: Pick<RunningNodeRed, 'editorUrl'>,
  mod: TestModule,
): Promise<Response> {
  const form = new FormData();
  form.append('tarball', new Blob([new Uint8Array(mod.bytes)]), `${mod.name}-${mod.version}.tgz`);
  return fetch(`${nr.editorUrl}/nodes`, { method: 'POST', body: form });
}

/** A JSON request to the admin API's palette routes. */
export function nodesRequest(
  nr: Pick<RunningNodeRed, 'editorUrl'>,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${nr.editorUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The deployment id of a held palette answer: 423, JSON `{code: 'ERR_HELD', message}`. */
export async function heldId(res: Response): Promise<string> {
  const text = await res.text();
  if (res.status !== 423) throw new Error(`expected 423, got ${res.status}: ${text}`);
  const body = JSON.parse(text) as { code: string; message: string };
  if (body.code !== 'ERR_HELD') throw new Error(`expected ERR_HELD: ${text}`);
  return /Deployment ([0-9a-f]{12}) is held for approval/.exec(body.message)![1]!;
}

/** The modules Node-RED's registry lists (`GET /nodes`, JSON): module name → node sets. */
export async function nodeList(
  nr: Pick<RunningNodeRed, 'editorUrl'>,
): Promise<
  Array<{ id: string; module: string; types: string[]; enabled: boolean; version: string }>
> {
  const res = await fetch(`${nr.editorUrl}/nodes`, { headers: { accept: 'application/json' } });
  return (await res.json()) as Array<{
    id: string;
    module: string;
    types: string[];
    enabled: boolean;
    version: string;
  }>;
}

/** Everything under `<userDir>/node_modules` and the user directory's package files, for "nothing changed". */
export function installedState(userDir: string): string {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '(absent)';
    }
  };
  const list = execFileSync(
    'find',
    ['.', '-path', './countersign-gate', '-prune', '-o', '-print'],
    {
      cwd: userDir,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((l) => /^\.\/(node_modules|nodes)(\/|$)/.test(l))
    .sort()
    .join('\n');
  return `${list}\n--package.json\n${read(join(userDir, 'package.json'))}\n--lock\n${read(join(userDir, 'package-lock.json'))}`;
}
