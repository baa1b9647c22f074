/**
 * The completeness rule of DESIGN 5.2, checked by the phone before it signs: for every node whose
 * JSON differs between the snapshots, some card covers it, and what its cards show — property rows
 * read as edits, connections, credential field names — turns the old node into the new one. It reads
 * the snapshots itself, apart from the change model, so that a property the model or the card
 * renderer leaves out is caught here rather than signed.
 */
import type { Change, FlowNode, Flows } from '../lib/protocol.js';
import type { CredentialFields } from '../../../protocol/credentials.js';
import { deepEqual } from '../../../protocol/changes/deep-equal.js';
import { patchValue } from '../../../protocol/changes/json-delta.js';
import { visibleText } from '../../../protocol/text.js';
import { cardView, type CardView } from './card-view.js';
import type { PropertyRow } from './delta-rows.js';
import { memberViews } from './group-view.js';
import { reviewCards } from './grouping.js';
import { NodeIndex } from './node-index.js';

/** Something that differs and no card shows: which node, and what. */
export type Unshown = { id: string; node: string; what: string };

/** Keys that only place a node on the canvas (5.2): shown by counting, not by value. */
const LAYOUT = new Set(['x', 'y', 'w', 'h', 'l']);
const PORTS = new Set(['in', 'out', 'status']);
const LINK_TYPES = new Set(['link in', 'link out', 'link call']);

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutLayout(port: unknown): unknown {
  if (!isObj(port)) return port;
  const out = Object.create(null) as Obj;
  for (const key of Object.keys(port)) if (!LAYOUT.has(key)) out[key] = port[key];
  return out;
}

/** A list of distinct strings, or an array of such lists: readable as a set of edges. */
function distinct(list: unknown): boolean {
  return (
    Array.isArray(list) &&
    list.every((x) => typeof x === 'string') &&
    new Set(list).size === list.length
  );
}

/** Which edge properties both sides let a card show as connections. */
function edgeKeys(a: FlowNode | undefined, b: FlowNode | undefined): Set<string> {
  const keys = new Set<string>();
  const sides = [a, b].filter((n): n is FlowNode => n !== undefined);
  if (
    sides.every((n) => n.wires === undefined || (Array.isArray(n.wires) && n.wires.every(distinct)))
  ) {
    keys.add('wires');
  }
  if (sides.every((n) => LINK_TYPES.has(n.type) && (n.links === undefined || distinct(n.links)))) {
    keys.add('links');
  }
  return keys;
}

/** What a card must show of a node as properties: all but its id, layout and edges read as edges. */
function propertiesOf(node: FlowNode, edges: Set<string>): Obj {
  const out = Object.create(null) as Obj;
  for (const key of Object.keys(node)) {
    if (key === 'id' || key === 'credentials' || edges.has(key)) continue;
    if (LAYOUT.has(key) || (key === 'style' && node.type === 'group')) continue;
    const value = node[key];
    out[key] =
      node.type === 'subflow' && PORTS.has(key)
        ? Array.isArray(value)
          ? value.map(withoutLayout)
          : withoutLayout(value)
        : value;
  }
  return out;
}

/** Where a node sits on the canvas: its layout keys, and a subflow definition's port positions. */
function layoutOf(node: FlowNode): Obj {
  const out = Object.create(null) as Obj;
  for (const key of Object.keys(node)) {
    if (LAYOUT.has(key) || (key === 'style' && node.type === 'group')) out[key] = node[key];
    else if (node.type === 'subflow' && PORTS.has(key)) {
      const ports = Array.isArray(node[key]) ? (node[key] as unknown[]) : [node[key]];
      out[key] = ports.map((p) => (isObj(p) ? [p.x, p.y, p.w, p.h, p.l] : null));
    }
  }
  return out;
}

/** The connections a node's own properties make, as `from port to via` keys. */
function connectionsOf(node: FlowNode | undefined, edges: Set<string>): Set<string> {
  const out = new Set<string>();
  if (node === undefined) return out;
  if (edges.has('wires') && Array.isArray(node.wires)) {
    node.wires.forEach((port: string[], i: number) => {
      for (const to of port) out.add(edgeKey(node.id, i, to, 'wire'));
    });
  }
  if (edges.has('links') && Array.isArray(node.links)) {
    for (const other of node.links as string[]) {
      out.add(
        node.type === 'link in'
          ? edgeKey(other, 0, node.id, 'link')
          : edgeKey(node.id, 0, other, 'link'),
      );
    }
  }
  return out;
}

