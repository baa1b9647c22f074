/**
 * Turns a jsondiffpatch delta into rows a small screen can show: one row per changed path, old and
 * new values side by side, long strings as a line diff. Values come from `before`/`after` so the
 * rows never depend on how the delta encodes text.
 */
import { lineDiff, type DiffLine } from './line-diff.js';

/** One changed property path. */
export type DeltaRow = {
  path: string;
  op: 'added' | 'removed' | 'changed' | 'moved';
  before?: unknown;
  after?: unknown;
  /** For long or multi-line strings: the line diff of before → after. */
  lines?: DiffLine[];
  /** For a moved array item: its new index. */
  to?: number;
};

/** Strings at least this long, or with a newline, are shown as a line diff / code block. */
export const LONG_STRING = 72;

/** True for a string that reads better as a block of lines. */
export function isLongString(value: unknown): value is string {
  return typeof value === 'string' && (value.includes('\n') || value.length >= LONG_STRING);
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(value: unknown, key: string | number): unknown {
  if (Array.isArray(value)) return typeof key === 'number' ? value[key] : undefined;
  return isObj(value) && Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const plain = /^[A-Za-z_$][\w$]*$/.test(key);
  if (path === '') return plain ? key : JSON.stringify(key);
  return plain ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function changedRow(path: string, before: unknown, after: unknown): DeltaRow {
  if (
    typeof before === 'string' &&
    typeof after === 'string' &&
    (isLongString(before) || isLongString(after))
  ) {
    return { path, op: 'changed', before, after, lines: lineDiff(before, after) };
  }
  return { path, op: 'changed', before, after };
}

/** Rows for the delta of `before` → `after`; `[]` when there is no delta. */
export function deltaRows(delta: unknown, before: unknown, after: unknown): DeltaRow[] {
  const rows: DeltaRow[] = [];
  walk(delta, before, after, '', rows);
  return rows;
}

function walk(
  delta: unknown,
  before: unknown,
  after: unknown,
  path: string,
  rows: DeltaRow[],
): void {
  if (Array.isArray(delta)) {
    leaf(delta, before, after, path, rows);
    return;
  }
  if (!isObj(delta)) return;
  if (delta._t === 'a') {
    walkArray(delta, before, after, path, rows);
    return;
  }
  for (const key of Object.keys(delta)) {
    walk(delta[key], child(before, key), child(after, key), join(path, key), rows);
  }
}

function leaf(
  delta: unknown[],
  before: unknown,
  after: unknown,
  path: string,
  rows: DeltaRow[],
): void {
  if (delta.length === 1) rows.push({ path, op: 'added', after: after ?? delta[0] });
  else if (delta.length === 2) rows.push(changedRow(path, before ?? delta[0], after ?? delta[1]));
  else if (delta[2] === 0) rows.push({ path, op: 'removed', before: before ?? delta[0] });
  else if (delta[2] === 2) rows.push(changedRow(path, before, after));
  // Moves (`[_, to, 3]`) are handled by the array walker, which knows the index.
}

function walkArray(
  delta: Obj,
  before: unknown,
  after: unknown,
  path: string,
  rows: DeltaRow[],
): void {
  const removed: DeltaRow[] = [];
  const rest: DeltaRow[] = [];
  for (const key of Object.keys(delta)) {
    if (key === '_t') continue;
    const value = delta[key];
    if (key.startsWith('_')) {
      const from = Number(key.slice(1));
      if (Array.isArray(value) && value[2] === 3) {
        rest.push({
          path: join(path, from),
          op: 'moved',
          before: child(before, from),
          to: Number(value[1]),
        });
      } else if (Array.isArray(value)) {
        removed.push({
          path: join(path, from),
          op: 'removed',
          before: child(before, from) ?? value[0],
        });
      }
    } else {
      const at = Number(key);
      if (Array.isArray(value) && value.length === 1) {
        rest.push({ path: join(path, at), op: 'added', after: child(after, at) ?? value[0] });
      } else {
        // A nested change of the item now at `at`; its old self sits at the same index unless moved.
        walk(value, findOld(delta, at, before), child(after, at), join(path, at), rest);
      }
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

/** The properties of an added or removed node, in their own order, minus what the header shows. */
export function propertyRows(
  props: Record<string, unknown> | undefined,
): Array<{ key: string; value: unknown }> {
  if (props === undefined) return [];
  return Object.keys(props)
    .filter((key) => key !== 'type' && key !== 'z')
    .map((key) => ({ key, value: props[key] }));
}

/** A value as compact text: strings quoted, objects as one-line JSON. */
export function valueText(value: unknown): string {
  if (value === undefined) return '(none)';
  if (typeof value === 'string') return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** A value as a block of text: long strings as they are, objects pretty-printed. */
export function blockText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** True when a value is best shown as a block (code, long text, objects that do not fit a line). */
export function wantsBlock(value: unknown): boolean {
  if (isLongString(value)) return true;
  if (typeof value === 'object' && value !== null) return valueText(value).length > 48;
  return false;
}
