/**
 * `hold-to-push-1k-ms` (DESIGN 9), measured end to end in one run: a real Node-RED 4.1 with the gate
 * receives a deployment of 1,000-node flows (real users' flows) through its runtime flows API, the
 * gate snapshots, hashes, uploads and proposes it, and the real approval server starts the push
 * request to the one enrolled device (real web-push to a local receiver). The clock stops when the
 * push request starts. `hold-to-423-1k-ms` is the in-Node-RED part as the caller sees it: the deploy
 * call until its 423 answer.
 */
import { performance } from 'node:perf_hooks';
import type { Flows } from '../protocol/index.js';
import { startNodeRed } from '../test/helpers/node-red.js';
import { startBenchServer } from './server-rig.js';
import { bigFlows, mutatedCopy } from './flows-10k.js';
import { median, type BenchRow } from './row.js';

/** Samples (ms) of deploy → push request started, and deploy → 423, for `nodes`-node flows. */
export async function holdToPushSamples(
  options: { iterations?: number; warmup?: number; nodes?: number; changes?: number } = {},
): Promise<{ toPush: number[]; to423: number[] }> {
  const { iterations = 30, warmup = 5, nodes = 1000, changes = 20 } = options;
  const server = await startBenchServer();
  const base = bigFlows(nodes);
  const nr = await startNodeRed({
    flows: base,
    countersign: { server: server.running.url, instanceToken: server.token },
  });
  try {
    if (nr.startError) throw nr.startError;
    const toPush: number[] = [];
    const to423: number[] = [];
    // Each deployment arrives as Node-RED's admin API hands it on: objects just parsed from the
    // request's JSON. The texts are made first, so building the changes leaves no garbage behind
    // for the measured deployments' collections.
    const texts = Array.from({ length: warmup + iterations }, (_, i) =>
      JSON.stringify(mutatedCopy(base, changes, i + 1)),
    );
    for (let i = 0; i < warmup + iterations; i++) {
      const target = JSON.parse(texts[i]!) as Flows;
      const pushed = server.nextSend();
      const start = performance.now();
      const answer = await nr.RED.runtime.flows
        .setFlows({ flows: { flows: target } })
        .catch((e: unknown) => e);
      const held = performance.now();
      if (
        (answer as { code?: string }).code !== 'ERR_HELD' ||
        !(answer as { deploymentId?: string }).deploymentId
      ) {
        throw new Error(`the deployment was not held: ${String(answer)}`);
      }
      const at = await pushed;
      // The next sample starts once the push receiver (a process of its own, as a real push
      // service is) has taken this push.
      await server.receiver.waitForMessages(i + 1, { timeoutMs: 30_000 });
      if (i >= warmup) {
        toPush.push(at - start);
        to423.push(held - start);
      }
    }
    await server.running.handle.ctx.notifier.idle();
    return { toPush, to423 };
  } finally {
    await nr.close();
    await server.close();
  }
}

/** The rows. */
export async function run(): Promise<BenchRow[]> {
  const { toPush, to423 } = await holdToPushSamples();
  const whole = median(toPush);
  const plugin = median(to423);
  return [
    {
      name: 'hold-to-push-1k-ms',
      value: whole,
      unit: 'ms',
      budget: '≤ 50 ms median',
      ok: whole <= 50,
    },
    {
      name: 'hold-to-423-1k-ms',
      value: plugin,
      unit: 'ms',
      budget: '≤ 50 ms median',
      ok: plugin <= 50,
    },
  ];
}
