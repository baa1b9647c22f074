import { canonicalJson } from '../canonical.js';
import type { CredentialFields } from '../credentials.js';
import type { FlowNode, Flows } from '../flows.js';
import { assessChange } from '../risk.js';
import { deepEqual } from './deep-equal.js';
import { diffEdges, edgesOf, edgeViewOf, sortEdges } from './edges.js';
import { IdIndex } from './id-index.js';
import { diffValues } from './json-delta.js';
import { behaviourOf, layoutOf } from './properties.js';
import type { Change, ChangeKind, FlowRef } from './types.js';

/** The group key of changes outside any tab or subflow. */
const GLOBAL = '\u0000global';

/** One side of the comparison, looked up by id. */
type Side = {
  /** The node with this id that runs: for a repeated id, its last copy (as Node-RED's runtime). */
  get(id: string): FlowNode | undefined;
  /** ids that appear more than once → every copy (empty for nearly every flows file). */
  repeats: Map<string, FlowNode[]>;
  /** tab and subflow ids, in order. */
  tabs: string[];
  subflows: string[];
};

/** What to look at: the two sides, and the only nodes that can be part of a change. */
type Plan = {
  before: Side;
  after: Side;
  /** Running target nodes that may differ from their base node, in target order. */
  examine: FlowNode[];
  /** Running base nodes whose id the target lacks, in base order. */
  removed: FlowNode[];
  /** Whether two nodes of one id are the same (nodes never differ outside what this compares). */
  same: (a: FlowNode, b: FlowNode) => boolean;
};

type Index = Side & { byId: Map<string, FlowNode> };

function indexFlows(flows: Flows): Index {
  const byId = new Map<string, FlowNode>();
  const tabs: string[] = [];
  const subflows: string[] = [];
  for (const node of flows) {
    byId.set(node.id, node);
    if (node.type === 'tab') tabs.push(node.id);
    else if (node.type === 'subflow') subflows.push(node.id);
  }
  const repeats = new Map<string, FlowNode[]>();
  if (byId.size !== flows.length) {
    for (const node of flows) repeats.set(node.id, [...(repeats.get(node.id) ?? []), node]);
    for (const [id, copies] of repeats) if (copies.length === 1) repeats.delete(id);
  }
  return {
    byId,
    get: (id) => byId.get(id),
    repeats,
    tabs: [...new Set(tabs)],
    subflows: [...new Set(subflows)],
  };
}

/** The node that runs for this array entry, or undefined for an earlier copy of a repeated id. */
function running(index: Index, node: FlowNode): FlowNode | undefined {
  return index.repeats.size === 0 || index.byId.get(node.id) === node ? node : undefined;
}

/** Equal canonical JSON (RFC 8785): the definition of "differs" in 5.2, at the cost of a copy. */
function sameCanonical(a: FlowNode, b: FlowNode): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * The plan that reads every node of both sides as it is and compares each pair with `same`. It
 * handles every input, repeated ids included; `quickPlan` must agree with it.
 */
function fullPlan(base: Flows, target: Flows, same: Plan['same']): Plan {
  const before = indexFlows(base);
  const after = indexFlows(target);
  return {
    before,
    after,
    examine: target.filter((entry) => running(after, entry) !== undefined),
    removed: base.filter(
      (entry) => !after.byId.has(entry.id) && running(before, entry) !== undefined,
    ),
    same,
  };
}

/**
 * The plan for flows without a repeated id (nearly all), in one pass over each side: the base is
 * indexed by id, then each target node meets its base node (found by position while the two arrays
 * run in step, by id otherwise) and is kept only when it is new, differs (`deepEqual`) or sets
 * credentials. Nothing else is built per node. Undefined when an id repeats on either side (then
 * which copy runs depends on array order) or `IdIndex` declines: `fullPlan` answers.
 */
function quickPlan(
  base: Flows,
  target: Flows,
  credentialsById: Map<string, string[]>,
): Plan | undefined {
  const at = new IdIndex(base);
  const beforeTabs: string[] = [];
  const beforeSubflows: string[] = [];
  for (let i = 0; i < base.length; i++) {
    if (!at.add(i)) return undefined;
    const node = base[i]!;
    if (node.type === 'tab') beforeTabs.push(node.id);
    else if (node.type === 'subflow') beforeSubflows.push(node.id);
  }

  // partner[i]: 1 + the target index of base node i, 0 while none.
  const partner = new Int32Array(base.length);
  let added: Map<string, number> | undefined;
  const examine: FlowNode[] = [];
  const afterTabs: string[] = [];
  const afterSubflows: string[] = [];
  const withCredentials = credentialsById.size > 0;
  let next = 0;
  for (let t = 0; t < target.length; t++) {
    const node = target[t]!;
    const id = node.id;
    const i = next < base.length && base[next]!.id === id ? next : at.get(id);
    if (i === undefined) {
      added ??= new Map();
      if (added.has(id)) return undefined;
      added.set(id, t);
      examine.push(node);
    } else {
      if (partner[i] !== 0) return undefined;
      partner[i] = t + 1;
      next = i + 1;
      if (!deepEqual(base[i], node) || (withCredentials && credentialsById.has(id))) {
        examine.push(node);
      }
    }
    if (node.type === 'tab') afterTabs.push(id);
    else if (node.type === 'subflow') afterSubflows.push(id);
  }

  const removed: FlowNode[] = [];
  for (let i = 0; i < base.length; i++) if (partner[i] === 0) removed.push(base[i]!);
  const none = new Map<string, FlowNode[]>();
  return {
    before: {
      get: (id) => {
        const i = at.get(id);
        return i === undefined ? undefined : base[i];
      },
      repeats: none,
      tabs: beforeTabs,
      subflows: beforeSubflows,
    },
    after: {
      get: (id) => {
        const i = at.get(id);
        const t = i === undefined ? added?.get(id) : partner[i]! - 1;
        return t === undefined || t < 0 ? undefined : target[t];
      },
      repeats: none,
      tabs: afterTabs,
      subflows: afterSubflows,
    },
    examine,
    removed,
    same: deepEqual,
  };
}

