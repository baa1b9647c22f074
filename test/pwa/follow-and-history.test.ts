/**
 * The review follows its deployment live, and History tells who decided what (DESIGN 8), in the real
 * PWA in Chromium: a review left open learns at once (from the push the service worker passes on, or
 * its expiry timer) that another phone decided, that a newer deployment replaced it (and opens that
 * one), or that it expired; signing one that stopped waiting says what became of it. A History entry
 * opens to each decision, per change, with the note. A page opened over plain http at another
 * machine's address says why it cannot enrol and what to do.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeChanges, type Flows, type Verdict } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  deliverPush,
  enrollThroughUi,
  ensurePwaBuilt,
  launchBrowser,
  serviceWorkerOf,
  type Browser,
} from './browser.js';
import { openPwaBrowser, type PwaBrowser } from './pwa-session.js';
import { bioreactorScenario, functionEditScenario } from './scenario.js';

const DAY_MS = 86_400_000;
let receiver: PushReceiver;
/** The server's clock: real time, moved by `offset` to make a deployment expire. */
const clock = {
  offset: 0,
  now(): number {
    return Date.now() + this.offset;
  },
};
let server: TestServer;
let phone: PwaBrowser;
let page: Page;
let sw: Awaited<ReturnType<typeof serviceWorkerOf>>;
let bob: TestDevice;
let token: string;

/** Delivers to the phone's service worker the push the server sent it about `id`. */
async function deliver(kind: string, id: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const found = receiver.messages.find((m) => {
      const p = m.payload as { kind?: string; id?: string };
      return m.endpoint === phone.subscription.endpoint && p.kind === kind && p.id === id;
    });
    if (found) return deliverPush(sw, found.text);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${kind} push for ${id}`);
}

async function openReview(id: string): Promise<void> {
  await page.goto(`${server.url}/#/review/${id}`);
  await page.locator('cs-review .card').waitFor();
}

function centre(): ReturnType<Page['locator']> {
  return page.locator('cs-review .center');
}

beforeAll(async () => {
  receiver = await startPushReceiver();
  server = await startTestServer({ appDir: ensurePwaBuilt(), clock });
  token = (await server.addInstance('greenhouse')).token;
  phone = await openPwaBrowser(receiver, server.url);
  page = phone.page;
  const invitation = await server.invite({ owner: 'alice', name: "Alice's phone" });
  await enrollThroughUi(page, invitation.url, 'Pixel 8');
  await page.goto(`${server.url}/#/inbox`);
  sw = await serviceWorkerOf(page);
  bob = await server.enrollDevice({ owner: 'bob', name: "Bob's phone" });
}, 120_000);

afterAll(async () => {
  await phone?.browser.close();
  await server?.close();
  await receiver?.close();
});

