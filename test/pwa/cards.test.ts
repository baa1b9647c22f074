/**
 * Component tests of the card renderers: the app's real `cs-change-card` in Chromium, on real
 * changes computed from the shared fixtures (every neighbouring pair of the real histories, and
 * edits made to the real flows files). Expectations are computed here, independently of the app's
 * card code: names of wired nodes, line counts of code diffs, fields of credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  assessChange,
  computeChanges,
  type Change,
  type CredentialFields,
  type FlowNode,
  type Flows,
} from '../../protocol/index.js';
import { historyPairs, loadFlows, realFlowsFiles } from '../helpers/fixtures.js';
import { MUTATIONS, cloneFlows, mutate, rng } from '../helpers/mutations.js';
import { launchBrowser, startCardHarness, type Browser } from './browser.js';
import type { RenderedCard } from './harness/harness.js';

type Harness = {
  renderCards(c: Change[], b: Flows | null, t: Flows | null): Promise<RenderedCard[]>;
};

let browser: Browser;
let harness: Awaited<ReturnType<typeof startCardHarness>>;
let page: Page;

beforeAll(async () => {
  harness = await startCardHarness();
  browser = await launchBrowser({ width: 390, height: 844 });
  page = await browser.context.newPage();
  await page.goto(harness.url);
  await page.waitForFunction(() => 'renderCards' in window);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

function render(
  changes: Change[],
  base: Flows | null,
  target: Flows | null,
): Promise<RenderedCard[]> {
  return page.evaluate(([c, b, t]) => (window as unknown as Harness).renderCards(c, b, t), [
    changes,
    base,
    target,
  ] as const);
}

/** What a card must call a node: written here from the flows, not taken from the app. */
function nameIn(base: Flows, target: Flows, changes: Change[], id: string): string {
  const node: FlowNode | undefined =
    target.find((n) => n.id === id) ?? base.find((n) => n.id === id);
  const named = node === undefined ? changes.find((c) => c.node?.id === id)?.node : undefined;
  const raw = node === undefined ? named?.name : node.type === 'tab' ? node.label : node.name;
  if (typeof raw === 'string' && raw.trim() !== '') return raw.trim().replace(/\s+/g, ' ');
  const type = node?.type ?? named?.type;
  const short = id.length > 8 ? id.slice(0, 6) : id;
  return type === undefined ? short : `${type} ${short}`;
}

/**
 * Lines as JavaScript splits them, a trailing newline making an empty last line (DESIGN 5.2); an
 * empty string has none, so code added where there was none is only added lines.
 */
function split(text: string): string[] {
  return text === '' ? [] : text.split(/\r\n|[\n\r\u2028\u2029]/);
}

/** Lines added and removed by a minimal line edit: from the longest common subsequence. */
function lineCounts(before: string, after: string): { added: number; removed: number } {
  const a = split(before);
  const b = split(after);
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diagonal + 1 : Math.max(row[j]!, row[j - 1]!);
      diagonal = up;
    }
  }
  const common = row[b.length]!;
  return { added: b.length - common, removed: a.length - common };
}

const OP: Record<string, string> = { added: 'ADDED', removed: 'REMOVED', changed: 'CHANGED' };

