/**
 * Server benchmarks (DESIGN 9): `approval-verify-per-s`, the full 5.4 verification path on one core
 * (one verification in flight at a time), and the server part of hold → push for 1,000-node flows
 * (`holdToPushServerSamples`, reused by the plugin's end-to-end row).
 */
import { performance } from 'node:perf_hooks';
import { API_PREFIX, randomId, revOf, snapshotBytes, type Flows } from '../protocol/index.js';
import { verifyForDeployment } from '../server/deployments/decide.js';
import { startBenchServer, type Rig } from './server-rig.js';
import { bigFlows, mutatedCopy } from './flows-10k.js';
import { median, type BenchRow } from './row.js';

async function upload(r: Rig, flows: Flows): Promise<string> {
  const rev = await revOf(flows);
  const res = await fetch(`${r.running.url}${API_PREFIX}/blobs/${rev}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/json' },
    body: Buffer.from(snapshotBytes(flows)),
  });
  if (res.status !== 201) throw new Error(`blob upload ${res.status}`);
  return rev;
}

async function propose(r: Rig, base: string, target: string): Promise<string> {
  const res = await fetch(`${r.running.url}${API_PREFIX}/deployments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      base,
      target,
      creds: null,
      credentials: {},
      type: 'full',
      source: { user: 'bench', via: 'bench' },
    }),
  });
  if (res.status !== 201) throw new Error(`proposal ${res.status}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * The server part of hold → push: from the moment a proposal for `nodes`-node flows is sent to the
 * server (blobs already uploaded, as the plugin does) until the server starts the push request.
 * Returns one sample in milliseconds per iteration (after `warmup` unmeasured ones).
 */
export async function holdToPushServerSamples(
  options: { iterations?: number; warmup?: number; nodes?: number; changes?: number } = {},
): Promise<number[]> {
  const { iterations = 30, warmup = 5, nodes = 1000, changes = 20 } = options;
  const r = await startBenchServer();
  try {
    const base = bigFlows(nodes);
    const baseRev = await upload(r, base);
    const samples: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const targetRev = await upload(r, mutatedCopy(base, changes, i + 1));
      const sent = r.nextSend();
      const start = performance.now();
      await propose(r, baseRev, targetRev);
      const at = await sent;
      if (i >= warmup) samples.push(at - start);
    }
    await r.running.handle.ctx.notifier.idle();
    return samples;
  } finally {
    await r.close();
  }
}

/** Approvals verified per second through every check of 5.4, one at a time (one core). */
export async function approvalVerifyPerSecond(
  options: { count?: number; rounds?: number } = {},
): Promise<number> {
  const { count = 2000, rounds = 3 } = options;
  const r = await startBenchServer();
  try {
    const base = bigFlows(1000);
    const id = await propose(r, await upload(r, base), await upload(r, mutatedCopy(base, 50, 7)));
    const { claims, changes } = await r.device.approval(r.running.url, id);
    const ctx = r.running.handle.ctx;
    const deployment = ctx.store.data.deployments.find((d) => d.id === id)!;
    const tokens: string[] = [];
    for (let i = 0; i < count; i++)
      tokens.push(await r.device.signApproval({ ...claims, jti: randomId() }));
    const rates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const start = performance.now();
      for (const jws of tokens) await verifyForDeployment(ctx, deployment, jws, changes);
      rates.push(count / ((performance.now() - start) / 1000));
    }
    return median(rates);
  } finally {
    await r.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const perSecond = await approvalVerifyPerSecond();
  const holdToPush = median(await holdToPushServerSamples());
  return [
    {
      name: 'approval-verify-per-s',
      value: perSecond,
      unit: '/s',
      budget: '≥ 2000',
      ok: perSecond >= 2000,
    },
    {
      name: 'hold-to-push-1k-server-ms',
      value: holdToPush,
      unit: 'ms',
      budget: '≤ 50',
      ok: holdToPush <= 50,
    },
  ];
}
