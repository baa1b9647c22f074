import { describe, expect, it } from 'vitest';
import { computeChanges, type Change } from '../../protocol/index.js';
import { loadFlows, realFlowsFiles } from '../helpers/fixtures.js';
import { cloneFlows, MUTATIONS, mutate, rng, type MutationName } from '../helpers/mutations.js';

const files = realFlowsFiles();
const applied = new Map<MutationName, number>();

const expectedKind: Record<MutationName, { kind: Change['kind']; op: Change['op'] }> = {
  add: { kind: 'node', op: 'added' },
  remove: { kind: 'node', op: 'removed' },
  property: { kind: 'node', op: 'changed' },
  'function-code': { kind: 'node', op: 'changed' },
  rewire: { kind: 'wiring', op: 'changed' },
  relink: { kind: 'wiring', op: 'changed' },
  'move-tab': { kind: 'node', op: 'changed' },
  layout: { kind: 'layout', op: 'changed' },
  'rename-tab': { kind: 'flow', op: 'changed' },
  'edit-subflow': { kind: 'subflow', op: 'changed' },
  credential: { kind: 'credentials', op: 'changed' },
};

describe('the change model on real users’ flows', () => {
  it.each(files)('finds no change between %s and itself', (_name, path) => {
    const flows = loadFlows(path);
    expect(computeChanges(flows, loadFlows(path), {})).toEqual([]);
  });

  // Every (file, mutation) pair the file offers something for: a file with one tab has no tab to move to.
  const cases = files.flatMap(([name, path]) => {
    const base = loadFlows(path);
    return MUTATIONS.flatMap((mutation) => {
      const target = cloneFlows(base);
      const done = mutate(target, mutation, rng(mutation.length * 7919 + path.length));
      return done === undefined ? [] : [{ label: `${name}: ${mutation}`, base, target, done }];
    });
  });

  it.each(cases)('reports exactly the change of $label', ({ base, target, done }) => {
    applied.set(done.name, (applied.get(done.name) ?? 0) + 1);
    const changes = computeChanges(base, target, done.credentials ?? {});
    expect(changes.map((c) => c.id).sort()).toEqual([...done.changeIds].sort());
    for (const change of changes) {
      expect(change.kind).toBe(expectedKind[done.name].kind);
      expect(change.op).toBe(expectedKind[done.name].op);
    }
    const subjects = changes.flatMap((c) => c.nodes ?? [c.node?.id]);
    for (const id of done.touched) expect(subjects).toContain(id);
    if (done.name === 'move-tab') {
      expect(Object.keys(changes[0]!.delta as object)).toContain('z');
    }
    if (done.name === 'function-code') {
      expect(changes[0]!.risk).toBe('high');
      expect(Object.keys(changes[0]!.delta as object)).toEqual(['func']);
    }
    if (done.name === 'credential') {
      expect(changes[0]!.fields).toEqual(['password']);
    }
  });

  it('applied every kind of mutation to several of the real files', () => {
    for (const name of MUTATIONS) {
      expect(applied.get(name) ?? 0, name).toBeGreaterThanOrEqual(
        ['relink', 'edit-subflow'].includes(name) ? 5 : 15,
      );
    }
  });
});
