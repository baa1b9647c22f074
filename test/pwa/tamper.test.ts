/**
 * T8 in the real browser: whatever the server shows, the phone re-hashes both snapshots and
 * recomputes the change list, and refuses to sign an approval when anything differs, saying why.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { API_PREFIX, revOf, snapshotBytes } from '../../protocol/index.js';
import { changesFileOf, type TestServer } from '../helpers/server.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';
import { bioreactorScenario } from './scenario.js';

let session: PwaSession;
let server: TestServer;
let page: Page;

beforeAll(async () => {
  session = await startPwaSession({ enrolAs: 'Pixel 8' });
  ({ server, page } = session);
}, 120_000);

afterAll(async () => {
  await session?.close();
});

/** The scenario with the new node's URL naming the instance: each test has blobs of its own. */
function scenarioFor(instance: string): ReturnType<typeof bioreactorScenario> {
  const s = bioreactorScenario();
  s.target.find((n) => n.name === 'Notify ops')!.url = `https://ops.example.com/hooks/${instance}`;
  return s;
}

async function propose(instance: string): Promise<{ id: string; token: string }> {
  const { token } = await server.addInstance(instance);
  const s = scenarioFor(instance);
  const { id } = await server.propose(token, s.base, s.target, {
    credentials: s.credentials,
    creds: s.creds,
  });
  return { id, token };
}

/** Approves card after card with the keyboard until the summary shows. */
async function approveToSummary(): Promise<void> {
  for (
    let i = 0;
    i < 20 && (await page.locator('cs-review cs-review-summary').count()) === 0;
    i++
  ) {
    await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(40);
  }
}

/** Opens the review, approves every card, and returns what the phone says at the end. */
async function reviewAll(
  id: string,
): Promise<{ alert: string; summary: string; signDisabled: boolean }> {
  await page.goto(`${server.url}/#/review/${id}`);
  await page.locator('cs-review .verified.failed').waitFor();
  const alert = await page.locator('cs-review .alert').innerText();
  await approveToSummary();
  const summary = await page.locator('cs-review cs-review-summary .check').innerText();
  const signDisabled = await page.getByRole('button', { name: 'Approve and sign' }).isDisabled();
  return { alert, summary, signDisabled };
}

async function statusOf(
  token: string,
  id: string,
): Promise<{ status: string; approvals: unknown[] }> {
  const res = await server.pluginFetch(token, 'GET', `${API_PREFIX}/deployments/${id}`);
  return (await res.json()) as { status: string; approvals: unknown[] };
}

