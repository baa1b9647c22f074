/**
 * Quotas (issue: 150 held deployments of 200 KB flows grew a data directory by 90 MB in 3 seconds):
 * a size limit per blob, and a rate limit on proposals (and blob uploads) per instance, each with a
 * clear error, and nothing kept of what was refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  credentialFieldsOf,
  revOf,
  snapshotBytes,
  type Flows,
} from '../../protocol/index.js';
import { exampleFiles, loadFlows } from '../helpers/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../helpers/server.js';
import { storedBlob } from '../helpers/stored.js';

let server: TestServer;
let clock: TestClock;
let base: Flows;

beforeAll(async () => {
  clock = new TestClock();
  server = await startTestServer({
    clock,
    quotas: { blobBytes: 64 * 1024, proposals: { max: 3, windowMs: 60_000 } },
  });
  base = loadFlows(exampleFiles().find(([n]) => n.startsWith('network__http__01'))![1]);
});
afterAll(async () => {
  await server?.close();
});

function variant(i: number): Flows {
  return base.map((n) => (n.type === 'http in' ? { ...n, url: `/v${i}` } : n));
}

/** A proposal of `target` over `base`, both uploaded (the uploads count against their own quota). */
async function uploadedProposal(token: string, target: Flows) {
  return {
    base: await server.uploadBlob(token, base),
    target: await server.uploadBlob(token, target),
    creds: null,
    credentials: credentialFieldsOf({}),
    type: 'full',
    source: { user: 'admin', via: 'editor' },
  };
}

describe('quotas', () => {
  it('refuses a blob over the size limit with 413 and a message naming the limit, keeping nothing', async () => {
    const { token } = await server.addInstance('big');
    const big = [...base, { id: 'pad', type: 'comment', info: 'x'.repeat(70 * 1024) }];
    const rev = await revOf(big);
    const res = await server.pluginFetch(
      token,
      'PUT',
      `${API_PREFIX}/blobs/${rev}`,
      snapshotBytes(big),
    );
    expect(res.status).toBe(413);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('ERR_BODY_TOO_LARGE');
    expect(body.message).toContain('at most 64 KiB');
    expect(await storedBlob(server.dataDir, rev)).toBeNull();
  });

  it('limits proposals per instance with 429 and a clear message; other instances and a later window go on', async () => {
    const { token } = await server.addInstance('busy');
    const { token: other } = await server.addInstance('quiet');
    for (let i = 0; i < 3; i++) await server.propose(token, base, variant(i));
    const proposal = await uploadedProposal(token, variant(9));
    const res = await server.pluginFetch(token, 'POST', `${API_PREFIX}/deployments`, proposal);
    expect(res.status).toBe(429);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('ERR_RATE_LIMITED');
    expect(body.message).toContain('instance busy made 3 proposals in the last minute');
    expect(
      (await server.ctx.store.history({ limit: 100 })).deployments.filter(
        (d) => d.instance === 'busy',
      ),
    ).toHaveLength(3);

    await server.propose(other, base, variant(1));
    clock.advance(61_000);
    expect(
      (await server.pluginFetch(token, 'POST', `${API_PREFIX}/deployments`, proposal)).status,
    ).toBe(201);
  });

  it('says in Retry-After when the window lets the instance in again, and lets it in then', async () => {
    const { token } = await server.addInstance('paced');
    // Proposals 20 s apart: the window (60 s) lets a fourth in once the first has left it.
    for (let i = 0; i < 3; i++) {
      if (i > 0) clock.advance(20_000);
      await server.propose(token, base, variant(200 + i));
    }
    const proposal = await uploadedProposal(token, variant(299));
    const propose = () => server.pluginFetch(token, 'POST', `${API_PREFIX}/deployments`, proposal);
    const limited = await propose();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('20');
    clock.advance(19_000);
    const almost = await propose();
    expect(almost.status).toBe(429);
    expect(almost.headers.get('retry-after')).toBe('1');
    clock.advance(Number(almost.headers.get('retry-after')) * 1000);
    const res = await propose();
    expect(res.status).toBe(201);
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('puts Retry-After on the blob upload limit too (whole seconds, at least 1)', async () => {
    const { token } = await server.addInstance('uploads-paced');
    const upload = async (i: number) => {
      const flows = variant(400 + i);
      return server.pluginFetch(
        token,
        'PUT',
        `${API_PREFIX}/blobs/${await revOf(flows)}`,
        snapshotBytes(flows),
      );
    };
    for (let i = 0; i < 12; i++) expect((await upload(i)).status).toBe(201);
    clock.advance(500);
    const limited = await upload(12);
    expect(limited.status).toBe(429);
    // 59.5 s are left in the window: rounded up, never 0.
    expect(limited.headers.get('retry-after')).toBe('60');
    clock.advance(59_500);
    expect((await upload(12)).status).toBe(201);
  });

  it('limits blob uploads per instance too', async () => {
    const { token } = await server.addInstance('uploader');
    const statuses: number[] = [];
    for (let i = 0; i < 13; i++) {
      const flows = variant(100 + i);
      const res = await server.pluginFetch(
        token,
        'PUT',
        `${API_PREFIX}/blobs/${await revOf(flows)}`,
        snapshotBytes(flows),
      );
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 12)).toEqual(Array(12).fill(201));
    expect(statuses[12]).toBe(429);
  });
});
