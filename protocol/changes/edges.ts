import type { FlowNode } from '../flows.js';
import type { Edge } from './types.js';

/** Node types whose `links` property names other link nodes. */
export const LINK_TYPES: ReadonlySet<string> = new Set(['link in', 'link out', 'link call']);

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * The edges a node's own properties describe: its `wires` (from the node), and for link nodes their
 * `links`. A `link out` or `link call` names its targets; a `link in` names its sources, so its edges
 * point at it.
 */
export function edgesOf(node: FlowNode): Edge[] {
  const edges: Edge[] = [];
  if (Array.isArray(node.wires)) {
    node.wires.forEach((port: unknown, index: number) => {
      for (const to of stringsOf(port)) edges.push({ from: node.id, port: index, to, via: 'wire' });
    });
  }
  if (LINK_TYPES.has(node.type)) {
    for (const other of stringsOf(node.links)) {
      edges.push(
        node.type === 'link in'
          ? { from: other, port: 0, to: node.id, via: 'link' }
          : { from: node.id, port: 0, to: other, via: 'link' },
      );
    }
  }
  return edges;
}

function keyOf(edge: Edge): string {
  return `${edge.from}\u0000${edge.port}\u0000${edge.to}\u0000${edge.via ?? 'wire'}`;
}

function compareEdges(a: Edge, b: Edge): number {
  return a.from < b.from
    ? -1
    : a.from > b.from
      ? 1
      : a.port - b.port ||
        (a.to < b.to ? -1 : a.to > b.to ? 1 : 0) ||
        (a.via ?? '').localeCompare(b.via ?? '');
}

/** Sorted, without repeats: the same set always gives the same list. */
export function sortEdges(edges: Edge[]): Edge[] {
  const unique = new Map<string, Edge>();
  for (const edge of edges) unique.set(keyOf(edge), edge);
  return [...unique.values()].sort(compareEdges);
}

/** Edges in `after` but not `before`, and the other way round, each sorted. */
export function diffEdges(before: Edge[], after: Edge[]): { added: Edge[]; removed: Edge[] } {
  const beforeKeys = new Set(before.map(keyOf));
  const afterKeys = new Set(after.map(keyOf));
  return {
    added: sortEdges(after.filter((e) => !beforeKeys.has(keyOf(e)))),
    removed: sortEdges(before.filter((e) => !afterKeys.has(keyOf(e)))),
  };
}
