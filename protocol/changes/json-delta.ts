/**
 * jsondiffpatch deltas (5.2 `delta`) that lose no key. jsondiffpatch builds its deltas in plain
 * objects and reads properties with `obj[key]`: a key `__proto__` would vanish from a delta and a key
 * `constructor` would read `Object.prototype.constructor`. So every object key is prefixed before
 * jsondiffpatch sees it, and the delta is rebuilt without the prefix in null-prototype objects, where
 * every key is only a key; values without such keys (nearly all) are diffed as they are. The gate
 * refuses such keys (canonical shape); this keeps the change model honest even for input that never
 * met the gate.
 */
import { create, type Delta } from 'jsondiffpatch';

/** The prefix of every object key jsondiffpatch sees. */
const P = 'k';

type Obj = Record<string, unknown>;

/** A differ whose arrays of objects with ids (a group's members, say) match by id, not by position. */
function differKeyedBy(idKey: string) {
  return create({
    objectHash: (item: object | null, index?: number) => {
      // jsondiffpatch asks for `null` items too (typeof null is 'object').
      const id = item === null ? undefined : (item as Record<string, unknown>)[idKey];
      return typeof id === 'string' ? id : `$$index:${index ?? 0}`;
    },
  });
}

/** For values with prefixed keys. */
const differ = differKeyedBy(`${P}id`);
/** For values none of whose keys JavaScript reads specially: nearly every node. */
const plainDiffer = differKeyedBy('id');

/** True when some key in `value` is `__proto__` or a name objects inherit (`constructor`...). */
function hasSpecialKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasSpecialKey(item)) return true;
    return false;
  }
  for (const key of Object.keys(value)) {
    if (key in Object.prototype || hasSpecialKey((value as Obj)[key])) return true;
  }
  return false;
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy of a JSON value with every object key prefixed. */
function prefixKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prefixKeys);
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const key of Object.keys(value)) out[P + key] = prefixKeys(value[key]);
  return out;
}

/** The inverse of `prefixKeys`, into null-prototype objects. */
function unprefixKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unprefixKeys);
  if (!isObj(value)) return value;
  const out = Object.create(null) as Obj;
  for (const key of Object.keys(value)) out[key.slice(P.length)] = unprefixKeys(value[key]);
  return out;
}

/** Maps the keys and the values of a delta; `key` applies to object deltas, not array deltas. */
function mapDelta(
  delta: unknown,
  key: (k: string) => string,
  value: (v: unknown) => unknown,
  into: () => Obj,
): unknown {
  if (Array.isArray(delta)) {
    // Leaves: [new], [old, new], [old, 0, 0] removed, ['', to, 3] moved (no values to map).
    if (delta.length === 3 && delta[2] === 3) return [...delta];
    if (delta.length === 3 && delta[2] === 0) return [value(delta[0]), 0, 0];
    return delta.map(value);
  }
  if (!isObj(delta)) return delta;
  const out = into();
  const array = delta._t === 'a';
  for (const k of Object.keys(delta)) {
    if (array && k === '_t') out._t = 'a';
    else out[array ? k : key(k)] = mapDelta(delta[k], key, value, into);
  }
  return out;
}

/** The jsondiffpatch delta `before` → `after`, or undefined when they are equal. */
export function diffValues(before: unknown, after: unknown): unknown {
  if (!hasSpecialKey(before) && !hasSpecialKey(after)) return plainDiffer.diff(before, after);
  const delta = differ.diff(prefixKeys(before), prefixKeys(after));
  if (delta === undefined) return undefined;
  return mapDelta(
    delta,
    (k) => k.slice(P.length),
    unprefixKeys,
    () => Object.create(null) as Obj,
  );
}

/** `before` with `delta` applied (a new value; `before` is not changed). */
export function patchValue(before: unknown, delta: unknown): unknown {
  const prefixed = mapDelta(
    delta,
    (k) => P + k,
    prefixKeys,
    () => ({}),
  );
  return unprefixKeys(differ.patch(prefixKeys(before), prefixed as Delta));
}
