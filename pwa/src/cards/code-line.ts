/**
 * One line of code as a card lays it out at 360 px: cut into tokens so that it wraps between tokens,
 * never inside a string literal; the changed characters marked; and a very long line (a 20,000
 * character string) collapsed around what changed, the rest one tap away. Pure: `cs-line-diff`
 * draws it. Cuts fall between code points, never inside a visible escape such as `⟨U+202E⟩`.
 */
import type { Segment } from './inline-diff.js';

/** A token of a line: a string literal (kept on one line when it fits), or other code. */
export type Token = { text: string; str: boolean };

/**
 * Tokens of one shown line, JavaScript-ish: escapes, comments, string literals (unterminated ones
 * run to the end of the line), names, numbers, whitespace runs, and single punctuation.
 */
const TOKEN =
  /\u27E8U\+[0-9A-F]{4,6}\u27E9|\/\/.*|\/\*.*?(?:\*\/|$)|'(?:\\.|[^'\\])*(?:'|$)|"(?:\\.|[^"\\])*(?:"|$)|`(?:\\.|[^`\\])*(?:`|$)|[\p{L}\p{N}_$]+|\s+|[^]/gu;

/** The tokens of `text`, in order; their texts join to `text`. */
export function tokensOf(text: string): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    out.push({ text: t, str: t.length > 1 && /^['"`]/.test(t) });
  }
  return out;
}

/** Lines longer than this (in code points) are collapsed around what changed. */
export const LONG_LINE = 240;

/** Characters kept on each side of a change in a collapsed line, and at the start of an unchanged one. */
const CONTEXT = 60;
const HEAD = 160;

/** A piece of a laid-out line: text (marked or not), or a fold hiding `text` until tapped. */
export type Piece = Segment | { fold: string };

/** Code points of `text`, with each visible escape held as one unit so that no cut splits one. */
function units(text: string): string[] {
  return text.match(/\u27E8U\+[0-9A-F]{4,6}\u27E9|[^]/gu) ?? [];
}

function lengthOf(text: string): number {
  return units(text).length;
}

/** `text` cut at unit `at`. */
function cut(text: string, at: number): [string, string] {
  const u = units(text);
  return [u.slice(0, at).join(''), u.slice(at).join('')];
}

/**
 * The pieces of a line to show: all of it when it is short, else each marked run with `CONTEXT`
 * units around it and folds for the rest (an unmarked line keeps its first `HEAD` units).
 */
export function collapsed(parts: readonly Segment[]): Piece[] {
  const total = parts.reduce((n, p) => n + lengthOf(p.text), 0);
  if (total <= LONG_LINE) return [...parts];
  const marked = parts.some((p) => p.mark);
  const out: Piece[] = [];
  parts.forEach((part, i) => {
    const n = lengthOf(part.text);
    if (part.mark) {
      // A huge insertion still shows its start: the rest is one tap away.
      if (n <= LONG_LINE) out.push(part);
      else {
        const [head, rest] = cut(part.text, HEAD);
        out.push({ text: head, mark: true }, { fold: rest });
      }
      return;
    }
    const before = i > 0 && marked;
    const after = i < parts.length - 1 && marked;
    const keepStart = before ? CONTEXT : marked ? 0 : HEAD;
    const keepEnd = after ? CONTEXT : 0;
    if (n <= keepStart + keepEnd + 20) {
      out.push(part);
      return;
    }
    const u = units(part.text);
    // Cut at a space near the chosen place, so that words stay whole.
    const snap = (at: number, toward: -1 | 1): number => {
      for (let k = 0; k <= 12; k++) {
        const i = at + k * toward;
        if (i > 0 && i < u.length && u[i - 1] === ' ') return i;
      }
      return at;
    };
    const first = keepStart === 0 ? 0 : snap(keepStart, -1);
    const second = keepEnd === 0 ? n : snap(n - keepEnd, 1);
    const start = u.slice(0, first).join('');
    const middle = u.slice(first, second).join('');
    const end = u.slice(second).join('');
    if (start !== '') out.push({ text: start });
    out.push({ fold: middle });
    if (end !== '') out.push({ text: end });
  });
  return out;
}

/** A laid-out run: a token's pieces (a string literal stays whole when it fits), or a fold. */
export type Run = { str: boolean; pieces: Segment[]; breakAfter: boolean } | { fold: string };

/** Punctuation after which a line may wrap: between tokens, never inside one. */
const BREAK_AFTER = /^[.,;([{=+\-*/&|?:<>!]$/;

/**
 * The runs of a line: its pieces regrouped by token, so that a string literal's marked and unmarked
 * pieces sit in one unbreakable run, with a wrap allowed after punctuation.
 */
export function runsOf(pieces: readonly Piece[]): Run[] {
  const out: Run[] = [];
  let text: Segment[] = [];
  const flush = (): void => {
    if (text.length === 0) return;
    const whole = text.map((p) => p.text).join('');
    let seg = 0;
    let segAt = 0;
    for (const token of tokensOf(whole)) {
      const pieces: Segment[] = [];
      let need = token.text.length;
      while (need > 0 && seg < text.length) {
        const s = text[seg]!;
        const take = Math.min(need, s.text.length - segAt);
        const slice = s.text.slice(segAt, segAt + take);
        if (take > 0) pieces.push(s.mark ? { text: slice, mark: true } : { text: slice });
        need -= take;
        segAt += take;
        if (segAt === s.text.length) {
          seg++;
          segAt = 0;
        }
      }
      out.push({ str: token.str, pieces, breakAfter: BREAK_AFTER.test(token.text) });
    }
    text = [];
  };
  for (const piece of pieces) {
    if ('fold' in piece) {
      flush();
      out.push(piece);
    } else text.push(piece);
  }
  flush();
  return out;
}