/** Tabs are kind `flow`, subflow definitions `subflow`, nodes without a flow or position `config`. */
export function kindOf(node: FlowNode): Exclude<ChangeKind, 'wiring' | 'layout' | 'credentials'> {
  if (node.type === 'tab') return 'flow';
  if (node.type === 'subflow') return 'subflow';
  if (typeof node.z !== 'string' || node.z === '' || node.x === undefined || node.y === undefined) {
    return 'config';
  }
  return 'node';
}

function isContainer(node: FlowNode): boolean {
  return node.type === 'tab' || node.type === 'subflow';
}

function labelOf(node: FlowNode): string {
  const label = node.type === 'tab' ? node.label : node.name;
  return typeof label === 'string' && label !== '' ? label : node.id;
}

function nodeRef(node: FlowNode): { id: string; type: string; name?: string } {
  const name = node.type === 'tab' ? node.label : node.name;
  return typeof name === 'string' && name !== ''
    ? { id: node.id, type: node.type, name }
    : { id: node.id, type: node.type };
}

/** The canonical text of every copy of a repeated id, sorted, so order does not matter. */
function copiesOf(index: Side, id: string): string[] | undefined {
  const copies = index.repeats.get(id);
  if (copies === undefined) return undefined;
  return copies.map((node) => canonicalJson(node) ?? '').sort();
}

type Bucket = {
  own: Change[];
  nodes: Change[];
  removed: Change[];
  layout: string[];
  flow: FlowRef | null;
};

/**
 * The change list of 5.2: what turns `base` into `target`, in a stable order (flows in the target's
 * tab order, then within a flow by node order in target, then removed nodes in base order). Each node
 * is compared once, by id; only nodes that differ are looked at property by property.
 */
export function computeChanges(
  base: Flows,
  target: Flows,
  credentialFields: CredentialFields = {},
): Change[] {
  const credentialsById = credentialsMap(credentialFields);
  return changesOf(
    quickPlan(base, target, credentialsById) ?? fullPlan(base, target, deepEqual),
    credentialsById,
  );
}

/**
 * The same list as `computeChanges`, from `fullPlan` alone: every node of both sides read, each pair
 * compared by its canonical JSON (for JSON values, the same answer as `deepEqual`). Slow: the
 * reference the quick plan is tested against, not for use.
 */
export function computeChangesFully(
  base: Flows,
  target: Flows,
  credentialFields: CredentialFields = {},
): Change[] {
  return changesOf(fullPlan(base, target, sameCanonical), credentialsMap(credentialFields));
}

/** Read once into a Map: a keyed lookup on the plain object per node costs more than the rest. */
function credentialsMap(credentialFields: CredentialFields): Map<string, string[]> {
  return new Map(Object.entries(credentialFields).filter(([, fields]) => fields.length > 0));
}

