/**
 * Group cards (DESIGN 8) on real deployments: a flow added or removed whole on one card, a flow's
 * low-risk changes on one card, every other change (each high-risk one) on its own; every change on
 * exactly one card; one verdict per change in the decision map; and completeness kept — a group
 * opened shows every difference.
 */
import { describe, expect, it } from 'vitest';
import { computeChanges, type Change } from '../../protocol/index.js';
import { cardText, cardView } from '../../pwa/src/cards/card-view.js';
import { unshownDifferences } from '../../pwa/src/cards/completeness.js';
import {
  EMBEDDED_HEADING,
  MEMBERS_HEADING,
  OTHERS_HEADING,
  embeddedIds,
  groupText,
  groupView,
  memberViews,
} from '../../pwa/src/cards/group-view.js';
import { reviewCards, type ReviewCard } from '../../pwa/src/cards/grouping.js';
import { NodeIndex } from '../../pwa/src/cards/node-index.js';
import { ReviewState } from '../../pwa/src/lib/review-state.js';
import { differingChanges } from '../../pwa/src/lib/verify.js';
import { historyVersion, historyPairs, loadFlows } from '../helpers/fixtures.js';

const HACKUARIUM = 'Hackuarium__bioreactor-docker';

const version = historyVersion;

type Group = Exclude<ReviewCard, { kind: 'single' }>;

/** The rules every deck keeps, whatever the deployment. */
function expectDeckRules(changes: Change[], cards: ReviewCard[]): void {
  const byId = new Map(changes.map((c) => [c.id, c]));
  const onCards = cards.flatMap((c) => c.changes);
  // Every change on exactly one card, in the change list's order within each card.
  expect([...onCards].sort()).toEqual(changes.map((c) => c.id).sort());
  expect(new Set(cards.map((c) => c.id)).size).toBe(cards.length);
  for (const card of cards) {
    if (card.kind === 'single') continue;
    const members = card.changes.map((id) => byId.get(id)!);
    if (card.kind === 'low') {
      // A low-risk group holds only low-risk changes of one flow.
      expect(members.every((c) => c.risk === 'low')).toBe(true);
      expect(new Set(members.map((c) => c.flow?.id ?? null)).size).toBe(1);
      expect(members.length).toBeGreaterThan(1);
    } else {
      // A whole flow holds only what came or went with it.
      expect(card.changes[0]).toBe(card.subject);
      expect(members.every((c) => c.flow?.id === card.flow.id && c.op === card.op)).toBe(true);
    }
  }
  // A high-risk change is on its own card unless its whole flow came or went.
  for (const change of changes.filter((c) => c.risk === 'high')) {
    const card = cards.find((c) => c.changes.includes(change.id))!;
    expect(card.kind === 'single' || card.kind === 'whole', change.id).toBe(true);
  }
}

