/**
 * T4 on a real Node-RED: every palette path is held before anything is downloaded into Node-RED,
 * unpacked, run or removed, and applied exactly once a device approves. Modules are made in the
 * test; the plugin is loaded from `nodesDir`, so npm in the user directory sees only what the test
 * installs. No network: installs come from an upload or a tarball path.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentDetail } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import {
  heldId,
  installedState,
  makeModule,
  nodeList,
  nodesRequest,
  uploadModule,
  type TestModule,
} from './palette-modules.js';
import { until } from './until.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let nr: RunningNodeRed;
let phone: TestDevice;
let alpha1: TestModule;
let alpha2: TestModule;
let beta: TestModule;
let gamma: TestModule;
let gammaOther: TestModule;

/** Flows on disk at the start that already use `cs-alpha`: they wait for the type until it is installed. */
const FLOWS = [
  { id: 'tab-kitchen', type: 'tab', label: 'Kitchen' },
  { id: 'uses-alpha', type: 'cs-alpha', z: 'tab-kitchen', x: 100, y: 100, wires: [] },
];

beforeAll(async () => {
  nr = await startNodeRed({ plugin: false, settings: { nodesDir: [root] }, flows: FLOWS });
  expect(nr.startError).toBeNull();
  phone = await nr.enrollDevice({ owner: 'alice' });
  const work = join(nr.userDir, '..', `${nr.userDir.split('/').pop()}-modules`);
  alpha1 = makeModule(work, {
    name: 'node-red-contrib-cs-alpha',
    version: '1.0.0',
    type: 'cs-alpha',
  });
  alpha2 = makeModule(work, {
    name: 'node-red-contrib-cs-alpha',
    version: '2.0.0',
    type: 'cs-alpha',
  });
  beta = makeModule(work, { name: 'node-red-contrib-cs-beta', version: '1.0.0', type: 'cs-beta' });
  gamma = makeModule(work, {
    name: 'node-red-contrib-cs-gamma',
    version: '1.0.0',
    type: 'cs-gamma',
  });
  gammaOther = makeModule(join(work, 'other'), {
    name: 'node-red-contrib-cs-gamma',
    version: '1.0.0',
    type: 'cs-gamma-evil',
  });
}, 120_000);

afterAll(async () => {
  await nr?.close();
});

async function detail(id: string): Promise<DeploymentDetail> {
  return phone.deployment(nr.approvalUrl, id);
}

async function finalStatus(id: string): Promise<string> {
  return until(
    nr,
    `deployment ${id} settled`,
    async () => {
      const status = (await detail(id)).status;
      return status === 'approved' || status === 'pending' ? undefined : status;
    },
    60_000,
  );
}

async function approve(id: string): Promise<string> {
  expect((await phone.decide(nr.approvalUrl, id)).status).toBe(200);
  return finalStatus(id);
}

function moduleNames(list: Awaited<ReturnType<typeof nodeList>>): string[] {
  return [...new Set(list.map((s) => s.module))];
}

/** What a held palette change must leave alone. */
async function expectNothingInstalled(mod: TestModule, before: string): Promise<void> {
  expect(existsSync(mod.marker)).toBe(false);
  expect(moduleNames(await nodeList(nr))).not.toContain(mod.name);
  expect(installedState(nr.userDir)).toBe(before);
}