describe('the review follows its deployment', { timeout: 120_000 }, () => {
  it('shows at once that another phone decided it', async () => {
    const s = functionEditScenario();
    const { id } = await server.propose(token, s.base, s.target);
    await openReview(id);
    expect((await bob.decide(server.url, id)).status).toBe(200);
    await deliver('decided', id);
    await centre().getByRole('heading', { name: 'Decided on another device' }).waitFor();
    expect(await centre().innerText()).toContain('approved');
  });

  it('shows that a newer deployment replaced it, and opens the newer one', async () => {
    const s = functionEditScenario();
    const first = await server.propose(token, s.base, s.target);
    await openReview(first.id);
    const b = bioreactorScenario();
    const newer = await server.propose(token, b.base, b.target, {
      credentials: b.credentials,
      creds: b.creds,
      source: { user: 'jonas', via: 'editor' },
    });
    await deliver('deployment', newer.id);
    await centre().getByRole('heading', { name: 'Replaced by a newer deployment' }).waitFor();
    expect(await centre().innerText()).toContain('7 changes by jonas');
    await centre().getByRole('link', { name: 'Review the newer one' }).click();
    await page.waitForURL(`**/#/review/${newer.id}`);
    await page.locator('cs-review .card').waitFor();
  });

  it('shows that it expired, when its time is up', async () => {
    const s = functionEditScenario();
    // Proposed on a server clock a day behind: it expires in a few seconds.
    clock.offset = -DAY_MS + 8000;
    const { id } = await server.propose(token, s.base, s.target);
    clock.offset = 0;
    await openReview(id);
    // The server's time passes the expiry (device proofs stay within their 60 s).
    clock.offset = 30_000;
    try {
      await centre().getByRole('heading', { name: 'This deployment expired' }).waitFor();
    } finally {
      clock.offset = 0;
    }
  });

  it('signing one that stopped waiting says what became of it, not that it is pending', async () => {
    const s = functionEditScenario();
    const { id } = await server.propose(token, s.base, s.target);
    await openReview(id);
    // Bob rejects; no push reaches this phone before it signs.
    expect((await bob.decide(server.url, id, { verdict: 'reject' })).status).toBe(200);
    await page.keyboard.press('ArrowRight');
    await page.getByRole('button', { name: 'Approve and sign' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Sign' }).click();
    await centre().getByRole('heading', { name: 'Rejected on another device' }).waitFor();
    expect(await centre().innerText()).not.toMatch(/is pending/);
  });
});

describe('History', { timeout: 120_000 }, () => {
  it('opens an entry to who decided what, per change, with the notes', async () => {
    const carol = await server.enrollDevice({ owner: 'carol', name: "Carol's tablet" });
    const lab = await server.addInstance('bioreactor-lab', { requiredApprovals: 2 });
    const b = bioreactorScenario();
    const { id } = await server.propose(lab.token, b.base, b.target, {
      credentials: b.credentials,
      creds: b.creds,
      source: { user: 'jonas', via: 'editor' },
    });
    const ids = computeChanges(b.base as Flows, b.target as Flows, b.credentials).map((c) => c.id);
    expect((await bob.decide(server.url, id, { note: 'Looks right to me.' })).status).toBe(200);
    const changes: Record<string, Verdict> = Object.fromEntries(ids.map((c) => [c, 'approve']));
    changes['node:f23c470d.dad1f8'] = 'reject';
    const note = 'The rounding belongs in the query.\n<b>not bold</b>';
    expect((await carol.decide(server.url, id, { changes, note })).status).toBe(200);

    await page.goto(`${server.url}/#/history`);
    const row = page.locator('cs-history a.dep', { hasText: 'bioreactor-lab' }).first();
    await row.click();
    await page.waitForURL(`**/#/history/${id}`);
    const entry = page.locator('cs-history-entry');
    await entry.getByRole('list', { name: 'Decisions' }).waitFor();
    const decisions = entry.locator('li.decision');
    expect(await decisions.count()).toBe(2);

    const first = await decisions.nth(0).innerText();
    expect(first).toContain("Approved by bob · Bob's phone");
    expect(first).toContain(bob.fingerprint);
    expect(first).toContain('Looks right to me.');
    expect(first).toContain(`All ${ids.length} changes approved`);

    const second = decisions.nth(1);
    expect(await second.innerText()).toContain("Rejected by carol · Carol's tablet");
    expect(await second.locator('blockquote').innerText()).toBe(note);
    expect(await second.locator('blockquote b').count()).toBe(0);
    const rejected = await second.locator('ul.changes').first().innerText();
    expect(rejected).toMatch(/Rejected: Changed node .*function/);
    expect(rejected).not.toContain('Approved:');
    await second.getByText(`Every change (${ids.length})`).click();
    expect(await second.locator('details ul.changes li').count()).toBe(ids.length);

    const steps = await entry.getByRole('list', { name: 'What happened' }).innerText();
    expect(steps).toMatch(/Proposed[\s\S]*Rejected/);
    expect(await entry.locator('.summary').innerText()).toContain('by jonas · in the editor');
    await entry.getByRole('link', { name: 'Back to the history' }).click();
    await page.locator('cs-history a.dep').first().waitFor();
  });
});

describe('a page over plain http on another address', { timeout: 120_000 }, () => {
  it('says why this phone cannot enrol from there, and what to do', async () => {
    const port = new URL(server.url).port;
    const plain: Browser = await launchBrowser({
      args: [`--host-resolver-rules=MAP approvals.test 127.0.0.1`],
    });
    try {
      const p = await plain.context.newPage();
      const invitation = await server.invite({ owner: 'dora', name: "Dora's phone" });
      const code = new URL(invitation.url.replace('#/', '')).searchParams.get('code');
      await p.goto(`http://approvals.test:${port}/#/enroll?code=${code}`);
      const alert = p.locator('cs-enroll').getByRole('alert');
      await alert.waitFor();
      expect(await p.locator('cs-enroll h1').innerText()).toBe('This address is not secure');
      const text = await alert.innerText();
      expect(text).toContain(`http://approvals.test:${port}`);
      expect(text).toContain('https://');
      expect(text).toContain('Reaching your phone');
      expect(await p.getByRole('button', { name: /enrol/i }).count()).toBe(0);
    } finally {
      await plain.close();
    }
  });
});
