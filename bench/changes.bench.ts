/** `changes-10k-ms` and `changes-10k-ratio-vs-jsondiffpatch` (DESIGN 9, issue 2). */
import { create } from 'jsondiffpatch';
import { computeChanges } from '../protocol/index.js';
import { bigFlows, mutatedCopy } from './flows-10k.js';
import { median, type BenchRow } from './row.js';

function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

export async function run(): Promise<BenchRow[]> {
  const base = bigFlows(10_000);
  const target = mutatedCopy(base, 50);
  const changes = computeChanges(base, target, {});
  if (changes.length !== 50) throw new Error(`expected 50 changes, got ${changes.length}`);

  // Warm up, then measure.
  for (let i = 0; i < 10; i++) computeChanges(base, target, {});
  const ours = median(
    Array.from({ length: 40 }, () => time(() => computeChanges(base, target, {}))),
  );

  const differ = create({
    objectHash: (item: object, index?: number) =>
      (item as { id?: string }).id ?? `$$index:${index}`,
  });
  differ.diff(base, target);
  const theirs = median(Array.from({ length: 5 }, () => time(() => differ.diff(base, target))));

  const ratio = theirs / ours;
  return [
    {
      name: 'changes-10k-ms',
      value: ours,
      unit: 'ms',
      budget: '≤ 25',
      ok: ours <= 25,
    },
    {
      // The figure is ours again, the baseline jsondiffpatch's on the same inputs in this run.
      name: 'changes-10k-ratio-vs-jsondiffpatch',
      value: ours,
      unit: 'ms',
      budget: 'ratio ≥ 10×',
      ok: ratio >= 10,
      baseline: theirs,
      ratio,
    },
  ];
}
