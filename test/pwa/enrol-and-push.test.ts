/**
 * Enrolment and push, end to end: the real PWA in Chromium, served by the real server; the push
 * subscription points at the local push receiver, which decrypts what the server really sent; that
 * text is delivered to the real service worker with the DevTools Protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { API_PREFIX, fingerprintOf } from '../../protocol/index.js';
import type { PushReceiver } from '../helpers/push-receiver.js';
import type { TestServer } from '../helpers/server.js';
import {
  allowNotifications,
  enrollThroughUi,
  installPushSeam,
  launchBrowser,
  notificationsOf,
  pushUntilShown,
  serviceWorkerOf,
  type Browser,
} from './browser.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';
import { functionEditScenario } from './scenario.js';

let session: PwaSession;
let server: TestServer;
let receiver: PushReceiver;
let browser: Browser;
let page: Page;
let token: string;

beforeAll(async () => {
  session = await startPwaSession({ serverName: 'Plant approvals' });
  ({ server, receiver, browser, page } = session);
  token = (await server.addInstance('greenhouse')).token;
}, 120_000);

afterAll(async () => {
  await session?.close();
});

describe('enrolment and push in the real browser', { timeout: 120_000 }, () => {
  it('enrols with a non-extractable key in IndexedDB, a push subscription, and shows the fingerprint', async () => {
    const invitation = await server.invite({ owner: 'alice', name: "Alice's phone" });
    const { fingerprint } = await enrollThroughUi(page, invitation.url, 'Pixel 8');

    const devices = await server.ctx.store.devices();
    expect(devices).toHaveLength(1);
    const [device] = devices;
    expect(fingerprint).toBe(fingerprintOf(device!.id));
    // It fits its box on a 360 px screen.
    const box = page.locator('cs-enroll .fingerprint');
    expect(await box.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    expect(device).toMatchObject({ owner: 'alice', name: 'Pixel 8' });
    expect(device!.push?.endpoint).toBe(session.subscription.endpoint);

    const stored = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open('countersign');
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      const record = await new Promise<Record<string, unknown>>((ok, fail) => {
        const r = db.transaction('device').objectStore('device').get('self');
        r.onsuccess = () => ok(r.result as Record<string, unknown>);
        r.onerror = () => fail(r.error);
      });
      const key = record.privateKey as CryptoKey;
      let exported = 'refused';
      try {
        await crypto.subtle.exportKey('jwk', key);
        exported = 'exported';
      } catch {
        exported = 'refused';
      }
      return { id: record.id, extractable: key.extractable, type: key.type, exported };
    });
    expect(stored).toEqual({
      id: device!.id,
      extractable: false,
      type: 'private',
      exported: 'refused',
    });
    // The spent invitation is gone from the address bar.
    expect(page.url()).not.toContain(invitation.code);
  });

  it('shows a notification for a pushed deployment, with no approve action, and a tap opens its review', async () => {
    await page.goto(`${server.url}/#/inbox`);
    await page.locator('cs-inbox h1').waitFor();
    const sw = await serviceWorkerOf(page);

    const { base, target } = functionEditScenario();
    const proposal = await server.propose(token, base, target, {
      source: { user: 'marta', via: 'editor' },
    });
    const [pushed] = await receiver.waitForMessages(1);
    expect(pushed!.payload).toMatchObject({
      kind: 'deployment',
      id: proposal.id,
      instance: 'greenhouse',
    });

    const [note] = await pushUntilShown(sw, page, pushed!.text, (list) => list.length > 0);
    expect(note).toMatchObject({
      title: 'greenhouse · marta deployed',
      body: '1 change to review',
      actions: 0,
    });
    expect(note!.data).toMatchObject({ kind: 'deployment', id: proposal.id });

    // The tap: the worker's real notificationclick handler, on the notification it showed.
    const worker = browser.context.serviceWorkers().find((w) => w.url().startsWith(server.url))!;
    await worker.evaluate(async () => {
      const scope = self as unknown as ServiceWorkerGlobalScope;
      const [shown] = await scope.registration.getNotifications();
      scope.dispatchEvent(new NotificationEvent('notificationclick', { notification: shown! }));
    });
    await page.waitForURL(`**/#/review/${proposal.id}`);
    await page.locator('cs-review cs-change-card').waitFor();
    expect(await page.locator('cs-review .card').getAttribute('data-change-id')).toBe(
      'node:f23c470d.dad1f8',
    );
    expect(await notificationsOf(page)).toHaveLength(0);
  });

  it('closes the notification of a deployment decided on another device', async () => {
    await page.goto(`${server.url}/#/inbox`);
    const sw = await serviceWorkerOf(page);
    const other = await server.enrollDevice({ owner: 'bob' });
    const before = receiver.messages.length;
    const { base, target } = functionEditScenario();
    const proposal = await server.propose(token, base, target);
    const [pushed] = (await receiver.waitForMessages(before + 1)).slice(before);
    await pushUntilShown(sw, page, pushed!.text, (list) => list.length === 1);

    const decided = await other.decide(server.url, proposal.id);
    expect(decided.status).toBe(200);
    const all = await receiver.waitForMessages(before + 2);
    const decidedPush = all
      .slice(before + 1)
      .find((m) => (m.payload as { kind?: string }).kind === 'decided')!;
    const left = await pushUntilShown(sw, page, decidedPush.text, (list) => {
      const kinds = list.map((n) => (n.data as { kind: string }).kind);
      return kinds.includes('decided') && !kinds.includes('deployment');
    });
    expect(left.map((n) => (n.data as { kind: string }).kind)).toEqual(['decided']);
  });

  it('tells this phone quietly when another device is revoked', async () => {
    await page.goto(`${server.url}/#/inbox`);
    const sw = await serviceWorkerOf(page);
    const other = await server.enrollDevice({ owner: 'frank' });
    const before = receiver.messages.length;
    // Frank revokes his own phone (a device may revoke itself); the others hear of it.
    const res = await other.fetch(server.url, 'POST', `${API_PREFIX}/devices/${other.id}/revoke`);
    expect(res.status).toBe(200);
    const all = await receiver.waitForMessages(before + 1);
    const revoked = all
      .slice(before)
      .find((m) => (m.payload as { kind?: string }).kind === 'device-revoked')!;
    expect(revoked.payload).toMatchObject({ id: other.id });
    const shown = await pushUntilShown(sw, page, revoked.text, (list) =>
      list.some((n) => (n.data as { kind: string }).kind === 'device-revoked'),
    );
    const note = shown.find((n) => (n.data as { kind: string }).kind === 'device-revoked');
    expect(note).toMatchObject({ title: 'A device was revoked', actions: 0 });
  });

  it('enrols without push, says so, and turns push on later from Devices', async () => {
    // A fresh profile without the seam: Chromium here has no push service, so subscribe fails for real.
    const plain = await launchBrowser();
    try {
      await allowNotifications(plain.context, server.url);
      const p = await plain.context.newPage();
      const invitation = await server.invite({ owner: 'carol', name: 'Carol' });
      await enrollThroughUi(p, invitation.url, 'Carol laptop');
      expect(await p.locator('cs-enroll .note').innerText()).toMatch(/Notifications are off/);
      const carol = async () => (await server.ctx.store.devices()).find((d) => d.owner === 'carol');
      expect((await carol())?.push).toBeNull();

      // From Devices, without a push service: it says at once what it waits for, then what failed.
      await p.goto(`${server.url}/#/devices`);
      const turnOn = p.getByRole('button', { name: 'Turn on notifications' });
      await turnOn.click();
      const busy = p.getByRole('button', { name: 'Turning on…' });
      await busy.waitFor();
      expect(await busy.isDisabled()).toBe(true);
      const note = p.locator('cs-devices .note');
      await note.getByText(/push could not be set up/).waitFor();
      expect(await note.innerText()).toMatch(
        /^Notifications are allowed, but push could not be set up: The push service did not answer in time/,
      );
      expect(await note.innerText()).not.toMatch(/refused/);

      // Later, with a push service within reach, notifications are turned on from Devices.
      const later = receiver.createPushSubscription();
      await installPushSeam(plain.context, later);
      await p.goto(`${server.url}/#/devices`);
      await p.reload();
      await p.getByRole('button', { name: 'Turn on notifications' }).click();
      await p.getByText('Notifications are on.').waitFor();
      expect((await carol())?.push?.endpoint).toBe(later.endpoint);
    } finally {
      await plain.close();
    }
  });
});
