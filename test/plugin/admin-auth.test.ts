/**
 * Node-RED secured the way production editors are, with `adminAuth` users. People log in through
 * Node-RED's own token endpoint (`POST /auth/token`), as the editor and node-red-admin do. The
 * deploying user's name is what the phone shows and what `forbidSelfApproval` compares with device
 * owners: alice's own phone cannot approve alice's deployment, bob's can. A read-only user's deploy
 * is refused by Node-RED itself, and nothing is proposed.
 */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, revOf, type Flows } from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { enrollThroughUi, ensurePwaBuilt, type Browser } from '../pwa/browser.js';
import { openPwaBrowser } from '../pwa/pwa-session.js';
import { activeRev } from './deploy.js';
import { until } from './until.js';

const require = createRequire(import.meta.url);
const bcrypt = require('bcryptjs') as { hashSync(password: string, rounds: number): string };

let nr: RunningNodeRed;
let receiver: PushReceiver;
let browser: Browser;
let page: Page;
let alicePhone: TestDevice;
let bobPhone: TestDevice;

const target: Flows = [{ id: 'tab-alice', type: 'tab', label: "Alice's flow" }];

async function login(username: string, password: string): Promise<string> {
  const res = await fetch(`${nr.editorUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      // What the editor's login dialog sends: the user's own permissions.
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '',
      username,
      password,
    }),
  });
  expect(res.status, `login as ${username}`).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

function deployAs(token: string, flows: Flows): Promise<Response> {
  return fetch(`${nr.editorUrl}/flows`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'node-red-deployment-type': 'full',
    },
    body: JSON.stringify(flows),
  });
}

async function pendingIds(device: TestDevice): Promise<string[]> {
  const answer = await device.call<{ deployments: Array<{ id: string }> }>(
    nr.approvalUrl,
    'GET',
    `${API_PREFIX}/deployments?status=pending`,
  );
  return answer.body.deployments.map((d) => d.id);
}

beforeAll(async () => {
  ensurePwaBuilt();
  const hash = (password: string): string => bcrypt.hashSync(password, 8);
  // First: its origin is the one push origin the embedded server exempts (5.6).
  receiver = await startPushReceiver();
  nr = await startNodeRed({
    flows: [],
    countersign: { port: 0, forbidSelfApproval: true },
    settings: {
      adminAuth: {
        type: 'credentials',
        users: [
          { username: 'alice', password: hash('alice-secret'), permissions: '*' },
          { username: 'bob', password: hash('bob-secret'), permissions: '*' },
          { username: 'rita', password: hash('rita-secret'), permissions: 'read' },
        ],
      },
    },
  });
  expect(nr.startError).toBeNull();
  alicePhone = await nr.enrollDevice({ owner: 'alice' });
  ({ browser, page } = await openPwaBrowser(receiver, new URL(nr.approvalUrl).origin));
  const invitation = await nr.invite({ owner: 'bob', name: "Bob's phone" });
  await enrollThroughUi(page, invitation.url, "Bob's phone");
  bobPhone = await nr.enrollDevice({ owner: 'bob', name: "Bob's tablet" });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await nr?.close();
  await receiver?.close();
});

describe('Node-RED with adminAuth', () => {
  let id = '';

  it('needs a login to deploy at all', async () => {
    const res = await fetch(`${nr.editorUrl}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(target),
    });
    expect(res.status).toBe(401);
    expect(await pendingIds(alicePhone)).toEqual([]);
  });

  it("holds alice's deployment and the phone shows her name", async () => {
    const res = await deployAs(await login('alice', 'alice-secret'), target);
    const text = await res.text();
    expect(res.status, text).toBe(423);
    id = /Deployment ([0-9a-f]{12}) is held/.exec(text)![1]!;
    expect((await alicePhone.deployment(nr.approvalUrl, id)).source).toMatchObject({
      user: 'alice',
      via: 'admin-api',
    });
    // On Bob's phone, as a person reads it.
    await page.goto(`${new URL(nr.approvalUrl).origin}/#/inbox`);
    const item = page.locator('cs-inbox a.item');
    await item.waitFor();
    expect(await item.innerText()).toMatch(/by alice/);
  });

  it("does not count alice's own phone under forbidSelfApproval", async () => {
    const own = await alicePhone.decide(nr.approvalUrl, id);
    expect(own.status).toBe(403);
    expect(own.body).toMatchObject({ code: 'ERR_SELF_APPROVAL' });
    expect((await alicePhone.deployment(nr.approvalUrl, id)).status).toBe('pending');
    expect(activeRev(nr)).not.toBe(await revOf(target));
  });

  it("applies it once bob's phone approves", async () => {
    expect((await bobPhone.decide(nr.approvalUrl, id)).status).toBe(200);
    const rev = await revOf(target);
    await until(nr, 'the approved flows to run', async () => activeRev(nr) === rev);
    await nr.waitForLog(new RegExp(`deployment ${id} approved by .*applied`));
  });

  it("refuses a read-only user's deploy in Node-RED itself, proposing nothing", async () => {
    const before = nr.logs.filter((l) => /held for approval/.test(l)).length;
    const res = await deployAs(await login('rita', 'rita-secret'), [
      ...target,
      { id: 'tab-rita', type: 'tab', label: 'Rita was here' },
    ]);
    expect(res.status).toBe(401);
    expect(await pendingIds(bobPhone)).toEqual([]);
    expect(nr.logs.filter((l) => /held for approval/.test(l)).length).toBe(before);
  });
});