function edgeKey(from: string, port: number, to: string, via: string): string {
  return JSON.stringify([from, port, to, via]);
}

/** The running copy of each id (the last, as Node-RED keeps it) and every copy of repeated ids. */
function indexOf(flows: Flows): { byId: Map<string, FlowNode>; copies: Map<string, string[]> } {
  const byId = new Map<string, FlowNode>();
  const copies = new Map<string, string[]>();
  for (const node of flows) {
    if (byId.has(node.id)) copies.set(node.id, []);
    byId.set(node.id, node);
  }
  for (const node of flows) copies.get(node.id)?.push(JSON.stringify(node));
  for (const list of copies.values()) list.sort();
  return { byId, copies };
}

/** The rows of a card read back as a jsondiffpatch delta of the node's properties. */
function deltaOf(rows: PropertyRow[]): Obj {
  const root = Object.create(null) as Obj;
  for (const row of rows) {
    let at = root;
    for (let i = 0; i < row.keys.length - 1; i++) {
      const key = String(row.keys[i]);
      let next = at[key];
      if (!isObj(next)) {
        next = Object.create(null) as Obj;
        if (typeof row.keys[i + 1] === 'number') (next as Obj)._t = 'a';
        at[key] = next;
      }
      at = next as Obj;
    }
    const last = row.keys[row.keys.length - 1]!;
    const inArray = typeof last === 'number';
    if (row.op === 'changed') at[String(last)] = [row.before, row.after];
    else if (row.op === 'added') at[String(last)] = [row.after];
    else if (row.op === 'removed') at[inArray ? `_${last}` : String(last)] = [row.before, 0, 0];
    else at[`_${last}`] = ['', row.to, 3];
  }
  return root;
}

function rowsOf(view: CardView): PropertyRow[] {
  return view.sections.flatMap((s) =>
    s.kind === 'properties' || s.kind === 'changes' ? s.rows : [],
  );
}

/** Top-level keys whose values differ between two property objects. */
function differingKeys(a: Obj, b: Obj): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !deepEqual(a[k], b[k]) || k in a !== k in b).sort();
}

type Card = { change: Change; view: CardView };

/**
 * What the node's own card does not show of `before` → `after` (its property rows, its header's type
 * and flow), as property names; `[]` when it shows everything.
 */
function unshownProperties(
  card: Card,
  before: Obj | undefined,
  after: Obj | undefined,
  label: (id: string) => string,
): string[] {
  const rows = rowsOf(card.view);
  let shown: Obj;
  if (before === undefined || after === undefined) {
    // An added or removed node: one row per property; its type and flow are in the header.
    shown = Object.create(null) as Obj;
    const props = (after ?? before)!;
    for (const row of rows) {
      if (row.keys.length === 1)
        shown[String(row.keys[0])] = row.op === 'added' ? row.after : row.before;
    }
    const headerType =
      card.change.kind === 'flow' ||
      card.change.kind === 'subflow' ||
      card.view.type === visibleText(String(props.type));
    if (props.type !== undefined && headerType) shown.type = props.type;
    if (typeof props.z === 'string' && props.z !== '' && card.view.flow === label(props.z)) {
      shown.z = props.z;
    }
    return differingKeys(shown, props);
  }
  shown = patchValue(before, deltaOf(rows)) as Obj;
  return differingKeys(shown, after);
}

function quoted(text: string): string {
  return `“${visibleText(text)}”`;
}

/**
 * Everything that differs between `base` and `target` and is not shown by the cards of `changes`
 * (each rendered as the phone renders it). Empty when the review is complete.
 */
