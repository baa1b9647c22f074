/**
 * The small guards every wire parser is written with. Each checks one value and throws a
 * `ValidationError` naming the field, so a parser reads as the list of its fields.
 */
import { ValidationError } from '../errors.js';
import { isSha256Hex } from '../hash.js';

/** A JSON object as a parser reads it: own fields only. */
export type Fields = Readonly<Record<string, unknown>>;

/** Keys that reach `Object.prototype` when copied carelessly; never a field of a wire object. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Longest text a field names in an error message. */
const NAME_IN_MESSAGE = 80;

function quoted(key: string): string {
  return JSON.stringify(key.slice(0, NAME_IN_MESSAGE));
}

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as an object of fields; refuses arrays, null and prototype keys (`__proto__`, ...). */
export function objectAt(value: unknown, name: string): Fields {
  if (!isObject(value)) throw new ValidationError(`${name} must be a JSON object`);
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(key)) throw new ValidationError(`${name} has the key ${quoted(key)}`);
  }
  return value;
}

/**
 * An arbitrary JSON value (change properties, audit data) with no `__proto__` key at any depth and
 * at most `maxDepth` levels of nesting. Walked without recursion.
 */
export function jsonAt(value: unknown, name: string, maxDepth = 64): unknown {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) throw new ValidationError(`${name} is nested too deeply`);
    // Only objects and arrays are walked further: a string or number has nothing below it.
    if (Array.isArray(v)) {
      for (const item of v)
        if (typeof item === 'object' && item !== null) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(v)) {
      if (key === '__proto__') throw new ValidationError(`${name} has the key "__proto__"`);
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push([item, depth + 1]);
    }
  }
  return value;
}

/** A string of at most `max` characters (and at least `min`). */
export function textAt(value: unknown, name: string, max: number, min = 0): string {
  if (typeof value !== 'string' || value.length > max || value.length < min) {
    throw new ValidationError(
      min > 0
        ? `${name} must be a string of ${min} to ${max} characters`
        : `${name} must be a string of at most ${max} characters`,
    );
  }
  return value;
}

/** True when `text` holds a control character (C0 or DEL). */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A person's, device's or instance's label: 1–100 characters once trimmed, no control characters. */
export function labelAt(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new ValidationError(`${name} must be a string`);
  const text = value.trim();
  if (text.length === 0 || text.length > 100 || hasControl(text)) {
    throw new ValidationError(`${name} must be 1 to 100 characters without control characters`);
  }
  return text;
}

/** A rev or digest: 64 lowercase hex digits. */
export function revAt(value: unknown, name: string): string {
  if (!isSha256Hex(value)) throw new ValidationError(`${name} must be 64 lowercase hex digits`);
  return value;
}

/** An identifier: 1 to `max` characters of base64url or hex. */
export function idAt(value: unknown, name: string, max = 64): string {
  if (typeof value !== 'string' || value.length > max || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new ValidationError(`${name} must be an id`);
  }
  return value;
}

/** One of `allowed`. */
export function oneOfAt<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(`${name} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** A whole number from `min` to `max`. */
export function integerAt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** `true` or `false`. */
export function booleanAt(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(`${name} must be true or false`);
  return value;
}

/** An ISO 8601 time as the server writes it (`Date.prototype.toISOString`). */
export function timeAt(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length > 40 || !Number.isFinite(Date.parse(value))) {
    throw new ValidationError(`${name} must be an ISO 8601 time`);
  }
  return value;
}

/** `null`, or what `parse` makes of the value. */
export function nullableAt<T>(
  value: unknown,
  name: string,
  parse: (v: unknown, name: string) => T,
): T | null {
  return value === null ? null : parse(value, name);
}

/** An array of at most `max` items, each checked by `parse` (named `name[i]`). */
export function listAt<T>(
  value: unknown,
  name: string,
  max: number,
  parse: (v: unknown, name: string) => T,
): T[] {
  if (!Array.isArray(value)) throw new ValidationError(`${name} must be an array`);
  if (value.length > max) throw new ValidationError(`${name} may hold at most ${max} items`);
  return value.map((item, i) => parse(item, `${name}[${i}]`));
}

/**
 * JSON text as a wire value: `ValidationError` when it is not JSON, has a `__proto__` key anywhere,
 * or nests deeper than `maxDepth`.
 */
export function parseJsonText(text: string, name = 'the body', maxDepth = 32): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError(`${name} is not JSON`);
  }
  return jsonAt(value, name, maxDepth);
}
