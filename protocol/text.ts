/**
 * Text as a reviewer must see it (DESIGN 5.2, Text display): characters that do not show, or that
 * reorder the text around them, are written as visible escapes such as `⟨U+202E⟩`, and their
 * presence makes a change high risk. One rule for every string a review shows: code, names, labels,
 * keys, ids.
 */

/**
 * Hidden characters: controls other than tab and newline (CR included: a bare CR ends a line in
 * JavaScript, a CR before LF is shown too), format characters (category Cf: U+00AD, U+200B–U+200F,
 * U+202A–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF and the rest), lone surrogates, the line and
 * paragraph separators U+2028 and U+2029, and the Hangul fillers, which JavaScript accepts in
 * identifiers and which draw as nothing.
 */
const HIDDEN_SOURCE = String.raw`(?![\t\n])[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029\u115F\u1160\u3164\uFFA0]`;
const HIDDEN = new RegExp(HIDDEN_SOURCE, 'u');

/** The opening bracket of an escape: escaped itself, so that no text can pass for an escape. */
const BRACKET = '\u27E8';

const ESCAPED = new RegExp(`${HIDDEN_SOURCE}|${BRACKET}`, 'gu');

/** The visible escape of one character: `⟨U+202E⟩`. */
export function escapeOf(char: string): string {
  const hex = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `${BRACKET}U+${hex}\u27E9`;
}

/**
 * `text` with every hidden character (and the bracket escapes start with) written as its escape;
 * tabs and newlines stay. Two different texts never show the same.
 */
export function visibleText(text: string): string {
  ESCAPED.lastIndex = 0;
  return ESCAPED.test(text) ? text.replace(ESCAPED, escapeOf) : text;
}

/** Printable ASCII, tab and LF: no hidden character can be there (checked first, it is cheap). */
const PLAIN = /^[\t\n\x20-\x7E]*$/;

/** True when `text` holds a hidden character. */
export function hasHiddenText(text: string): boolean {
  return !PLAIN.test(text) && HIDDEN.test(text);
}

/** True when any string in `value` (object keys included, at any depth) holds a hidden character. */
export function hasHidden(value: unknown): boolean {
  if (typeof value === 'string') return hasHiddenText(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasHidden(item)) return true;
    return false;
  }
  for (const key of Object.keys(value)) {
    if (hasHiddenText(key) || hasHidden((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** The line terminators JavaScript recognises: LF, CR LF, CR, U+2028, U+2029. */
const TERMINATOR = /\r\n|[\n\r\u2028\u2029]/g;

/** One line of a text and the terminator that ended it (`''` for the last line). */
export type TextLine = { text: string; end: string };

/**
 * The lines of `text` as JavaScript reads them: split at every line terminator. A text that ends
 * with a terminator has an empty last line, so that a trailing newline is a visible difference.
 */
export function splitLines(text: string): TextLine[] {
  const lines: TextLine[] = [];
  let start = 0;
  TERMINATOR.lastIndex = 0;
  for (let m = TERMINATOR.exec(text); m !== null; m = TERMINATOR.exec(text)) {
    lines.push({ text: text.slice(start, m.index), end: m[0] });
    start = m.index + m[0].length;
  }
  lines.push({ text: text.slice(start), end: '' });
  return lines;
}

/** True when `text` spans more than one line as JavaScript reads it. */
export function isMultiline(text: string): boolean {
  TERMINATOR.lastIndex = 0;
  return TERMINATOR.test(text);
}

/**
 * A line as shown: its text made visible, and a terminator other than a plain LF written at its end
 * (`⟨U+2028⟩`, `⟨U+000D⟩`), so that a reader sees where JavaScript ends the line and how.
 */
export function visibleLine(line: TextLine): string {
  const end = line.end === '' || line.end === '\n' ? '' : visibleText(line.end.replace('\n', ''));
  return visibleText(line.text) + end;
}
