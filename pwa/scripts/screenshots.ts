/**
 * Screenshots of the real app for `docs/screenshots/`: the built PWA served by the real server,
 * in Chromium at 360×640 and 390×844, light and dark. Run `npm run build` first, then
 * `npx tsx pwa/scripts/screenshots.ts [out-dir]`. With `pngquant` installed the PNGs are
 * quantised to keep the repository small.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startPushReceiver } from '../../test/helpers/push-receiver.js';
import { startTestServer } from '../../test/helpers/server.js';
import { TestDevice } from '../../test/helpers/device.js';
import { shrink } from './shrink.js';
import {
  allowNotifications,
  ensurePwaBuilt,
  installPushSeam,
  launchBrowser,
  type Browser,
} from '../../test/pwa/browser.js';
import { computeChanges, type Verdict } from '../../protocol/index.js';
import { bioreactorScenario, functionEditScenario } from '../../test/pwa/scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../../docs/screenshots'));
mkdirSync(out, { recursive: true });

const variants = [
  { width: 360, height: 640, colorScheme: 'light' as const },
  { width: 360, height: 640, colorScheme: 'dark' as const },
  { width: 390, height: 844, colorScheme: 'light' as const },
  { width: 390, height: 844, colorScheme: 'dark' as const },
];

const receiver = await startPushReceiver();
const server = await startTestServer({ appDir: ensurePwaBuilt(), name: 'Plant approvals' });
try {
  const lab = await server.addInstance('bioreactor-lab');
  const greenhouse = await server.addInstance('greenhouse');
  const scenario = bioreactorScenario();
  const small = functionEditScenario();
  await server.propose(greenhouse.token, small.base, small.target, {
    source: { user: 'marta', via: 'admin API' },
  });
  const { id } = await server.propose(lab.token, scenario.base, scenario.target, {
    credentials: scenario.credentials,
    creds: scenario.creds,
    source: { user: 'jonas', via: 'editor' },
  });
  // A deployment replaced by a newer one, for the review that follows its deployment.
  const boiler = await server.addInstance('boiler-room');
  const replaced = await server.propose(boiler.token, small.base, small.target, {
    source: { user: 'marta', via: 'editor' },
  });
  await server.propose(boiler.token, scenario.base, scenario.target, {
    credentials: scenario.credentials,
    creds: scenario.creds,
    source: { user: 'marta', via: 'editor' },
  });
  // A decided deployment for History: one approval with a note, one rejection per change with a note.
  const packaging = await server.addInstance('packaging', { requiredApprovals: 2 });
  const decided = await server.propose(packaging.token, scenario.base, scenario.target, {
    credentials: scenario.credentials,
    creds: scenario.creds,
    source: { user: 'jonas', via: 'editor' },
  });
  const marta = await server.enrollDevice({ owner: 'marta', name: "Marta's phone" });
  const ole = await server.enrollDevice({ owner: 'ole', name: 'Ole’s tablet' });
  await marta.decide(server.url, decided.id, {
    note: 'Checked with the lab: the new endpoint is ours.',
  });
  const verdicts: Record<string, Verdict> = Object.fromEntries(
    computeChanges(scenario.base, scenario.target, scenario.credentials).map((c) => [
      c.id,
      'approve',
    ]),
  );
  verdicts['node:f23c470d.dad1f8'] = 'reject';
  await ole.decide(server.url, decided.id, {
    changes: verdicts,
    note: 'The rounding belongs in the query, not in this function. Please move it and deploy again.',
  });
  // A phone that invited a tablet was lost and revoked: the tablet waits, suspended, for a confirmation.
  const lost = await server.enrollDevice({ owner: 'pia', name: "Pia's phone" });
  const tablet = await lost.call<{ code: string }>(server.url, 'POST', '/api/v1/invitations', {
    owner: 'pia',
    name: "Pia's tablet",
  });
  await (
    await TestDevice.create({ owner: 'pia', name: "Pia's tablet" })
  ).enroll(server.url, tablet.body.code);
  await server.running.handle.ctx.store.revokeDevice(lost.id, new Date().toISOString(), () => []);

  for (const v of variants) {
    const tag = `${v.width}x${v.height}-${v.colorScheme}`;
    const { browser, page, shot } = await openPhone(v, server.url);
    try {
      const invitation = await server.invite({ owner: 'jonas', name: 'Pixel 8' });
      await page.goto(invitation.url);
      await page.getByLabel('Name for this phone').fill('Pixel 8');
      await shot('enroll');
      await page.getByRole('button', { name: /enrol/i }).click();
      await page.locator('cs-enroll .fingerprint').waitFor();
      await shot('enrolled');

      await page.getByRole('link', { name: 'Go to the inbox' }).click();
      await page.locator('cs-inbox a.item').first().waitFor();
      await shot('inbox');

      await page.goto(`${server.url}/#/review/${id}`);
      await page.locator('cs-review .verified.ok').waitFor();
      await cardUntil(page, 'node:f23c470d.dad1f8');
      await shot('card-function');
      await cardUntil(page, 'wiring:1cef8f82.9e01f');
      await shot('card-wiring');
      await cardUntil(page, 'node:c0ffee00.a1b2c3');
      await shot('card-added');
      await cardUntil(page, 'layout:65ca72ac.afdd4c');
      await shot('card-layout');
      await cardUntil(page, 'config:1013011c.82c3ef');
      await shot('card-config');
      await cardUntil(page, 'credentials:1013011c.82c3ef');
      await shot('card-credentials');
      await page.keyboard.press('ArrowLeft');
      await cardUntil(page, null);
      await shot('summary');
      await page.getByRole('button', { name: 'Reject deployment' }).click();
      await page.getByRole('dialog').waitFor();
      await shot('summary-dialog');
      await page.keyboard.press('Escape');

      await page.goto(`${server.url}/#/review/${replaced.id}`);
      await page.getByRole('link', { name: 'Review the newer one' }).waitFor();
      await shot('review-replaced');

      await page.goto(`${server.url}/#/devices`);
      await page.getByLabel('Device name').fill("Jonas's tablet");
      await page.locator('cs-invite').scrollIntoViewIfNeeded();
      await shot('devices-invite');
      await page.getByRole('button', { name: 'Make an invitation' }).click();
      await page.getByRole('img', { name: 'QR code of the enrolment link' }).waitFor();
      await page.locator('cs-devices li.device').first().waitFor();
      await shot('devices');
      const url = (await page.locator('cs-invite .url').innerText()).trim();
      const code = new URL(url.replace('#/', '')).searchParams.get('code')!;
      const invited = await TestDevice.create({ owner: 'jonas', name: "Jonas's tablet" });
      await invited.enroll(server.url, code);
      await page.locator('cs-invite').getByText('is enrolled').waitFor();
      await shot('invite-enrolled');
      await page.locator('cs-devices li.device.suspended').scrollIntoViewIfNeeded();
      await shot('devices-suspended');
      await page.goto(`${server.url}/#/history`);
      await page.locator('cs-history .dep').first().waitFor();
      await shot('history');
      await page.goto(`${server.url}/#/history/${decided.id}`);
      await page.locator('cs-history-entry li.decision').nth(1).waitFor();
      await shot('history-entry');
      await page.locator('cs-history-entry li.decision').nth(1).scrollIntoViewIfNeeded();
      await shot('history-entry-rejection');
    } finally {
      await browser.close();
    }
    // The enrolment screen at a plain-http address of another machine (approvals.test → 127.0.0.1).
    const plain = await launchBrowser({
      ...v,
      reducedMotion: 'reduce',
      args: ['--host-resolver-rules=MAP approvals.test 127.0.0.1'],
    });
    try {
      const page = await plain.context.newPage();
      const port = new URL(server.url).port;
      await page.goto(`http://approvals.test:${port}/#/enroll?code=${'x'.repeat(43)}`);
      await page.locator('cs-enroll').getByRole('alert').waitFor();
      await page.waitForTimeout(150);
      const file = join(out, `enroll-insecure-${tag}.png`);
      await page.screenshot({ path: file });
      shrink(file);
      console.log(`enroll-insecure-${tag}.png`);
    } finally {
      await plain.close();
    }
  }
} finally {
  await server.close();
}

// Text as JavaScript reads it (DESIGN 5.2), on a server of its own so the inbox above stays as it is:
// hidden characters in code and a name, and a change of whitespace alone.
const textServer = await startTestServer({ appDir: ensurePwaBuilt(), name: 'Plant approvals' });
try {
  const line = await textServer.addInstance('bioreactor-lab');
  const spaces = await textServer.addInstance('greenhouse');
  const hidden = functionEditScenario();
  const format = hidden.target.find((n) => n.id === 'f23c470d.dad1f8')!;
  format.name = 'format\u200BDbEntry';
  format.func = String(format.func).replace(
    '}\n\nreturn msg;\n',
    '}\n\n// keep as is\u2028msg.payload = [];\nreturn msg;\n',
  );
  const { id: hiddenId } = await textServer.propose(line.token, hidden.base, hidden.target, {
    source: { user: 'jonas', via: 'editor' },
  });
  const trailing = bioreactorScenario();
  const target = structuredClone(trailing.base);
  const node = target.find((n) => n.id === 'f23c470d.dad1f8')!;
  node.func = String(node.func).replace('}\n\nreturn msg;\n', '}\n\nreturn msg; \n');
  const { id: spaceId } = await textServer.propose(spaces.token, trailing.base, target, {
    source: { user: 'marta', via: 'editor' },
  });
  for (const v of variants) {
    const { browser, page, shot } = await openPhone(v, textServer.url);
    try {
      const invitation = await textServer.invite({ owner: 'jonas', name: 'Pixel 8' });
      await page.goto(invitation.url);
      await page.getByLabel('Name for this phone').fill('Pixel 8');
      await page.getByRole('button', { name: /enrol/i }).click();
      await page.locator('cs-enroll .fingerprint').waitFor();
      for (const [name, id, scroll] of [
        ['card-hidden', hiddenId, false],
        ['card-hidden-code', hiddenId, true],
        ['card-whitespace', spaceId, true],
      ] as const) {
        await page.goto(`${textServer.url}/#/review/${id}`);
        await page.locator('cs-review .verified.ok').waitFor();
        // The changed lines of the code rather than the top of the card.
        if (scroll) await scrollToChangedLine(page);
        await shot(name);
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  await textServer.close();
  await receiver.close();
}

/**
 * A phone-sized Chromium for one variant, at the server `origin`: the push seam, notifications
 * allowed, a page, and `shot(name)` saving `<name>-<variant>.png`.
 */
