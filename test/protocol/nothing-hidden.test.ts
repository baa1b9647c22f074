/**
 * Nothing hidden, by property (DESIGN 5.2, T9). At least 20,000 random mutations per run, each at a
 * JSON path drawn over every path of the real flows in the shared fixtures: values of every JSON type,
 * nested arrays, numbers where strings were, long strings, strings with each character class of the
 * text display rule, reserved and odd key names. For each, either the gate's shape check refuses it,
 * naming the node and the rule, or the text a person reads on the cards — made by the card code the
 * phone runs — shows the path and the new value (or its visible escape), the phone's completeness
 * check finds nothing left out, and no hidden character reaches the card unescaped.
 *
 * What to expect is worked out here, from the rules, not from the code under test: which shapes the
 * gate must refuse, how a path and a value read, which characters are hidden, what a connection says.
 */
import { describe, expect, it } from 'vitest';
import {
  computeChanges,
  deepEqual,
  parseFlows,
  type Change,
  type FlowNode,
  type Flows,
} from '../../protocol/index.js';
import {
  cardText,
  cardView,
  HIDDEN_WARNING,
  type CardView,
} from '../../pwa/src/cards/card-view.js';
import { unshownDifferences } from '../../pwa/src/cards/completeness.js';
import type { PropertyRow } from '../../pwa/src/cards/delta-rows.js';
import { NodeIndex } from '../../pwa/src/cards/node-index.js';
import { exampleFiles, loadFlows, realFlowsFiles } from '../helpers/fixtures.js';
import { KINDS, mutateAt, pathCount, pathsOf, type Key } from '../helpers/json-mutations.js';
import { rng } from '../helpers/mutations.js';

// A new seed each run widens the search; a failure prints it, and COUNTERSIGN_SEED replays it.
const seed = Number(process.env.COUNTERSIGN_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = 20_000;

// --- The rules, written here from DESIGN 5.2 ------------------------------------------------

const LINK_TYPES = new Set(['link in', 'link out', 'link call']);
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const LAYOUT = new Set(['x', 'y', 'w', 'h', 'l']);

/** The canonical-shape rules a node breaks, each as the phrase the refusal must use. */
function brokenRules(node: Record<string, unknown>): RegExp[] {
  const rules: RegExp[] = [];
  const id = Object.prototype.hasOwnProperty.call(node, 'id') ? node.id : undefined;
  const type = Object.prototype.hasOwnProperty.call(node, 'type') ? node.type : undefined;
  if (typeof id !== 'string' || id === '') return [/has no string id/];
  if (typeof type !== 'string' || type === '') return [/has no string type/];
  if (node.z !== undefined && typeof node.z !== 'string') rules.push(/z must be a string/);
  const wires = node.wires;
  if (
    wires !== undefined &&
    !(
      Array.isArray(wires) &&
      wires.every((p) => Array.isArray(p) && p.every((t) => typeof t === 'string'))
    )
  ) {
    rules.push(/wires must be an array of arrays of node ids/);
  }
  if (
    LINK_TYPES.has(type) &&
    node.links !== undefined &&
    !(Array.isArray(node.links) && node.links.every((t) => typeof t === 'string'))
  ) {
    rules.push(/links must be an array of node ids/);
  }
  const walk = (value: unknown): void => {
    if (typeof value === 'number' && !Number.isFinite(value)) rules.push(/is not a finite number/);
    if (typeof value !== 'object' || value === null) return;
    for (const key of Object.keys(value)) {
      if (RESERVED.has(key)) rules.push(/__proto__, constructor and prototype are reserved/);
      walk((value as Record<string, unknown>)[key]);
    }
  };
  walk(node);
  return rules;
}

/** Hidden characters: controls but tab and LF, format characters, lone surrogates, U+2028/9, Hangul fillers. */
const HIDDEN = /(?![\t\n])[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029\u115F\u1160\u3164\uFFA0]/gu;

function escapeOf(char: string): string {
  return `\u27E8U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}\u27E9`;
}

/** Text as the display rule shows it: hidden characters and the bracket as escapes. */
function shown(text: string): string {
  return text.replace(new RegExp(`${HIDDEN.source}|\u27E8`, 'gu'), escapeOf);
}

/** The lines a card shows of a long string: split as JavaScript splits, odd line ends marked. */
function shownLines(text: string): string[] {
  const out: string[] = [];
  const re = /\r\n|[\n\r\u2028\u2029]/g;
  let start = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const end = m[0] === '\n' ? '' : shown(m[0].replace('\n', ''));
    out.push(shown(text.slice(start, m.index)) + end);
    start = m.index + m[0].length;
  }
  out.push(shown(text.slice(start)));
  return out;
}

