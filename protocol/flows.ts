import { ValidationError } from './errors.js';
import { visibleText } from './text.js';

/** One object of a Node-RED flows array: a tab, subflow, node, config node, group or junction. */
export type FlowNode = {
  id: string;
  type: string;
  z?: string;
  [property: string]: unknown;
};

/** A flows array as Node-RED saves it. */
export type Flows = FlowNode[];

/** Node types whose `links` property names other link nodes. */
export const LINK_TYPES: ReadonlySet<string> = new Set(['link in', 'link out', 'link call']);

const hasOwn = Object.prototype.hasOwnProperty;

/** True for a key that reaches `Object.prototype` when used on a plain object. */
export function isPrototypeKey(key: string): boolean {
  return hasOwn.call(Object.prototype, key);
}

/** Keys no object of a node may have: JavaScript gives them a meaning beyond the data. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

function refuse(message: string): never {
  throw new ValidationError(message, { code: 'ERR_FLOWS_INVALID' });
}

/** A node id (or other name from a request) quoted for a message: short, hidden characters shown. */
export function quoteName(name: string): string {
  return JSON.stringify(visibleText(name.length > 60 ? `${name.slice(0, 60)}…` : name));
}

function kindOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function step(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? `${path}${path === '' ? '' : '.'}${key}`
    : `${path}[${quoteName(key)}]`;
}

/**
 * The first place in `value` that breaks the key and number rules, as `[path, rule]`, or null.
 * The path is built only on the way out of a failure, so a clean node costs one walk.
 */
function badPlace(value: unknown): [Array<string | number>, 'reserved' | 'number'] | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : [[], 'number'];
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'object' && typeof item !== 'number') continue;
      const found = badPlace(item);
      if (found !== null) {
        found[0].unshift(i);
        return found;
      }
    }
    return null;
  }
  // for…in with an own-key check reads the same keys as Object.keys, in the same order, without an
  // array per object: on a deploy this walk runs over every object of the flows, twice.
  for (const key in value) {
    if (!hasOwn.call(value, key)) continue;
    if (RESERVED_KEYS.has(key)) return [[key], 'reserved'];
    const item = (value as Record<string, unknown>)[key];
    if (typeof item !== 'object' && typeof item !== 'number') continue;
    const found = badPlace(item);
    if (found !== null) {
      found[0].unshift(key);
      return found;
    }
  }
  return null;
}

/** Where `wires` breaks "an array of arrays of strings", or null. */
function badWires(wires: unknown): string | null {
  if (!Array.isArray(wires)) return `wires is ${kindOfValue(wires)}`;
  for (let port = 0; port < wires.length; port++) {
    const targets: unknown = wires[port];
    if (!Array.isArray(targets)) return `wires[${port}] is ${kindOfValue(targets)}`;
    for (let i = 0; i < targets.length; i++) {
      if (typeof targets[i] !== 'string')
        return `wires[${port}][${i}] is ${kindOfValue(targets[i])}`;
    }
  }
  return null;
}

/** Where a link node's `links` breaks "an array of strings", or null. */
function badLinks(links: unknown): string | null {
  if (!Array.isArray(links)) return `links is ${kindOfValue(links)}`;
  for (let i = 0; i < links.length; i++) {
    if (typeof links[i] !== 'string') return `links[${i}] is ${kindOfValue(links[i])}`;
  }
  return null;
}

/** A node's name for a message: built only when a rule fails, so a clean node costs one walk. */
function nodeName(id: string, type: string): string {
  return `node ${quoteName(id)} (${visibleText(type.slice(0, 60))})`;
}

/**
 * Parses a flows array in the canonical shape of DESIGN 5.2, the shape a review reads the way
 * Node-RED runs it. Each rule, in order, refuses with `ERR_FLOWS_INVALID` naming the node and the
 * rule:
 * 1. the flows are an array of objects;
 * 2. each node has a non-empty string `id` and `type`;
 * 3. `z`, when present, is a string;
 * 4. `wires`, when present, is an array of arrays of strings (Node-RED follows a nested array or a
 *    number as a wire too, where the review would not see one);
 * 5. a link node's `links`, when present, is an array of strings;
 * 6. no key anywhere in a node is `__proto__`, `constructor` or `prototype`;
 * 7. every number is finite (`1e400` parses as Infinity but is saved as null).
 * It does not copy; the caller keeps the same objects.
 */
export function parseFlows(input: unknown): Flows {
  if (!Array.isArray(input)) refuse('flows must be an array of node objects');
  for (let i = 0; i < input.length; i++) {
    const node: unknown = input[i];
    if (typeof node !== 'object' || node === null || Array.isArray(node)) {
      refuse(`flows[${i}] is not a node object`);
    }
    const n = node as Record<string, unknown>;
    const id = hasOwn.call(n, 'id') ? n.id : undefined;
    if (typeof id !== 'string' || id === '') refuse(`flows[${i}] has no string id`);
    const type = hasOwn.call(n, 'type') ? n.type : undefined;
    if (typeof type !== 'string' || type === '') refuse(`node ${quoteName(id)} has no string type`);
    if (n.z !== undefined && typeof n.z !== 'string') {
      refuse(
        `${nodeName(id, type)}: z must be a string (the id of its flow), not ${kindOfValue(n.z)}`,
      );
    }
    if (n.wires !== undefined) {
      const bad = badWires(n.wires);
      if (bad !== null)
        refuse(`${nodeName(id, type)}: wires must be an array of arrays of node ids, but ${bad}`);
    }
    if (n.links !== undefined && LINK_TYPES.has(type)) {
      const bad = badLinks(n.links);
      if (bad !== null)
        refuse(`${nodeName(id, type)}: links must be an array of node ids, but ${bad}`);
    }
    const place = badPlace(n);
    if (place !== null) {
      const [keys, rule] = place;
      const path = keys.reduce<string>(step, '');
      if (rule === 'reserved') {
        refuse(
          `${nodeName(id, type)}: the key ${quoteName(String(keys[keys.length - 1]))} (at ${path}) is not allowed: __proto__, constructor and prototype are reserved`,
        );
      }
      refuse(`${nodeName(id, type)}: ${path} is not a finite number (every number must be finite)`);
    }
  }
  return input as Flows;
}
