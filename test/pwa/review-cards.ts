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
