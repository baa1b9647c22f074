import { isPrototypeKey, type FlowNode } from '../flows.js';
import { edgeViewOf, type EdgeView } from './edges.js';

/** Properties that only place a node on the canvas (5.2). A group's `style` joins them. */
const LAYOUT_KEYS: ReadonlySet<string> = new Set(['x', 'y', 'w', 'h', 'l']);

/** A subflow definition's port lists carry a position each; the rest of each port is behaviour. */
const SUBFLOW_PORT_KEYS: ReadonlySet<string> = new Set(['in', 'out', 'status']);

/**
 * Sets an own property of a fresh plain object, even one named `__proto__` (JSON.parse makes those)
 * or another name `Object.prototype` holds (a setter there would otherwise take the value). Any
 * other name is assigned: on such an object that makes the same own property, at a fraction of
 * `defineProperty`'s cost (the change list builds these for every changed node, and the phone for
 * every change of a review).
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (!isPrototypeKey(key)) {
    target[key] = value;
    return;
  }
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function isLayoutKey(node: FlowNode, key: string): boolean {
  return LAYOUT_KEYS.has(key) || (key === 'style' && node.type === 'group');
}

function isEdgeKey(view: EdgeView, key: string): boolean {
  return (key === 'wires' && view.wires) || (key === 'links' && view.links);
}

function splitPort(port: unknown, keep: 'layout' | 'behaviour'): unknown {
  if (typeof port !== 'object' || port === null || Array.isArray(port)) {
    return keep === 'behaviour' ? port : undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(port)) {
    if (LAYOUT_KEYS.has(key) === (keep === 'layout')) setOwn(out, key, value);
  }
  return out;
}

function splitPorts(value: unknown, keep: 'layout' | 'behaviour'): unknown {
  if (Array.isArray(value)) return value.map((port) => splitPort(port, keep));
  return splitPort(value, keep);
}

/**
 * The behavioural properties of a node: everything but its id, layout, credentials and the edge
 * properties its edge view shows as edges (a `wires` or `links` the edge list cannot show in full is
 * kept here, raw). These are what a review shows as `before` and `after`.
 */
export function behaviourOf(
  node: FlowNode,
  view: EdgeView = edgeViewOf(node),
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(node)) {
    if (key === 'id' || key === 'credentials') continue;
    if (isLayoutKey(node, key) || isEdgeKey(view, key)) continue;
    setOwn(
      out,
      key,
      node.type === 'subflow' && SUBFLOW_PORT_KEYS.has(key)
        ? splitPorts(node[key], 'behaviour')
        : node[key],
    );
  }
  return out;
}

/** The layout properties of a node, including the positions of a subflow definition's ports. */
export function layoutOf(node: FlowNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(node)) {
    if (isLayoutKey(node, key)) setOwn(out, key, node[key]);
    else if (node.type === 'subflow' && SUBFLOW_PORT_KEYS.has(key)) {
      setOwn(out, key, splitPorts(node[key], 'layout'));
    }
  }
  return out;
}