describe('group cards on real deployments', () => {
  it('decides Hackuarium 03→04 on six cards: the four code edits each on its own', () => {
    const changes = computeChanges(version(HACKUARIUM, '03'), version(HACKUARIUM, '04'));
    const cards = reviewCards(changes);
    expectDeckRules(changes, cards);
    expect(cards.map((c) => [c.kind, c.changes.length])).toEqual([
      ['low', 5],
      ['single', 1],
      ['single', 1],
      ['single', 1],
      ['single', 1],
      ['low', 4],
    ]);
    for (const card of cards.filter((c) => c.kind === 'single')) {
      expect(changes.find((c) => c.id === card.id)).toMatchObject({
        risk: 'high',
        node: { type: 'function' },
      });
    }
  });

  it('decides the 406-node import of Hackuarium 04 on 18 cards, summarising what matters first', () => {
    const target = version(HACKUARIUM, '04');
    const changes = computeChanges([], target);
    expect(changes).toHaveLength(406);
    const cards = reviewCards(changes);
    expectDeckRules(changes, cards);
    expect(cards).toHaveLength(18);
    expect(cards.filter((c) => c.kind === 'whole')).toHaveLength(11);

    const byId = new Map(changes.map((c) => [c.id, c]));
    const index = new NodeIndex(changes, [], target);
    const code = new Set(['function', 'template', 'ui_template']);
    const functions = target.filter((n) => code.has(n.type)).map((n) => n.id);
    const listed = new Set<string>();
    for (const card of cards.filter((c): c is Group => c.kind === 'whole')) {
      const view = groupView(card, byId, index);
      // What matters comes first, before the high-risk changes in full and the list of the others.
      const text = groupText(view);
      const firstMember = text.indexOf(EMBEDDED_HEADING);
      expect(firstMember).toBeGreaterThan(-1);
      if (view.members.length > 0) {
        expect(firstMember).toBeLessThan(text.indexOf(OTHERS_HEADING));
      }
      for (const topic of view.topics) {
        expect(text.indexOf(topic.heading)).toBeLessThan(firstMember);
        for (const item of topic.items) if (topic.key === 'code') listed.add(item.id);
      }
    }
    // Every code node of the import (functions and templates) is named under "Code" on its flow's card.
    expect([...listed].sort()).toEqual(
      functions
        .filter((id) => target.find((n) => n.id === id)!.z !== undefined)
        .map((id) => `node:${id}`)
        .sort(),
    );
    const main = cards.find((c) => c.id === 'group:flow:22b23614.75c2ca') as Group;
    const text = groupText(groupView(main, byId, index));
    expect(text).toContain('Outbound connections');
    expect(text).toMatch(/MQTT publishes to .+ via /);
  });

  it('shows each high-risk change of a whole flow as its own card, in the order of the summary', () => {
    const target = version(HACKUARIUM, '04');
    const changes = computeChanges([], target);
    const byId = new Map(changes.map((c) => [c.id, c]));
    const index = new NodeIndex(changes, [], target);
    const wholes = reviewCards(changes).filter((c): c is Group => c.kind === 'whole');
    let shown = 0;
    for (const card of wholes) {
      const view = groupView(card, byId, index);
      const high = card.changes.filter((id) => byId.get(id)!.risk === 'high');
      // Exactly the high-risk changes are embedded; every other change is in the list; none twice.
      expect([...embeddedIds(card, byId, index)].sort(), card.id).toEqual([...high].sort());
      expect(view.members.map((m) => m.id)).toEqual(
        card.changes.filter((id) => !high.includes(id)),
      );
      expect(view.listHeading).toBe(OTHERS_HEADING);
      // In the summary's order: code first, then endpoints, outbound connections…
      const named = view.topics.flatMap((t) => t.items.map((item) => item.id));
      const order = view.embedded.map((row) => row.id).filter((id) => named.includes(id));
      expect(order).toEqual(named.filter((id) => high.includes(id)));
      // The text of the card holds each one's full card, code lines included.
      const text = groupText(view, memberViews(card, byId, index));
      for (const id of high) expect(text).toContain(cardText(cardView(byId.get(id)!, index)));
      shown += high.length;
    }
    // 110 high-risk changes inside whole flows; the 6 others (config nodes) have cards of their own.
    expect(shown).toBe(110);
    const singles = reviewCards(changes).filter((c) => c.kind === 'single');
    expect(singles.filter((c) => byId.get(c.id)!.risk === 'high')).toHaveLength(6);
    expect(changes.filter((c) => c.risk === 'high')).toHaveLength(116);
    // The main flow's card starts with its code: function nodes, their lines of code.
    const main = wholes.find((c) => c.id === 'group:flow:22b23614.75c2ca')!;
    const first = byId.get(embeddedIds(main, byId, index)[0]!)!;
    expect(first.node?.type).toBe('function');
  });

  it('keeps a low-risk group a plain list, with nothing embedded', () => {
    const changes = computeChanges(version(HACKUARIUM, '03'), version(HACKUARIUM, '04'));
    const byId = new Map(changes.map((c) => [c.id, c]));
    const index = new NodeIndex(changes);
    for (const card of reviewCards(changes).filter((c): c is Group => c.kind === 'low')) {
      const view = groupView(card, byId, index);
      expect(view.embedded).toEqual([]);
      expect(view.listHeading).toBe(MEMBERS_HEADING);
      expect(view.members.map((m) => m.id)).toEqual(card.changes);
    }
  });

  it('keeps the rules on every real history pair', () => {
    for (const [label, basePath, targetPath] of historyPairs()) {
      const changes = computeChanges(loadFlows(basePath), loadFlows(targetPath));
      const cards = reviewCards(changes);
      expect(cards.length, label).toBeLessThanOrEqual(Math.max(1, changes.length));
      expectDeckRules(changes, cards);
    }
  });

  it('shows every difference of a grouped deployment once its groups are opened', () => {
    const target = version(HACKUARIUM, '04');
    const changes = computeChanges([], target);
    expect(unshownDifferences([], target, changes)).toEqual([]);
    // Opened, a group's text holds each change's full card: every property of every node.
    const byId = new Map(changes.map((c) => [c.id, c]));
    const index = new NodeIndex(changes, [], target);
    const card = reviewCards(changes).find((c) => c.id === 'group:flow:65ca72ac.afdd4c') as Group;
    const open = memberViews(card, byId, index);
    const text = groupText(groupView(card, byId, index), open);
    for (const view of open) expect(text).toContain(cardText(view));
    const node = target.find((n) => n.z === '65ca72ac.afdd4c' && n.type === 'function')!;
    expect(text).toContain(String(node.func).split('\n')[0]);
  });
});

