const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Structural equality of JSON values; object key order does not matter. This runs once per node of
 * both snapshots, so it is written for speed: primitives never recurse, and objects whose keys come
 * in the same order (nearly all: Node-RED writes each type's keys in one order) are compared by
 * position, without a keyed lookup per property.
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
  const otherKeys = Object.keys(b);
  const count = keys.length;
  if (count !== otherKeys.length) return false;
  for (let i = 0; i < count; i++) {
    if (keys[i] !== otherKeys[i]) {
      return sameByKey(a as Record<string, unknown>, b as Record<string, unknown>, keys);
    }
  }
  return sameItems(Object.values(a), Object.values(b));
}

function sameItems(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && (typeof x !== 'object' || !deepEqual(x, y))) return false;
  }
  return true;
}

function sameByKey(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  keys: string[],
): boolean {
  for (const key of keys) {
    // Own keys only: `b.__proto__` would otherwise answer with Object.prototype.
    if (!hasOwn.call(b, key)) return false;
    const x = a[key];
    const y = b[key];
    if (x !== y && (typeof x !== 'object' || !deepEqual(x, y))) return false;
  }
  return true;
}
