/**
 * Random mutations at any JSON path of a node, for the "nothing hidden" property test: values of
 * every JSON type, nested arrays, numbers where strings were, long strings, strings with each
 * character class of the text display rule (DESIGN 5.2), reserved and odd key names, keys removed,
 * items appended. Each says where it acted and what it put there, so the test can look for it on
 * the cards. Seeded: the same seed gives the same mutations.
 */
import type { FlowNode } from '../../protocol/index.js';

/** One step of a path: an object key or an array index. */
export type Key = string | number;

/** A JSON path in a node and the value there. */
export type JsonPath = { keys: Key[]; value: unknown };

/** A character of each class the text display rule names, and a few it must leave alone. */
export const CHAR_CLASSES: ReadonlyArray<{ name: string; char: string; hidden: boolean }> = [
  { name: 'line separator', char: '\u2028', hidden: true },
  { name: 'paragraph separator', char: '\u2029', hidden: true },
  { name: 'bare CR', char: '\r', hidden: true },
  { name: 'CR LF', char: '\r\n', hidden: true },
  { name: 'LF', char: '\n', hidden: false },
  { name: 'tab', char: '\t', hidden: false },
  { name: 'right-to-left override', char: '\u202E', hidden: true },
  { name: 'left-to-right embedding', char: '\u202A', hidden: true },
  { name: 'pop directional formatting', char: '\u202C', hidden: true },
  { name: 'right-to-left isolate', char: '\u2067', hidden: true },
  { name: 'pop directional isolate', char: '\u2069', hidden: true },
  { name: 'zero-width space', char: '\u200B', hidden: true },
  { name: 'zero-width non-joiner', char: '\u200C', hidden: true },
  { name: 'zero-width joiner', char: '\u200D', hidden: true },
  { name: 'left-to-right mark', char: '\u200E', hidden: true },
  { name: 'right-to-left mark', char: '\u200F', hidden: true },
  { name: 'word joiner', char: '\u2060', hidden: true },
  { name: 'invisible plus', char: '\u2064', hidden: true },
  { name: 'byte order mark', char: '\uFEFF', hidden: true },
  { name: 'soft hyphen', char: '\u00AD', hidden: true },
  { name: 'Arabic letter mark (Cf)', char: '\u061C', hidden: true },
  { name: 'Mongolian vowel separator (Cf)', char: '\u180E', hidden: true },
  { name: 'tag letter (Cf, astral)', char: '\u{E0041}', hidden: true },
  { name: 'NUL', char: '\u0000', hidden: true },
  { name: 'backspace', char: '\u0008', hidden: true },
  { name: 'escape', char: '\u001B', hidden: true },
  { name: 'delete', char: '\u007F', hidden: true },
  { name: 'C1 control', char: '\u0085', hidden: true },
  { name: 'lone surrogate', char: '\uD800', hidden: true },
  { name: 'Hangul filler', char: '\u3164', hidden: true },
  { name: 'escape bracket', char: '\u27E8', hidden: false },
  { name: 'space', char: ' ', hidden: false },
  { name: 'no-break space', char: '\u00A0', hidden: false },
  { name: 'Hebrew letter', char: '\u05D0', hidden: false },
  { name: 'emoji', char: '\u{1F600}', hidden: false },
  { name: 'combining accent', char: '\u0301', hidden: false },
];

/** Key names a mutation adds: ordinary, reserved, numeric-looking, empty, with hidden characters. */
const KEY_NAMES = [
  'extra',
  'func',
  'wires',
  'd',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '0',
  '',
  'with space',
  'na\u200Bme',
  '\u202Eevil',
  'ключ',
  'a.b',
  '["x"]',
];

/** The kinds of mutation. */
export const KINDS = [
  'replace',
  'char',
  'string-end',
  'trailing-whitespace',
  'number-for-string',
  'non-finite',
  'insert-key',
  'delete',
  'append',
  'long-string',
] as const;
export type Kind = (typeof KINDS)[number];

