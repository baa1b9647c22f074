/**
 * Big real deployments reviewed on a phone in a few gestures (issue: big reviews, "Done when"), the
 * whole chain real: a Node-RED with the plugin holds each deployment, the phone (the real PWA in
 * Chromium, 360×640) reviews it card by card with swipes, signs, and Node-RED applies exactly the
 * signed flows. Counted: one gesture per swipe, one per tap ("Approve and sign", then "Sign").
 *
 * - The 406-node import of Hackuarium's flows (version 04) into an empty Node-RED: ≤ 25 gestures.
 *   A whole flow or subflow is one card that names what matters first, then shows each high-risk
 *   change it holds as its own full card (read by scrolling, not a gesture); every other
 *   high-risk change has a card of the deck to itself. All 116 are read as the phone shows them.
 * - Hackuarium 03→04, a real deployment of 13 changes with 4 function edits: ≤ 12 gestures, each
 *   function edit on its own card.
 *
 * The counts are printed (`review-gestures …`); with `COUNTERSIGN_GESTURES_OUT` set they are also
 * written there as JSON, which is how `npm run bench` reports its `review-gestures` rows.
 */
import { writeFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeChanges, revOf, type Change, type Flows } from '../../protocol/index.js';
import { assessChange } from '../../protocol/risk.js';
import { reviewCards } from '../../pwa/src/cards/grouping.js';
import { historyVersion } from '../helpers/fixtures.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { enrollThroughUi, ensurePwaBuilt, type Browser } from '../pwa/browser.js';
import { openPwaBrowser } from '../pwa/pwa-session.js';
import { currentCard, readThrough, swipe } from '../pwa/review-cards.js';

const version = (n: string): Flows => historyVersion('Hackuarium__bioreactor-docker', n);

