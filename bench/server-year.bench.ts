/**
 * A year of deployments at the cost of the first (DESIGN 9): the same proposals and decisions of
 * 1,000-node flows timed against a store that has decided 100 deployments and one that has decided
 * a year of them (18,250), in the same run — `server-year-propose-ratio` and
 * `server-year-decide-ratio` (≤ 1.5), the event loop's p99 delay while it works with a year
 * (`server-year-loop-p99-ms`, ≤ 20), hold → push with a year (`hold-to-push-year-ms`, ≤ 50), and
 * the data directory's size after the year (printed). The retention runs as it would: the year's
 * live state is its newest 500 decided, and prunes happen during the measurement.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { API_PREFIX, revOf, snapshotBytes, type Flows } from '../protocol/index.js';
import { silentLog, startServer, type PushSender } from '../server/index.js';
import { startPushReceiver } from '../test/helpers/push-receiver.js';
import { bigFlows, mutatedCopy } from './flows-10k.js';
import { median, type BenchRow } from './row.js';
import { buildHistory, type BuiltHistory } from './year.js';
import { webPushSender } from '../server/push/sender.js';
import { loadVapidKeys } from '../server/secrets.js';
import { systemResolver } from '../server/push/endpoint-policy.js';

/** Bytes under `dir`. */
function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? sizeOf(path) : statSync(path).size;
  }
  return total;
}

type Costs = { propose: number[]; decide: number[]; push: number[]; loopP99: number };

/**
 * Starts the server on a built directory and times `iterations` proposals (blobs uploaded first,
 * as the plugin does), the push each starts, and the phone's approval of each.
 */
async function measure(built: BuiltHistory, base: Flows, iterations: number): Promise<Costs> {
  const receiver = await startPushReceiver();
  const real = webPushSender({
    vapid: await loadVapidKeys(built.dataDir),
    subject: 'mailto:bench@countersign.invalid',
    policy: { testOrigin: receiver.origin, resolve: systemResolver },
  });
  let waiting: ((t: number) => void) | null = null;
  const timing: PushSender = {
    send(request) {
      waiting?.(performance.now());
      waiting = null;
      return real.send(request);
    },
  };
  const running = await startServer({
    dataDir: built.dataDir,
    port: 0,
    log: silentLog,
    appDir: null,
    push: timing,
    testPushOrigin: receiver.origin,
    quotas: { proposals: { max: 1_000_000, windowMs: 60_000 } },
    notifier: { perDevice: { max: 1_000_000, windowMs: 1 } },
  });
  const { device, token } = built;
  const plugin = (method: string, path: string, body: unknown): Promise<Response> =>
    fetch(`${running.url}${API_PREFIX}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body),
    });
  try {
    const push = receiver.createPushSubscription();
    const set = await device.call(running.url, 'PUT', `${API_PREFIX}/devices/self/push`, { push });
    if (set.status !== 200) throw new Error(`push subscription: ${set.status}`);
    const baseRev = await revOf(base);
    // Every target made before the clock runs: the client's own work stays out of the figures.
    const warmup = 5;
    const targets: { rev: string; bytes: Uint8Array }[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const flows = mutatedCopy(base, 20, 50_000 + i);
      targets.push({ rev: await revOf(flows), bytes: snapshotBytes(flows) });
    }
    await plugin('PUT', `/blobs/${baseRev}`, snapshotBytes(base));
    const costs: Costs = { propose: [], decide: [], push: [], loopP99: 0 };
    const loop = monitorEventLoopDelay({ resolution: 10 });
    for (let i = 0; i < targets.length; i++) {
      if (i === warmup) loop.enable();
      const target = targets[i]!;
      await plugin('PUT', `/blobs/${target.rev}`, target.bytes);
      const sent = new Promise<number>((resolve) => (waiting = resolve));
      const t0 = performance.now();
      const res = await plugin('POST', '/deployments', {
        base: baseRev,
        target: target.rev,
        creds: null,
        credentials: {},
        type: 'full',
        source: { user: 'bench', via: 'editor' },
      });
      const t1 = performance.now();
      if (res.status !== 201) throw new Error(`proposal ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      const pushedAt = await sent;
      const jws = await device.signApproval(await device.approvalClaims(running.url, id));
      const t2 = performance.now();
      const decided = await device.postDecision(running.url, id, jws);
      const t3 = performance.now();
      if (decided.status !== 200) throw new Error(`decision ${decided.status}`);
      await plugin('POST', `/deployments/${id}/outcome`, { status: 'applied', rev: target.rev });
      if (i >= warmup) {
        costs.propose.push(t1 - t0);
        costs.push.push(pushedAt - t0);
        costs.decide.push(t3 - t2);
      }
    }
    loop.disable();
    costs.loopP99 = loop.percentile(99) / 1e6;
    await running.handle.ctx.notifier.idle();
    return costs;
  } finally {
    await running.close();
    await receiver.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const base = bigFlows(1000);
  const iterations = 60;
  const first = await buildHistory({ base, decided: 100, perDay: 50 });
  const year = await buildHistory({ base, decided: 18_250, perDay: 50 });
  try {
    const yearBytes = sizeOf(year.dataDir);
    const small = await measure(first, base, iterations);
    const large = await measure(year, base, iterations);
    const propose = { at100: median(small.propose), atYear: median(large.propose) };
    const decide = { at100: median(small.decide), atYear: median(large.decide) };
    const pushYear = median(large.push);
    return [
      {
        name: 'server-year-propose-ratio',
        value: propose.atYear,
        unit: 'ms',
        budget: 'ratio ≤ 1.5 (18,250 decided / 100)',
        ok: propose.atYear / propose.at100 <= 1.5,
        baseline: propose.at100,
        ratio: propose.atYear / propose.at100,
      },
      {
        name: 'server-year-decide-ratio',
        value: decide.atYear,
        unit: 'ms',
        budget: 'ratio ≤ 1.5 (18,250 decided / 100)',
        ok: decide.atYear / decide.at100 <= 1.5,
        baseline: decide.at100,
        ratio: decide.atYear / decide.at100,
      },
      {
        name: 'server-year-loop-p99-ms',
        value: large.loopP99,
        unit: 'ms',
        budget: '≤ 20',
        ok: large.loopP99 <= 20,
      },
      {
        name: 'hold-to-push-year-ms',
        value: pushYear,
        unit: 'ms',
        budget: '≤ 50 median',
        ok: pushYear <= 50,
      },
      {
        name: 'server-year-data-dir-mb',
        value: yearBytes / 1048576,
        unit: 'MB',
        budget: 'info (after the year, before this run)',
        ok: true,
      },
    ];
  } finally {
    rmSync(first.dataDir, { recursive: true, force: true });
    rmSync(year.dataDir, { recursive: true, force: true });
  }
}
