/**
 * A unified line diff for function code and other long strings: Myers' O(ND) algorithm over lines,
 * then hunks with a little context, long unchanged stretches folded. Lines are split where
 * JavaScript ends a line and shown with hidden characters escaped (DESIGN 5.2, Text display); in a
 * changed line, the characters that changed are marked.
 */
import { splitLines, visibleLine } from '../../../protocol/text.js';
import { changedParts, commonEnds, type Segment } from './inline-diff.js';

/** One line of a diff: kept, added or removed, with its line numbers. */
export type DiffLine = {
  op: ' ' | '+' | '-';
  /** The line as shown (hidden characters escaped). */
  text: string;
  /** 1-based line number in the old text (kept and removed lines). */
  old?: number;
  /** 1-based line number in the new text (kept and added lines). */
  new?: number;
  /** For a removed or added line paired with its other side: the text cut where it changed. */
  parts?: Segment[];
};

/** A run of lines to show, or a fold of `count` unchanged lines. */
export type DiffPart = { lines: DiffLine[] } | { fold: number };

/**
 * The lines of a string as shown: split at every line terminator JavaScript recognises, each
 * made visible (a terminator other than LF shows at the end of its line). A trailing newline makes
 * an empty last line, so that adding or removing one is a visible difference.
 */
export function linesOf(text: string): string[] {
  return splitLines(text).map(visibleLine);
}

/** The edit script turning `a` into `b`, line by line (shortest, Myers 1986). */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = linesOf(before);
  const b = linesOf(after);
  // Trim the common head and tail: most edits to code are local, and it keeps D small.
  const { head, tail } = commonEnds(a, b);
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
  return markChangedLines(out);
}

/**
 * Pairs the removed and added lines of each run of changes (the first removed with the first added,
 * and so on) and marks the characters that differ between the two, so a one-character edit in a
 * long line shows where it is.
 */
function markChangedLines(lines: DiffLine[]): DiffLine[] {
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.op === ' ') {
      i++;
      continue;
    }
    const removed: DiffLine[] = [];
    const added: DiffLine[] = [];
    for (; i < lines.length && lines[i]!.op !== ' '; i++) {
      (lines[i]!.op === '-' ? removed : added).push(lines[i]!);
    }
    for (let k = 0; k < Math.min(removed.length, added.length); k++) {
      const [before, after] = changedParts(removed[k]!.text, added[k]!.text);
      removed[k]!.parts = before;
      added[k]!.parts = after;
    }
  }
  return lines;
}

/** Every line of `text` as added (a value that is new) or removed (a value that is gone). */
export function oneSidedLines(text: string, op: '+' | '-'): DiffLine[] {
  return linesOf(text).map((line, i) =>
    op === '+' ? { op, text: line, new: i + 1 } : { op, text: line, old: i + 1 },
  );
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
