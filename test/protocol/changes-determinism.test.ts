import { describe, expect, it } from 'vitest';
import { computeChanges, revOf, type Change, type Flows } from '../../protocol/index.js';
import { historyPairs, loadFlows, realFlowsFiles } from '../helpers/fixtures.js';
import { rng } from '../helpers/mutations.js';

function shuffled(flows: Flows, seed: number): Flows {
  const random = rng(seed);
  const out = [...flows];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function byId(changes: Change[]): Change[] {
  return [...changes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// Pairs whose files hold no repeated id: with repeated ids, which copy runs depends on array order.
const pairs = historyPairs().filter(([, a, b]) => {
  const unique = (flows: Flows) => new Set(flows.map((n) => n.id)).size === flows.length;
  return unique(loadFlows(a)) && unique(loadFlows(b));
});

describe('the change list is deterministic', () => {
  it.each(pairs)('gives the same ids in the same order twice for %s', (_l, a, b) => {
    const first = computeChanges(loadFlows(a), loadFlows(b), {});
    const second = computeChanges(loadFlows(a), loadFlows(b), {});
    expect(second).toEqual(first);
    expect(second.map((c) => c.id)).toEqual(first.map((c) => c.id));
  });

  it.each(pairs)('does not depend on the order of the flows array for %s', async (_l, a, b) => {
    const base = loadFlows(a);
    const target = loadFlows(b);
    const reordered = shuffled(target, target.length);
    expect(await revOf(reordered)).not.toBe(await revOf(target));
    const expected = byId(computeChanges(base, target, {}));
    expect(byId(computeChanges(shuffled(base, 7), reordered, {}))).toEqual(expected);
  });

  it.each(realFlowsFiles().filter(([, p]) => loadFlows(p).length > 1))(
    'finds no change when only the order differs in %s',
    async (_name, path) => {
      const flows = loadFlows(path);
      const reordered = shuffled(flows, 42);
      expect(await revOf(reordered)).not.toBe(await revOf(flows));
      expect(computeChanges(flows, reordered, {})).toEqual([]);
    },
  );
});
