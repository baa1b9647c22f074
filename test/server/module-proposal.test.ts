/**
 * Palette changes on the server (7.1): a `module` proposal's target blob is the canonical module
 * descriptor, its change list is the one `module` change computed from the descriptor and the base
 * flows, and anything else (a descriptor not in canonical form, credentials, the wrong kind of blob)
 * is refused with `{code, message}` and nothing held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  moduleChange,
  moduleDescriptorText,
  type DeploymentDetail,
  type Flows,
} from '../../protocol/index.js';
import type { TestDevice } from '../helpers/device.js';
import { loadFlows, realFlowsFiles } from '../helpers/fixtures.js';
import { proposeModule, sampleDescriptor, uploadDescriptor } from '../helpers/module-proposal.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let token: string;
let alice: TestDevice;
let base: Flows;

beforeAll(async () => {
  server = await startTestServer();
  ({ token } = await server.addInstance('line-1'));
  alice = await server.enrollDevice({ owner: 'alice' });
  base = loadFlows(realFlowsFiles()[0]![1]);
});

afterAll(async () => {
  await server?.close();
});

async function post(body: Record<string, unknown>): Promise<{ status: number; code: string }> {
  const res = await server.pluginFetch(token, 'POST', `${API_PREFIX}/deployments`, body);
  return { status: res.status, code: ((await res.json()) as { code: string }).code };
}

describe('a module proposal', () => {
  it('is held with the one module change, and approved like any deployment', async () => {
    const descriptor = sampleDescriptor();
    const { id } = await proposeModule(server, token, base, descriptor);
    const detail = await alice.deployment(server.url, id);
    expect(detail).toMatchObject({ type: 'module', creds: null, credentials: {}, changeCount: 1 });
    expect(detail.changes).toEqual([JSON.parse(JSON.stringify(moduleChange(descriptor, base)))]);
    expect((await alice.decide(server.url, id)).status).toBe(200);
    expect((await alice.deployment(server.url, id)).status).toBe('approved');
  });

  it('serves the descriptor blob byte for byte to the phone', async () => {
    const descriptor = sampleDescriptor({ name: 'node-red-contrib-served' });
    const { id } = await proposeModule(server, token, base, descriptor);
    const detail: DeploymentDetail = await alice.deployment(server.url, id);
    const res = await alice.fetch(server.url, 'GET', `${API_PREFIX}/blobs/${detail.target}`);
    expect(await res.text()).toBe(moduleDescriptorText(descriptor));
  });
});

describe('refused', () => {
  it('a descriptor blob that is not in canonical form', async () => {
    const text = JSON.stringify(sampleDescriptor(), null, 1);
    const answer = await uploadDescriptor(server, token, text);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'ERR_FLOWS_INVALID' });
  });

  it('a descriptor with an unknown key or an invisible character', async () => {
    for (const bad of [
      { ...sampleDescriptor(), hidden: 'x' },
      sampleDescriptor({ types: ['weather\u2066now'] }),
    ]) {
      const answer = await uploadDescriptor(server, token, JSON.stringify(bad));
      expect(answer.status).toBe(400);
    }
  });

  it('a module proposal with credentials', async () => {
    const baseRev = await server.uploadBlob(token, base);
    const { rev } = await uploadDescriptor(server, token, moduleDescriptorText(sampleDescriptor()));
    const common = {
      base: baseRev,
      target: rev,
      type: 'module',
      source: { user: 'x', via: 'palette' },
    };
    expect(await post({ ...common, creds: 'a'.repeat(64), credentials: {} })).toEqual({
      status: 400,
      code: 'ERR_BAD_REQUEST',
    });
    expect(await post({ ...common, creds: null, credentials: { n1: ['password'] } })).toMatchObject(
      {
        status: 400,
      },
    );
  });

  it('a module proposal whose target is flows, and a flows proposal whose target is a descriptor', async () => {
    const baseRev = await server.uploadBlob(token, base);
    const flowsRev = await server.uploadBlob(token, base.slice(1));
    const { rev } = await uploadDescriptor(server, token, moduleDescriptorText(sampleDescriptor()));
    const source = { user: 'x', via: 'palette' };
    const asModule = await post({
      base: baseRev,
      target: flowsRev,
      creds: null,
      credentials: {},
      type: 'module',
      source,
    });
    expect(asModule.status).toBe(400);
    const asFlows = await post({
      base: baseRev,
      target: rev,
      creds: null,
      credentials: {},
      type: 'full',
      source,
    });
    expect(asFlows.status).toBe(400);
    const pending = (
      await alice.call<{ deployments: unknown[] }>(
        server.url,
        'GET',
        `${API_PREFIX}/deployments?status=pending`,
      )
    ).body;
    expect(pending.deployments.length).toBeLessThanOrEqual(1);
  });
});
