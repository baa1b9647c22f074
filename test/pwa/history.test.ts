/**
 * The History screen reads a year of history a page at a time, newest first (issue 13: it used to
 * load pages from the oldest and, past about 20,000 entries, never reached the recent ones): the
 * newest deployments and audit entries show first, and "Show older" goes back through the
 * history files, past the retention too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Flows } from '../../protocol/index.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import type { TestServer } from '../helpers/server.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';

const COUNT = 64;
let session: PwaSession;
let server: TestServer;
let page: Page;

beforeAll(async () => {
  session = await startPwaSession({
    enrolAs: 'Pixel 8',
    server: {
      retention: { days: 90, keep: 5 },
      quotas: { proposals: { max: 1000, windowMs: 60_000 } },
    },
  });
  ({ server, page } = session);
  const base: Flows = loadFlows(
    exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1],
  );
  const { token } = await server.addInstance('line-1');
  const approver = await server.enrollDevice({ owner: 'bob' });
  for (let i = 0; i < COUNT; i++) {
    const target = base.map((n) => (n.type === 'http in' ? { ...n, url: `/h${i}` } : n));
    const { id } = await server.propose(token, base, target, {
      source: { user: `user-${i}`, via: 'editor' },
    });
    await approver.decide(server.url, id, { verdict: 'reject' });
  }
  await server.ctx.pruner.run();
}, 240_000);

afterAll(async () => {
  await session?.close();
});

describe('History, newest first', { timeout: 120_000 }, () => {
  it('shows the newest deployments first and goes back, page by page, to the oldest', async () => {
    expect((await server.ctx.store.stats()).deployments).toMatchObject({
      decided: COUNT,
      retained: 5,
    });
    await page.goto(`${server.url}/#/history`);
    const rows = page.locator('cs-history .dep');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(50);
    const first = await rows.allInnerTexts();
    expect(first[0]).toContain(`by user-${COUNT - 1}`);
    expect(first[49]).toContain(`by user-${COUNT - 50}`);
    await page.getByRole('button', { name: 'Show older' }).click();
    await rows.nth(COUNT - 1).waitFor();
    const all = await rows.allInnerTexts();
    expect(all.map((t) => /by (user-\d+)/.exec(t)?.[1])).toEqual(
      Array.from({ length: COUNT }, (_, i) => `user-${COUNT - 1 - i}`),
    );
    expect(await page.getByRole('button', { name: 'Show older' }).count()).toBe(0);
  });

  it('shows the newest audit entries first, and older ones on request', async () => {
    await page.goto(`${server.url}/#/history`);
    await page.getByRole('tab', { name: 'Audit log' }).click();
    const seqs = page.locator('cs-history .audit .seq');
    await seqs.first().waitFor();
    const last = (await server.ctx.store.stats()).auditEntries;
    const shown = async () => (await seqs.allInnerTexts()).map((s) => Number(s.replace('#', '')));
    const firstPage = await shown();
    expect(firstPage[0]).toBeGreaterThanOrEqual(last - 1);
    expect(firstPage).toEqual([...firstPage].sort((a, b) => b - a));
    await page.getByRole('button', { name: 'Show older' }).click();
    await seqs.nth(firstPage.length).waitFor();
    const more = await shown();
    expect(more.slice(0, firstPage.length)).toEqual(firstPage);
    expect(more[firstPage.length]).toBe(firstPage.at(-1)! - 1);
  });
});