describe('T8: the phone refuses to sign what it cannot verify', { timeout: 120_000 }, () => {
  it('refuses when a blob file was changed on the server after the proposal', async () => {
    const { id, token } = await propose('line-1');
    const s = scenarioFor('line-1');
    const file = join(server.dataDir, 'blobs', `${await revOf(s.target)}.json`);
    const edited = readFileSync(file, 'utf8').replace('Notify ops', 'Notify all');
    expect(edited).not.toBe(readFileSync(file, 'utf8'));
    writeFileSync(file, edited);

    const { alert, summary, signDisabled } = await reviewAll(id);
    expect(alert).toContain('Do not approve');
    expect(alert).toContain('changed after the deployment was proposed');
    expect(summary).toContain('Countersign will not sign this approval');
    expect(signDisabled).toBe(true);
    expect(await statusOf(token, id)).toMatchObject({ status: 'pending', approvals: [] });
  });

  it('refuses when the server serves a snapshot that does not hash to its rev', async () => {
    const { id, token } = await propose('line-2');
    const s = scenarioFor('line-2');
    const targetRev = await revOf(s.target);
    const forged = structuredClone(s.target);
    forged.find((n) => n.name === 'Notify ops')!.url = 'https://attacker.example/exfiltrate';
    // A compromised server: it answers the blob request with other bytes.
    await page.route(`**${API_PREFIX}/blobs/${targetRev}`, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: Buffer.from(snapshotBytes(forged)),
      }),
    );
    try {
      const { alert, signDisabled } = await reviewAll(id);
      expect(alert).toContain('snapshot of the new flows');
      expect(alert).toContain('does not match');
      expect(signDisabled).toBe(true);
    } finally {
      await page.unrouteAll();
    }
    expect(await statusOf(token, id)).toMatchObject({ status: 'pending', approvals: [] });
  });

  it('refuses when the server hides a change from its list', async () => {
    const { id, token } = await propose('line-3');
    const file = await changesFileOf(server, id);
    const changes = JSON.parse(readFileSync(file, 'utf8')) as Array<{ id: string }>;
    writeFileSync(file, JSON.stringify(changes.filter((c) => c.id !== 'wiring:1cef8f82.9e01f')));

    const { alert, signDisabled } = await reviewAll(id);
    expect(alert).toContain('list of changes differs from the snapshots in 1 place');
    expect(signDisabled).toBe(true);
    expect(await statusOf(token, id)).toMatchObject({ status: 'pending', approvals: [] });
  });

  it('refuses when the server drops the credential field names while the digest says credentials are set', async () => {
    const { id, token } = await propose('line-5');
    // A compromised server: the deployment it shows names no credential field (so neither its
    // change list nor the phone's recomputed one has the credentials change), but keeps `creds`.
    await page.route(`**${API_PREFIX}/deployments/${id}`, async (route) => {
      const response = await route.fetch();
      const detail = (await response.json()) as {
        creds: string | null;
        credentials: Record<string, string[]>;
        changes: Array<{ kind: string }>;
      };
      expect(detail.creds).not.toBeNull();
      detail.credentials = {};
      detail.changes = detail.changes.filter((c) => c.kind !== 'credentials');
      await route.fulfill({ response, json: detail });
    });
    try {
      const { alert, summary, signDisabled } = await reviewAll(id);
      expect(alert).toContain('Do not approve');
      expect(alert).toContain('sets credentials but names no credential field (or the reverse)');
      expect(summary).toContain('Countersign will not sign this approval');
      expect(signDisabled).toBe(true);
    } finally {
      await page.unrouteAll();
    }
    expect(await statusOf(token, id)).toMatchObject({ status: 'pending', approvals: [] });
  });

  it('shows and signs nothing from a deployment answer that breaks the contract', async () => {
    const { id, token } = await propose('line-6');
    const tamperings: Array<[string, (text: string) => string, RegExp]> = [
      [
        'a __proto__ key',
        (t) => t.replace('{', '{"__proto__":{"status":"approved"},'),
        /__proto__/,
      ],
      [
        'a count as text',
        (t) => t.replace(/"changeCount":(\d+)/, '"changeCount":"$1"'),
        /changeCount/,
      ],
      ['a change of no kind', (t) => t.replace(/"kind":"node"/, '"kind":"script"'), /kind must be/],
    ];
    for (const [label, tamper, why] of tamperings) {
      await page.route(`**${API_PREFIX}/deployments/${id}`, async (route) => {
        const response = await route.fetch();
        const text = await response.text();
        expect(tamper(text), label).not.toBe(text);
        await route.fulfill({ response, body: tamper(text) });
      });
      try {
        await page.goto('about:blank');
        await page.goto(`${server.url}/#/review/${id}`);
        await page.getByText('Something went wrong').waitFor();
        const shown = await page.locator('cs-review .center p').innerText();
        expect(shown, label).toContain('The server sent an answer this app cannot read');
        expect(shown, label).toMatch(why);
        expect(await page.getByRole('button', { name: 'Approve and sign' }).count()).toBe(0);
      } finally {
        await page.unrouteAll();
      }
    }
    expect(await statusOf(token, id)).toMatchObject({ status: 'pending', approvals: [] });
  });

  it('refuses when the server rates code low to hide it in a group card', async () => {
    const { id, token } = await propose('line-6');
    const file = await changesFileOf(server, id);
    const changes = JSON.parse(readFileSync(file, 'utf8')) as Array<{
      id: string;
      risk: string;
      flow: { id: string } | null;
    }>;
    // The function edit and the rewiring beside it, both rated low: the phone would group them.
    const lowered = ['node:f23c470d.dad1f8', 'wiring:f23c470d.dad1f8'];
    for (const c of changes) if (lowered.includes(c.id)) c.risk = 'low';
    writeFileSync(file, JSON.stringify(changes));

    await page.goto(`${server.url}/#/review/${id}`);
    await page.locator('cs-review .verified.failed').waitFor();
    expect(await page.locator('cs-review .card').getAttribute('data-change-id')).toMatch(
      /^group:low:/,
    );
    const { alert, signDisabled } = await reviewAll(id);
    expect(alert).toContain('list of changes differs from the snapshots in 2 places');
    expect(signDisabled).toBe(true);
    expect(await statusOf(token, id)).toMatchObject({ status: 'pending', approvals: [] });
  });

  it('still lets the reviewer reject a deployment it cannot verify', async () => {
    const { id, token } = await propose('line-4');
    const file = await changesFileOf(server, id);
    const changes = JSON.parse(readFileSync(file, 'utf8')) as Array<{ id: string; risk: string }>;
    changes[0]!.risk = 'low';
    writeFileSync(file, JSON.stringify(changes));

    await page.goto(`${server.url}/#/review/${id}`);
    await page.locator('cs-review .verified.failed').waitFor();
    await page.keyboard.press('ArrowLeft');
    await approveToSummary();
    await page.getByRole('button', { name: 'Reject deployment' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reject', exact: true }).click();
    await page.getByText('Deployment rejected').waitFor();
    expect((await statusOf(token, id)).status).toBe('rejected');
  });
});
