/**
 * The module descriptor and change of 7.1: one strict parser (every key, nothing more, printable
 * names, an integrity exactly when a tarball is installed), one canonical text, one change computed
 * from the descriptor and the running flows, and the risk rule of palette changes.
 */
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  functionLibsOf,
  moduleChange,
  moduleDescriptorText,
  parseModuleBlob,
  parseModuleDescriptor,
  riskOf,
  riskOfModule,
  type Flows,
  type ModuleDescriptor,
} from '../../protocol/index.js';
import { sampleDescriptor } from '../helpers/module-proposal.js';

const FLOWS: Flows = [
  { id: 't1', type: 'tab', label: 'Roof' },
  { id: 't2', type: 'tab', label: 'Garden' },
  { id: 's1', type: 'subflow', name: 'Sensor kit' },
  { id: 'n1', type: 'weather-now', z: 't1' },
  { id: 'n2', type: 'weather-now', z: 't1' },
  { id: 'n3', type: 'weather-forecast', z: 's1' },
  { id: 'n4', type: 'debug', z: 't2' },
  { id: 'c1', type: 'weather-forecast' },
];

describe('parseModuleDescriptor', () => {
  it('accepts what the gate makes and returns it unchanged', () => {
    const d = sampleDescriptor();
    expect(parseModuleDescriptor(structuredClone(d))).toEqual(d);
  });

  const refusals: Array<[string, Record<string, unknown>]> = [
    ['an unknown key', { extra: 1 }],
    ['an unknown action', { action: 'upgrade' }],
    ['a name that is no package name', { name: 'Bad Name!' }],
    ['an invisible character in a type', { types: ['weather\u200bnow'] }],
    ['a right-to-left override in the origin', { origin: 'evil\u202Egpj.tgz' }],
    ['an install without integrity', { integrity: null }],
    ['an integrity that is not sha512', { integrity: 'sha1-abc' }],
    ['a removal with a tarball', { action: 'remove', source: 'installed' }],
    ['an install from "installed"', { source: 'installed' }],
    ['an update without the previous version', { action: 'update' }],
    ['a previous version on an install', { previous: { version: '1.0.0', types: [] } }],
    ['a script that is not an install script', { scripts: { test: 'rm -rf /' } }],
    ['a type listed twice', { types: ['a', 'a'] }],
  ];
  for (const [what, change] of refusals) {
    it(`refuses ${what}`, () => {
      expect(() => parseModuleDescriptor({ ...sampleDescriptor(), ...change })).toThrow(
        expect.objectContaining({ code: 'ERR_FLOWS_INVALID' }),
      );
    });
  }

  it('refuses a missing key', () => {
    const d: Record<string, unknown> = { ...sampleDescriptor() };
    delete d.dependencies;
    expect(() => parseModuleDescriptor(d)).toThrow(/dependencies is missing/);
  });
});

describe('the target blob', () => {
  it('is the canonical JSON of the descriptor, and parses back to it', () => {
    const d = sampleDescriptor();
    const text = moduleDescriptorText(d);
    expect(text).toBe(canonicalJson(d));
    expect(parseModuleBlob(text)).toEqual(d);
  });

  it('refuses a blob that is not in canonical form, so one descriptor has one target', () => {
    const d = sampleDescriptor();
    expect(() => parseModuleBlob(JSON.stringify(d, null, 2))).toThrow(/canonical/);
    // A duplicate key would hide a value from a reader that keeps the first one.
    const text = moduleDescriptorText(d);
    const sneaky = text.replace('{"action":"install"', '{"action":"remove","action":"install"');
    expect(() => parseModuleBlob(sneaky)).toThrow(/canonical/);
  });
});

describe('moduleChange', () => {
  it('is one change per deployment, naming the flows that use its types', () => {
    const change = moduleChange(sampleDescriptor(), FLOWS);
    expect(change).toMatchObject({
      id: 'module:node-red-contrib-weather',
      kind: 'module',
      op: 'added',
      flow: null,
    });
    expect(change.module!.usedBy).toEqual([
      { flow: { id: 't1', label: 'Roof' }, types: ['weather-now'], nodes: 2 },
      { flow: { id: 's1', label: 'Sensor kit' }, types: ['weather-forecast'], nodes: 1 },
      { flow: null, types: ['weather-forecast'], nodes: 1 },
    ]);
  });

  it('counts the previous types of an update as used too', () => {
    const d = sampleDescriptor({
      action: 'update',
      types: ['weather-now'],
      previous: { version: '2.0.0', types: ['weather-forecast'] },
    });
    expect(moduleChange(d, FLOWS).op).toBe('changed');
    expect(moduleChange(d, FLOWS).module!.usedBy.map((u) => u.nodes)).toEqual([2, 1, 1]);
  });

  it('does not depend on the order of the flows array beyond listing order', () => {
    const a = moduleChange(sampleDescriptor(), FLOWS).module!.usedBy;
    const b = moduleChange(sampleDescriptor(), [...FLOWS].reverse()).module!.usedBy;
    expect(new Set(b.map((u) => JSON.stringify(u)))).toEqual(
      new Set(a.map((u) => JSON.stringify(u))),
    );
  });
});

describe('the risk of a palette change', () => {
  const removal: Partial<ModuleDescriptor> = {
    action: 'remove',
    source: 'installed',
    integrity: null,
    size: null,
    scripts: {},
    origin: '',
  };
  it('is high for every install and update, since npm and the module run code', () => {
    expect(riskOfModule({ action: 'install', name: 'x', scripts: {} })).toBe('high');
    expect(riskOfModule({ action: 'update', name: 'x', scripts: {} })).toBe('high');
    expect(riskOf('module', '')).toBe('high');
  });
  it('is high when there is any install script', () => {
    expect(
      riskOfModule({ action: 'disable', name: 'x', scripts: { install: 'node-gyp rebuild' } }),
    ).toBe('high');
  });
  it('is high for an enable (a node set’s code is loaded), medium for a removal or disable', () => {
    expect(riskOfModule({ action: 'enable', name: 'x', scripts: {} })).toBe('high');
    expect(moduleChange(sampleDescriptor(removal), FLOWS).risk).toBe('medium');
    expect(riskOfModule({ action: 'disable', name: 'x', scripts: {} })).toBe('medium');
  });
  it('is high for removing or disabling Countersign itself', () => {
    expect(
      moduleChange(sampleDescriptor({ ...removal, name: 'node-red-contrib-countersign' }), FLOWS)
        .risk,
    ).toBe('high');
  });
});

describe('function libraries (item 5)', () => {
  it('reads each libs entry with its version, as Node-RED parses a module spec', () => {
    expect(
      functionLibsOf({
        libs: [
          { var: 'dayjs', module: 'dayjs@1.11.13' },
          { var: 'aws', module: '@aws-sdk/client-s3@3.600.0' },
          { var: 'lodash', module: 'lodash' },
          { var: 'fp', module: 'lodash/fp' },
        ],
      }),
    ).toEqual([
      { var: 'dayjs', module: 'dayjs', subpath: '', version: '1.11.13' },
      { var: 'aws', module: '@aws-sdk/client-s3', subpath: '', version: '3.600.0' },
      { var: 'lodash', module: 'lodash', subpath: '', version: null },
      { var: 'fp', module: 'lodash', subpath: '/fp', version: null },
    ]);
  });
  it('keeps a function node with libraries high risk', () => {
    expect(riskOf('node', 'function')).toBe('high');
  });
});
