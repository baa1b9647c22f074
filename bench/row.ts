/** One row of `bench/results.json`: a figure, its budget, and where there is one a baseline and ratio. */
export type BenchRow = {
  name: string;
  value: number;
  unit: string;
  budget: string;
  ok: boolean;
  baseline?: number;
  ratio?: number;
};

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
