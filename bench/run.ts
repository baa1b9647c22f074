/**
 * `npm run bench`: runs every `bench/*.bench.ts` in this one process, prints the table of DESIGN.md
 * section 9 and writes `bench/results.json`. Each module exports `run(): Promise<BenchRow[]>`.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './row.js';

const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  const rows: BenchRow[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as {
      run: () => Promise<BenchRow[]>;
    };
    process.stderr.write(`bench: ${file}\n`);
    rows.push(...(await mod.run()));
  }
  printTable(rows);
  writeFileSync(join(here, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
  if (rows.some((r) => !r.ok)) process.exitCode = 1;
}

function printTable(rows: BenchRow[]): void {
  const table = rows.map((r) => ({
    name: r.name,
    value: `${round(r.value)} ${r.unit}`,
    budget: r.budget,
    baseline: r.baseline === undefined ? '' : `${round(r.baseline)} ${r.unit}`,
    ratio: r.ratio === undefined ? '' : `${round(r.ratio)}×`,
    ok: r.ok ? 'ok' : 'OVER BUDGET',
  }));
  const keys = ['name', 'value', 'budget', 'baseline', 'ratio', 'ok'] as const;
  const widths = keys.map((k) => Math.max(k.length, ...table.map((r) => r[k].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line([...keys]));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of table) console.log(line(keys.map((k) => r[k])));
}

function round(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

await main();
