/**
 * Accessibility of every screen (issue: big reviews, item 5): axe-core, injected into the real PWA
 * in Chromium, on the enrolment, inbox, review (a single change, a group card opened, a code card,
 * the sketch enlarged, the summary and its confirmation), devices and history screens, in the light
 * and the dark theme: no serious or critical violation. And the cards work from the keyboard alone.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeChanges, type Flows } from '../../protocol/index.js';
import { historyVersion } from '../helpers/fixtures.js';
import { enrollThroughUi } from './browser.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';
import { currentCard, nextCard } from './review-cards.js';
import { bioreactorScenario } from './scenario.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const version = (n: string): Flows => historyVersion('Hackuarium__bioreactor-docker', n);

let session: PwaSession;
let page: Page;
let edit: string;
let imported: string;
let scenario: string;

type Violation = { id: string; impact: string; help: string; targets: string[] };

/** axe-core's serious and critical violations on the page as it is now (shadow roots included). */
async function audit(): Promise<Violation[]> {
  // DevTools evaluation is not script from the page: the app's CSP does not apply to it.
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{
            violations: Array<{
              id: string;
              impact: string | null;
              help: string;
              nodes: Array<{ target: unknown[]; failureSummary?: string }>;
            }>;
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact ?? '',
        help: v.help,
        targets: v.nodes
          .slice(0, 5)
          .map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`),
      }));
  });
}

/** What the audits found, by screen and theme; every screen is audited before the test judges. */
const found: Array<{ screen: string; violations: Violation[] }> = [];
const audited: string[] = [];

/** Audits the screen in both themes. */
async function auditBothThemes(screen: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.waitForTimeout(100);
    const violations = await audit();
    audited.push(`${screen} (${colorScheme})`);
    if (violations.length > 0) found.push({ screen: `${screen} (${colorScheme})`, violations });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

async function openReview(id: string): Promise<void> {
  await page.goto(`${session.server.url}/#/review/${id}`);
  await page.locator('cs-review .verified.ok').waitFor();
}

beforeAll(async () => {
  session = await startPwaSession({ browser: { reducedMotion: 'reduce' } });
  page = session.page;
  const { server } = session;
  const lab = await server.addInstance('bioreactor-lab');
  const fresh = await server.addInstance('bioreactor-2');
  const other = await server.addInstance('greenhouse');
  edit = (await server.propose(lab.token, version('03'), version('04'))).id;
  imported = (await server.propose(fresh.token, [], version('04'))).id;
  const s = bioreactorScenario();
  scenario = (
    await server.propose(other.token, s.base, s.target, {
      credentials: s.credentials,
      creds: s.creds,
    })
  ).id;
  await server.enrollDevice({ owner: 'marta', name: "Marta's phone" });
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('axe-core on every screen, light and dark', { timeout: 300_000 }, () => {
  it('finds no serious or critical violation from enrolment to history', async () => {
    const { server } = session;
    const invitation = await server.invite({ owner: 'alice', name: 'phone' });
    await page.goto(invitation.url);
    await page.getByLabel('Name for this phone').waitFor();
    await auditBothThemes('enrolment');
    await enrollThroughUi(page, invitation.url, 'Pixel 8');
    await auditBothThemes('enrolled');

    await page.goto(`${server.url}/#/inbox`);
    await page.locator('cs-inbox a.item').first().waitFor();
    await auditBothThemes('inbox');

    // A flow's low-risk changes on one card, one of them opened; then a code card.
    await openReview(edit);
    await auditBothThemes('review: low-risk group');
    await page.locator('cs-review cs-group-card summary').first().click();
    await page.locator('cs-review cs-group-card cs-change-card').waitFor();
    await auditBothThemes('review: low-risk group, one change opened');
    await page.keyboard.press('ArrowRight');
    await page.locator('cs-review cs-change-card cs-line-diff').waitFor();
    await auditBothThemes('review: code card');
    await page.locator('cs-review cs-change-card cs-flow-sketch button.open').click();
    await page.locator('cs-review cs-change-card cs-flow-sketch dialog[open]').waitFor();
    await auditBothThemes('review: sketch enlarged');
    await page.keyboard.press('Escape');

    // A whole flow of an import: its summary, a high-risk change in full, then opened entirely.
    await openReview(imported);
    await page.locator('cs-review cs-group-card section.matters').waitFor();
    await auditBothThemes('review: whole flow');
    await page.keyboard.press('ArrowRight');
    await page.locator('cs-review cs-group-card section.embed cs-change-card').first().waitFor();
    await auditBothThemes('review: whole flow, a high-risk change in full');
    await page.locator('cs-review cs-group-card .list-head button').click();
    await auditBothThemes('review: whole flow, every change opened');

    // Every kind of single card, then the summary and its confirmation.
    await openReview(scenario);
    for (let card = await currentCard(page); card !== null; card = await nextCard(page, card)) {
      await auditBothThemes(`review: ${card}`);
      await page.keyboard.press('ArrowRight');
    }
    await auditBothThemes('review: summary');
    await page.getByRole('button', { name: 'Approve and sign' }).click();
    await page.getByRole('dialog').waitFor();
    await auditBothThemes('review: confirmation');
    await page.getByRole('dialog').getByRole('button', { name: 'Sign' }).click();
    await page.getByText('Approved and signed').waitFor();
    await auditBothThemes('review: signed');

    await page.goto(`${server.url}/#/devices`);
    await page.locator('cs-devices li.device').first().waitFor();
    await auditBothThemes('devices');
    await page.goto(`${server.url}/#/history`);
    await page.locator('cs-history .dep').first().waitFor();
    await auditBothThemes('history');
    await page.goto(`${server.url}/#/history/${scenario}`);
    await page.locator('cs-history-entry li.decision').first().waitFor();
    await auditBothThemes('history entry');

    expect(audited.length).toBeGreaterThan(30);
    expect(found).toEqual([]);
  });
});

describe('cards from the keyboard alone', { timeout: 120_000 }, () => {
  it('reads a whole flow’s high-risk changes one by one with the arrow key before approving it', async () => {
    await openReview(imported);
    const first = (await currentCard(page))!;
    expect(first).toMatch(/^group:flow:/);
    const approve = page.locator('cs-review footer button.approve');
    expect(await approve.getAttribute('aria-disabled')).toBe('true');
    expect(await approve.getAttribute('aria-label')).toMatch(
      /^\d+ to read: the high-risk changes on this card/,
    );
    const embeds = page.locator('cs-review cs-group-card section.embed');
    const order = await embeds.evaluateAll((els) => els.map((el) => el.dataset.memberId!));
    expect(order.length).toBeGreaterThan(10);
    // Each press brings the next high-risk change not yet seen into view and focuses it.
    const focused = (): Promise<string | undefined> =>
      page.evaluate(() => {
        let at: Element | null = document.activeElement;
        while (at?.shadowRoot?.activeElement) at = at.shadowRoot.activeElement;
        return at instanceof HTMLElement ? at.dataset.memberId : undefined;
      });
    await page.keyboard.press('ArrowRight');
    await expect.poll(focused).toBe(order[0]);
    expect(await currentCard(page)).toBe(first);
    let presses = 1;
    while ((await currentCard(page)) === first && presses < 200) {
      await page.keyboard.press('ArrowRight');
      presses++;
      await page.waitForTimeout(60);
    }
    // The card was decided only after its high-risk changes were each brought into view.
    expect(await currentCard(page)).not.toBe(first);
    expect(presses).toBeGreaterThan(2);
    const progress = await page
      .locator('cs-review .progress [role=progressbar]')
      .getAttribute('aria-valuenow');
    expect(progress).toBe('1');
  });

  it('opens a group’s changes, reads them, and decides the group with keys', async () => {
    await openReview(edit);
    const first = await currentCard(page);
    expect(first).toMatch(/^group:low:/);
    const ids = computeChanges(version('03'), version('04')).map((c) => c.id);
    // Tab reaches the group's "Open all" button; Enter opens every change in place.
    const openAll = page.locator('cs-review cs-group-card .list-head button');
    for (let i = 0; i < 12 && !(await openAll.evaluate((b) => b.matches(':focus'))); i++) {
      await page.keyboard.press('Tab');
    }
    await expect.poll(() => openAll.evaluate((b) => b.matches(':focus'))).toBe(true);
    expect(await openAll.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    expect(await openAll.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => page.locator('cs-review cs-group-card cs-change-card').count()).toBe(5);
    // The card names itself to a screen reader as a group, with what it holds.
    const label = await page.locator('cs-review .card').getAttribute('aria-label');
    expect(label).toContain('5 changes');
    expect(await page.locator('cs-review .card').getAttribute('aria-roledescription')).toBe(
      'group card',
    );
    // The arrow key decides the whole group; the next card is the first function edit.
    await page.keyboard.press('ArrowRight');
    expect(await nextCard(page, first)).toBe(ids.find((id) => id.startsWith('node:311594b1')));
  });
});