export function unshownDifferences(
  base: Flows,
  target: Flows,
  changes: Change[],
  credentials: CredentialFields = {},
): Unshown[] {
  const index = new NodeIndex(changes, base, target);
  const byId = new Map(changes.map((c) => [c.id, c]));
  const cards = new Map<string, Card[]>();
  // The deck's cards: a group shows each change it holds as that change's full card, opened.
  for (const deckCard of reviewCards(changes)) {
    const views =
      deckCard.kind === 'single'
        ? [cardView(byId.get(deckCard.id)!, index)]
        : memberViews(deckCard, byId, index);
    for (const view of views) {
      const change = byId.get(view.id)!;
      const card = { change, view };
      const ids =
        change.kind === 'layout' ? (change.nodes ?? []) : change.node ? [change.node.id] : [];
      for (const id of ids) cards.set(id, [...(cards.get(id) ?? []), card]);
    }
  }
  const before = indexOf(base);
  const after = indexOf(target);
  const label = (id: string): string => {
    const node = after.byId.get(id) ?? before.byId.get(id);
    const name = node === undefined ? undefined : node.type === 'tab' ? node.label : node.name;
    return visibleText(typeof name === 'string' && name !== '' ? name : id);
  };
  const out: Unshown[] = [];
  const report = (id: string, what: string): void => {
    const node = after.byId.get(id) ?? before.byId.get(id);
    out.push({
      id,
      node: `${quoted(label(id))}${node ? ` (${visibleText(node.type)})` : ''}`,
      what,
    });
  };

  for (const id of new Set([...after.byId.keys(), ...before.byId.keys()])) {
    const b = before.byId.get(id);
    const t = after.byId.get(id);
    const oldCopies = before.copies.get(id);
    const newCopies = after.copies.get(id);
    const copiesDiffer =
      (oldCopies !== undefined || newCopies !== undefined) &&
      !deepEqual(oldCopies ?? [], newCopies ?? []);
    if (b !== undefined && t !== undefined && !copiesDiffer && deepEqual(b, t)) continue;
    const keys = edgeKeys(b, t);
    const oldProps = b === undefined ? undefined : propertiesOf(b, keys);
    const newProps = t === undefined ? undefined : propertiesOf(t, keys);
    const was = connectionsOf(b, keys);
    const now = connectionsOf(t, keys);
    // Order inside a port or a link list is not a difference: the edge sets are equal.
    if (
      b !== undefined &&
      t !== undefined &&
      !copiesDiffer &&
      deepEqual(oldProps, newProps) &&
      deepEqual(layoutOf(b), layoutOf(t)) &&
      was.size === now.size &&
      [...was].every((e) => now.has(e))
    ) {
      continue;
    }
    const mine = cards.get(id) ?? [];
    if (mine.length === 0) {
      report(
        id,
        b === undefined
          ? 'is added, on no card'
          : t === undefined
            ? 'is removed, on no card'
            : 'changed, on no card',
      );
      continue;
    }
    if (!deepEqual(oldProps, newProps)) {
      const own = mine.find(
        (c) =>
          c.change.kind !== 'wiring' &&
          c.change.kind !== 'layout' &&
          c.change.kind !== 'credentials',
      );
      const missing =
        own === undefined
          ? differingKeys(oldProps ?? {}, newProps ?? {})
          : unshownProperties(own, oldProps, newProps, label);
      for (const key of missing) report(id, `property ${quoted(key)} is not shown`);
    }
    const shownEdges = new Set<string>();
    for (const { view } of mine) {
      for (const section of view.sections) {
        if (section.kind !== 'edges') continue;
        for (const r of section.rows)
          shownEdges.add(
            `${r.state} ${edgeKey(r.edge.from, r.edge.port, r.edge.to, r.edge.via ?? 'wire')}`,
          );
      }
    }
    for (const edge of now) {
      if (!was.has(edge) && !shownEdges.has(`added ${edge}`))
        report(id, `a new connection ${edge} is not shown`);
    }
    for (const edge of was) {
      if (!now.has(edge) && !shownEdges.has(`removed ${edge}`))
        report(id, `a removed connection ${edge} is not shown`);
    }
  }

  for (const [id, fields] of Object.entries(credentials)) {
    if (fields.length === 0) continue;
    const change = changes.find((c) => c.id === `credentials:${id}`);
    const shown =
      change === undefined
        ? []
        : cardView(change, index).sections.flatMap((s) => (s.kind === 'fields' ? s.fields : []));
    for (const field of new Set(fields)) {
      if (!shown.includes(visibleText(field)))
        report(id, `credential field ${quoted(field)} is not shown`);
    }
  }
  return out;
}

/** A sentence for the reviewer: what the cards do not show (the first few), or null when complete. */
export function unshownMessage(unshown: Unshown[]): string | null {
  if (unshown.length === 0) return null;
  const first = unshown.slice(0, 3).map((u) => `node ${u.node}: ${u.what}`);
  const more = unshown.length > 3 ? `; and ${unshown.length - 3} more` : '';
  return `The cards do not show everything this deployment changes (${first.join('; ')}${more}).`;
}
