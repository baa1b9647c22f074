import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, type DeploymentDetail, type Flows } from '../../protocol/index.js';
import { realFlowsFiles, loadFlows } from '../helpers/fixtures.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { TestDevice } from '../helpers/device.js';

let server: TestServer;
let receiver: PushReceiver;
let token: string;
let alice: TestDevice;
let base: Flows;
let target: Flows;

beforeAll(async () => {
  receiver = await startPushReceiver();
  server = await startTestServer();
  ({ token } = await server.addInstance('line-1'));
  alice = await server.enrollDevice({ owner: 'alice', push: receiver.createPushSubscription() });
  base = loadFlows(realFlowsFiles()[0]![1]);
  target = base.map((n, i) => (i === 3 ? { ...n, name: 'renamed by a test' } : n));
});

afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

describe('a deployment from proposal to applied', () => {
  it('holds a proposal, pushes it, takes a signed approval and tells the plugin', async () => {
    const events = await fetch(`${server.url}${API_PREFIX}/instance/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(events.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = events.body!.getReader();

    const proposal = await server.propose(token, base, target, {
      source: { user: 'bob', via: 'editor' },
    });
    expect(proposal.status).toBe('pending');
    expect(proposal.reviewUrl).toBe(`${server.url}/#/review/${proposal.id}`);

    const [push] = await receiver.waitForMessages(1);
    expect(push!.payload).toMatchObject({
      v: 1,
      kind: 'deployment',
      id: proposal.id,
      instance: 'line-1',
      by: 'bob',
    });
    expect(push!.urgency).toBe('high');
    expect(push!.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(push!.ttl).toBeGreaterThan(0);
    expect(push!.ttl).toBeLessThanOrEqual(86_400);
    expect(receiver.errors).toEqual([]);

    const detail: DeploymentDetail = await alice.deployment(server.url, proposal.id);
    expect(detail.changes.length).toBeGreaterThan(0);
    expect(detail.changeCount).toBe(detail.changes.length);
    expect(detail.approvals).toEqual([]);

    const answer = await alice.decide(server.url, proposal.id);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'approved' });

    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('"status":"approved"')) {
      const { value } = await reader.read();
      text += decoder.decode(value);
    }
    const approvedEvent = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { status: string; approvals: Array<{ jws?: string }> })
      .find((e) => e.status === 'approved')!;
    expect(approvedEvent.approvals[0]!.jws).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await reader.cancel();

    const outcome = await server.pluginFetch(
      token,
      'POST',
      `${API_PREFIX}/deployments/${proposal.id}/outcome`,
      {
        status: 'applied',
        rev: detail.target,
      },
    );
    expect(outcome.status).toBe(200);
    expect(await outcome.json()).toEqual({ status: 'applied' });
  });
});
