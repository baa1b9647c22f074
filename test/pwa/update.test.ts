/**
 * App updates: a new service worker waits, the app offers the update, and never reloads in the
 * middle of a review. A real second version: the served `sw.js` changes on disk.
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestServer } from '../helpers/server.js';
import { ensurePwaBuilt } from './browser.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';
import { functionEditScenario } from './scenario.js';

let appDir: string;
let session: PwaSession;
let server: TestServer;
let page: Page;

beforeAll(async () => {
  appDir = mkdtempSync(join(tmpdir(), 'countersign-app-'));
  cpSync(ensurePwaBuilt(), appDir, { recursive: true });
  session = await startPwaSession({ appDir, enrolAs: 'Pixel 8' });
  ({ server, page } = session);
}, 120_000);

afterAll(async () => {
  await session?.close();
  rmSync(appDir, { recursive: true, force: true });
});

describe('app updates', { timeout: 120_000 }, () => {
  it('waits until the review is over, then reloads only when asked', async () => {
    const { token } = await server.addInstance('greenhouse');
    const s = functionEditScenario();
    const { id } = await server.propose(token, s.base, s.target);
    await page.goto(`${server.url}/#/review/${id}`);
    await page.locator('cs-review cs-change-card').waitFor();
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same page';
    });

    // A new version of the app is published while the review is open.
    appendFileSync(join(appDir, 'sw.js'), '\n// next version\n');
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      await registration!.update();
    });
    await page.waitForFunction(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return registration?.waiting !== null && registration?.waiting !== undefined;
    });
    // The app knows a new version waits...
    await page.waitForFunction(
      () => (document.querySelector('cs-app') as unknown as { updateReady: boolean }).updateReady,
    );
    // ...and keeps the review going: no prompt, no reload.
    await page.keyboard.press('ArrowRight');
    await page.locator('cs-review cs-review-summary').waitFor();
    expect(await page.locator('cs-app .update').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe(
      'same page',
    );

    // Out of the review, the app offers the update; the page reloads once the person taps it.
    await page.getByRole('button', { name: 'Back to the inbox' }).click();
    await page.getByText('A new version of Countersign is ready.').waitFor();
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe(
      'same page',
    );
    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Update' }).click(),
    ]);
    expect(
      await page.evaluate(() => (window as unknown as { marker?: string }).marker),
    ).toBeUndefined();
    const waiting = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return registration?.waiting ?? null;
    });
    expect(waiting).toBeNull();
  });
});
