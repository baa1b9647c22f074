/**
 * Big real deployments reviewed on a phone in a few gestures (issue: big reviews, "Done when"), the
 * whole chain real: a Node-RED with the plugin holds each deployment, the phone (the real PWA in
 * Chromium, 360×640) reviews it card by card with swipes, signs, and Node-RED applies exactly the
 * signed flows. Counted: one gesture per swipe, one per tap ("Approve and sign", then "Sign").
 *
 * - The 406-node import of Hackuarium's flows (version 04) into an empty Node-RED: ≤ 25 gestures.
 *   A whole flow or subflow is one card that names what matters first; every other high-risk
 *   change has a card of its own.
 * - Hackuarium 03→04, a real deployment of 13 changes with 4 function edits: ≤ 12 gestures, each
 *   function edit on its own card.
 *
 * The counts are printed (`review-gestures …`); with `COUNTERSIGN_GESTURES_OUT` set they are also
 * written there as JSON, which is how `npm run bench` reports its `review-gestures` rows.
 */
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeChanges, revOf, type Change, type Flows } from '../../protocol/index.js';
import { reviewCards } from '../../pwa/src/cards/grouping.js';
import { historyVersion } from '../helpers/fixtures.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { enrollThroughUi, ensurePwaBuilt, type Browser } from '../pwa/browser.js';
import { openPwaBrowser } from '../pwa/pwa-session.js';
import { currentCard, swipe } from '../pwa/review-cards.js';

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

/** The visible text of the card in view, read through the shadow roots. */
async function cardText(): Promise<string> {
  return page.locator('cs-review .card').evaluate((card) => {
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
    walk(card);
    return text.replace(/\s+/g, ' ');
  });
}

type Reviewed = { gestures: number; seen: Map<string, string> };

/**
 * Reviews the deployment `id` as a person would: each card read, then swiped right; then "Approve
 * and sign" and "Sign". Returns the gestures made and the text of each card seen, by card id.
 */
async function review(id: string): Promise<Reviewed> {
  await page.goto(new URL(`/#/review/${id}`, nr.approvalUrl).href);
  await page.locator('cs-review .verified.ok').waitFor({ timeout: 60_000 });
  let gestures = 0;
  const seen = new Map<string, string>();
  for (let card = await currentCard(page); card !== null;) {
    seen.set(card, await cardText());
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
  return { gestures, seen };
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

/** The high-risk changes of `changes` outside a whole flow: each must have had its own card. */
function highOutsideWholeFlows(changes: Change[]): Change[] {
  const inWhole = new Set(
    reviewCards(changes).flatMap((c) => (c.kind === 'whole' ? c.changes : [])),
  );
  return changes.filter((c) => c.risk === 'high' && !inWhole.has(c.id));
}

describe('big real deployments on a phone', { timeout: 600_000 }, () => {
  it('imports 406 nodes in at most 25 gestures, every high-risk change seen, and applies them exactly', async () => {
    const target = version('04');
    expect(target).toHaveLength(406);
    const changes = computeChanges([], target);
    const id = await deploy(target);
    const { gestures, seen } = await review(id);
    counts['hackuarium-import-406'] = gestures;
    console.log(`review-gestures hackuarium-import-406: ${gestures} gestures, ${seen.size} cards`);
    expect(gestures).toBeLessThanOrEqual(25);

    // Each high-risk change outside a whole flow was a card of its own, and the card said high risk.
    for (const change of highOutsideWholeFlows(changes)) {
      expect(seen.get(change.id), change.id).toContain('High risk');
    }
    // Each whole flow's card named its code, outbound connections and other high-risk nodes
    // before its list of changes.
    for (const card of reviewCards(changes).filter((c) => c.kind === 'whole')) {
      const text = seen.get(card.id)!;
      expect(text, card.id).toBeDefined();
      const summary = text.slice(0, text.indexOf('Every change in it'));
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
