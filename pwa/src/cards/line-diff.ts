/**
 * A unified line diff for function code and other long strings: Myers' O(ND) algorithm over lines,
 * then hunks with a little context, long unchanged stretches folded.
 */

/** One line of a diff: kept, added or removed, with its line numbers. */
export type DiffLine = {
  op: ' ' | '+' | '-';
  text: string;
  /** 1-based line number in the old text (kept and removed lines). */
  old?: number;
  /** 1-based line number in the new text (kept and added lines). */
  new?: number;
};

/** A run of lines to show, or a fold of `count` unchanged lines. */
export type DiffPart = { lines: DiffLine[] } | { fold: number };

/** Lines of a string; a trailing newline does not make an empty last line. */
export function linesOf(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The edit script turning `a` into `b`, line by line (shortest, Myers 1986). */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = linesOf(before);
  const b = linesOf(after);
  // Trim the common head and tail: most edits to code are local, and it keeps D small.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail++;
  }
  const middle = myers(a.slice(head, a.length - tail), b.slice(head, b.length - tail)) ?? [
    ...a.slice(head, a.length - tail).map((text) => ({ op: '-' as const, text })),
    ...b.slice(head, b.length - tail).map((text) => ({ op: '+' as const, text })),
  ];
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  const keep = (text: string): void => {
    out.push({ op: ' ', text, old: ++i, new: ++j });
  };
  for (let k = 0; k < head; k++) keep(a[k]!);
  for (const step of middle) {
    if (step.op === ' ') keep(step.text);
    else if (step.op === '-') out.push({ op: '-', text: step.text, old: ++i });
    else out.push({ op: '+', text: step.text, new: ++j });
  }
  for (let k = a.length - tail; k < a.length; k++) keep(a[k]!);
  return out;
}

/** Cells of trace kept before giving up on a shortest script (a rewrite, not an edit). */
const TRACE_LIMIT = 4_000_000;

function myers(a: string[], b: string[]): Array<{ op: ' ' | '+' | '-'; text: string }> | null {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    if ((d + 1) * v.length > TRACE_LIMIT) return null;
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m) to (0, 0).
  const steps: Array<{ op: ' ' | '+' | '-'; text: string }> = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK =
      k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      steps.push({ op: ' ', text: a[x - 1]! });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) steps.push({ op: '+', text: b[y - 1]! });
      else steps.push({ op: '-', text: a[x - 1]! });
    }
    x = prevX;
    y = prevY;
  }
  return steps.reverse();
}

/** Groups a diff into hunks with `context` lines around each change; the rest folds. */
export function hunksOf(lines: DiffLine[], context = 3): DiffPart[] {
  const show = new Uint8Array(lines.length);
  lines.forEach((line, index) => {
    if (line.op === ' ') return;
    for (
      let k = Math.max(0, index - context);
      k <= Math.min(lines.length - 1, index + context);
      k++
    ) {
      show[k] = 1;
    }
  });
  const parts: DiffPart[] = [];
  let run: DiffLine[] = [];
  let folded = 0;
  lines.forEach((line, index) => {
    if (show[index] === 1) {
      if (folded > 0) parts.push({ fold: folded });
      folded = 0;
      run.push(line);
    } else {
      if (run.length > 0) parts.push({ lines: run });
      run = [];
      folded++;
    }
  });
  if (run.length > 0) parts.push({ lines: run });
  if (folded > 0) parts.push({ fold: folded });
  return parts;
}

/** Lines added and removed. */
export function diffStats(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of lines) {
    if (line.op === '+') added++;
    else if (line.op === '-') removed++;
  }
  return { added, removed };
}