/** What a mutation did: where, and what is there now (or what was removed). */
export type JsonMutation = {
  kind: Kind;
  keys: Key[];
  /** For `delete`: the value removed. */
  removed?: unknown;
  /** For the others: the value now at `keys`. */
  value?: unknown;
  /** The character class used, for `char`. */
  charClass?: string;
};

function isObj(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every path in a node (its own object included, as `[]`), but not under `credentials`: the gate takes those out of the flows before anything is proposed. */
export function pathsOf(node: FlowNode): JsonPath[] {
  const out: JsonPath[] = [];
  const walk = (value: unknown, keys: Key[]): void => {
    out.push({ keys, value });
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...keys, i]));
    else if (isObj(value)) {
      for (const key of Object.keys(value)) {
        if (keys.length === 0 && key === 'credentials') continue;
        walk(value[key], [...keys, key]);
      }
    }
  };
  walk(node, []);
  return out;
}

/** How many paths `pathsOf` gives, without building them. */
export function pathCount(value: unknown, top = true): number {
  let n = 1;
  if (Array.isArray(value)) for (const item of value) n += pathCount(item, false);
  else if (isObj(value)) {
    for (const key of Object.keys(value)) {
      if (!(top && key === 'credentials')) n += pathCount(value[key], false);
    }
  }
  return n;
}

type Random = () => number;

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)]!;
}

function int(random: Random, max: number): number {
  return Math.floor(random() * max);
}

/** A string of one of the classes: plain words, a character of a class, or lines. */
function randomString(random: Random): string {
  const words = ['msg.payload', 'return msg;', 'node.warn(1)', 'ok', 'x', '', '123', 'true'];
  switch (int(random, 4)) {
    case 0:
      return pick(words, random);
    case 1:
      return `${pick(words, random)}${pick(CHAR_CLASSES, random).char}${pick(words, random)}`;
    case 2:
      return Array.from({ length: 1 + int(random, 4) }, () => pick(words, random)).join(
        pick(['\n', '\r\n', '\u2028', '\r'], random),
      );
    default:
      return `${pick(words, random)}${pick(CHAR_CLASSES, random).char}`;
  }
}

/** A JSON value of a random type, nested arrays and objects (with odd keys) included. */
export function randomValue(random: Random, depth = 0): unknown {
  const kind = int(random, depth > 1 ? 6 : 9);
  switch (kind) {
    case 0:
      return randomString(random);
    case 1:
      return pick([0, 1, -1, 42, 3.5, -0.25, 1e21, 2 ** 53, 123], random);
    case 2:
      return random() < 0.5;
    case 3:
      return null;
    case 4:
      return `${randomString(random)}`;
    case 5:
      return pick(['', '0', 'false', 'null'], random);
    case 6:
      return Array.from({ length: int(random, 3) }, () => randomValue(random, depth + 1));
    case 7:
      return [[randomValue(random, depth + 2)], [[randomString(random)]]];
    default: {
      const out: Record<string, unknown> = {};
      for (let i = int(random, 3); i >= 0; i--) {
        setKey(out, pick(KEY_NAMES, random), randomValue(random, depth + 1));
      }
      return out;
    }
  }
}

/** A long string: up to 20,000 characters, one line or many, sometimes with odd line ends. */
function longString(random: Random): string {
  const length = pick([72, 200, 1_000, 20_000], random);
  const line = 'const value = msg.payload.reading * 1.8 + 32; ';
  let text = '';
  while (text.length < length) {
    text += line;
    if (random() < 0.3) text += pick(['\n', '\r\n', '\u2028', '\u2029', '\r'], random);
  }
  return text.slice(0, length - 1) + pick(['x', '\u202E', ' ', ';'], random);
}

/** Sets an own property, even one named `__proto__`. */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function parentOf(node: unknown, keys: Key[]): unknown {
  let at = node;
  for (const key of keys.slice(0, -1)) at = (at as Record<Key, unknown>)[key];
  return at;
}

