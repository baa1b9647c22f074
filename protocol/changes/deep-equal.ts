const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Structural equality of JSON values; object key order does not matter. This runs once per node of
 * both snapshots, so it is written for speed: primitives never recurse, and objects whose keys come
 * in the same order (nearly all: Node-RED writes each type's keys in one order, and `JSON.parse`
 * keeps it) are compared by position: both key lists, then both value lists, each read by one
 * builtin call instead of a keyed lookup per property.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // NaN never occurs in JSON; everything that is not an object was compared with ===.
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && sameItems(a, b);
  if (Array.isArray(b)) return false;
  // Own enumerable keys only, and each list's values in its keys' order.
  const keys = Object.keys(a);
  const otherKeys = Object.keys(b);
  if (keys.length !== otherKeys.length) return false;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] !== otherKeys[i]) return sameByKey(a, b, keys);
  }
  return sameItems(Object.values(a), Object.values(b));
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

/** The same own keys in another order: `keys` are a's, and b has as many. */
function sameByKey(a: object, b: object, keys: string[]): boolean {
  for (const key of keys) {
    // Own keys only: `b.__proto__` would otherwise answer with Object.prototype.
    if (!hasOwn.call(b, key)) return false;
    const x: unknown = (a as Record<string, unknown>)[key];
    const y: unknown = (b as Record<string, unknown>)[key];
    if (x !== y && (typeof x !== 'object' || !deepEqual(x, y))) return false;
  }
  return true;
}
