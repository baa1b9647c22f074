/**
 * Mutations people make to flows, applied to real flows for tests and benchmarks. Each returns the
 * mutated flows and what the change model must report: the change ids, and the node ids touched.
 */
import {
  kindOf,
  LINK_TYPES,
  type CredentialFields,
  type FlowNode,
  type Flows,
} from '../../protocol/index.js';

/** What a mutation did and what the change list must say about it. */
export type Mutation = {
  name: MutationName;
  /** Change ids the mutation must produce, exactly. */
  changeIds: string[];
  /** Node ids the mutation edited (each must be the subject of exactly one change). */
  touched: string[];
  credentials?: CredentialFields;
};

export const MUTATIONS = [
  'add',
  'remove',
  'property',
  'function-code',
  'rewire',
  'relink',
  'move-tab',
  'layout',
  'rename-tab',
  'edit-subflow',
  'credential',
] as const;
export type MutationName = (typeof MUTATIONS)[number];

/** A small seeded PRNG (mulberry32): the same seed gives the same mutations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Ctx = { flows: Flows; random: () => number; used: Set<string>; counter: { n: number } };

function pick<T>(items: T[], random: () => number): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
}

function tabs(flows: Flows): FlowNode[] {
  return flows.filter((n) => n.type === 'tab');
}

function isFree(ctx: Ctx, ...ids: string[]): boolean {
  return ids.every((id) => !ctx.used.has(id));
}

function repeated(flows: Flows): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const n of flows) (seen.has(n.id) ? twice : seen).add(n.id);
  return twice;
}

/** Nodes on a tab (kind `node`), not yet touched, not a repeated id. */
function freeNodes(ctx: Ctx, filter: (n: FlowNode) => boolean = () => true): FlowNode[] {
  const twice = repeated(ctx.flows);
  const tabIds = new Set(tabs(ctx.flows).map((t) => t.id));
  return ctx.flows.filter(
    (n) =>
      kindOf(n) === 'node' &&
      typeof n.z === 'string' &&
      tabIds.has(n.z) &&
      !twice.has(n.id) &&
      isFree(ctx, n.id) &&
      filter(n),
  );
}

function newId(ctx: Ctx): string {
  ctx.counter.n += 1;
  return `cs${ctx.counter.n.toString(16).padStart(6, '0')}.mut`;
}

