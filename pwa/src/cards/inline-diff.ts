/**
 * What changed inside one line or one short value: the common start and end are kept, the middle
 * is marked. Cuts fall between characters (code points), never inside a visible escape such as
 * `⟨U+202E⟩`.
 */

/** A piece of shown text; `mark` highlights characters that changed. */
export type Segment = { text: string; mark?: true };

/** Spans `[start, end)` (in code points) of the escapes in shown text. */
function escapeSpans(chars: string[]): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] !== '\u27E8') continue;
    const end = chars.indexOf('\u27E9', i);
    if (end < 0) break;
    spans.push([i, end + 1]);
    i = end;
  }
  return spans;
}

/** `at` moved out of any escape it falls inside: to the escape's start or end. */
function outside(at: number, spans: Array<[number, number]>, toward: 'start' | 'end'): number {
  for (const [start, end] of spans) {
    if (at > start && at < end) return toward === 'start' ? start : end;
  }
  return at;
}

function segments(chars: string[], from: number, to: number): Segment[] {
  const out: Segment[] = [];
  if (from > 0) out.push({ text: chars.slice(0, from).join('') });
  if (to > from) out.push({ text: chars.slice(from, to).join(''), mark: true });
  if (to < chars.length) out.push({ text: chars.slice(to).join('') });
  return out;
}

/** How many items two lists share at their start, and then at their end. */
export function commonEnds<T>(a: readonly T[], b: readonly T[]): { head: number; tail: number } {
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
  return { head, tail };
}

/** The two shown texts cut into kept and marked segments. */
export function changedParts(before: string, after: string): [Segment[], Segment[]] {
  const a = Array.from(before);
  const b = Array.from(after);
  let { head, tail } = commonEnds(a, b);
  const spansA = escapeSpans(a);
  const spansB = escapeSpans(b);
  head = Math.min(outside(head, spansA, 'start'), outside(head, spansB, 'start'));
  const endA = outside(a.length - tail, spansA, 'end');
  const endB = outside(b.length - tail, spansB, 'end');
  tail = Math.min(a.length - endA, b.length - endB);
  return [segments(a, head, a.length - tail), segments(b, head, b.length - tail)];
}

/** Whitespace as JavaScript reads it, minus U+FEFF (a hidden character, escaped where shown). */
const WHITESPACE = /[\t\n\v\f\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/gu;

/** True when two different texts differ only in whitespace. */
export function whitespaceOnly(before: string, after: string): boolean {
  return before !== after && before.replace(WHITESPACE, '') === after.replace(WHITESPACE, '');
}

/** `value` with the whitespace taken out of every string and key in it. */
function squeezed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(WHITESPACE, '');
  if (Array.isArray(value)) return value.map(squeezed);
  if (typeof value !== 'object' || value === null) return value;
  return Object.keys(value).map((key) => [
    key.replace(WHITESPACE, ''),
    squeezed((value as Record<string, unknown>)[key]),
  ]);
}

/** True when two different values (strings, or objects holding strings) differ only in whitespace. */
export function whitespaceOnlyValue(before: unknown, after: unknown): boolean {
  if (typeof before === 'string' && typeof after === 'string') return whitespaceOnly(before, after);
  return (
    JSON.stringify(before) !== JSON.stringify(after) &&
    JSON.stringify(squeezed(before)) === JSON.stringify(squeezed(after))
  );
}
