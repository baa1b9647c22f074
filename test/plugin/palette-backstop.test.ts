/**
 * The palette's pieces below the entry points, on real tarballs made with npm: what the gate reads
 * from a tarball (without unpacking or running it), the quarantine's `npm pack` that runs none of a
 * package's scripts, and the backstop hooks that let through only the released tarball, and the
 * libraries of the running flows.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Quarantine } from '../../plugin/palette/quarantine.js';
import { Releases, preInstallHook, preUninstallHook } from '../../plugin/palette/releases.js';
import { inspectTarball, integrityOf } from '../../plugin/palette/tarball.js';
import type { Flows } from '../../protocol/index.js';
import { NPM_CLI, makeModule, type TestModule } from './palette-modules.js';

let work: string;
let mod: TestModule;
let other: TestModule;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'countersign-palette-unit-'));
  mod = makeModule(work, {
    name: 'node-red-contrib-cs-unit',
    version: '1.2.3',
    type: 'cs-unit',
    extraScripts: {
      prepack: `node -e "require('fs').writeFileSync('${join(work, 'prepack-ran')}', 'x')"`,
      test: 'echo not an install script',
    },
  });
  other = makeModule(join(work, 'b'), {
    name: 'node-red-contrib-cs-unit',
    version: '1.2.3',
    type: 'cs-other',
  });
});

describe('inspectTarball', () => {
  it('reads name, version, node types, install scripts and integrity from the bytes', async () => {
    const facts = await inspectTarball(mod.bytes);
    expect(facts).toMatchObject({
      name: mod.name,
      version: '1.2.3',
      types: ['cs-unit'],
      size: mod.bytes.length,
      integrity: integrityOf(mod.bytes),
      plugins: [],
    });
    expect(Object.keys(facts.scripts)).toEqual(['postinstall']);
    expect(existsSync(mod.marker)).toBe(false);
  });

  it('names npm’s implicit node-gyp install for a package with a binding.gyp', async () => {
    const folder = join(work, 'native');
    const native = makeModule(folder, {
      name: 'node-red-contrib-cs-native',
      version: '1.0.0',
      type: 'cs-native',
    });
    writeFileSync(join(native.folder, 'binding.gyp'), '{"targets": []}');
    const pkg = JSON.parse(readFileSync(join(native.folder, 'package.json'), 'utf8')) as {
      scripts: object;
    };
    pkg.scripts = {};
    writeFileSync(join(native.folder, 'package.json'), JSON.stringify(pkg));
    const q = new Quarantine(folder, { execPath: process.execPath, npmCli: NPM_CLI });
    const packed = await q.pack(native.folder);
    expect((await inspectTarball(packed.bytes)).scripts).toEqual({ install: 'node-gyp rebuild' });
  });

  it('refuses bytes that are not a Node-RED module tarball', async () => {
    await expect(inspectTarball(Buffer.from('not a tarball'))).rejects.toMatchObject({
      code: 'ERR_BAD_REQUEST',
    });
  });
});

describe('the quarantine', () => {
  it('packs a folder without running its scripts, and keeps the tarball by its sha512', async () => {
    const q = new Quarantine(work, { execPath: process.execPath, npmCli: NPM_CLI });
    const packed = await q.pack(mod.folder);
    expect(existsSync(join(work, 'prepack-ran'))).toBe(false);
    expect(packed.path).toBe(q.pathOf(packed.integrity));
    expect(packed.path.startsWith(join(work, 'countersign-gate', 'quarantine'))).toBe(true);
    expect((await q.read(packed.integrity)).equals(packed.bytes)).toBe(true);
  });

  it('refuses to read back a tarball whose bytes changed', async () => {
    const q = new Quarantine(work, { execPath: process.execPath, npmCli: NPM_CLI });
    const { integrity, path } = await q.store(mod.bytes);
    writeFileSync(path, other.bytes);
    await expect(q.read(integrity)).rejects.toMatchObject({ code: 'ERR_APPLY_FAILED' });
  });

  it('tidies away tarballs nothing holds or installs from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-tidy-'));
    const q = new Quarantine(dir, { execPath: process.execPath, npmCli: NPM_CLI });
    const held = await q.store(mod.bytes);
    const installed = await q.store(other.bytes);
    const stray = await q.store(Buffer.from('stray'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        dependencies: { x: `file:countersign-gate/quarantine/${installed.path.split('/').pop()}` },
      }),
    );
    await q.tidy(() => [{ integrity: held.integrity }]);
    expect([held.path, installed.path, stray.path].map((p) => existsSync(p))).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('keeps the tarball of a change held while the tidy runs (stored, then proposed meanwhile)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-tidy-'));
    const q = new Quarantine(dir, { execPath: process.execPath, npmCli: NPM_CLI });
    const stray = await q.store(Buffer.from('stray'));
    const proposed = await q.store(mod.bytes);
    let held: Array<{ integrity: string }> = [];
    // A settled change starts a tidy; the new change's proposal registers before it deletes.
    const tidying = q.tidy(() => held);
    held = [{ integrity: proposed.integrity }];
    await tidying;
    expect(existsSync(proposed.path)).toBe(true);
    expect(existsSync(stray.path)).toBe(false);
  });
});

describe('the preInstall backstop', () => {
  const noFlows = (): Flows => [];

  it('refuses any install no approval released', async () => {
    const hook = preInstallHook(new Releases(), noFlows);
    await expect(
      hook({ module: mod.name, version: '1.2.3', url: mod.tarball, isUpgrade: false }),
    ).rejects.toThrow(/not approved/);
  });

  it('lets through the released tarball, and refuses another tarball under the same name', async () => {
    const releases = new Releases();
    const hook = preInstallHook(releases, noFlows);
    const withdraw = releases.grant({
      kind: 'install',
      name: mod.name,
      integrity: integrityOf(mod.bytes),
    });
    await expect(
      hook({ module: mod.name, url: mod.tarball, isUpgrade: false }),
    ).resolves.toBeUndefined();
    await expect(hook({ module: mod.name, url: other.tarball, isUpgrade: false })).rejects.toThrow(
      /other than the approved/,
    );
    withdraw();
    await expect(hook({ module: mod.name, url: mod.tarball, isUpgrade: false })).rejects.toThrow(
      /not approved/,
    );
  });

  it('lets Node-RED install a library a running function node lists, and no other', async () => {
    const flows: Flows = [
      { id: 'f', type: 'function', z: 't', libs: [{ var: 'dayjs', module: 'dayjs@1.11.13' }] },
      { id: 'g', type: 'function', z: 't', d: true, libs: [{ var: 'x', module: 'left-pad' }] },
    ];
    const hook = preInstallHook(new Releases(), () => flows);
    await expect(
      hook({ module: 'dayjs', version: '1.11.13', dir: work, args: [] }),
    ).resolves.toBeUndefined();
    await expect(hook({ module: 'dayjs', version: '2.0.0', dir: work, args: [] })).rejects.toThrow(
      /not approved/,
    );
    await expect(hook({ module: 'left-pad', dir: work, args: [] })).rejects.toThrow(/not approved/);
    // A palette install of the same name is not a library install.
    await expect(
      hook({ module: 'dayjs', version: '1.11.13', url: '/x.tgz', isUpgrade: false }),
    ).rejects.toThrow();
  });

  it('lets a removal through preUninstall only while released', async () => {
    const releases = new Releases();
    const hook = preUninstallHook(releases);
    await expect(hook({ module: mod.name })).rejects.toThrow(/not approved/);
    const withdraw = releases.grant({ kind: 'remove', name: mod.name });
    await expect(hook({ module: mod.name })).resolves.toBeUndefined();
    withdraw();
    await expect(hook({ module: mod.name })).rejects.toThrow(/not approved/);
  });
});
