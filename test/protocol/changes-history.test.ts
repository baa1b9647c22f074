import { describe, expect, it } from 'vitest';
import { computeChanges, type FlowNode, type Flows } from '../../protocol/index.js';
import { historyPairs, loadFlows } from '../helpers/fixtures.js';

/** Canonical text of a JSON value with keys sorted at every level: written here, independent of the model. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** DESIGN 5.2: `wires` and link nodes' `links` are edge sets, so their order is not a change. */
function asEdgeSets(node: FlowNode): FlowNode {
  const sortedSet = (list: unknown): unknown =>
    Array.isArray(list) ? [...new Set(list as string[])].sort() : list;
  const out: FlowNode = { ...node };
  if (Array.isArray(node.wires)) out.wires = node.wires.map(sortedSet);
  if (/^link (in|out|call)$/.test(node.type)) out.links = sortedSet(node.links);
  return out;
}

/** Every copy of every id, as canonical text; ids whose copies differ between versions have changed. */
function copiesById(flows: Flows): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const node of flows) {
    out.set(node.id, [...(out.get(node.id) ?? []), canonical(asEdgeSets(node))]);
  }
  for (const copies of out.values()) copies.sort();
  return out;
}

function differingIds(base: Flows, target: Flows): Set<string> {
  const before = copiesById(base);
  const after = copiesById(target);
  const ids = new Set([...before.keys(), ...after.keys()]);
  return new Set([...ids].filter((id) => canonical(before.get(id)) !== canonical(after.get(id))));
}

describe('the change model on real deployments', () => {
  it.each(historyPairs())(
    'accounts for every node that differs, and no other, in %s',
    (_label, basePath, targetPath) => {
      const base = loadFlows(basePath);
      const target = loadFlows(targetPath);
      const changes = computeChanges(base, target, {});
      const subjects = new Set(changes.flatMap((c) => c.nodes ?? [c.node!.id]));
      expect([...subjects].sort()).toEqual([...differingIds(base, target)].sort());
      // Ids are unique within the deployment.
      expect(new Set(changes.map((c) => c.id)).size).toBe(changes.length);
    },
  );

  it('found real changes of every kind in the histories', () => {
    const kinds = new Set<string>();
    for (const [, basePath, targetPath] of historyPairs()) {
      for (const c of computeChanges(loadFlows(basePath), loadFlows(targetPath), {})) {
        kinds.add(`${c.kind}/${c.op}`);
      }
    }
    for (const kind of [
      'node/added',
      'node/removed',
      'node/changed',
      'wiring/changed',
      'layout/changed',
    ]) {
      expect(kinds).toContain(kind);
    }
    for (const kind of ['flow/added', 'flow/changed', 'subflow/changed', 'config/changed']) {
      expect(kinds).toContain(kind);
    }
  });
});
