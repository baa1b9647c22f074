/**
 * The inbox and the app's manners in the real browser: pending deployments with who, how many
 * changes and time left; pull to refresh; a push refreshes an open inbox; touch targets of at least
 * 44 px on a 360×640 screen; and iPhone Safari explains the home-screen step instead of failing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { PushReceiver } from '../helpers/push-receiver.js';
import type { TestServer } from '../helpers/server.js';
import { deliverPush, launchBrowser, serviceWorkerOf, type Browser } from './browser.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';
import { bioreactorScenario, functionEditScenario } from './scenario.js';

let session: PwaSession;
let server: TestServer;
let receiver: PushReceiver;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  session = await startPwaSession({ enrolAs: 'Pixel 8' });
  ({ server, receiver, browser, page } = session);
}, 120_000);

afterAll(async () => {
  await session?.close();
});

/** Every visible button and link, with its size. */
async function targets(): Promise<Array<{ name: string; width: number; height: number }>> {
  const found: Array<{ name: string; width: number; height: number }> = [];
  for (const role of ['button', 'link'] as const) {
    for (const el of await page.getByRole(role).all()) {
      if (!(await el.isVisible())) continue;
      const box = await el.boundingBox();
      if (box === null) continue;
      const name = ((await el.getAttribute('aria-label')) ?? (await el.innerText())).trim();
      found.push({ name, width: Math.round(box.width), height: Math.round(box.height) });
    }
  }
  return found;
}

describe('the inbox in the real browser', { timeout: 120_000 }, () => {
  it('lists a pending deployment with instance, who, change count and time left', async () => {
    const { token } = await server.addInstance('bioreactor-lab');
    const s = bioreactorScenario();
    await server.propose(token, s.base, s.target, {
      credentials: s.credentials,
      creds: s.creds,
      source: { user: 'jonas', via: 'editor' },
    });
    await page.goto(`${server.url}/#/inbox`);
    const item = page.locator('cs-inbox a.item');
    await item.waitFor();
    const text = await item.innerText();
    expect(text).toContain('bioreactor-lab');
    expect(text).toContain('by jonas');
    expect(text).toMatch(/7\s*changes/);
    expect(text).toMatch(/expires in 2[34] h/);
  });

  it('reloads when pulled down, and when a push arrives', async () => {
    const { token } = await server.addInstance('greenhouse');
    const s = functionEditScenario();
    await page.goto(`${server.url}/#/inbox`);
    await page.locator('cs-inbox a.item').first().waitFor();
    const sw = await serviceWorkerOf(page);
    const before = receiver.messages.length;
    await server.propose(token, s.base, s.target);
    expect(await page.locator('cs-inbox a.item').count()).toBe(1);

    // Pull: a downward drag from the top of the list.
    const box = (await page.locator('cs-inbox main').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 10);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width / 2, box.y + 10 + i * 20);
    await page.mouse.up();
    await page.locator('cs-inbox a.item').nth(1).waitFor();

    // A push for a third deployment: the open inbox shows it without a pull.
    const other = await server.addInstance('packaging');
    await server.propose(other.token, s.base, s.target);
    const messages = await receiver.waitForMessages(before + 2);
    await deliverPush(sw, messages[messages.length - 1]!.text);
    await page.locator('cs-inbox a.item').nth(2).waitFor();
  });

  it('keeps every button and link at least 44 px in the inbox and the review, at 360×640', async () => {
    await page.goto(`${server.url}/#/inbox`);
    await page.locator('cs-inbox a.item').first().waitFor();
    const inbox = await targets();
    await page.locator('cs-inbox a.item', { hasText: 'bioreactor-lab' }).click();
    await page.locator('cs-review .verified.ok').waitFor();
    const review = await targets();
    expect(inbox.map((t) => t.name)).toEqual(
      expect.arrayContaining(['Refresh', 'Inbox', 'Devices']),
    );
    expect(review.map((t) => t.name)).toEqual(
      expect.arrayContaining(['Back to the inbox', 'Undo the last decision']),
    );
    expect([...inbox, ...review].filter((t) => t.width < 44 || t.height < 44)).toEqual([]);
  });
});

describe('offline', { timeout: 120_000 }, () => {
  it('opens the app shell from the precache and says the server cannot be reached', async () => {
    await page.goto(`${server.url}/#/inbox`);
    await page.locator('cs-inbox a.item').first().waitFor();
    await browser.context.setOffline(true);
    try {
      await page.reload();
      await page.locator('cs-inbox h1').waitFor();
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.locator('cs-inbox .error').waitFor();
      expect(await page.locator('cs-inbox .error').innerText()).toContain('cannot be reached');
    } finally {
      await browser.context.setOffline(false);
    }
  });
});

describe('iPhone Safari', { timeout: 120_000 }, () => {
  it('explains the home-screen step instead of failing silently', async () => {
    const iphone = await launchBrowser({
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    });
    try {
      const p = await iphone.context.newPage();
      const invitation = await server.invite({ owner: 'ines', name: 'iPhone' });
      await p.goto(invitation.url);
      await p.getByText('Add Countersign to your Home Screen first').waitFor();
      expect(await p.locator('cs-enroll').getByText('Add to Home Screen').count()).toBe(1);
      // The name stays the invitation's unless typed; the hint suggests this device's kind.
      expect(await p.getByLabel('Name for this phone').inputValue()).toBe('');
      expect(await p.locator('cs-enroll #name-hint').innerText()).toContain('“iPhone”');
      await p.getByRole('button', { name: 'Enrol without notifications' }).waitFor();
    } finally {
      await iphone.close();
    }
  });
});