function put(node: FlowNode, keys: Key[], value: unknown): void {
  const parent = parentOf(node, keys);
  const last = keys[keys.length - 1]!;
  if (Array.isArray(parent)) parent[last as number] = value;
  else setKey(parent as Record<string, unknown>, String(last), value);
}

/**
 * A copy of `node` with one mutation of `kind` at `path`, or undefined when the kind does not fit
 * the value there (a string edit of a number, a key inserted into an array...).
 */
export function mutateAt(
  node: FlowNode,
  path: JsonPath,
  kind: Kind,
  random: Random,
): { node: FlowNode; mutation: JsonMutation } | undefined {
  const copy = structuredClone(node);
  const { keys, value } = path;
  const root = keys.length === 0;
  const done = (mutation: JsonMutation) => ({ node: copy, mutation });
  switch (kind) {
    case 'replace': {
      if (root) return undefined;
      let next = randomValue(random);
      // A container becomes a value of another kind (an array an object, say), never its own kind.
      if (Array.isArray(value) && Array.isArray(next)) next = { replaced: next };
      if (isObj(value) && isObj(next)) next = [next];
      put(copy, keys, next);
      return done({ kind, keys, value: next });
    }
    case 'char': {
      if (root || (typeof value !== 'string' && (Array.isArray(value) || isObj(value)))) {
        return undefined;
      }
      const text = typeof value === 'string' ? value : String(value);
      const cls = pick(CHAR_CLASSES, random);
      const chars = Array.from(text);
      const at = int(random, chars.length + 1);
      const next = [...chars.slice(0, at), cls.char, ...chars.slice(at)].join('');
      put(copy, keys, next);
      return done({ kind, keys, value: next, charClass: cls.name });
    }
    case 'string-end': {
      if (typeof value !== 'string' || value === '') return undefined;
      const next = `${value.slice(0, -1)}${value.endsWith('x') ? 'y' : 'x'}`;
      put(copy, keys, next);
      return done({ kind, keys, value: next });
    }
    case 'trailing-whitespace': {
      if (typeof value !== 'string') return undefined;
      const next = `${value}${pick([' ', '\t', '  ', '\n'], random)}`;
      put(copy, keys, next);
      return done({ kind, keys, value: next });
    }
    case 'number-for-string': {
      if (typeof value !== 'string') return undefined;
      const next = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : int(random, 1000);
      put(copy, keys, next);
      return done({ kind, keys, value: next });
    }
    case 'non-finite': {
      if (root || (typeof value !== 'number' && random() < 0.7)) return undefined;
      // What JSON.parse makes of 1e400 and -1e400.
      const next = random() < 0.5 ? Infinity : -Infinity;
      put(copy, keys, next);
      return done({ kind, keys, value: next });
    }
    case 'insert-key': {
      if (!isObj(value)) return undefined;
      const target = root
        ? (copy as Record<string, unknown>)
        : (parentOf(copy, [...keys, '']) as Record<string, unknown>);
      const key = pick(KEY_NAMES, random);
      if (Object.prototype.hasOwnProperty.call(target, key)) return undefined;
      const next = randomValue(random);
      setKey(target, key, next);
      return done({ kind, keys: [...keys, key], value: next });
    }
    case 'delete': {
      if (root) return undefined;
      const parent = parentOf(copy, keys);
      const last = keys[keys.length - 1]!;
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete (parent as Record<string, unknown>)[last];
      return done({ kind, keys, removed: value });
    }
    case 'append': {
      if (!Array.isArray(value)) return undefined;
      const target = root ? undefined : (parentOf(copy, [...keys, 0]) as unknown[]);
      if (target === undefined) return undefined;
      const next = random() < 0.5 ? randomString(random) : randomValue(random);
      target.push(next);
      return done({ kind, keys: [...keys, target.length - 1], value: next });
    }
    case 'long-string': {
      if (root) return undefined;
      const next = longString(random);
      put(copy, keys, next);
      return done({ kind, keys, value: next });
    }
  }
}
