/** Big flows for benchmarks, built from the real users' flows of the shared fixtures. */
import { loadFlows, realFlowsFiles } from '../test/helpers/fixtures.js';
import { cloneFlows, mutate, rng, type MutationName } from '../test/helpers/mutations.js';
import type { FlowNode, Flows } from '../protocol/index.js';

/** Renames every id of a flows file (and every reference to one) with a suffix, so copies can sit side by side. */
function withSuffix(flows: Flows, suffix: string): Flows {
  const ids = new Set(flows.map((n) => n.id));
  const rename = (value: unknown): unknown => {
    if (typeof value === 'string') return ids.has(value) ? `${value}${suffix}` : value;
    if (Array.isArray(value)) return value.map(rename);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rename(v)]));
    }
    return value;
  };
  return flows.map((node) => rename(node) as FlowNode);
}

/** Exactly `size` nodes: the real flows files, copied with fresh ids until there are enough. */
export function bigFlows(size: number): Flows {
  const files = realFlowsFiles().map(([, path]) => loadFlows(path));
  const out: Flows = [];
  for (let copy = 0; out.length < size; copy++) {
    for (const flows of files) {
      out.push(...withSuffix(flows, `~${copy}`));
      if (out.length >= size) break;
    }
  }
  return out.slice(0, size);
}

const MIX: MutationName[] = [
  'property',
  'function-code',
  'add',
  'remove',
  'rewire',
  'move-tab',
  'layout',
];

/** A copy of `base` with mutations that make `changes` distinct changes. */
export function mutatedCopy(base: Flows, changes: number, seed = 1): Flows {
  const target = cloneFlows(base);
  const random = rng(seed);
  const used = new Set<string>();
  const counter = { n: 0 };
  const ids = new Set<string>();
  for (let i = 0; ids.size < changes; i++) {
    const mutation = mutate(target, MIX[i % MIX.length]!, random, used, counter);
    for (const id of mutation?.changeIds ?? []) ids.add(id);
  }
  return target;
}