function hiddenIn(values: unknown[]): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(HIDDEN)) found.add(m[0]);
    else if (typeof v === 'object' && v !== null) {
      for (const key of Object.keys(v)) {
        walk(key);
        walk((v as Record<string, unknown>)[key]);
      }
    }
  };
  values.forEach(walk);
  return [...found];
}

/** A path as a card writes it: `a.b[0]["odd key"]`. */
function pathText(keys: readonly Key[]): string {
  return keys
    .map((key, i) =>
      typeof key === 'number'
        ? `[${key}]`
        : /^[A-Za-z_$][\w$]*$/.test(key)
          ? `${i === 0 ? '' : '.'}${key}`
          : i === 0
            ? shown(JSON.stringify(key))
            : `[${shown(JSON.stringify(key))}]`,
    )
    .join('');
}

const isLong = (v: unknown): v is string =>
  typeof v === 'string' && (v.length >= 72 || /[\n\r\u2028\u2029]/.test(v));

/**
 * JSON text as the display rule shows it: `JSON.stringify`, with the escapes JSON gives hidden
 * characters (`\r`, `\b`, `\f`, `\u0000`, lone surrogates) undone, so that they show as visible escapes.
 */
function shownJson(value: unknown, indent?: number): string {
  const json = JSON.stringify(value, null, indent);
  const raw = json.replace(/\\(u[0-9a-f]{4}|[bfr]|.)/g, (all, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === 'b' ? '\b' : e === 'f' ? '\f' : e === 'r' ? '\r' : all;
  });
  return shown(raw);
}

/** True when `rowText` shows `value`: as quoted text, as lines, or as JSON (alone or inside its parent's JSON). */
function showsValue(rowText: string, value: unknown, asLines: boolean): boolean {
  if (typeof value === 'string') {
    if (value === '' && rowText.includes('empty')) return true;
    // Long strings, and any string replacing or replaced by a long one, read as lines.
    if (shownLines(value).every((line) => rowText.includes(line)) && (isLong(value) || asLines)) {
      return true;
    }
    if (rowText.includes(`"${shown(value)}"`)) return true;
  }
  const squash = (t: string): string => t.replace(/\s+/g, '');
  return [shownJson(value), shownJson(value, 2)].some(
    (json) => rowText.includes(json) || squash(rowText).includes(squash(json)),
  );
}

function rowTextOf(row: PropertyRow): string {
  const parts = [row.path, row.old?.text ?? '', row.new?.text ?? ''];
  for (const line of row.lines ?? []) parts.push(line.text);
  return parts.join('\n');
}

/**
 * The rows of a node's cards whose path is `keys` or leads to it. Within a list, a minimal edit may
 * name another index than the one mutated (a removed item equal to its neighbour, say): when no row
 * names the path, the rows under the innermost list on it are taken, and the value decides.
 */
