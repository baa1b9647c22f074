import { canonicalJson } from '../canonical.js';
import type { CredentialFields } from '../credentials.js';
import type { FlowNode, Flows } from '../flows.js';
import { assessChange } from '../risk.js';
import { deepEqual } from './deep-equal.js';
import { diffEdges, edgesOf, edgeViewOf, sortEdges } from './edges.js';
import { diffValues } from './json-delta.js';
import { behaviourOf, layoutOf } from './properties.js';
import type { Change, ChangeKind, FlowRef } from './types.js';

/** The group key of changes outside any tab or subflow. */
const GLOBAL = '\u0000global';

type Index = {
  /** id → node; a repeated id keeps its last copy, as Node-RED's runtime does. */
  byId: Map<string, FlowNode>;
  /** ids that appear more than once → every copy (empty for nearly every flows file). */
  repeats: Map<string, FlowNode[]>;
  /** tab and subflow ids, in order. */
  tabs: string[];
  subflows: string[];
};

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
  return { byId, repeats, tabs: [...new Set(tabs)], subflows: [...new Set(subflows)] };
}

/** The node that runs for this array entry, or undefined for an earlier copy of a repeated id. */
function running(index: Index, node: FlowNode): FlowNode | undefined {
  return index.repeats.size === 0 || index.byId.get(node.id) === node ? node : undefined;
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
function copiesOf(index: Index, id: string): string[] | undefined {
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
  const before = indexFlows(base);
  const after = indexFlows(target);
  const buckets = new Map<string, Bucket>();

  const containerRef = (id: string): FlowRef => {
    const node = after.byId.get(id) ?? before.byId.get(id);
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

  // Read once into a Map: a keyed lookup on the plain object per node costs more than the rest.
  const credentialsById = new Map(
    Object.entries(credentialFields).filter(([, fields]) => fields.length > 0),
  );
  const anyRepeats = before.repeats.size > 0 || after.repeats.size > 0;

  // In target order; a repeated id is placed where its running (last) copy stands.
  for (const entry of target) {
    const node = running(after, entry);
    if (node === undefined) continue;
    const id = node.id;
    const old = before.byId.get(id);
    const fields = credentialsById.get(id);
    const hasCredentials = fields !== undefined;
    // The common case first: the node is there on both sides and did not change.
    if (
      old !== undefined &&
      !hasCredentials &&
      (!anyRepeats || (!after.repeats.has(id) && !before.repeats.has(id))) &&
      deepEqual(old, node)
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
      if (copiesDiffer || !deepEqual(old, node)) {
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

  for (const entry of base) {
    if (after.byId.has(entry.id)) continue;
    const node = running(before, entry);
    if (node === undefined) continue;
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
    if (after.byId.has(id)) continue;
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
function orderBuckets(buckets: Map<string, Bucket>, before: Index, after: Index): Change[] {
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
