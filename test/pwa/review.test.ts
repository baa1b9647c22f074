/**
 * Reviewing and signing in the real PWA: swipes (pointer events), buttons and the keyboard, undo,
 * the summary's confirmation, and the server's verdict on what the phone signed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  API_PREFIX,
  computeChanges,
  decisionsDigest,
  type ApprovalClaims,
} from '../../protocol/index.js';
import type { TestServer } from '../helpers/server.js';
import { enrollThroughUi } from './browser.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';
import { currentCard, nextCard, swipe } from './review-cards.js';
import { bioreactorScenario, functionEditScenario, reorderScenario } from './scenario.js';

let session: PwaSession;
let server: TestServer;
let page: Page;
const violations: string[] = [];

beforeAll(async () => {
  session = await startPwaSession({ browser: { reducedMotion: 'no-preference' } });
  ({ server, page } = session);
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) violations.push(message.text());
  });
  const invitation = await server.invite({ owner: 'alice', name: 'phone' });
  await enrollThroughUi(page, invitation.url, 'Pixel 8');
}, 120_000);

afterAll(async () => {
  await session?.close();
});

async function openReview(id: string): Promise<void> {
  await page.goto(`${server.url}/#/review/${id}`);
  await page.locator('cs-review .verified.ok').waitFor();
}

/** The approval JWSs the server kept, decoded, as the plugin reads them. */
async function approvalsOf(
  token: string,
  id: string,
): Promise<{ status: string; claims: ApprovalClaims[]; maps: Array<Record<string, string>> }> {
  const res = await server.pluginFetch(token, 'GET', `${API_PREFIX}/deployments/${id}`);
  const body = (await res.json()) as {
    status: string;
    approvals: Array<{ jws: string; changes: Record<string, string> }>;
  };
  const claims = body.approvals.map(
    (a) =>
      JSON.parse(Buffer.from(a.jws.split('.')[1]!, 'base64url').toString('utf8')) as ApprovalClaims,
  );
  const maps = body.approvals.map((a) => a.changes);
  // Each signed `decisions` claim is the digest of the decision map the phone sent beside it.
  for (const [i, map] of maps.entries()) {
    expect(claims[i]!.decisions).toBe(await decisionsDigest(map as Record<string, 'approve'>));
  }
  return { status: body.status, claims, maps };
}

