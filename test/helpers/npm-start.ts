/**
 * `npm start` as a person runs it: `bin/start.js` (what the `start` script runs) in a child
 * process, its output collected, stopped with Ctrl-C (SIGINT). `npm test` has built already, so it
 * does not build again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A running `npm start`. */
export type NpmStart = {
  child: ChildProcess;
  /** Everything printed so far, stdout and stderr together. */
  output(): string;
  /** Resolves once the output matches (rejects when it exits first, or after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Ctrl-C, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
};

/** Runs `npm start -- ...args` in `cwd` (default the package root). */
export function npmStart(args: string[], options: { cwd?: string } = {}): NpmStart {
  const child = spawn(process.execPath, [join(root, 'bin/start.js'), ...args], {
    cwd: options.cwd ?? root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, ms = 90_000) {
      const until = Date.now() + ms;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
        if (Date.now() > until) throw new Error(`no ${pattern} within ${ms} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
