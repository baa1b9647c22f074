/**
 * The flows a single-flow request would produce (`POST /flow`, `PUT /flow/:id`, `DELETE /flow/:id`
 * and the runtime's `addFlow`, `updateFlow`, `removeFlow`). Node-RED computes these inside
 * functions that call its internal `setFlows` directly, so the gate computes the same array itself
 * (following `@node-red/runtime/lib/flows/index.js` of 4.1 and 5.0) and later applies exactly that
 * array. The caller's objects are copied, never changed.
 */
import { randomBytes } from 'node:crypto';
import type { FlowNode } from '../../protocol/index.js';

/** An error shaped as Node-RED's runtime API shapes it (`status` and `code` for the admin routes). */
export class FlowRequestError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(message: string, status: number, code: string) {
    super(message);
    this.name = 'FlowRequestError';
    this.status = status;
    this.code = code;
  }
}

type Node = Record<string, unknown>;

function isObject(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nodeList(value: unknown, what: string): Node[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isObject)) {
    throw new FlowRequestError(`${what} must be an array of node objects`, 400, 'invalid_request');
  }
  return value;
}

function tabIdsOf(active: readonly Node[]): Set<string> {
  return new Set(active.filter((n) => n.type === 'tab').map((n) => String(n.id)));
}

function notFound(): FlowRequestError {
  return new FlowRequestError('Not found', 404, 'not_found');
}

/** A new flow id the way Node-RED makes one (8 random bytes, hex). */
export function newFlowId(): string {
  return randomBytes(8).toString('hex');
}

/** `addFlow`: the active flows plus a new tab with the request's nodes and config nodes. */
export function targetOfAddFlow(
  active: readonly Node[],
  flow: unknown,
  id: string = newFlowId(),
): { id: string; flows: FlowNode[] } {
  if (!isObject(flow) || !Object.prototype.hasOwnProperty.call(flow, 'nodes')) {
    throw new FlowRequestError('missing nodes property', 400, 'unexpected_error');
  }
  const tab: Node = { type: 'tab', label: flow.label, id };
  if (Object.prototype.hasOwnProperty.call(flow, 'info')) tab.info = flow.info;
  if (Object.prototype.hasOwnProperty.call(flow, 'disabled')) tab.disabled = flow.disabled;
  if (Object.prototype.hasOwnProperty.call(flow, 'env')) tab.env = flow.env;
  const existing = new Set(active.map((n) => String(n.id)));
  const added: Node[] = [tab];
  for (const node of [...nodeList(flow.nodes, 'nodes'), ...nodeList(flow.configs, 'configs')]) {
    if (existing.has(String(node.id))) {
      throw new FlowRequestError('duplicate id', 400, 'unexpected_error');
    }
    if (node.type === 'tab' || node.type === 'subflow') {
      throw new FlowRequestError(
        `invalid node type: ${String(node.type)}`,
        400,
        'unexpected_error',
      );
    }
    added.push({ ...node, z: id });
  }
  return { id, flows: [...active, ...added] as FlowNode[] };
}

/** `updateFlow`: one tab (or `global`: the config nodes and subflows) replaced by the request's. */
export function targetOfUpdateFlow(
  active: readonly Node[],
  id: unknown,
  flow: unknown,
): FlowNode[] {
  if (typeof id !== 'string') throw notFound();
  if (!isObject(flow))
    throw new FlowRequestError('the flow must be an object', 400, 'invalid_request');
  const tabs = tabIdsOf(active);
  let kept: Node[];
  let nodes: Node[];
  if (id === 'global') {
    // Keep tabs and the nodes on a tab; the request brings every config node and subflow.
    kept = active.filter(
      (n) =>
        n.type === 'tab' || (Object.prototype.hasOwnProperty.call(n, 'z') && tabs.has(String(n.z))),
    );
    nodes = [...nodeList(flow.configs, 'configs')];
    for (const subflow of nodeList(flow.subflows, 'subflows')) {
      const definition = { ...subflow };
      nodes.push(
        ...nodeList(definition.nodes, 'subflow nodes'),
        ...nodeList(definition.configs, 'subflow configs'),
      );
      delete definition.nodes;
      delete definition.configs;
      nodes.push(definition);
    }
  } else {
    if (!tabs.has(id)) throw notFound();
    kept = active.filter((n) => n.z !== id && n.id !== id);
    const tab: Node = { type: 'tab', label: flow.label, id };
    if (Object.prototype.hasOwnProperty.call(flow, 'info')) tab.info = flow.info;
    if (Object.prototype.hasOwnProperty.call(flow, 'disabled')) tab.disabled = flow.disabled;
    if (Object.prototype.hasOwnProperty.call(flow, 'env')) tab.env = flow.env;
    if (Object.prototype.hasOwnProperty.call(flow, 'credentials'))
      tab.credentials = flow.credentials;
    nodes = [
      tab,
      ...[...nodeList(flow.nodes, 'nodes'), ...nodeList(flow.configs, 'configs')].map((n) =>
        n.type === 'tab' ? n : { ...n, z: id },
      ),
    ];
  }
  return [...kept, ...nodes] as FlowNode[];
}

/** `removeFlow`: the active flows without one tab and its nodes. */
export function targetOfDeleteFlow(active: readonly Node[], id: unknown): FlowNode[] {
  if (id === 'global')
    throw new FlowRequestError('not allowed to remove global', 400, 'unexpected_error');
  if (typeof id !== 'string' || !tabIdsOf(active).has(id)) throw notFound();
  return active.filter((n) => n.z !== id && n.id !== id) as FlowNode[];
}
