import { LINK_TYPES, type FlowNode } from '../flows.js';
import type { Edge } from './types.js';

/**
 * Which of a node's edge properties the edge list shows in full: `wires`, and a link node's `links`.
 * The edge list shows which targets each port reaches; order inside a port, empty ports and an
 * absent property carry no edge. A port that names a target twice (Node-RED delivers twice) or a
 * value outside the canonical shape cannot be read as edges: it is shown raw, as a property.
 */
export type EdgeView = { wires: boolean; links: boolean };

function distinctStrings(list: unknown): boolean {
  if (!Array.isArray(list)) return false;
  const seen = new Set<string>();
  for (const item of list) {
    if (typeof item !== 'string' || seen.has(item)) return false;
    seen.add(item);
  }
  return true;
}

function wiresAsEdges(wires: unknown): boolean {
  return wires === undefined || (Array.isArray(wires) && wires.every(distinctStrings));
}

function linksAsEdges(node: FlowNode): boolean {
  return node.links === undefined || distinctStrings(node.links);
}

/** The edge view of a node alone (added or removed), or of a node compared with its other side. */
export function edgeViewOf(node: FlowNode, other?: FlowNode): EdgeView {
  const links = (n: FlowNode): boolean => LINK_TYPES.has(n.type) && linksAsEdges(n);
  return {
    wires: wiresAsEdges(node.wires) && (other === undefined || wiresAsEdges(other.wires)),
    links: links(node) && (other === undefined || links(other)),
  };
}

/**
 * The edges a node's own properties describe: its `wires` (from the node), and for link nodes their
 * `links`. A `link out` or `link call` names its targets; a `link in` names its sources, so its edges
 * point at it. Only properties the view reads as edges count (see `EdgeView`).
 */
export function edgesOf(node: FlowNode, view: EdgeView = edgeViewOf(node)): Edge[] {
  const edges: Edge[] = [];
  if (view.wires && Array.isArray(node.wires)) {
    node.wires.forEach((port: string[], index: number) => {
      for (const to of port) edges.push({ from: node.id, port: index, to, via: 'wire' });
    });
  }
  if (view.links && Array.isArray(node.links)) {
    for (const other of node.links as string[]) {
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