const apply: Record<MutationName, (ctx: Ctx) => Mutation | undefined> = {
  add(ctx) {
    const tab = pick(tabs(ctx.flows), ctx.random);
    if (!tab) return undefined;
    const id = newId(ctx);
    ctx.flows.push({
      id,
      type: 'function',
      z: tab.id,
      name: 'added by test',
      func: 'msg.payload = 1;\nreturn msg;',
      outputs: 1,
      x: 400,
      y: 400,
      wires: [[]],
    });
    ctx.used.add(id);
    return { name: 'add', changeIds: [`node:${id}`], touched: [id] };
  },
  remove(ctx) {
    const node = pick(freeNodes(ctx), ctx.random);
    if (!node) return undefined;
    ctx.flows.splice(ctx.flows.indexOf(node), 1);
    ctx.used.add(node.id);
    return { name: 'remove', changeIds: [`node:${node.id}`], touched: [node.id] };
  },
  property(ctx) {
    const node = pick(freeNodes(ctx), ctx.random);
    if (!node) return undefined;
    node.name = `${typeof node.name === 'string' ? node.name : ''} (edited)`;
    ctx.used.add(node.id);
    return { name: 'property', changeIds: [`node:${node.id}`], touched: [node.id] };
  },
  'function-code'(ctx) {
    const node = pick(
      freeNodes(ctx, (n) => n.type === 'function'),
      ctx.random,
    );
    if (!node) return undefined;
    node.func = `${String(node.func ?? '')}\n// reviewed\nnode.warn("changed");`;
    ctx.used.add(node.id);
    return { name: 'function-code', changeIds: [`node:${node.id}`], touched: [node.id] };
  },
  rewire(ctx) {
    const node = pick(
      // A node whose first port is a list (a few real files hold other shapes there).
      freeNodes(ctx, (n) => Array.isArray(n.wires) && Array.isArray(n.wires[0])),
      ctx.random,
    );
    if (!node) return undefined;
    const others = ctx.flows.filter(
      (n) => n.z === node.z && n.id !== node.id && kindOf(n) === 'node',
    );
    const wires = node.wires as string[][];
    const port = wires[0]!;
    const target = pick(
      others.filter((n) => !port.includes(n.id)),
      ctx.random,
    );
    if (target) port.push(target.id);
    else if (port.length > 0) port.pop();
    else return undefined;
    ctx.used.add(node.id);
    return { name: 'rewire', changeIds: [`wiring:${node.id}`], touched: [node.id] };
  },
  relink(ctx) {
    // Point a link out at another link in, and update both link in nodes, as the editor does.
    const linkIns = freeNodes(ctx, (n) => n.type === 'link in');
    const linkOut = pick(
      freeNodes(
        ctx,
        (n) =>
          n.type === 'link out' && Array.isArray(n.links) && (n.links as string[]).length === 1,
      ),
      ctx.random,
    );
    if (!linkOut) return undefined;
    const oldTarget = ctx.flows.find((n) => n.id === (linkOut.links as string[])[0]);
    const newTarget = pick(
      linkIns.filter((n) => n !== oldTarget),
      ctx.random,
    );
    if (!newTarget || !oldTarget || !LINK_TYPES.has(oldTarget.type)) return undefined;
    if (!isFree(ctx, oldTarget.id) || repeated(ctx.flows).has(oldTarget.id)) return undefined;
    linkOut.links = [newTarget.id];
    const touched = [linkOut.id, newTarget.id];
    const changeIds = [`wiring:${linkOut.id}`, `wiring:${newTarget.id}`];
    newTarget.links = [...((newTarget.links as string[] | undefined) ?? []), linkOut.id];
    const oldLinks = (oldTarget.links as string[] | undefined) ?? [];
    if (oldLinks.includes(linkOut.id)) {
      oldTarget.links = oldLinks.filter((l) => l !== linkOut.id);
      touched.push(oldTarget.id);
      changeIds.push(`wiring:${oldTarget.id}`);
    }
    for (const id of touched) ctx.used.add(id);
    return { name: 'relink', changeIds, touched };
  },
  'move-tab'(ctx) {
    const node = pick(freeNodes(ctx), ctx.random);
    const tab = pick(
      tabs(ctx.flows).filter((t) => t.id !== node?.z),
      ctx.random,
    );
    if (!node || !tab) return undefined;
    node.z = tab.id;
    delete node.g;
    ctx.used.add(node.id);
    return { name: 'move-tab', changeIds: [`node:${node.id}`], touched: [node.id] };
  },
  layout(ctx) {
    const node = pick(
      freeNodes(ctx, (n) => typeof n.x === 'number'),
      ctx.random,
    );
    if (!node) return undefined;
    node.x = (node.x as number) + 40;
    node.y = (typeof node.y === 'number' ? node.y : 0) + 20;
    ctx.used.add(node.id);
    return { name: 'layout', changeIds: [`layout:${node.z}`], touched: [node.id] };
  },
  'rename-tab'(ctx) {
    const tab = pick(
      tabs(ctx.flows).filter((t) => isFree(ctx, t.id) && !repeated(ctx.flows).has(t.id)),
      ctx.random,
    );
    if (!tab) return undefined;
    tab.label = `${typeof tab.label === 'string' ? tab.label : 'Flow'} (renamed)`;
    ctx.used.add(tab.id);
    return { name: 'rename-tab', changeIds: [`flow:${tab.id}`], touched: [tab.id] };
  },
  'edit-subflow'(ctx) {
    const subflow = pick(
      ctx.flows.filter(
        (n) => n.type === 'subflow' && isFree(ctx, n.id) && !repeated(ctx.flows).has(n.id),
      ),
      ctx.random,
    );
    if (!subflow) return undefined;
    subflow.info = `${typeof subflow.info === 'string' ? subflow.info : ''}\nEdited.`;
    subflow.env = [
      ...(Array.isArray(subflow.env) ? subflow.env : []),
      { name: 'CS_TEST', type: 'str', value: '1' },
    ];
    ctx.used.add(subflow.id);
    return { name: 'edit-subflow', changeIds: [`subflow:${subflow.id}`], touched: [subflow.id] };
  },
  credential(ctx) {
    const node = pick(freeNodes(ctx), ctx.random);
    if (!node) return undefined;
    ctx.used.add(node.id);
    return {
      name: 'credential',
      changeIds: [`credentials:${node.id}`],
      touched: [node.id],
      credentials: { [node.id]: ['password'] },
    };
  },
};

/**
 * Applies one named mutation to `flows` (in place) and says what it did, or `undefined` when the flows
 * offer nothing to mutate that way (no subflow to edit, say). Nodes in `used` are left alone.
 */
export function mutate(
  flows: Flows,
  name: MutationName,
  random: () => number,
  used: Set<string> = new Set(),
  counter: { n: number } = { n: 0 },
): Mutation | undefined {
  return apply[name]({ flows, random, used, counter });
}

/** A deep copy of flows. */
export function cloneFlows(flows: Flows): Flows {
  return structuredClone(flows);
}
