const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Structural equality of JSON values; object key order does not matter. This runs once per node of
 * both snapshots, so it is written for speed: primitives never recurse, and objects whose keys come
 * in the same order (nearly all: Node-RED writes each type's keys in one order, and `JSON.parse`
 * keeps it) are compared by position: the keys, then both value lists, each list read by one
 * builtin call instead of a keyed lookup per property.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // NaN never occurs in JSON; everything that is not an object was compared with ===.
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && sameItems(a, b);
  if (Array.isArray(b)) return false;
  // a's own keys against b's keys as `for…in` lists them (no array): own keys first, in order,
  // then inherited enumerable ones, which JSON values have none of.
  const keys = Object.keys(a);
  let count = 0;
  for (const key in b) {
    if (key !== keys[count]) return sameByKey(a, b, keys);
    count++;
  }
  if (count !== keys.length) return sameByKey(a, b, keys);
  // Own values only, in their keys' order: fewer on b's side means one of the keys `for…in` listed
  // was inherited, and the exact way answers.
  const values = Object.values(a);
  const otherValues = Object.values(b);
  if (otherValues.length !== values.length) return sameByKey(a, b, keys);
  return sameItems(values, otherValues);
}

/** Same length; each pair of items equal. */
function sameItems(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && (typeof x !== 'object' || !deepEqual(x, y))) return false;
  }
  return true;
}

/** Own keys in any order: `keys` are a's. */
function sameByKey(a: object, b: object, keys: string[]): boolean {
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    // Own keys only: `b.__proto__` would otherwise answer with Object.prototype.
    if (!hasOwn.call(b, key)) return false;
    const x: unknown = (a as Record<string, unknown>)[key];
    const y: unknown = (b as Record<string, unknown>)[key];
    if (x !== y && (typeof x !== 'object' || !deepEqual(x, y))) return false;
  }
  return true;
}
