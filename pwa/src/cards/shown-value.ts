/**
 * A value as a card shows it (DESIGN 5.2, Text display): strings quoted on one line, or as lines
 * split where JavaScript splits them; other values as JSON. Every hidden character is written as a
 * visible escape, and two different values never show the same.
 */
import { isMultiline, visibleText } from '../../../protocol/text.js';
import { changedParts, type Segment } from './inline-diff.js';
import { linesOf } from './line-diff.js';

/** A value as shown: one line, or a block of lines; `parts` marks what changed in a pair. */
export type Shown = { block: boolean; text: string; parts?: Segment[]; blank?: true };

/** Strings at least this long, or of more than one line, are shown as a line diff / code block. */
export const LONG_STRING = 72;

/** True for a string that reads better as a block of lines. */
export function isLongString(value: unknown): value is string {
  return typeof value === 'string' && (value.length >= LONG_STRING || isMultiline(value));
}

/** Objects whose one-line JSON is longer than this are pretty-printed as a block. */
const LONG_JSON = 48;

/** A string in JSON as shown: quotes and backslashes escaped, LF and tab as `\n` and `\t`, hidden characters as visible escapes (never JSON's `\u0008`). */
function jsonString(text: string): string {
  return visibleText(
    `"${text.replace(/["\\]/g, '\\$&').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`,
  );
}

/** JSON text of a value as shown: like `JSON.stringify`, strings written by `jsonString`. */
export function jsonText(value: unknown, indent = '', pretty = false): string {
  if (typeof value === 'string') return jsonString(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const inner = pretty ? `${indent}  ` : '';
  const items = Array.isArray(value)
    ? value.map((item) => jsonText(item, inner, pretty))
    : Object.keys(value).map(
        (key) =>
          `${jsonString(key)}:${pretty ? ' ' : ''}${jsonText((value as Record<string, unknown>)[key], inner, pretty)}`,
      );
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (items.length === 0) return `${open}${close}`;
  if (!pretty) return `${open}${items.join(',')}${close}`;
  return `${open}\n${items.map((item) => `${inner}${item}`).join(',\n')}\n${indent}${close}`;
}

/** A value as shown (see above). `undefined`, a value that is not there, shows as `(none)`. */
export function shownValue(value: unknown): Shown {
  if (value === undefined) return { block: false, text: '(none)' };
  if (typeof value === 'string') {
    if (value === '') return { block: false, text: 'empty', blank: true };
    if (isLongString(value)) return { block: true, text: linesOf(value).join('\n') };
    return { block: false, text: `"${visibleText(value)}"` };
  }
  const compact = jsonText(value);
  if (typeof value === 'object' && value !== null && compact.length > LONG_JSON) {
    return { block: true, text: jsonText(value, '', true) };
  }
  return { block: false, text: compact };
}

/** The two sides of a changed value; when both fit on a line, the changed characters are marked. */
export function shownPair(before: unknown, after: unknown): [Shown, Shown] {
  const old = shownValue(before);
  const now = shownValue(after);
  // Marks help inside text; a flag or null that changed is one whole word.
  const word = (v: unknown): boolean => typeof v === 'boolean' || v === null;
  if (old.block || now.block || old.blank || now.blank || word(before) || word(after)) {
    return [old, now];
  }
  const [a, b] = changedParts(old.text, now.text);
  return [
    { ...old, parts: a },
    { ...now, parts: b },
  ];
}