function expectCard(
  card: RenderedCard,
  change: Change,
  base: Flows,
  target: Flows,
  all: Change[],
): void {
  // Header: op, risk, title.
  const op =
    change.kind === 'wiring'
      ? 'REWIRED'
      : change.kind === 'layout'
        ? 'MOVED'
        : change.kind === 'credentials'
          ? change.op === 'added'
            ? 'SET'
            : 'CHANGED'
          : OP[change.op];
  expect(card.chips[0]?.toUpperCase()).toBe(op);
  // The badge says why (5.2): the reasons of the one risk module.
  expect(card.risk.toLowerCase()).toBe(
    `${change.risk} risk · ${assessChange(change).reasons.join(', ')}`.toLowerCase(),
  );
  if (change.kind === 'layout') {
    expect(card.title).toBe(
      `${change.nodes!.length} ${change.nodes!.length === 1 ? 'node' : 'nodes'} moved`,
    );
  } else if (change.node?.name !== undefined) {
    expect(card.title).toBe(change.node.name.replace(/\s+/g, ' ').trim());
  }

  // Edges, with the names of the nodes at both ends.
  const edges = change.edges ?? { added: [], removed: [] };
  const expected = [
    ...edges.removed.map((e) => ({
      state: 'removed',
      from: nameIn(base, target, all, e.from),
      to: nameIn(base, target, all, e.to),
    })),
    ...edges.added.map((e) => ({
      state: 'added',
      from: nameIn(base, target, all, e.from),
      to: nameIn(base, target, all, e.to),
    })),
  ];
  if (change.kind !== 'credentials') expect(card.edges).toEqual(expected);

  // Credentials: the field names, each "value hidden", never a value.
  if (change.kind === 'credentials') {
    expect(card.fields).toEqual(change.fields);
    expect(card.hidden).toBe(change.fields!.length);
  }

  // Code and other long strings: exactly the lines a minimal edit adds and removes.
  if (change.op === 'changed' && change.before && change.after && change.delta) {
    let added = 0;
    let removed = 0;
    let nested = false;
    for (const key of Object.keys(change.delta as object)) {
      const a = change.before[key];
      const b = change.after[key];
      const long = (v: unknown): boolean =>
        typeof v === 'string' && (/[\n\r\u2028\u2029]/.test(v) || v.length >= 72);
      if (
        (typeof a === 'string' || a === undefined) &&
        (typeof b === 'string' || b === undefined) &&
        (long(a) || long(b)) &&
        (typeof a === typeof b || a === undefined || b === undefined)
      ) {
        // A long string added or removed is shown as lines added to or removed from nothing.
        const counts =
          a === undefined
            ? { added: split(b!).length, removed: 0 }
            : b === undefined
              ? { added: 0, removed: split(a).length }
              : lineCounts(a, b);
        added += counts.added;
        removed += counts.removed;
      } else if (typeof a === 'object' || typeof b === 'object') {
        nested = true; // long strings inside objects are counted too; skip the exact check
      }
      expect(card.text).toContain(key);
    }
    if (!nested) expect({ added: card.added, removed: card.removed }).toEqual({ added, removed });
  }

  // Added and removed nodes list their properties.
  if ((change.op === 'added' || change.op === 'removed') && change.kind !== 'credentials') {
    const props = (change.op === 'added' ? change.after : change.before) ?? {};
    for (const key of Object.keys(props).filter((k) => k !== 'type' && k !== 'z')) {
      expect(card.text).toContain(key);
    }
  }

  // The sketch: around a node on a canvas, with the subject coloured by what happened to it.
  const subject =
    change.node === undefined
      ? undefined
      : (target.find((n) => n.id === change.node!.id) ??
        base.find((n) => n.id === change.node!.id));
  const onCanvas =
    subject !== undefined &&
    subject.x !== undefined &&
    subject.type !== 'tab' &&
    subject.type !== 'subflow' &&
    change.kind !== 'config';
  if ((change.kind === 'node' || change.kind === 'wiring') && onCanvas) {
    expect(card.sketch).not.toBeNull();
    const state = change.kind === 'wiring' ? 'changed' : change.op;
    expect(card.sketch!.subject).toContain(state);
    expect(card.sketch!.lines.filter((l) => l.includes('added')).length).toBeGreaterThanOrEqual(
      edges.added.length > 0 ? 1 : 0,
    );
  }
  expect(card.pendingSketch).toBe(false);
}

describe('card renderers on real histories', { timeout: 120_000 }, () => {
  it.each(historyPairs())('render every change of %s as the model says', async (_label, b, t) => {
    const base = loadFlows(b);
    const target = loadFlows(t);
    const changes = computeChanges(base, target, {});
    const cards = await render(changes, base, target);
    expect(cards.map((c) => c.id)).toEqual(changes.map((c) => c.id));
    cards.forEach((card, i) => expectCard(card, changes[i]!, base, target, changes));
  });
});

describe('card renderers on edits to real flows', { timeout: 120_000 }, () => {
  const cases = realFlowsFiles().filter(([, path]) => loadFlows(path).length >= 20);
  it.each(cases)('render each kind of edit to %s', async (_name, path) => {
    const base = loadFlows(path);
    const target = cloneFlows(base);
    const random = rng(7);
    const used = new Set<string>();
    const counter = { n: 0 };
    const credentials: CredentialFields = {};
    for (const name of MUTATIONS) {
      const m = mutate(target, name, random, used, counter);
      if (m?.credentials) Object.assign(credentials, m.credentials);
    }
    const changes = computeChanges(base, target, credentials);
    expect(changes.length).toBeGreaterThan(0);
    const cards = await render(changes, base, target);
    cards.forEach((card, i) => expectCard(card, changes[i]!, base, target, changes));
    expect(cards.some((c) => c.hidden > 0)).toBe(Object.keys(credentials).length > 0);
  });

  it('shows a placeholder, not a broken sketch, before the snapshots arrive', async () => {
    const [, path] = realFlowsFiles().find(([n]) => n.startsWith('Hackuarium'))!;
    const base = loadFlows(path);
    const target = cloneFlows(base);
    mutate(target, 'function-code', rng(1));
    const changes = computeChanges(base, target, {});
    const [card] = await render(changes, null, null);
    expect(card!.pendingSketch).toBe(true);
    expect(card!.added + card!.removed).toBeGreaterThan(0);
  });
});
