/**
 * A device invites only for its own owner; new people come from the command line (DESIGN 5.5). The
 * attack of the issue: one person invites a second phone under another name ("bob") and meets a
 * quorum, or beats `forbidSelfApproval`, alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flows } from '../../protocol/index.js';
import { TestDevice } from '../helpers/device.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let base: Flows;
let target: Flows;

beforeAll(async () => {
  server = await startTestServer();
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1]);
  target = base.map((n) => (n.type === 'http in' ? { ...n, url: '/self' } : n));
});
afterAll(async () => {
  await server?.close();
});

describe('invitations by a device (5.5)', () => {
  it('refuses an invitation for another owner, so nobody mints the second approver of a quorum', async () => {
    const alice = await server.enrollDevice({ owner: 'alice' });
    const answer = await alice.invite(server.url, { owner: 'bob', name: "Bob's phone" });
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('ERR_FORBIDDEN');
    expect(answer.body.message).toMatch(/command line/);
    expect((await server.ctx.store.devices()).map((d) => d.owner)).toEqual(['alice']);
  });

  it('keeps forbidSelfApproval: the deploying user cannot invite a colleague to approve for them', async () => {
    const { token } = await server.addInstance('self-check', { forbidSelfApproval: true });
    const mallory = await server.enrollDevice({ owner: 'mallory' });
    const { id } = await server.propose(token, base, target, {
      source: { user: 'mallory', via: 'editor' },
    });
    expect((await mallory.decide(server.url, id)).body).toMatchObject({
      code: 'ERR_SELF_APPROVAL',
    });
    const invite = await mallory.invite(server.url, {
      owner: 'carol',
      name: 'spare phone',
    });
    expect(invite.status).toBe(403);
    // Her own next phone is hers, and still may not approve her deployment.
    const own = await mallory.invite(server.url, {
      owner: 'mallory',
      name: 'tablet',
    });
    expect(own.status).toBe(201);
    const tablet = await TestDevice.create({ owner: 'mallory' });
    await tablet.enroll(server.url, own.body.code);
    expect((await tablet.decide(server.url, id)).body).toMatchObject({ code: 'ERR_SELF_APPROVAL' });
  });

  it('lets the command line invite a new person', async () => {
    const invitation = await server.invite({ owner: 'nora', name: "Nora's phone" });
    const nora = await TestDevice.create({ owner: 'nora' });
    expect((await nora.enroll(server.url, invitation.code)).owner).toBe('nora');
  });
});
