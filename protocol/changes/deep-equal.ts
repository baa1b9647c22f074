const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Structural equality of JSON values; object key order does not matter. This runs once per node of
 * both snapshots, so it is written for speed: primitives never recurse, and objects whose keys come
 * in the same order (nearly all: Node-RED writes each type's keys in one order) are compared by
 * position, without a keyed lookup per property or an array for the second object.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // NaN never occurs in JSON; everything that is not an object was compared with ===.
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return sameItems(a, b);
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  // b's keys checked in order before any value is compared, so nothing below is read twice.
  // `for…in` lists own keys first, then inherited enumerable ones (JSON values have none): when the
  // last key is not b's own, or the order differs, the pair is compared the exact way.
  let count = 0;
  for (const key in b) {
    if (key !== keys[count]) return sameByKey(a, b, keys);
    count++;
  }
  if (count !== keys.length) return sameByKey(a, b, keys);
  if (count === 0) return true;
  if (!hasOwn.call(b, keys[count - 1])) return sameByKey(a, b, keys);
  // b's values read by the same `for…in` (by its own cache, no keyed lookup), a's from one array.
  const values = Object.values(a);
  let i = 0;
  for (const key in b) {
    const x = values[i++];
    const y = (b as Record<string, unknown>)[key];
    if (x !== y && (typeof x !== 'object' || !deepEqual(x, y))) return false;
  }
  return true;
}

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
