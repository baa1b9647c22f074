/**
 * The layering of the parts (issue 14, CONVENTIONS): protocol/ imports nothing else (and no Node
 * built-in: it runs in the browser); the server, the plugin and the phone import protocol/ and not
 * each other. The one exception is the plugin's embedding of the server, in the files named below.
 * Every import statement is read: static `import … from`, `export … from`, `import()` and `require()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

type Part = 'protocol' | 'server' | 'plugin' | 'pwa';

const PARTS: Record<Part, string> = {
  protocol: 'protocol',
  server: 'server',
  plugin: 'plugin',
  pwa: 'pwa/src',
};

/** What each part may import besides itself and npm packages. */
const ALLOWED: Record<Part, Part[]> = {
  protocol: [],
  server: ['protocol'],
  plugin: ['protocol'],
  pwa: ['protocol'],
};

/** The plugin embeds the approval server (DESIGN 2): these files start it and check its settings. */
const EMBEDDING: Record<string, string> = {
  'plugin/link/connect.ts': 'starts the embedded server',
  'plugin/settings.ts': "checks the embedded server's trustProxy setting with the server's parser",
};

const SPECIFIER =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;

function filesOf(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesOf(path);
    return /\.(ts|cjs|js)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier a file names in an import statement. */
function specifiersOf(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[2]!);
}

/** The part a repository path belongs to, or null (tests, bench, bin, dist, node_modules). */
function partOf(path: string): Part | null {
  for (const [part, dir] of Object.entries(PARTS) as Array<[Part, string]>) {
    if (path === dir || path.startsWith(`${dir}/`)) return part;
  }
  return null;
}

type Import = { file: string; from: Part; specifier: string; to: Part | 'node' | 'package' };

function importsOf(part: Part): Import[] {
  return filesOf(PARTS[part]).flatMap((file) =>
    specifiersOf(readFileSync(join(ROOT, file), 'utf8')).map((specifier): Import => {
      if (specifier.startsWith('node:')) return { file, from: part, specifier, to: 'node' };
      if (!specifier.startsWith('.')) return { file, from: part, specifier, to: 'package' };
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
      return { file, from: part, specifier, to: partOf(target) ?? part };
    }),
  );
}

function broken(part: Part): string[] {
  return importsOf(part)
    .filter((i) => {
      if (i.to === 'package' || i.to === part) return false;
      if (i.to === 'node') return part === 'protocol';
      if (ALLOWED[part].includes(i.to)) return false;
      return !(part === 'plugin' && i.to === 'server' && i.file in EMBEDDING);
    })
    .map((i) => `${i.file} imports ${i.specifier} (${i.to})`);
}

describe('layering', () => {
  it('reads every kind of import statement', () => {
    const source = [
      "import { a } from '../protocol/index.js';",
      "import type { B } from './b.js';",
      "export * from './c.js';",
      "import './side-effect.js';",
      "const d = await import('../../server/index.js');",
      "const e = require('node:path');",
    ].join('\n');
    expect(specifiersOf(source)).toEqual([
      '../protocol/index.js',
      './b.js',
      './c.js',
      './side-effect.js',
      '../../server/index.js',
      'node:path',
    ]);
  });

  it('finds the imports it checks (the plugin embedding the server among them)', () => {
    const plugin = importsOf('plugin');
    expect(plugin.filter((i) => i.to === 'protocol').length).toBeGreaterThan(20);
    expect(plugin.some((i) => i.file === 'plugin/link/connect.ts' && i.to === 'server')).toBe(true);
    expect(importsOf('pwa').some((i) => i.to === 'protocol')).toBe(true);
  });

  it('protocol/ imports nothing else and no Node built-in', () => {
    expect(broken('protocol')).toEqual([]);
  });

  it('the server imports protocol/, not the plugin or the phone', () => {
    expect(broken('server')).toEqual([]);
  });

  it('the plugin imports protocol/, and the server only where it embeds it', () => {
    expect(broken('plugin')).toEqual([]);
  });

  it('the phone imports protocol/, not the server or the plugin', () => {
    expect(broken('pwa')).toEqual([]);
  });
});
