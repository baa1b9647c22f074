/**
 * The whole chain, every part real: a deployment through Node-RED's admin API is held by the plugin;
 * the embedded approval server sends an encrypted push to the local push receiver; the receiver's
 * decrypted message goes to the real service worker in Chromium; the notification opens the review;
 * every card is swiped and the deployment signed with the phone's non-extractable key; the server
 * verifies; the plugin applies; Node-RED reports the target rev and the new flow answers.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeChanges, revOf, type Flows } from '../../protocol/index.js';
import { reviewCards } from '../../pwa/src/cards/grouping.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { ask, endpointFlows, waitForAnswer } from '../plugin/flows-fixture.js';
import {
  enrollThroughUi,
  ensurePwaBuilt,
  pushUntilShown,
  serviceWorkerOf,
  type Browser,
} from '../pwa/browser.js';
import { openPwaBrowser } from '../pwa/pwa-session.js';
import { currentCard, swipe } from '../pwa/review-cards.js';

let nr: RunningNodeRed;
let receiver: PushReceiver;
let browser: Browser;
let page: Page;

const base: Flows = endpointFlows('version 1');
const target: Flows = [
  ...endpointFlows('version 2'),
  ...endpointFlows('hello from a new flow', { tab: 'tab-new', path: '/hello' }),
];

async function until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + 90_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}\n${nr.logs.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  ensurePwaBuilt();
  receiver = await startPushReceiver();
  nr = await startNodeRed({ flows: base });
  expect(nr.startError).toBeNull();
  await nr.waitForLog(/Started flows/);
  ({ browser, page } = await openPwaBrowser(receiver, new URL(nr.approvalUrl).origin));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await nr?.close();
  await receiver?.close();
});

describe('the whole chain', { timeout: 120_000 }, () => {
  it('takes a held deployment from Node-RED to the phone and back, and runs exactly what was signed', async () => {
    // A phone enrols from the invitation link, with push to the local receiver.
    const invitation = await nr.invite({ owner: 'alice', name: "Alice's phone" });
    const { fingerprint } = await enrollThroughUi(page, invitation.url, 'Pixel 8');
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{4}( [A-Za-z0-9_-]{4}){3}$/);
    await page.goto(new URL('/#/inbox', invitation.url).href);
    await page.locator('cs-inbox h1').waitFor();
    const sw = await serviceWorkerOf(page);

    // Someone deploys through the admin API: held, nothing runs yet.
    const res = await fetch(`${nr.editorUrl}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: JSON.stringify(target),
    });
    const text = await res.text();
    expect(res.status, text).toBe(423);
    const id = /Deployment ([0-9a-f]{12}) is held for approval/.exec(text)![1]!;
    expect(await ask(nr.nodeUrl, '/hello')).toBe('HTTP 404');
    await waitForAnswer(nr.nodeUrl, 'version 1');

    // The push, encrypted by the server and decrypted by the receiver, reaches the service worker.
    const [pushed] = await receiver.waitForMessages(1);
    expect(pushed!.payload).toMatchObject({ v: 1, kind: 'deployment', id });
    expect(pushed!.text).not.toContain('version 2');
    const [note] = await pushUntilShown(sw, page, pushed!.text, (list) => list.length > 0);
    expect(note!.actions).toBe(0);

    // A tap on the notification opens the review.
    const worker = browser.context
      .serviceWorkers()
      .find((w) => w.url().startsWith(new URL(nr.approvalUrl).origin))!;
    await worker.evaluate(async () => {
      const scope = self as unknown as ServiceWorkerGlobalScope;
      const [shown] = await scope.registration.getNotifications();
      scope.dispatchEvent(new NotificationEvent('notificationclick', { notification: shown! }));
    });
    await page.waitForURL(`**/#/review/${id}`);
    await page.locator('cs-review .verified.ok').waitFor({ timeout: 30_000 });

    // Every card, swiped right, in the order of the change list; the new flow, added whole, is one
    // group card (DESIGN 8).
    const expected = reviewCards(computeChanges(base, target, {})).map((c) => c.id);
    const seen: string[] = [];
    for (let card = await currentCard(page); card !== null;) {
      seen.push(card);
      await swipe(page, 220);
      const previous = card;
      card = await until('the next card', async () => {
        const now = await currentCard(page).catch(() => previous);
        return now !== previous ? { now } : undefined;
      }).then((r) => r.now);
    }
    expect(expected).toContain('group:flow:tab-new');
    expect(expected.length).toBeGreaterThan(1);
    expect(seen).toEqual(expected);
    await page.getByRole('button', { name: 'Approve and sign' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Sign' }).click();
    await page.getByText('Approved and signed').waitFor();

    // The plugin applies exactly the signed flows.
    const targetRev = await revOf(target);
    await until('Node-RED to run the target rev', async () => {
      const flows = await fetch(`${nr.editorUrl}/flows`, {
        headers: { 'node-red-api-version': 'v2' },
      });
      return ((await flows.json()) as { rev: string }).rev === targetRev;
    });
    await waitForAnswer(nr.nodeUrl, 'version 2');
    expect(await ask(nr.nodeUrl, '/hello')).toBe('hello from a new flow');
    await nr.waitForLog(new RegExp(`${id}.*applied`, 'i'));
    expect(nr.status()?.approvedRev).toBe(targetRev);
  });
});