describe('the decision map of a grouped review', () => {
  it('gives each change of a group its card’s verdict, and counts changes, not cards', () => {
    const changes = computeChanges(version(HACKUARIUM, '03'), version(HACKUARIUM, '04'));
    const cards = reviewCards(changes);
    const state = new ReviewState(cards);
    expect(state.cards).toHaveLength(6);
    expect(state.ids).toHaveLength(13);
    state.decide('approve');
    expect(state.counts).toEqual({ total: 13, approved: 5, rejected: 0, open: 8 });
    for (let i = 1; i < 5; i++) state.decide('approve');
    state.decide('reject');
    expect(state.done).toBe(true);
    expect(state.verdict).toBe('reject');
    const claim = state.changesClaim;
    expect(Object.keys(claim).sort()).toEqual(changes.map((c) => c.id).sort());
    for (const id of cards.at(-1)!.changes) expect(claim[id]).toBe('reject');
    for (const id of cards[0]!.changes) expect(claim[id]).toBe('approve');
    // Revisiting the rejected group from the summary takes back its verdict for all it holds.
    state.revisit(cards.at(-1)!.id);
    expect(state.counts.open).toBe(4);
    state.decide('approve');
    expect(state.verdict).toBe('approve');
    expect(Object.values(state.changesClaim).every((v) => v === 'approve')).toBe(true);
  });

  it('groups by the risk it is given, so T8 refuses a list whose risks were lowered', () => {
    // A lying server can rate code low to hide it in a group; the phone's T8 check compares every
    // change's content, risk included, and names each lowered change.
    const base = version(HACKUARIUM, '03');
    const target = version(HACKUARIUM, '04');
    const honest = computeChanges(base, target);
    const lying = honest.map((c) => (c.risk === 'high' ? { ...c, risk: 'low' as const } : c));
    const cards = reviewCards(lying);
    expect(cards.filter((c) => c.kind === 'single')).toHaveLength(0);
    expect(reviewCards(honest).filter((c) => c.kind === 'single')).toHaveLength(4);
    expect(differingChanges(honest, lying)).toEqual(
      honest
        .filter((c) => c.risk === 'high')
        .map((c) => c.id)
        .sort(),
    );
  });
});
