/**
 * A unified line diff for function code and other long strings: jsdiff's Myers diff over lines,
 * then hunks with a little context, long unchanged stretches folded. Lines are split where
 * JavaScript ends a line and shown with hidden characters escaped (DESIGN 5.2, Text display); in a
 * changed line, the tokens that changed are marked, down to the characters when one token replaced
 * another (`toLocaleTimeString` → `toTimeString` marks `Locale`).
 */
import { diffArrays } from 'diff';
import { splitLines, visibleLine } from '../../../protocol/text.js';
import { tokensOf } from './code-line.js';
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
 * an empty last line, so that adding or removing one is a visible difference. An empty string has
 * no lines: code added where there was none is all added, with no empty line taken away.
 */
export function linesOf(text: string): string[] {
  return text === '' ? [] : splitLines(text).map(visibleLine);
}

/** Edits beyond which a diff is a rewrite: every old line removed, every new one added. */
const MAX_EDITS = 4000;

/** The edit script turning `a` into `b`, line by line. */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = linesOf(before);
  const b = linesOf(after);
  // Trim the common head and tail: most edits to code are local, and it keeps the search small.
  const { head, tail } = commonEnds(a, b);
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const middle = diffArrays(midA, midB, { maxEditLength: MAX_EDITS }) ?? [
    { value: midA, removed: true, added: false, count: midA.length },
    { value: midB, removed: false, added: true, count: midB.length },
  ];
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  const keep = (text: string): void => {
    out.push({ op: ' ', text, old: ++i, new: ++j });
  };
  for (let k = 0; k < head; k++) keep(a[k]!);
  for (const step of middle) {
    for (const text of step.value) {
      if (step.removed) out.push({ op: '-', text, old: ++i });
      else if (step.added) out.push({ op: '+', text, new: ++j });
      else keep(text);
    }
  }
  for (let k = a.length - tail; k < a.length; k++) keep(a[k]!);
  return markChangedLines(out);
}

/** Joins neighbouring segments of the same kind. */
function merged(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    // An empty mark stands where the other side inserted text: a long line folds around it.
    if (s.text === '' && !s.mark) continue;
    const last = out.at(-1);
    if (last !== undefined && !!last.mark === !!s.mark) last.text += s.text;
    else out.push(s.mark ? { text: s.text, mark: true } : { text: s.text });
  }
  return out;
}

/**
 * `parts` with an empty mark where the other side inserted text, when nothing of its own is marked:
 * the place a long line folds around.
 */
function pointed(parts: Segment[], other: Segment[]): Segment[] {
  if (parts.some((p) => p.mark) || !other.some((p) => p.mark)) return parts;
  const text = parts.map((p) => p.text).join('');
  const at = other[0]?.mark ? 0 : (other[0]?.text.length ?? 0);
  return [{ text: text.slice(0, at) }, { text: '', mark: true }, { text: text.slice(at) }];
}

/**
 * What changed between two shown lines, token by token: kept tokens unmarked, the others marked;
 * where one token replaced one token, only the characters that differ within it.
 */
export function tokenParts(before: string, after: string): [Segment[], Segment[]] {
  const steps = diffArrays(
    tokensOf(before).map((t) => t.text),
    tokensOf(after).map((t) => t.text),
  );
  const a: Segment[] = [];
  const b: Segment[] = [];
  for (let k = 0; k < steps.length; k++) {
    const step = steps[k]!;
    const next = steps[k + 1];
    if (step.removed && next?.added && step.value.length === 1 && next.value.length === 1) {
      const [x, y] = changedParts(step.value[0]!, next.value[0]!);
      a.push(...pointed(x, y));
      b.push(...pointed(y, x));
      k++;
    } else if (step.removed) {
      a.push({ text: step.value.join(''), mark: true });
      b.push({ text: '', mark: true });
    } else if (step.added) {
      b.push({ text: step.value.join(''), mark: true });
      a.push({ text: '', mark: true });
    } else {
      a.push({ text: step.value.join('') });
      b.push({ text: step.value.join('') });
    }
  }
  return [merged(a), merged(b)];
}

/**
 * Pairs the removed and added lines of each run of changes (the first removed with the first added,
 * and so on) and marks what differs between the two, so a one-word edit in a long line shows where
 * it is.
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
      const [before, after] = tokenParts(removed[k]!.text, added[k]!.text);
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
