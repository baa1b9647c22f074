/**
 * The editor in step with every decision (DESIGN 7), in the real Node-RED editor in Chromium: a
 * person drags an inject and a debug node, wires them and presses Deploy. The held deployment shows
 * one calm notice, not "Deploy failed"; once a phone approves it and the plugin applies it, the
 * editor is clean (nothing dirty, no "flows on the server have been updated", Deploy not red). A
 * rejection shows the approver's note, as text, in the editor and in Node-RED's log. A deployment
 * someone else made still gets Node-RED's usual merge offer.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { launchBrowser, type Browser } from '../pwa/browser.js';
import {
  deploy,
  dragFromPalette,
  editorState,
  notifications,
  openEditor,
  waitForNotification,
  wire,
} from './editor-page.js';

let nr: RunningNodeRed;
let browser: Browser;
let page: Page;
let phone: TestDevice;

const HELD = /Deployment ([0-9a-f]{12}) is held for approval/;

async function runningRev(): Promise<string> {
  const res = await fetch(`${nr.editorUrl}/flows`, { headers: { 'node-red-api-version': 'v2' } });
  return ((await res.json()) as { rev: string }).rev;
}

async function heldId(): Promise<string> {
  const text = await waitForNotification(page, HELD);
  expect(text).toContain('Waiting for approval on a registered device.');
  return HELD.exec(text)![1]!;
}

beforeAll(async () => {
  nr = await startNodeRed({ flows: [] });
  expect(nr.startError).toBeNull();
  phone = await nr.enrollDevice({ owner: 'alice' });
  browser = await launchBrowser({ width: 1280, height: 800 });
  page = await browser.context.newPage();
  await openEditor(page, nr.editorUrl);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await nr?.close();
});

describe('the editor in step with every decision', () => {
  let firstId = '';

  it('shows a held deploy as one calm notice with the deployment id, not "Deploy failed"', async () => {
    await dragFromPalette(page, 'inject', 200, 150);
    await dragFromPalette(page, 'debug', 500, 150);
    await wire(page, 'timestamp', 'debug');
    expect(await editorState(page)).toMatchObject({
      links: 1,
      dirty: true,
      deployHighlighted: true,
    });
    await deploy(page);
    firstId = await heldId();
    const shown = await notifications(page);
    expect(shown.join('\n')).not.toMatch(/Deploy failed/);
    expect(shown.filter((t) => t.includes(firstId))).toHaveLength(1);
    // The phone sees who and from where: the editor, without a login (no adminAuth here).
    const proposal = await phone.deployment(nr.approvalUrl, firstId);
    expect(proposal.source).toMatchObject({ user: 'anonymous', via: 'editor' });
  });

  it('is clean once the approved deployment is applied: not dirty, no "flows updated", Deploy not red', async () => {
    expect((await phone.decide(nr.approvalUrl, firstId)).status).toBe(200);
    await waitForNotification(page, new RegExp(`Deployment ${firstId} approved and applied`));
    const rev = await runningRev();
    // Node-RED's news of the new rev has arrived by now; give a late one a moment all the same.
    await page.waitForTimeout(1500);
    expect(await editorState(page)).toEqual({
      dirty: false,
      version: rev,
      changedNodes: 0,
      deployHighlighted: false,
      links: 1,
    });
    const shown = (await notifications(page)).join('\n');
    expect(shown).not.toContain('The flows on the server have been updated');
    expect(shown).not.toMatch(/Deploy failed/);
  });

  it("shows a rejection's note as text in the editor and in Node-RED's log", async () => {
    await dragFromPalette(page, 'comment', 300, 300);
    await deploy(page);
    const id = await heldId();
    const note = 'Use the staging flow first.\n<img src=x onerror="window.__pwned=1">';
    expect((await phone.decide(nr.approvalUrl, id, { verdict: 'reject', note })).status).toBe(200);
    const text = await waitForNotification(page, new RegExp(`Deployment ${id} was rejected`));
    expect(text).toContain('alice');
    expect(text).toContain('Use the staging flow first.');
    expect(text).toContain('<img src=x onerror="window.__pwned=1">');
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('.red-ui-notification img').count()).toBe(0);
    const line = await nr.waitForLog(new RegExp(`deployment ${id} rejected by alice`));
    expect(line).toContain('Note: "Use the staging flow first.⟨U+000A⟩<img src=x');
    // Nothing was deployed: the editor keeps the change and offers Deploy again.
    expect(await editorState(page)).toMatchObject({ dirty: true, deployHighlighted: true });
  });

  it("leaves Node-RED's usual merge offer when someone else's deployment runs", async () => {
    const current = (await (
      await fetch(`${nr.editorUrl}/flows`, { headers: { 'node-red-api-version': 'v2' } })
    ).json()) as { flows: Array<Record<string, unknown>> };
    const res = await fetch(`${nr.editorUrl}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([...current.flows, { id: 'tab-other', type: 'tab', label: 'Other' }]),
    });
    const id = HELD.exec(await res.text())![1]!;
    const proposal = await phone.deployment(nr.approvalUrl, id);
    expect(proposal.source.via).toBe('admin-api');
    expect((await phone.decide(nr.approvalUrl, id)).status).toBe(200);
    await waitForNotification(page, /The flows on the server have been updated/);
  });
});
