/**
 * Screenshots of the review of real deployments for `docs/screenshots/`, at 360×640 in light and
 * dark: a group card (a whole flow of an import with its high-risk changes in full, and a flow's
 * low-risk changes), a code card with a change inside a line, a long-string change, and the sketch
 * (on a card and enlarged). Run
 * `npm run build` first, then `npx tsx pwa/scripts/screenshots-review.ts [out-dir]`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { Flows } from '../../protocol/index.js';
import { historyVersion } from '../../test/helpers/fixtures.js';
import { startTestServer } from '../../test/helpers/server.js';
import { enrollThroughUi, ensurePwaBuilt, launchBrowser } from '../../test/pwa/browser.js';
import { shrink } from './shrink.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../../docs/screenshots'));
mkdirSync(out, { recursive: true });

const version = (n: string): Flows => historyVersion('Hackuarium__bioreactor-docker', n);

const server = await startTestServer({ appDir: ensurePwaBuilt(), name: 'Plant approvals' });
try {
  const lab = await server.addInstance('bioreactor-lab');
  const fresh = await server.addInstance('bioreactor-2');
  const notes = await server.addInstance('greenhouse');
  const v03 = version('03');
  const v04 = version('04');
  const edit = await server.propose(lab.token, v03, v04, {
    source: { user: 'jonas', via: 'editor' },
  });
  const imported = await server.propose(fresh.token, [], v04, {
    source: { user: 'marta', via: 'editor' },
  });
  // A long one-line string changed at its end: a chart's info text, 20,000 characters.
  const long = `${'Calibrated against the reference probe; '.repeat(500)}`;
  const base = structuredClone(v04);
  const chart = base.find((n) => n.id === '82e0dfd4.c1e2b')!;
  chart.info = long;
  const target = structuredClone(base);
  target.find((n) => n.id === chart.id)!.info = `${long}Recalibrate every 6 months.`;
  const longEdit = await server.propose(notes.token, base, target, {
    source: { user: 'ole', via: 'editor' },
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    const tag = `360x640-${colorScheme}`;
    const browser = await launchBrowser({ width: 360, height: 640, colorScheme });
    try {
      const page = await browser.context.newPage();
      const invitation = await server.invite({ owner: 'jonas', name: 'Pixel 8' });
      await enrollThroughUi(page, invitation.url, 'Pixel 8');
      const shot = async (name: string): Promise<void> => {
        await page.waitForTimeout(200);
        const file = join(out, `${name}-${tag}.png`);
        await page.screenshot({ path: file });
        shrink(file);
        console.log(`${name}-${tag}.png`);
      };
      const open = async (id: string): Promise<void> => {
        await page.goto(`${server.url}/#/review/${id}`);
        await page.locator('cs-review .verified.ok').waitFor();
      };

      // Hackuarium 03→04: the low-risk group, then a function edit changed inside a line.
      await open(edit.id);
      await shot('card-group-low');
      await page.locator('cs-group-card details summary').first().click();
      await scrollTo(page, 'cs-group-card', 'details[open]');
      await shot('card-group-low-open');
      await page.keyboard.press('ArrowRight');
      await page.locator('cs-review cs-change-card').waitFor();
      await page.keyboard.press('ArrowRight');
      await page.waitForTimeout(300);
      await scrollTo(page, 'cs-change-card', 'cs-line-diff');
      await shot('card-code-inline');
      await scrollTo(page, 'cs-change-card', 'figure');
      await shot('card-sketch');
      await page.locator('cs-review cs-change-card cs-flow-sketch button.open').click();
      await page.waitForTimeout(200);
      await shot('card-sketch-enlarged');
      await page.keyboard.press('Escape');

      // The 406-node import: one card per whole flow, what matters first, then each high-risk
      // change in full (Approve waits until they were read), then the list of the others.
      await open(imported.id);
      await shot('card-group-flow');
      await scrollTo(page, 'cs-group-card', 'h3.embedded-head');
      await page.locator('cs-review cs-group-card section.embed cs-change-card').first().waitFor();
      await shot('card-group-flow-embedded');
      await scrollTo(page, 'cs-group-card', 'section.embed:nth-of-type(3)');
      await page.waitForTimeout(300);
      await shot('card-group-flow-embedded-more');
      await scrollTo(page, 'cs-group-card', '.list-head');
      await shot('card-group-flow-list');

      // A 20,000-character string changed at its end.
      await open(longEdit.id);
      await scrollTo(page, 'cs-change-card', 'cs-line-diff');
      await shot('card-long-string');
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
}

/** Scrolls the card in view so that `selector` inside `host`'s shadow root sits near the top. */
async function scrollTo(page: Page, host: string, selector: string): Promise<void> {
  await page.locator(`cs-review ${host}`).evaluate((el, sel) => {
    const target = el.shadowRoot?.querySelector(sel);
    const scroller = el.closest('.card');
    if (target && scroller instanceof HTMLElement) {
      const top = target.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      scroller.scrollTop += top - 12;
    }
  }, selector);
}
