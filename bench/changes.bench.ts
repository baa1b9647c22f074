/**
 * The change list (DESIGN 9): for 10,000-node flows with 50 changes, against two baselines measured
 * in the same run on the same inputs — the floor every reader pays (`JSON.parse` and SHA-256 of one
 * snapshot: budget ≤ 1×) and the plain way to find what differs (a by-id `Map` and `JSON.stringify`
 * of every node: budget ≥ 3× faster) — and 100,000 nodes (≤ 250 ms). jsondiffpatch's diff of the
 * two arrays is kept as information only: it measures its quadratic array step, not a fair peer.
 */
import { createHash } from 'node:crypto';
import { create } from 'jsondiffpatch';
import { computeChanges, snapshotBytes, type Flows } from '../protocol/index.js';
import { bigFlows, mutatedCopy } from './flows-10k.js';
import { median, type BenchRow } from './row.js';

function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Median of `runs` timings after `warmup` untimed runs. */
function measure(fn: () => unknown, runs: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  return median(Array.from({ length: runs }, () => time(fn)));
}

/**
 * The median timing of each of `fns`, timed in turn within each of `rounds` rounds (after `warmup`
 * untimed runs of the first), so a busy moment of the machine weighs on all of them alike.
 */
function interleaved(rounds: number, warmup: number, ...fns: Array<() => unknown>): number[] {
  for (let i = 0; i < warmup; i++) fns[0]!();
  const times = fns.map((): number[] => []);
  for (let round = 0; round < rounds; round++) fns.forEach((fn, k) => times[k]!.push(time(fn)));
  return times.map(median);
}

/** The floor: what reading one snapshot costs anyone (parse it, hash it). */
function parseAndHash(bytes: Buffer): void {
  JSON.parse(bytes.toString('utf8'));
  createHash('sha256').update(bytes).digest('hex');
}

/** The plain way: every node of both sides serialised, compared by id. */
function mapAndStringify(base: Flows, target: Flows): string[] {
  const before = new Map(base.map((n) => [n.id, JSON.stringify(n)]));
  const changed: string[] = [];
  const seen = new Set<string>();
  for (const node of target) {
    seen.add(node.id);
    if (before.get(node.id) !== JSON.stringify(node)) changed.push(node.id);
  }
  for (const id of before.keys()) if (!seen.has(id)) changed.push(id);
  return changed;
}

/**
 * Flows as every reader holds them: parsed from a snapshot's bytes (the server reads blobs so, and
 * Node-RED's admin API hands the runtime a parsed request body), not as the helpers built them.
 */
function asRead(flows: Flows): { flows: Flows; bytes: Buffer } {
  const bytes = Buffer.from(snapshotBytes(flows));
  return { flows: JSON.parse(bytes.toString('utf8')) as Flows, bytes };
}

/** `size` nodes and a copy with 50 changes, as read; `bytes` are the copy's snapshot. */
function readPair(size: number): { base: Flows; target: Flows; bytes: Buffer } {
  const built = bigFlows(size);
  const target = asRead(mutatedCopy(built, 50));
  const base = asRead(built).flows;
  if (computeChanges(base, target.flows, {}).length !== 50) {
    throw new Error(`expected 50 changes at ${size} nodes`);
  }
  return { base, target: target.flows, bytes: target.bytes };
}

export async function run(): Promise<BenchRow[]> {
  const { base, target, bytes } = readPair(10_000);

  const [oursMs, floorMs, plainMs] = interleaved(
    25,
    5,
    () => computeChanges(base, target, {}),
    () => parseAndHash(bytes),
    () => mapAndStringify(base, target),
  ) as [number, number, number];

  // 100,000 nodes, with the same floor beside it as information: the budget is absolute, and at
  // this size both are bound by the machine's memory more than by its processor.
  const { base: big, target: bigTarget, bytes: bigBytes } = readPair(100_000);
  const [bigMs, bigFloorMs] = interleaved(
    7,
    2,
    () => computeChanges(big, bigTarget, {}),
    () => parseAndHash(bigBytes),
  ) as [number, number];

  const differ = create({
    objectHash: (item: object, index?: number) =>
      (item as { id?: string }).id ?? `$$index:${index}`,
  });
  const jdpMs = measure(() => differ.diff(base, target), 3, 1);

  return [
    { name: 'changes-10k-ms', value: oursMs, unit: 'ms', budget: 'info', ok: true },
    {
      // Ours over the floor: at most 1×.
      name: 'changes-10k-ratio-vs-parse-hash',
      value: oursMs,
      unit: 'ms',
      budget: 'ratio ≤ 1× (ours / parse+hash)',
      ok: oursMs / floorMs <= 1,
      baseline: floorMs,
      ratio: oursMs / floorMs,
    },
    {
      // The plain way over ours: at least 3×.
      name: 'changes-10k-ratio-vs-map-stringify',
      value: oursMs,
      unit: 'ms',
      budget: 'ratio ≥ 3× (Map+stringify / ours)',
      ok: plainMs / oursMs >= 3,
      baseline: plainMs,
      ratio: plainMs / oursMs,
    },
    {
      name: 'changes-100k-ms',
      value: bigMs,
      unit: 'ms',
      budget: '≤ 250 (baseline: parse+hash of the 100k snapshot, information)',
      ok: bigMs <= 250,
      baseline: bigFloorMs,
      ratio: bigMs / bigFloorMs,
    },
    {
      name: 'changes-10k-ratio-vs-jsondiffpatch',
      value: oursMs,
      unit: 'ms',
      budget: 'info (its quadratic array step)',
      ok: true,
      baseline: jdpMs,
      ratio: jdpMs / oursMs,
    },
  ];
}