describe('an upload in the Palette Manager', () => {
  let id: string;
  let before: string;

  it('is held: 423 with the deployment id, nothing unpacked, installed or run', async () => {
    before = installedState(nr.userDir);
    const res = await uploadModule(nr, alpha1);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    id = await heldId(res);
    await expectNothingInstalled(alpha1, before);
    // Node-RED's own upload path would have written <userDir>/nodes/<file>.tgz by now.
    expect(existsSync(join(nr.userDir, 'nodes'))).toBe(false);
    expect(nr.status()?.held).toContain(id);
  });

  it('is proposed as one module change describing the exact tarball, with the flows waiting for its type', async () => {
    const d = await detail(id);
    expect(d.type).toBe('module');
    expect(d.changes).toHaveLength(1);
    const change = d.changes[0]!;
    expect(change.id).toBe(`module:${alpha1.name}`);
    expect(change.risk).toBe('high');
    const m = change.module!;
    expect(m.descriptor).toMatchObject({
      action: 'install',
      name: alpha1.name,
      version: '1.0.0',
      size: alpha1.bytes.length,
      types: ['cs-alpha'],
      source: 'upload',
      origin: `${alpha1.name}-1.0.0.tgz`,
    });
    expect(m.descriptor.scripts.postinstall).toContain(alpha1.marker);
    const { createHash } = await import('node:crypto');
    expect(m.descriptor.integrity).toBe(
      `sha512-${createHash('sha512').update(alpha1.bytes).digest('base64')}`,
    );
    expect(m.usedBy).toEqual([
      { flow: { id: 'tab-kitchen', label: 'Kitchen' }, types: ['cs-alpha'], nodes: 1 },
    ]);
  });

  it('installs exactly that tarball through Node-RED once approved: script run, type available', async () => {
    expect(await approve(id)).toBe('applied');
    await until(nr, 'cs-alpha registered', async () =>
      (await nodeList(nr)).some((s) => s.types.includes('cs-alpha')),
    );
    expect(existsSync(alpha1.marker)).toBe(true);
    const lock = JSON.parse(readFileSync(join(nr.userDir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { integrity?: string; version?: string }>;
    };
    expect(lock.packages[`node_modules/${alpha1.name}`]).toMatchObject({ version: '1.0.0' });
    expect(lock.packages[`node_modules/${alpha1.name}`]!.integrity).toBe(
      (await detail(id)).changes[0]!.module!.descriptor.integrity,
    );
  });

  it('refuses to remove a module whose types the flows use, naming the flow, and holds nothing', async () => {
    const res = await nodesRequest(nr, 'DELETE', `/nodes/${alpha1.name}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('type_in_use');
    expect(body.message).toContain('Kitchen');
    expect(nr.status()?.held).toEqual([]);
  });
});

describe('an update', () => {
  it('is held, shows both versions, and once approved installs the new version for the next start', async () => {
    const before = installedState(nr.userDir);
    const id = await heldId(await uploadModule(nr, alpha2));
    expect(existsSync(alpha2.marker)).toBe(false);
    expect(installedState(nr.userDir)).toBe(before);
    const m = (await detail(id)).changes[0]!.module!;
    expect(m.descriptor.action).toBe('update');
    expect(m.descriptor.previous).toEqual({ version: '1.0.0', types: ['cs-alpha'] });
    expect(m.descriptor.version).toBe('2.0.0');

    expect(await approve(id)).toBe('applied');
    expect(existsSync(alpha2.marker)).toBe(true);
    const installed = JSON.parse(
      readFileSync(join(nr.userDir, 'node_modules', alpha2.name, 'package.json'), 'utf8'),
    ) as { version: string };
    expect(installed.version).toBe('2.0.0');
  });
});

describe('an install from a tarball path', () => {
  let id: string;

  it('is held', async () => {
    const before = installedState(nr.userDir);
    id = await heldId(
      await nodesRequest(nr, 'POST', '/nodes', { module: beta.name, url: beta.tarball }),
    );
    await expectNothingInstalled(beta, before);
    const m = (await detail(id)).changes[0]!.module!;
    expect(m.descriptor).toMatchObject({ action: 'install', source: 'file', origin: beta.tarball });
  });

  it('installs from quarantine once approved, not from the path (which may have changed meanwhile)', async () => {
    writeFileSync(beta.tarball, gammaOther.bytes); // the path now holds other bytes
    expect(await approve(id)).toBe('applied');
    await until(nr, 'cs-beta registered', async () =>
      (await nodeList(nr)).some((s) => s.types.includes('cs-beta')),
    );
    expect(existsSync(beta.marker)).toBe(true);
    expect((await nodeList(nr)).some((s) => s.types.includes('cs-gamma-evil'))).toBe(false);
  });
});

describe('a tampered quarantine', () => {
  it('refuses at apply a tarball whose bytes changed after the proposal', async () => {
    const before = installedState(nr.userDir);
    const id = await heldId(await uploadModule(nr, gamma));
    const quarantine = join(nr.userDir, 'countersign-gate', 'quarantine');
    const file = readdirSync(quarantine).find(
      (f) => f.endsWith('.tgz') && readFileSync(join(quarantine, f)).equals(gamma.bytes),
    )!;
    // Same module name and version, another node type: an approval for one tarball installs no other.
    writeFileSync(join(quarantine, file), gammaOther.bytes);
    expect(await approve(id)).toBe('failed');
    expect((await detail(id)).status).toBe('failed');
    await expectNothingInstalled(gamma, before);
    expect(existsSync(gammaOther.marker)).toBe(false);
  });
});

describe('disable, enable and remove', () => {
  const setOf = async (): Promise<{ id: string; enabled: boolean }> =>
    (await nodeList(nr)).find((s) => s.module === beta.name)!;

  it('holds a disable of a whole module, then applies it', async () => {
    const id = await heldId(
      await nodesRequest(nr, 'PUT', `/nodes/${beta.name}`, { enabled: false }),
    );
    expect((await setOf()).enabled).toBe(true);
    const m = (await detail(id)).changes[0]!;
    expect(m.module!.descriptor).toMatchObject({
      action: 'disable',
      sets: [`${beta.name}/cs-beta`],
    });
    expect(m.risk).toBe('medium');
    expect(await approve(id)).toBe('applied');
    expect((await setOf()).enabled).toBe(false);
  });

  it('holds an enable of one node set, then applies it', async () => {
    const set = await setOf();
    const id = await heldId(await nodesRequest(nr, 'PUT', `/nodes/${set.id}`, { enabled: true }));
    expect((await setOf()).enabled).toBe(false);
    expect((await detail(id)).changes[0]!.risk).toBe('high');
    expect(await approve(id)).toBe('applied');
    expect((await setOf()).enabled).toBe(true);
  });

  it('holds a removal, then removes the module', async () => {
    const id = await heldId(await nodesRequest(nr, 'DELETE', `/nodes/${beta.name}`));
    expect(existsSync(join(nr.userDir, 'node_modules', beta.name))).toBe(true);
    expect(moduleNames(await nodeList(nr))).toContain(beta.name);
    expect(await approve(id)).toBe('applied');
    expect(existsSync(join(nr.userDir, 'node_modules', beta.name))).toBe(false);
    expect(moduleNames(await nodeList(nr))).not.toContain(beta.name);
  });

  it('drops a rejected change and installs nothing', async () => {
    const before = installedState(nr.userDir);
    const id = await heldId(await uploadModule(nr, gamma));
    expect((await phone.decide(nr.approvalUrl, id, { verdict: 'reject' })).status).toBe(200);
    await until(nr, 'the rejection seen', async () => !nr.status()?.held.includes(id));
    await expectNothingInstalled(gamma, before);
  });
});

describe('code inside the runtime', () => {
  const require = createRequire(import.meta.url);

  it('holds the internal nodes module’s installModule like the API', async () => {
    const before = installedState(nr.userDir);
    const nodes = nr.RED.runtime._.nodes as unknown as {
      installModule(buffer: Buffer): Promise<unknown>;
    };
    await expect(nodes.installModule(gamma.bytes)).rejects.toMatchObject({ code: 'ERR_HELD' });
    await expectNothingInstalled(gamma, before);
  });

  it('holds the internal enableNode and refuses its disableNode of types in use, changing nothing', async () => {
    const nodes = nr.RED.runtime._.nodes as unknown as {
      enableNode(id: string): Promise<unknown>;
      disableNode(id: string): Promise<unknown>;
    };
    const set = (await nodeList(nr)).find((s) => s.module === alpha1.name)!;
    await expect(nodes.enableNode(set.id)).rejects.toMatchObject({ code: 'ERR_HELD' });
    await expect(nodes.disableNode(set.id)).rejects.toMatchObject({ code: 'type_in_use' });
    expect((await nodeList(nr)).find((s) => s.id === set.id)!.enabled).toBe(true);
  });

  it('cannot install past the gate by calling Node-RED’s installer directly: preInstall refuses', async () => {
    const before = installedState(nr.userDir);
    const installer = require(
      join(dirname(require.resolve('@node-red/registry')), 'installer.js'),
    ) as { installModule(name: string, version: string, url: string): Promise<unknown> };
    await expect(installer.installModule(gamma.name, gamma.version, gamma.tarball)).rejects.toThrow(
      /not approved/,
    );
    await expectNothingInstalled(gamma, before);
  });

  it('cannot disable a node set past the gate through the registry', async () => {
    const registry = require('@node-red/registry') as { disableNode(id: string): Promise<unknown> };
    const set = (await nodeList(nr)).find((s) => s.module === alpha1.name)!;
    await expect(registry.disableNode(set.id)).rejects.toThrow(/not approved/);
    expect((await nodeList(nr)).find((s) => s.id === set.id)!.enabled).toBe(true);
  });
});

describe('an install from a folder', () => {
  it('is held with the folder packed into quarantine, none of its scripts run', async () => {
    const before = installedState(nr.userDir);
    const id = await heldId(await nodesRequest(nr, 'POST', '/nodes', { module: gamma.folder }));
    await expectNothingInstalled(gamma, before);
    const m = (await detail(id)).changes[0]!.module!;
    expect(m.descriptor).toMatchObject({
      action: 'install',
      name: gamma.name,
      source: 'file',
      origin: gamma.folder,
      types: ['cs-gamma'],
    });
  });
});