async function openPhone(
  v: (typeof variants)[number],
  origin: string,
): Promise<{ browser: Browser; page: Page; shot: (name: string) => Promise<void> }> {
  const tag = `${v.width}x${v.height}-${v.colorScheme}`;
  const browser = await launchBrowser({ ...v, reducedMotion: 'reduce' });
  await installPushSeam(browser.context, receiver.createPushSubscription());
  await allowNotifications(browser.context, origin);
  const page = await browser.context.newPage();
  const shot = async (name: string): Promise<void> => {
    await page.waitForTimeout(150);
    const file = join(out, `${name}-${tag}.png`);
    await page.screenshot({ path: file });
    shrink(file);
    console.log(`${name}-${tag}.png`);
  };
  return { browser, page, shot };
}

/** Scrolls the card in view so that its first added line of code sits near the top. */
async function scrollToChangedLine(page: Page): Promise<void> {
  await page.locator('cs-review cs-change-card').evaluate((card) => {
    const diff = card.shadowRoot?.querySelector('cs-line-diff');
    const line = diff?.shadowRoot?.querySelector('.line.add');
    const scroller = card.closest('.card');
    if (line && scroller instanceof HTMLElement) {
      const top = line.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      scroller.scrollTop += top - 160;
    }
  });
}

/** Approves cards (right arrow) until the card with `changeId` is in view (null: the summary). */
async function cardUntil(page: Page, changeId: string | null): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const current = await page
      .locator('cs-review .card')
      .getAttribute('data-change-id', { timeout: 5000 })
      .catch(() => null);
    const onSummary = (await page.locator('cs-review cs-review-summary').count()) > 0;
    if (changeId === null ? onSummary : current === changeId) return;
    if (onSummary) throw new Error(`card ${changeId} not found before the summary`);
    await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(60);
  }
  throw new Error(`card ${changeId ?? 'summary'} not reached`);
}
