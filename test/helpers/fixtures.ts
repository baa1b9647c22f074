import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlows, type Flows } from '../../protocol/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The shared fixtures: real Node-RED flows. They sit beside the checkout (`../shared/fixtures`);
 * `COUNTERSIGN_FIXTURES` points elsewhere. Missing fixtures fail the run: they are never skipped.
 */
export const FIXTURES_DIR = (() => {
  const candidates = [process.env.COUNTERSIGN_FIXTURES, join(root, '../shared/fixtures')];
  for (const dir of candidates) if (dir && existsSync(join(dir, 'real-flows'))) return dir;
  throw new Error(
    `Fixtures not found: set COUNTERSIGN_FIXTURES or place them at ${join(root, '../shared/fixtures')}`,
  );
})();

/** A fixture file's flows. */
export function loadFlows(path: string): Flows {
  return parseFlows(JSON.parse(readFileSync(path, 'utf8')));
}

/** Every real user's flows file: `[name, path]`. */
export function realFlowsFiles(): Array<[string, string]> {
  const dir = join(FIXTURES_DIR, 'real-flows');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.replace(/__flows\.json$/, ''), join(dir, f)]);
}

/** Every neighbouring pair of versions in the real histories: `[label, basePath, targetPath]`. */
export function historyPairs(): Array<[string, string, string]> {
  const dir = join(FIXTURES_DIR, 'real-history');
  const pairs: Array<[string, string, string]> = [];
  for (const repo of readdirSync(dir).sort()) {
    const folder = join(dir, repo);
    if (!statSync(folder).isDirectory()) continue;
    const versions = readdirSync(folder)
      .filter((f) => f.endsWith('.json'))
      .sort();
    for (let i = 1; i < versions.length; i++) {
      pairs.push([
        `${repo} ${versions[i - 1]!.slice(0, 2)}→${versions[i]!.slice(0, 2)}`,
        join(folder, versions[i - 1]!),
        join(folder, versions[i]!),
      ]);
    }
  }
  return pairs;
}

/** Version `n` (its two-digit prefix, `'04'`) of one real history, `repo` its folder. */
export function historyVersion(repo: string, n: string): Flows {
  const dir = join(FIXTURES_DIR, 'real-history', repo);
  const file = readdirSync(dir).find((f) => f.startsWith(`${n}-`));
  if (file === undefined) throw new Error(`no version ${n} of ${repo}`);
  return loadFlows(join(dir, file));
}

/** Node-RED's own example flows: `[name, path]`. */
export function exampleFiles(): Array<[string, string]> {
  const dir = join(FIXTURES_DIR, 'node-red-examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.replace(/\.json$/, ''), join(dir, f)]);
}