function rowsOn(views: CardView[], keys: readonly Key[]): PropertyRow[] {
  const rows = views.flatMap((v) =>
    v.sections.flatMap((s) => (s.kind === 'properties' || s.kind === 'changes' ? s.rows : [])),
  );
  const full = pathText(keys);
  const exact = rows.filter(
    (row) =>
      full === row.path || (full.startsWith(row.path) && /^[.[]/.test(full.slice(row.path.length))),
  );
  const lastIndex = keys.findLastIndex((k) => typeof k === 'number');
  if (exact.length > 0 || lastIndex < 0) return exact;
  const list = pathText(keys.slice(0, lastIndex));
  return rows.filter((row) => row.path.startsWith(`${list}[`));
}

/** What a card calls a node (its name, else its type and a short id), as the connection lists do. */
function labelIn(base: Flows, target: Flows, id: string): string {
  const node = target.find((n) => n.id === id) ?? base.find((n) => n.id === id);
  const raw = node === undefined ? undefined : node.type === 'tab' ? node.label : node.name;
  const hiddenId = new RegExp(HIDDEN.source, 'u').test(id);
  const suffix = hiddenId ? ` (id "${shown(id)}")` : '';
  if (typeof raw === 'string' && shown(raw).trim() !== '') return shown(raw).trim() + suffix;
  const short = hiddenId ? `"${shown(id)}"` : shown(id.length > 8 ? id.slice(0, 6) : id);
  return node === undefined ? short : `${shown(node.type)} ${short}`;
}

/** The connections of a node as `from port → to` lines, when its edges read as sets. */
function connectionLines(
  base: Flows,
  target: Flows,
  node: FlowNode | undefined,
): Set<string> | null {
  const out = new Set<string>();
  if (node === undefined) return out;
  const distinct = (l: unknown): boolean =>
    Array.isArray(l) && l.every((x) => typeof x === 'string') && new Set(l).size === l.length;
  if (node.wires !== undefined && !(Array.isArray(node.wires) && node.wires.every(distinct)))
    return null;
  if (LINK_TYPES.has(node.type) && node.links !== undefined && !distinct(node.links)) return null;
  const outputs = (id: string): number => {
    const n = target.find((x) => x.id === id) ?? base.find((x) => x.id === id);
    return Array.isArray(n?.wires) ? n.wires.length : 0;
  };
  const line = (from: string, port: string, to: string): string =>
    `${labelIn(base, target, from)}${port ? ` ${port}` : ''} → ${labelIn(base, target, to)}`;
  ((node.wires as string[][] | undefined) ?? []).forEach((port, i) => {
    for (const to of port)
      out.add(line(node.id, outputs(node.id) > 1 || i > 0 ? `out ${i + 1}` : '', to));
  });
  if (LINK_TYPES.has(node.type)) {
    for (const other of (node.links as string[] | undefined) ?? []) {
      out.add(
        node.type === 'link in' ? line(other, 'link', node.id) : line(node.id, 'link', other),
      );
    }
  }
  return out;
}

/** A subflow definition's ports are shown without their positions (layout, counted not listed). */
function asShown(node: FlowNode, keys: readonly Key[], value: unknown): unknown {
  const port = (p: unknown): unknown =>
    typeof p === 'object' && p !== null && !Array.isArray(p)
      ? Object.fromEntries(Object.entries(p).filter(([k]) => !LAYOUT.has(k)))
      : p;
  if (node.type !== 'subflow' || !['in', 'out', 'status'].includes(String(keys[0]))) return value;
  if (keys.length === 1) return Array.isArray(value) ? value.map(port) : port(value);
  if (keys.length === 2 && keys[0] !== 'status') return port(value);
  return value;
}

function isLayoutPath(node: FlowNode, keys: readonly Key[]): boolean {
  const [first] = keys;
  if (typeof first !== 'string') return false;
  if (keys.length === 1 && (LAYOUT.has(first) || (first === 'style' && node.type === 'group')))
    return true;
  if (node.type === 'group' && first === 'style') return true;
  // A subflow definition's port positions.
  return (
    node.type === 'subflow' &&
    (first === 'in' || first === 'out' || first === 'status') &&
    typeof keys[keys.length - 1] === 'string' &&
    LAYOUT.has(keys[keys.length - 1] as string) &&
    keys.length <= 3
  );
}

// --- The fixtures --------------------------------------------------------------------------

/**
 * The flows of one tab, one subflow or the global configuration of a real file: the container and
 * the nodes in it, in file order. Each mutation is reviewed in the context of its node's own flow,
 * which keeps 20,000 rounds quick; every node of every file is drawn.
 */
type Context = { name: string; flows: Flows; weights: number[]; total: number };

function groupOf(node: FlowNode): string {
  if (node.type === 'tab' || node.type === 'subflow') return node.id;
  return typeof node.z === 'string' ? node.z : '';
}

function contexts(): Context[] {
  const out: Context[] = [];
  for (const [name, path] of [...realFlowsFiles(), ...exampleFiles()]) {
    const groups = new Map<string, Flows>();
    for (const node of loadFlows(path)) {
      const key = groupOf(node);
      groups.set(key, [...(groups.get(key) ?? []), node]);
    }
    for (const [key, flows] of groups) {
      const weights = flows.map((n) => pathCount(n));
      out.push({
        name: `${name}${key === '' ? ' (global)' : ` flow ${key}`}`,
        flows,
        weights,
        total: weights.reduce((x, y) => x + y, 0),
      });
    }
  }
  return out;
}

function weighted(weights: number[], total: number, random: () => number): number {
  let at = random() * total;
  for (let i = 0; i < weights.length; i++) {
    at -= weights[i]!;
    if (at < 0) return i;
  }
  return weights.length - 1;
}

// --- The property ----------------------------------------------------------------------------

describe(`nothing hidden: random mutations of real flows (COUNTERSIGN_SEED=${seed})`, () => {
  const files = contexts();
  const allPaths = files.reduce((a, f) => a + f.total, 0);
  const fileWeights = files.map((f) => f.total);

  it(
    `refuses, or shows on the cards, each of ${ROUNDS} mutations over ${allPaths} JSON paths`,
    { timeout: 600_000 },
    () => {
      const random = rng(seed);
      const tally = { refused: 0, shown: 0, same: 0 };
      const byKind = new Map<string, number>();
      let round = 0;
      while (round < ROUNDS) {
        const file = files[weighted(fileWeights, allPaths, random)]!;
        const at = weighted(file.weights, file.total, random);
        const node = file.flows[at]!;
        const paths = pathsOf(node);
        const path = paths[Math.floor(random() * paths.length)]!;
        const kind = KINDS[Math.floor(random() * KINDS.length)]!;
        const made = mutateAt(node, path, kind, random);
        if (made === undefined) continue;
        round++;
        const { mutation } = made;
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
        const target = file.flows.slice();
        target[at] = made.node;
        const context = `seed ${seed}, round ${round}, ${file.name}, node ${JSON.stringify(node.id)}, ${kind} at ${pathText(mutation.keys)}${mutation.charClass ? ` (${mutation.charClass})` : ''}`;

        // 1. The gate's shape check: exactly the shapes the rules refuse, naming node and rule.
        const broken = brokenRules(made.node as Record<string, unknown>);
        let refusal: string | null = null;
        try {
          parseFlows(target);
        } catch (err) {
          expect((err as { code?: string }).code, context).toBe('ERR_FLOWS_INVALID');
          refusal = (err as Error).message;
        }
        expect(refusal !== null, `${context}: refused ${refusal}`).toBe(broken.length > 0);
        if (refusal !== null) {
          expect(
            broken.some((rule) => rule.test(refusal!)),
            `${context}: ${refusal}`,
          ).toBe(true);
          const id = made.node.id;
          const named =
            typeof id === 'string' && id !== ''
              ? refusal.includes(
                  `node ${JSON.stringify(shown(id.length > 60 ? `${id.slice(0, 60)}…` : id))}`,
                )
              : refusal.includes(`flows[${at}]`);
          expect(named, `${context}: ${refusal}`).toBe(true);
          tally.refused++;
          continue;
        }

        // 2. The cards, as the phone makes them.
        const changes = computeChanges(file.flows, target, {});
        if (deepEqual(node, made.node)) {
          expect(changes, context).toEqual([]);
          tally.same++;
          continue;
        }
        const index = new NodeIndex(changes, file.flows, target);
        const ids = new Set([node.id, made.node.id]);
        const mine: Array<{ change: Change; view: CardView }> = changes
          .filter(
            (c) => (c.node !== undefined && ids.has(c.node.id)) || c.nodes?.some((n) => ids.has(n)),
          )
          .map((change) => ({ change, view: cardView(change, index) }));
        const text = mine.map(({ view }) => cardText(view)).join('\n');
        expect(unshownDifferences(file.flows, target, changes, {}), context).toEqual([]);
        expect(text.match(HIDDEN), context).toBeNull();
        tally.shown++;

        const keys = mutation.keys;
        if (keys[0] === 'id') {
          // Another id is another node: the old one leaves, the new one arrives (or changes, if taken).
          expect(
            mine.some((c) => c.change.node?.id === node.id && c.change.op === 'removed'),
            context,
          ).toBe(true);
          expect(
            mine.some((c) => c.change.node?.id === made.node.id),
            context,
          ).toBe(true);
          continue;
        }
        if (isLayoutPath(made.node, keys) || isLayoutPath(node, keys)) {
          // Layout is counted, not listed: the node is named on a card.
          const edgesOrLayout = connectionLines(file.flows, target, made.node);
          expect(
            text.includes(labelIn(file.flows, target, node.id)) || edgesOrLayout === null,
            context,
          ).toBe(true);
          continue;
        }
        const was = connectionLines(file.flows, target, node);
        const now = connectionLines(file.flows, target, made.node);
        const edgeKey = keys[0] === 'wires' || (keys[0] === 'links' && LINK_TYPES.has(node.type));
        if (edgeKey && was !== null && now !== null) {
          // Connections: each added and removed one is listed by the names at its ends.
          for (const line of now)
            if (!was.has(line)) expect(text, `${context}: ${line}`).toContain(line);
          for (const line of was)
            if (!now.has(line)) expect(text, `${context}: ${line}`).toContain(line);
          continue;
        }

        // A property: a row on the node's card names the path and shows the value.
        const rows = rowsOn(
          mine.map((c) => c.view),
          keys,
        );
        expect(rows.length, `${context}: no row for the path in\n${text}`).toBeGreaterThan(0);
        // An item taken out of a list may read as its followers moving up, item by item: the rows
        // under the list, read as edits, make the new list (the completeness check above).
        const listItemGone = mutation.kind === 'delete' && typeof keys.at(-1) === 'number';
        const value = asShown(
          made.node,
          keys,
          mutation.kind === 'delete' ? mutation.removed : mutation.value,
        );
        expect(
          listItemGone ||
            rows.some((row) => showsValue(rowTextOf(row), value, row.lines !== undefined)),
          `${context}: value ${JSON.stringify(value)?.slice(0, 200)} not shown in\n${text.slice(0, 2000)}`,
        ).toBe(true);

        // Hidden characters: escaped, high risk, and a plain warning.
        const hidden = hiddenIn([value, ...keys]);
        if (hidden.length > 0) {
          const own = mine.find(
            (c) =>
              rowsOn([c.view], keys).length > 0 || rowsOn([c.view], keys.slice(0, -1)).length > 0,
          )!;
          expect(own.change.risk, context).toBe('high');
          expect(own.view.warnings, `${context}\n${text}`).toContain(HIDDEN_WARNING);
          for (const char of hidden)
            expect(text, `${context}: ${escapeOf(char)}`).toContain(escapeOf(char));
        }
        // Whitespace added at the end of a string: said plainly, and marked.
        if (mutation.kind === 'trailing-whitespace') {
          expect(text, context).toContain('Only whitespace changed');
        }
      }
      // Both outcomes are exercised, and most mutations reach the cards.
      expect(tally.refused, JSON.stringify(tally)).toBeGreaterThan(ROUNDS / 50);
      expect(tally.shown, JSON.stringify(tally)).toBeGreaterThan(ROUNDS / 2);
      expect(byKind.size).toBe(KINDS.length);
      console.log(
        `nothing hidden (seed ${seed}): ${JSON.stringify(tally)} over ${ROUNDS} mutations`,
      );
    },
  );
});