describe('reviewing and signing in the real browser', { timeout: 120_000 }, () => {
  it('reviews by swipe, buttons and keyboard, undoes, and signs an approval the server accepts', async () => {
    const { token } = await server.addInstance('bioreactor-lab');
    const s = bioreactorScenario();
    const ids = computeChanges(s.base, s.target, s.credentials).map((c) => c.id);
    const { id } = await server.propose(token, s.base, s.target, {
      credentials: s.credentials,
      creds: s.creds,
    });
    await openReview(id);
    expect(await currentCard(page)).toBe(ids[0]);
    expect(await page.locator('cs-review .progress').innerText()).toContain(`1 / ${ids.length}`);

    // A short drag springs back; a long one to the right approves.
    await swipe(page, 40);
    await page.waitForTimeout(300);
    expect(await currentCard(page)).toBe(ids[0]);
    await swipe(page, 220);
    expect(await nextCard(page, ids[0]!)).toBe(ids[1]);

    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    expect(await nextCard(page, ids[1]!)).toBe(ids[2]);

    await page.keyboard.press('ArrowRight');
    expect(await nextCard(page, ids[2]!)).toBe(ids[3]);

    // Reject by swiping left, then undo it: the same card comes back.
    await swipe(page, -220);
    expect(await nextCard(page, ids[3]!)).toBe(ids[4]);
    await page.getByRole('button', { name: 'Undo the last decision' }).click();
    expect(await nextCard(page, ids[4]!)).toBe(ids[3]);

    for (let i = 3; i < ids.length; i++) {
      await page.keyboard.press('ArrowRight');
      await nextCard(page, ids[i]!);
    }
    expect(await currentCard(page)).toBeNull();
    await page.getByRole('button', { name: 'Approve and sign' }).click();
    // The confirmation keeps a margin on each side of a 360 px screen, as the other dialogs do.
    const dialog = (await page.getByRole('dialog').boundingBox())!;
    expect(dialog.x).toBeGreaterThanOrEqual(12);
    expect(dialog.x + dialog.width).toBeLessThanOrEqual(360 - 12);
    await page.getByRole('dialog').getByRole('button', { name: 'Sign' }).click();
    await page.getByText('Approved and signed').waitFor();

    const { status, claims, maps } = await approvalsOf(token, id);
    expect(status).toBe('approved');
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({
      aud: server.serverId,
      sub: id,
      verdict: 'approve',
      creds: s.creds,
    });
    expect(Object.keys(maps[0]!).sort()).toEqual([...ids].sort());
    expect(Object.values(maps[0]!).every((v) => v === 'approve')).toBe(true);
  });

  it('rejects a deployment with a note when a change is rejected', async () => {
    const { token } = await server.addInstance('greenhouse');
    const s = functionEditScenario();
    const { id } = await server.propose(token, s.base, s.target);
    await openReview(id);
    await swipe(page, -220);
    await nextCard(page, 'node:f23c470d.dad1f8');
    await page
      .getByLabel('Note for the deployer (optional)')
      .fill('Round after scaling, not before');
    await page.getByRole('button', { name: 'Reject deployment' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reject', exact: true }).click();
    await page.getByText('Deployment rejected').waitFor();

    const { status, claims, maps } = await approvalsOf(token, id);
    expect(status).toBe('rejected');
    expect(claims[0]).toMatchObject({
      verdict: 'reject',
      note: 'Round after scaling, not before',
    });
    expect(maps[0]).toMatchObject({ 'node:f23c470d.dad1f8': 'reject' });
  });

  it('shows one card for an order-only deployment and signs an empty change list', async () => {
    const { token } = await server.addInstance('packaging');
    const s = reorderScenario();
    expect(computeChanges(s.base, s.target, {})).toEqual([]);
    const { id } = await server.propose(token, s.base, s.target);
    await openReview(id);
    await page.getByText('Only the order changed').waitFor();
    await page.keyboard.press('ArrowRight');
    await nextCard(page, '');
    await page.getByRole('button', { name: 'Approve and sign' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Sign' }).click();
    await page.getByText('Approved and signed').waitFor();
    const { status, maps } = await approvalsOf(token, id);
    expect(status).toBe('approved');
    expect(maps[0]).toEqual({});
  });

  it('records an approval that needs a second approver, and does not offer the review again', async () => {
    const { token } = await server.addInstance('two-person', { requiredApprovals: 2 });
    const s = functionEditScenario();
    const { id } = await server.propose(token, s.base, s.target);
    await openReview(id);
    await page.keyboard.press('ArrowRight');
    await nextCard(page, 'node:f23c470d.dad1f8');
    await page.getByRole('button', { name: 'Approve and sign' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Sign' }).click();
    await page.getByText('Your approval is in').waitFor();
    expect((await approvalsOf(token, id)).status).toBe('pending');

    await page.goto(`${server.url}/#/inbox`);
    await page.goto(`${server.url}/#/review/${id}`);
    await page.getByText('This phone has already decided this deployment').waitFor();
  });

  it('lists decided deployments and the audit log in History', async () => {
    await page.goto(`${server.url}/#/history`);
    const rows = page.locator('cs-history .dep');
    await rows.nth(2).waitFor();
    const text = (await rows.allInnerTexts()).join('\n').toLowerCase();
    expect(text).toContain('approved');
    expect(text).toContain('rejected');
    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.locator('cs-history .audit li').first().waitFor();
    const audit = (await page.locator('cs-history .audit .type').allInnerTexts()).join(' ');
    expect(audit).toContain('decision');
  });

  it("runs under the server's Content-Security-Policy without a single violation", async () => {
    await page.goto('about:blank');
    const response = await page.goto(`${server.url}/#/inbox`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response!.headers()['content-security-policy']).toContain("style-src 'self'");
    await page.locator('cs-inbox h1').waitFor();
    expect(violations).toEqual([]);
  });

  it('never caches API answers in the service worker, only the app shell', async () => {
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
      }
      return urls;
    });
    expect(cached.some((u) => u.includes('index.html'))).toBe(true);
    expect(cached.some((u) => /\/assets\/index-[\w-]+\.js/.test(u))).toBe(true);
    expect(cached.filter((u) => u.includes('/api/'))).toEqual([]);
  });
});