function changesOf(plan: Plan, credentialsById: Map<string, string[]>): Change[] {
  const { before, after, same } = plan;
  const buckets = new Map<string, Bucket>();

  const containerRef = (id: string): FlowRef => {
    const node = after.get(id) ?? before.get(id);
    return { id, label: node !== undefined && isContainer(node) ? labelOf(node) : id };
  };
  const flowOf = (node: FlowNode): FlowRef | null => {
    if (isContainer(node)) return { id: node.id, label: labelOf(node) };
    return typeof node.z === 'string' && node.z !== '' ? containerRef(node.z) : null;
  };
  const bucketOf = (node: FlowNode): Bucket => {
    const flow = flowOf(node);
    const key = flow === null ? GLOBAL : flow.id;
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = { own: [], nodes: [], removed: [], layout: [], flow };
      buckets.set(key, bucket);
    }
    return bucket;
  };
  const push = (node: FlowNode, change: Change, list: 'nodes' | 'removed'): void => {
    const bucket = bucketOf(node);
    (isContainer(node) && change.kind !== 'credentials' ? bucket.own : bucket[list]).push(change);
  };

  const anyRepeats = before.repeats.size > 0 || after.repeats.size > 0;

  // In target order; a repeated id is placed where its running (last) copy stands.
  for (const node of plan.examine) {
    const id = node.id;
    const old = before.get(id);
    const fields = credentialsById.get(id);
    const hasCredentials = fields !== undefined;
    // The common case first: the node is there on both sides and did not change.
    if (
      old !== undefined &&
      !hasCredentials &&
      (!anyRepeats || (!after.repeats.has(id) && !before.repeats.has(id))) &&
      same(old, node)
    ) {
      continue;
    }
    const kind = kindOf(node);
    const common = { flow: flowOf(node), node: nodeRef(node) };

    if (old === undefined) {
      const edges = sortEdges(edgesOf(node));
      push(
        node,
        rated({
          id: `${kind}:${id}`,
          kind,
          op: 'added',
          ...common,
          after: behaviourOf(node),
          ...(edges.length > 0 ? { edges: { added: edges, removed: [] } } : {}),
        }),
        'nodes',
      );
    } else {
      const oldCopies = copiesOf(before, id);
      const newCopies = copiesOf(after, id);
      const copiesDiffer =
        (oldCopies !== undefined || newCopies !== undefined) &&
        !deepEqual(oldCopies ?? [], newCopies ?? []);
      if (copiesDiffer || !same(old, node)) {
        const view = edgeViewOf(old, node);
        const oldBehaviour = behaviourOf(old, view);
        const newBehaviour = behaviourOf(node, view);
        const edges = diffEdges(edgesOf(old, view), edgesOf(node, view));
        const behaviourChanged = !deepEqual(oldBehaviour, newBehaviour);
        const edgesChanged = edges.added.length > 0 || edges.removed.length > 0;
        if (behaviourChanged || copiesDiffer) {
          const delta = diffValues(oldBehaviour, newBehaviour);
          // Copies of one id that differ, with no delta, are rated high: which one runs depends
          // on array order. Otherwise the rating reads what the card shows: the delta and the name.
          push(
            node,
            rated({
              id: `${kind}:${id}`,
              kind,
              op: 'changed',
              ...common,
              before: oldBehaviour,
              after: newBehaviour,
              ...(delta !== undefined ? { delta } : {}),
            }),
            'nodes',
          );
        }
        if (edgesChanged) {
          push(
            node,
            rated({ id: `wiring:${id}`, kind: 'wiring', op: 'changed', ...common, edges }),
            'nodes',
          );
        }
        if (
          !behaviourChanged &&
          !edgesChanged &&
          !copiesDiffer &&
          !deepEqual(layoutOf(old), layoutOf(node))
        ) {
          bucketOf(node).layout.push(id);
        }
      }
    }

    if (hasCredentials) {
      push(
        node,
        credentialsChange(id, old === undefined ? 'added' : 'changed', fields, common),
        'nodes',
      );
    }
  }

  for (const node of plan.removed) {
    const id = node.id;
    const kind = kindOf(node);
    const edges = sortEdges(edgesOf(node));
    push(
      node,
      rated({
        id: `${kind}:${id}`,
        kind,
        op: 'removed',
        flow: flowOf(node),
        node: nodeRef(node),
        before: behaviourOf(node),
        ...(edges.length > 0 ? { edges: { added: [], removed: edges } } : {}),
      }),
      'removed',
    );
  }

  // Credentials for a node the target does not hold (or Node-RED's encrypted set, `$`).
  const orphans: Change[] = [];
  for (const id of [...credentialsById.keys()].sort()) {
    const fields = credentialsById.get(id)!;
    if (after.get(id) !== undefined) continue;
    orphans.push(credentialsChange(id, 'changed', fields, { flow: null }));
  }

  return [...orderBuckets(buckets, before, after), ...orphans];
}

function credentialsChange(
  id: string,
  op: 'added' | 'changed',
  fields: string[],
  common: { flow: FlowRef | null; node?: { id: string; type: string; name?: string } },
): Change {
  return rated({
    id: `credentials:${id}`,
    kind: 'credentials',
    op,
    ...common,
    fields: [...new Set(fields)].sort(),
  });
}

/** A change with its risk (5.2), rated by what it changed. */
function rated(change: Omit<Change, 'risk'>): Change {
  return { ...change, risk: assessChange(change).risk };
}

/** Target tabs, target subflows, global config, then containers only the base had, then the rest. */
function orderBuckets(buckets: Map<string, Bucket>, before: Side, after: Side): Change[] {
  const keys = new Set<string>();
  const take = (key: string): void => {
    if (buckets.has(key)) keys.add(key);
  };
  for (const id of after.tabs) take(id);
  for (const id of after.subflows) take(id);
  take(GLOBAL);
  for (const id of before.tabs) take(id);
  for (const id of before.subflows) take(id);
  for (const key of buckets.keys()) take(key);

  const out: Change[] = [];
  for (const key of keys) {
    const bucket = buckets.get(key)!;
    out.push(...bucket.own, ...bucket.nodes, ...bucket.removed);
    if (bucket.layout.length > 0) {
      out.push({
        id: `layout:${key === GLOBAL ? 'global' : key}`,
        kind: 'layout',
        op: 'changed',
        flow: bucket.flow,
        nodes: [...bucket.layout].sort(),
        risk: 'low',
      });
    }
  }
  return out;
}
