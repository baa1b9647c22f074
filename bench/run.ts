/**
 * `npm run bench`: runs every `bench/*.bench.ts`, each in a Node.js process of its own (so no row
 * pays for the heap, timers or compiled code an earlier module left behind), prints the table of
 * DESIGN.md section 9 and writes `bench/results.json`. Each module exports
 * `run(): Promise<BenchRow[]>`. `tsx bench/run.ts <part of a file name> …` runs only those files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './row.js';

const here = dirname(fileURLToPath(import.meta.url));

/** In the child: runs one module and writes its rows to `out`. */
async function runOne(file: string, out: string): Promise<void> {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as {
    run: () => Promise<BenchRow[]>;
  };
  writeFileSync(out, JSON.stringify(await mod.run()));
}

/** Runs `file` in a child process (the same Node.js and loader as this one); its rows. */
async function inChild(file: string, dir: string): Promise<BenchRow[]> {
  const out = join(dir, `${file}.json`);
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, script, '--one', file, out], {
    stdio: 'inherit',
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`bench ${file} exited ${code}`);
  return JSON.parse(readFileSync(out, 'utf8')) as BenchRow[];
}

/** Idle and total CPU time of the whole machine so far, from the first line of /proc/stat. */
function cpuTimes(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const values = fields.map(Number);
  // idle and iowait
  return { idle: values[3]! + (values[4] ?? 0), total: values.reduce((a, b) => a + b, 0) };
}

/**
 * Waits until the machine is quiet (at least 90% idle over one second), at most `maxMs`: what an
 * earlier module left running as it ended (a database shutting down, a browser exiting, the
 * kernel writing back its files) must not weigh on the next module's rows. Says so when it
 * did not settle.
 */
async function settle(maxMs = 30_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const before = cpuTimes();
    await new Promise((r) => setTimeout(r, 1000));
    const after = cpuTimes();
    const idle = (after.idle - before.idle) / Math.max(1, after.total - before.total);
    if (idle >= 0.9) {
      const waited = Date.now() - start;
      if (waited > 1500)
        process.stderr.write(`bench: waited ${Math.round(waited / 1000)} s for a quiet machine\n`);
      return;
    }
    if (Date.now() - start > maxMs) {
      process.stderr.write(`bench: the machine is still busy (${Math.round(idle * 100)}% idle)\n`);
      return;
    }
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-'));
  try {
    for (const file of files) {
      await settle();
      process.stderr.write(`bench: ${file}\n`);
      rows.push(...(await inChild(file, dir)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
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

if (process.argv[2] === '--one') await runOne(process.argv[3]!, process.argv[4]!);
else await main();
