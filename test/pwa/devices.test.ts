/**
 * Devices in the real PWA: the list with this phone marked, revoking another device or this one,
 * inviting a new device with a QR code, what a revoked phone shows, and a device suspended because
 * its inviter was revoked: told why on the phone, confirmed from another phone's Devices screen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { API_PREFIX } from '../../protocol/index.js';
import { TestDevice } from '../helpers/device.js';
import type { TestServer } from '../helpers/server.js';
import { allowNotifications, enrollThroughUi, launchBrowser } from './browser.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';

let session: PwaSession;
let server: TestServer;
let page: Page;

beforeAll(async () => {
  session = await startPwaSession();
  ({ server, page } = session);
}, 120_000);

afterAll(async () => {
  await session?.close();
});

async function enrolPhone(owner: string): Promise<string> {
  const invitation = await server.invite({ owner, name: 'phone' });
  await enrollThroughUi(page, invitation.url, `${owner}'s Pixel`);
  return (await server.ctx.store.devices()).find((d) => d.name === `${owner}'s Pixel`)!.id;
}

async function admin(method: string, path: string): Promise<void> {
  const res = await fetch(`${server.adminUrl}${API_PREFIX}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  expect(res.status).toBe(200);
}

async function revokedAt(id: string): Promise<string | null | undefined> {
  return (await server.ctx.store.device(id))?.revokedAt;
}

describe('devices in the real browser', { timeout: 120_000 }, () => {
  it('lists the devices with this one marked, and revokes another after a confirmation', async () => {
    const mine = await enrolPhone('alice');
    const bob = await server.enrollDevice({ owner: 'bob', name: "Bob's phone" });
    await page.goto(`${server.url}/#/devices`);
    const items = page.locator('cs-devices li.device');
    await items.nth(1).waitFor();
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).innerText()).toContain("alice's Pixel");
    expect(await items.nth(0).innerText()).toMatch(/this device/i);
    expect(await items.nth(1).innerText()).not.toMatch(/this device/i);

    await items.nth(1).getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByText(`Revoke Bob's phone?`).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.locator('cs-devices li.device.revoked').waitFor();
    expect(await revokedAt(bob.id)).toEqual(expect.any(String));
    expect(await revokedAt(mine)).toBeNull();
  });

  it('invites a new device with a QR code of a working enrolment link', async () => {
    await page.goto(`${server.url}/#/devices`);
    await page.getByLabel('Device name').fill("Carol's phone");
    await page.getByRole('button', { name: 'Make an invitation' }).click();
    await page.getByRole('img', { name: 'QR code of the enrolment link' }).waitFor();
    const url = (await page.locator('cs-invite .url').innerText()).trim();
    expect(url.startsWith(`${server.url}/#/enroll?code=`)).toBe(true);
    const code = new URL(url.replace('#/enroll', 'enroll')).searchParams.get('code')!;
    const carol = await TestDevice.create({ owner: 'alice', name: "Carol's phone" });
    const enrolled = await carol.enroll(server.url, code, null);
    expect(enrolled).toMatchObject({ owner: 'alice', name: "Carol's phone" });
    // The inviter sees it arrive: the spent QR code gives way to the new device, and the list has it.
    const done = page.locator('cs-invite').getByRole('status');
    await done.getByText("Carol's phone is enrolled").waitFor();
    expect(await done.innerText()).toContain(carol.fingerprint);
    expect(await page.getByRole('img', { name: 'QR code of the enrolment link' }).count()).toBe(0);
    await page.locator('cs-devices li.device', { hasText: "Carol's phone" }).waitFor();
    await done.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Make an invitation' }).waitFor();
  });

  it("keeps the invitation's name for the new phone unless it types another", async () => {
    const invitation = await server.invite({ owner: 'alice', name: "Marta's phone" });
    const other = await launchBrowser();
    try {
      await allowNotifications(other.context, server.url);
      const p = await other.context.newPage();
      await p.goto(invitation.url);
      expect(await p.getByLabel('Name for this phone').inputValue()).toBe('');
      await p.getByRole('button', { name: /enrol/i }).click();
      await p.locator('cs-enroll .fingerprint').waitFor();
      expect(await p.locator('cs-enroll .hero p').innerText()).toBe(
        "Marta's phone · belongs to alice",
      );
    } finally {
      await other.close();
    }
    expect((await server.ctx.store.devices()).map((d) => d.name)).toContain("Marta's phone");
  });

  it('shows a revoked phone a clear message, not a broken page, and lets it start over', async () => {
    const mine = (await server.ctx.store.devices()).find((d) => d.name === "alice's Pixel")!.id;
    const other = await server.enrollDevice({ owner: 'dave' });
    const res = await other.fetch(server.url, 'POST', `${API_PREFIX}/devices/${mine}/revoke`);
    expect(res.status).toBe(200);

    await page.goto(`${server.url}/#/inbox`);
    await page.getByRole('heading', { name: 'This phone was revoked' }).waitFor();
    expect(await page.locator('cs-app .gone').innerText()).toContain(
      'can no longer review or sign',
    );
    await page.getByRole('button', { name: 'Forget this device' }).click();
    await page.getByRole('button', { name: 'Open the invitation' }).waitFor();
  });

  it("tells a phone suspended by its inviter's revocation why, and works again once confirmed", async () => {
    const inviter = await server.enrollDevice({ owner: 'gus' });
    const invitation = await inviter.invite(server.url, { owner: 'gus', name: "Gus's Pixel" });
    await enrollThroughUi(page, invitation.body.url, "Gus's Pixel");
    const helper = await server.enrollDevice({ owner: 'hal' });
    await helper.fetch(server.url, 'POST', `${API_PREFIX}/devices/${inviter.id}/revoke`);

    await page.goto(`${server.url}/#/inbox`);
    await page.getByText('This phone is suspended').waitFor();
    expect(await page.getByText('This phone is suspended').innerText()).toMatch(
      /phone that invited it was revoked/,
    );
    const mine = (await server.ctx.store.devices()).find((d) => d.name === "Gus's Pixel")!.id;
    const confirmed = await helper.fetch(
      server.url,
      'POST',
      `${API_PREFIX}/devices/${mine}/confirm`,
    );
    expect(confirmed.status).toBe(200);
    await page.reload();
    await page
      .locator('cs-inbox')
      .getByText('This phone is suspended')
      .waitFor({ state: 'detached' });
    expect((await server.ctx.store.device(mine))?.suspendedAt).toBeNull();
  });

  it('shows a suspended device with the reason, and confirms it after a look at its fingerprint', async () => {
    const inviter = await server.enrollDevice({ owner: 'ivy' });
    const answer = await inviter.invite(server.url, {
      owner: 'ivy',
      name: "Ivy's tablet",
    });
    const tablet = await TestDevice.create({ owner: 'ivy', name: "Ivy's tablet" });
    await tablet.enroll(server.url, answer.body.code);
    await admin('POST', `/devices/${inviter.id}/revoke`);

    await page.goto(`${server.url}/#/devices`);
    const row = page.locator('cs-devices li.device', { hasText: "Ivy's tablet" });
    await row.getByText('Suspended').waitFor();
    expect(await row.innerText()).toContain(tablet.fingerprint);
    expect(await row.innerText()).toMatch(/phone that invited it was revoked/);
    await row.getByRole('button', { name: 'Confirm' }).click();
    await row.getByText('Suspended').waitFor({ state: 'detached' });
    expect((await server.ctx.store.device(tablet.id))?.suspendedAt).toBeNull();
  });

  it('revokes this phone from its own Devices screen', async () => {
    const mine = await enrolPhone('erin');
    await page.goto(`${server.url}/#/devices`);
    const self = page.locator('cs-devices li.device', { hasText: 'This device' });
    await self.getByRole('button', { name: 'Revoke this phone' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('heading', { name: 'This phone was revoked' }).waitFor();
    expect(await revokedAt(mine)).toEqual(expect.any(String));
  });
});
