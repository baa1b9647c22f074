/**
 * Reading and moving the review's cards in the real browser: which card is in view, waiting for
 * the next one, and a swipe made of real pointer events.
 */
import type { Page } from 'playwright-core';

/** The change id of the card in view, or null once the summary shows. */
export async function currentCard(page: Page): Promise<string | null> {
  if ((await page.locator('cs-review cs-review-summary').count()) > 0) return null;
  return page.locator('cs-review .card').getAttribute('data-change-id');
}

/** Waits until the card in view is another one than `id`. */
export async function nextCard(page: Page, id: string | null): Promise<string | null> {
  for (let i = 0; i < 100; i++) {
    const now = await currentCard(page).catch(() => id);
    if (now !== id) return now;
    await page.waitForTimeout(30);
  }
  throw new Error(`card ${id} stayed in view`);
}

/** A drag across the card with the mouse (right approves, left rejects): real pointerdown/move/up events. */
export async function swipe(page: Page, dx: number): Promise<void> {
  const box = (await page.locator('cs-review .card').boundingBox())!;
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 3;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let step = 1; step <= 8; step++) await page.mouse.move(x + (dx * step) / 8, y + step);
  await page.mouse.up();
}

/**
 * Reads the card in view to its end, a screen at a time, as a person scrolling would: a group card
 * that shows high-risk changes in full offers Approve only then. Scrolling is not a gesture.
 */
export async function readThrough(page: Page): Promise<void> {
  const card = page.locator('cs-review .card');
  const unread = page.locator('cs-review footer button.approve.unread');
  // A busy machine may draw slower than the scroll: read again from the top, more slowly.
  for (const pause of [30, 200, 800]) {
    if ((await unread.count()) === 0) return;
    await card.evaluate((el) => (el.scrollTop = 0));
    for (let i = 0; i < 400; i++) {
      const atEnd = await card.evaluate((el) => {
        el.scrollTop += el.clientHeight * 0.8;
        return el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
      });
      // What came into view is drawn and counted before the next screen.
      await page.waitForTimeout(pause);
      if (atEnd) break;
    }
    await page.waitForTimeout(pause);
  }
  await page.locator('cs-review footer button.approve:not(.unread)').waitFor({ timeout: 30_000 });
}