let nr: RunningNodeRed;
let receiver: PushReceiver;
let browser: Browser;
let page: Page;
const counts: Record<string, number> = {};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + 120_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deploys `flows` through the admin API; the plugin holds it. Returns the deployment id. */
async function deploy(flows: Flows): Promise<string> {
  const res = await fetch(`${nr.editorUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
    body: JSON.stringify(flows),
  });
  const text = await res.text();
  expect(res.status, text).toBe(423);
  return /Deployment ([0-9a-f]{12}) is held for approval/.exec(text)![1]!;
}

/** The rev Node-RED runs now. */
async function runningRev(): Promise<string> {
  const res = await fetch(`${nr.editorUrl}/flows`, { headers: { 'node-red-api-version': 'v2' } });
  return ((await res.json()) as { rev: string }).rev;
}

/** The visible text of what `locator` finds, read through the shadow roots: what a person reads. */
async function textOf(locator: Locator): Promise<string> {
  return locator.evaluate((el) => {
    let text = '';
    const walk = (node: Node): void => {
      if (node.nodeType === 3) text += node.textContent;
      let apart = false;
      if (node instanceof Element) {
        const style = getComputedStyle(node);
        if (style.display === 'none' || node.classList.contains('sr-only')) return;
        if (node.tagName === 'STYLE') return;
        // Blocks read as separate words; inline runs (marks inside a word) do not.
        apart = !style.display.startsWith('inline');
      }
      if (apart) text += ' ';
      const children =
        node instanceof Element && node.shadowRoot ? node.shadowRoot.childNodes : node.childNodes;
      for (const child of children) walk(child);
      if (apart) text += ' ';
    };
    walk(el);
    return text.replace(/\s+/g, ' ');
  });
}

/** The visible text of the card in view. */
async function cardText(): Promise<string> {
  return textOf(page.locator('cs-review .card'));
}

type Reviewed = {
  gestures: number;
  /** The text of each card seen, by card id. */
  seen: Map<string, string>;
  /** The text of each high-risk change shown as its own card inside a group card, by change id. */
  embedded: Map<string, string>;
};

/**
 * Reads a group card as a person would: scrolls each high-risk change shown on it as its own card
 * into view, waits for it to be drawn, reads it, and reads on to the end of the card. Scrolling is
 * reading, not a gesture. Returns the text of each embedded card by change id.
 */
async function readGroup(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const sections = page.locator('cs-review cs-group-card section.embed');
  const n = await sections.count();
  for (let i = 0; i < n; i++) {
    const section = sections.nth(i);
    await section.scrollIntoViewIfNeeded();
    await section.locator('cs-change-card h2').waitFor({ timeout: 30_000 });
    out.set((await section.getAttribute('data-member-id'))!, await textOf(section));
  }
  await readThrough(page);
  return out;
}

/**
 * A group card holding high-risk changes is not approved before it is read: a swipe right snaps
 * back and Approve offers to read on. (Not counted: a person reading the card does not do this.)
 */
async function approveUnread(): Promise<void> {
  const card = (await currentCard(page))!;
  expect(card).toMatch(/^group:/);
  const approve = page.locator('cs-review footer button.approve');
  expect(await approve.getAttribute('aria-disabled')).toBe('true');
  expect(await approve.textContent()).toMatch(/\d+ to read/);
  await swipe(page, 220);
  await page.keyboard.press('ArrowRight');
  await page.waitForTimeout(1_000);
  expect(await currentCard(page)).toBe(card);
  expect(await approve.getAttribute('aria-disabled')).toBe('true');
}

/**
 * Reviews the deployment `id` as a person would: each card read (a group card through to its end,
 * each high-risk change on it read as its own card), then swiped right; then "Approve and sign" and
 * "Sign". Returns the gestures made and what was read.
 */
async function review(id: string, options: { tryApproveUnread?: boolean } = {}): Promise<Reviewed> {
  await page.goto(new URL(`/#/review/${id}`, nr.approvalUrl).href);
  await page.locator('cs-review .verified.ok').waitFor({ timeout: 60_000 });
  if (options.tryApproveUnread === true) await approveUnread();
  let gestures = 0;
  const seen = new Map<string, string>();
  const embedded = new Map<string, string>();
  for (let card = await currentCard(page); card !== null;) {
    seen.set(card, await cardText());
    if (card.startsWith('group:')) {
      for (const [change, text] of await readGroup()) embedded.set(change, text);
    }
    await swipe(page, 220);
    gestures++;
    const previous = card;
    card = await until('the next card', async () => {
      const now = await currentCard(page).catch(() => previous);
      return now !== previous ? { now } : undefined;
    }).then((r) => r.now);
  }
  await page.getByRole('button', { name: 'Approve and sign' }).click();
  gestures++;
  await page.getByRole('dialog').getByRole('button', { name: 'Sign' }).click();
  gestures++;
  await page.getByText('Approved and signed').waitFor();
  return { gestures, seen, embedded };
}

/** What of a change's own content its card must show: code lines, or its type and short text values. */
function ownContent(change: Change): string[] {
  const node = (change.after ?? {}) as Record<string, unknown>;
  if (typeof node.func === 'string') {
    return node.func
      .split('\n')
      .map((line) => line.replace(/\s+/g, ' ').trim())
      .filter((line) => line !== '' && line.length <= 200);
  }
  // Its type (a subflow instance's says which subflow), and each short text value it holds.
  const out: string[] = [String(node.type)];
  for (const [key, value] of Object.entries(node)) {
    if (['id', 'type', 'z', 'x', 'y', 'wires'].includes(key)) continue;
    if (typeof value === 'string' && value !== '' && value.length < 72 && !/[\n\r]/.test(value)) {
      out.push(`"${value.replace(/\s+/g, ' ')}"`);
    }
  }
  return out;
}

beforeAll(async () => {
  ensurePwaBuilt();
  receiver = await startPushReceiver();
  nr = await startNodeRed({ flows: [] });
  expect(nr.startError).toBeNull();
  await nr.waitForLog(/Started flows/);
  ({ browser, page } = await openPwaBrowser(receiver, new URL(nr.approvalUrl).origin));
  const invitation = await nr.invite({ owner: 'alice', name: "Alice's phone" });
  await enrollThroughUi(page, invitation.url, 'Pixel 8');
}, 180_000);

afterAll(async () => {
  // The bench's `review-gestures` rows run this file and read the counts from here.
  const out = process.env.COUNTERSIGN_GESTURES_OUT;
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(counts, null, 2)}\n`);
  await browser?.close();
  await nr?.close();
  await receiver?.close();
});

describe('big real deployments on a phone', { timeout: 600_000 }, () => {
  it('imports 406 nodes in at most 25 gestures, every high-risk change seen, and applies them exactly', async () => {
    const target = version('04');
    expect(target).toHaveLength(406);
    const changes = computeChanges([], target);
    const id = await deploy(target);
    const { gestures, seen, embedded } = await review(id, { tryApproveUnread: true });
    counts['hackuarium-import-406'] = gestures;
    console.log(`review-gestures hackuarium-import-406: ${gestures} gestures, ${seen.size} cards`);
    expect(gestures).toBeLessThanOrEqual(25);

    // Every high-risk change was seen as its own card: a card of the deck, or its own full card
    // inside its whole flow's card; each says high risk and why, and shows the node's own content
    // (its code, or its topic, broker, URL…).
    const high = changes.filter((c) => c.risk === 'high');
    expect(high).toHaveLength(116);
    const inWhole = new Set(
      reviewCards(changes).flatMap((c) => (c.kind === 'whole' ? c.changes : [])),
    );
    expect(embedded.size).toBe(high.filter((c) => inWhole.has(c.id)).length);
    for (const change of high) {
      const text = inWhole.has(change.id) ? embedded.get(change.id) : seen.get(change.id);
      expect(text, change.id).toBeDefined();
      expect(text, change.id).toContain(`High risk · ${assessChange(change).reasons.join(', ')}`);
      const own = ownContent(change);
      expect(own.length, change.id).toBeGreaterThan(0);
      for (const part of own) expect(text, change.id).toContain(part);
    }
    // Each whole flow's card named its code, outbound connections and other high-risk nodes
    // before it showed them in full.
    for (const card of reviewCards(changes).filter((c) => c.kind === 'whole')) {
      const text = seen.get(card.id)!;
      expect(text, card.id).toBeDefined();
      const summary = text.slice(0, text.indexOf('Each high-risk change, in full'));
      for (const member of card.changes.map((m) => changes.find((c) => c.id === m)!)) {
        if (member.risk !== 'high' || member.kind !== 'node') continue;
        const name = member.node?.name;
        if (typeof name === 'string' && name.trim() !== '') {
          expect(summary, `${card.id}: ${member.id}`).toContain(name.trim());
        }
      }
    }
    const rev = await revOf(target);
    await until('Node-RED to run the import', async () => (await runningRev()) === rev);
  });

  it('reviews the real deployment Hackuarium 03→04 in at most 12 gestures and applies it exactly', async () => {
    // Back to version 03 first (a deployment of its own), then the real one: 03 → 04.
    const base = version('03');
    const target = version('04');
    await review(await deploy(base));
    const baseRev = await revOf(base);
    await until('Node-RED to run version 03', async () => (await runningRev()) === baseRev);

    const changes = computeChanges(base, target);
    expect(changes).toHaveLength(13);
    const id = await deploy(target);
    const { gestures, seen } = await review(id);
    counts['hackuarium-03-04'] = gestures;
    console.log(`review-gestures hackuarium-03-04: ${gestures} gestures, ${seen.size} cards`);
    expect(gestures).toBeLessThanOrEqual(12);
    // The four function edits, each on its own card, with the changed characters in view.
    const functions = changes.filter((c) => c.node?.type === 'function');
    expect(functions).toHaveLength(4);
    for (const change of functions) {
      expect(seen.get(change.id), change.id).toContain('High risk · runs code');
    }
    expect(seen.get('node:14d65ca8.488213')).toContain('toLocaleTimeString');
    const rev = await revOf(target);
    await until('Node-RED to run version 04', async () => (await runningRev()) === rev);
    expect(nr.status()?.approvedRev).toBe(rev);
  });
});
