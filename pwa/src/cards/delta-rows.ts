/**
 * The property rows of a card: one row per changed path of a jsondiffpatch delta, old and new values
 * side by side, long strings as a line diff; or, for an added or removed node, one row per property.
 * Values come from `before`/`after`, so the rows never depend on how the delta encodes text. Each row
 * keeps its path as keys too, for the completeness check: the rows, read as edits, must turn the old
 * node into the new one.
 */
import { visibleText } from '../../../protocol/text.js';
import { whitespaceOnlyValue } from './inline-diff.js';
import { lineDiff, oneSidedLines, type DiffLine } from './line-diff.js';
import { isLongString, shownPair, shownValue, type Shown } from './shown-value.js';

/** One step of a path: an object key, or an array index. */
export type PathKey = string | number;

/** One changed property path. */
export type PropertyRow = {
  /** The path as shown, `rules[1].v`. */
  path: string;
  keys: PathKey[];
  op: 'added' | 'removed' | 'changed' | 'moved';
  before?: unknown;
  after?: unknown;
  /** The old and new values as shown (none for a long string, shown by `lines`). */
  old?: Shown;
  new?: Shown;
  /** For long or multi-line strings: the line diff of before → after. */
  lines?: DiffLine[];
  /** For a moved array item: its new index. */
  to?: number;
  /** A plain remark, such as that only whitespace changed. */
  note?: string;
};

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(value: unknown, key: PathKey): unknown {
  if (Array.isArray(value)) return typeof key === 'number' ? value[key] : undefined;
  return isObj(value) && Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
}

/** A path as shown: `a.b[0]["odd key"]`, hidden characters escaped. */
export function pathText(keys: readonly PathKey[]): string {
  let path = '';
  for (const key of keys) {
    if (typeof key === 'number') path += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) path += path === '' ? key : `.${key}`;
    else
      path +=
        path === '' ? visibleText(JSON.stringify(key)) : `[${visibleText(JSON.stringify(key))}]`;
  }
  return path;
}

const WHITESPACE_NOTE =
  'Only whitespace changed: the marked characters are spaces, tabs or line breaks.';

function row(keys: PathKey[], fields: Omit<PropertyRow, 'path' | 'keys'>): PropertyRow {
  return { path: pathText(keys), keys, ...fields };
}

function changedRow(keys: PathKey[], before: unknown, after: unknown): PropertyRow {
  const note = whitespaceOnlyValue(before, after) ? { note: WHITESPACE_NOTE } : {};
  if (
    typeof before === 'string' &&
    typeof after === 'string' &&
    (isLongString(before) || isLongString(after))
  ) {
    return row(keys, { op: 'changed', before, after, lines: lineDiff(before, after), ...note });
  }
  const [old, now] = shownPair(before, after);
  return row(keys, { op: 'changed', before, after, old, new: now, ...note });
}

/** A row of one side only: long strings as a line diff against nothing, the rest as a value. */
function oneSidedRow(keys: PathKey[], op: 'added' | 'removed', value: unknown): PropertyRow {
  const side = op === 'added' ? { after: value } : { before: value };
  if (isLongString(value)) {
    return row(keys, {
      op,
      ...side,
      lines: oneSidedLines(value, op === 'added' ? '+' : '-'),
    });
  }
  return row(keys, { op, ...side, [op === 'added' ? 'new' : 'old']: shownValue(value) });
}

/** Rows for the delta of `before` → `after`; `[]` when there is no delta. */
export function deltaRows(delta: unknown, before: unknown, after: unknown): PropertyRow[] {
  const rows: PropertyRow[] = [];
  walk(delta, before, after, [], rows);
  return rows;
}

function walk(
  delta: unknown,
  before: unknown,
  after: unknown,
  keys: PathKey[],
  rows: PropertyRow[],
): void {
  if (Array.isArray(delta)) {
    leaf(delta, before, after, keys, rows);
    return;
  }
  if (!isObj(delta)) return;
  if (delta._t === 'a') {
    walkArray(delta, before, after, keys, rows);
    return;
  }
  for (const key of Object.keys(delta)) {
    walk(delta[key], child(before, key), child(after, key), [...keys, key], rows);
  }
}

function leaf(
  delta: unknown[],
  before: unknown,
  after: unknown,
  keys: PathKey[],
  rows: PropertyRow[],
): void {
  if (delta.length === 1) rows.push(oneSidedRow(keys, 'added', after ?? delta[0]));
  else if (delta.length === 2) rows.push(changedRow(keys, before ?? delta[0], after ?? delta[1]));
  else if (delta[2] === 0) rows.push(oneSidedRow(keys, 'removed', before ?? delta[0]));
  else if (delta[2] === 2) rows.push(changedRow(keys, before, after));
  // Moves (`[_, to, 3]`) are handled by the array walker, which knows the index.
}

function walkArray(
  delta: Obj,
  before: unknown,
  after: unknown,
  keys: PathKey[],
  rows: PropertyRow[],
): void {
  const removed: PropertyRow[] = [];
  const rest: PropertyRow[] = [];
  for (const key of Object.keys(delta)) {
    if (key === '_t') continue;
    const value = delta[key];
    if (key.startsWith('_')) {
      const from = Number(key.slice(1));
      if (Array.isArray(value) && value[2] === 3) {
        rest.push(
          row([...keys, from], { op: 'moved', before: child(before, from), to: Number(value[1]) }),
        );
      } else if (Array.isArray(value)) {
        removed.push(oneSidedRow([...keys, from], 'removed', child(before, from) ?? value[0]));
      }
    } else {
      const at = Number(key);
      if (Array.isArray(value) && value.length === 1) {
        rest.push(oneSidedRow([...keys, at], 'added', child(after, at) ?? value[0]));
      } else {
        // A nested change of the item now at `at`; its old self sits at the same index unless moved.
        walk(value, findOld(delta, at, before), child(after, at), [...keys, at], rest);
      }
    }
  }
  // One item replaced by another (an id edited inside a list of objects, say): one row, old → new.
  if (removed.length === 1 && rest.length === 1) {
    const [gone, come] = [removed[0]!, rest[0]!];
    if (come.op === 'added' && gone.keys.at(-1) === come.keys.at(-1)) {
      rows.push(changedRow(come.keys, gone.before, come.after));
      return;
    }
  }
  rows.push(...removed, ...rest);
}

/** The old item of a changed array element: follows a move recorded for it, else the same index. */
function findOld(delta: Obj, at: number, before: unknown): unknown {
  for (const key of Object.keys(delta)) {
    const value = delta[key];
    if (
      key.startsWith('_') &&
      key !== '_t' &&
      Array.isArray(value) &&
      value[2] === 3 &&
      value[1] === at
    ) {
      return child(before, Number(key.slice(1)));
    }
  }
  return child(before, at);
}

/**
 * Rows for every property of an added or removed node, in its own order, minus what the header
 * shows: the type, and the flow (`z`) a node sits in.
 */
export function propertyRows(
  props: Record<string, unknown> | undefined,
  op: 'added' | 'removed',
): PropertyRow[] {
  if (props === undefined) return [];
  return Object.keys(props)
    .filter(
      (key) => key !== 'type' && (key !== 'z' || typeof props.z !== 'string' || props.z === ''),
    )
    .map((key) => oneSidedRow([key], op, props[key]));
}
