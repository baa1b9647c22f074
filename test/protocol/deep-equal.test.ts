/**
 * `deepEqual` (protocol/changes/deep-equal.ts) compares objects by position when their keys come in
 * the same order, and by key otherwise. The answer must be the one of own keys in any order (the
 * definition of "differs" in 5.2, as canonical JSON reads it), whatever the prototypes hold, and an
 * object compared by key must not be compared twice below.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../protocol/canonical.js';
import { deepEqual } from '../../protocol/changes/deep-equal.js';

/** The reference: equal canonical JSON of own keys. */
function sameCanonical(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function expectAgrees(a: unknown, b: unknown, equal: boolean): void {
  expect(sameCanonical(a, b)).toBe(equal);
  expect(deepEqual(a, b)).toBe(equal);
  expect(deepEqual(b, a)).toBe(equal);
}

describe('deepEqual', () => {
  it('ignores key order at every depth and sees every value', () => {
    expectAgrees(
      { a: 1, b: { c: [1, { d: 'x', e: null }] } },
      { b: { c: [1, { e: null, d: 'x' }] }, a: 1 },
      true,
    );
    expectAgrees({ a: 1, b: { c: [1, { d: 'x' }] } }, { a: 1, b: { c: [1, { d: 'y' }] } }, false);
    expectAgrees({ a: 1 }, { a: 1, b: 2 }, false);
    expectAgrees({ a: 1, b: 2 }, { b: 2, c: 1 }, false);
    expectAgrees({}, {}, true);
    expectAgrees({}, [], false);
    expectAgrees({ a: '1' }, { a: 1 }, false);
  });

  it('reads an own __proto__ key as a key', () => {
    const a = JSON.parse('{"x":1,"__proto__":{"y":2}}') as object;
    expectAgrees(a, JSON.parse('{"x":1,"__proto__":{"y":2}}'), true);
    expectAgrees(a, JSON.parse('{"x":1,"__proto__":{"y":3}}'), false);
    expectAgrees(a, { x: 1 }, false);
    expectAgrees(JSON.parse('{"__proto__":null}'), {}, false);
  });

  it('counts own keys only, whatever the prototype lists', () => {
    const inherited = Object.create({ y: 2 }) as Record<string, unknown>;
    inherited.x = 1;
    expectAgrees(inherited, { x: 1 }, true);
    expectAgrees(inherited, { x: 1, y: 2 }, false);
    const other = Object.create({ y: 3 }) as Record<string, unknown>;
    other.x = 1;
    expectAgrees(inherited, other, true);
  });

  it('gives the own-key answer when Object.prototype has an enumerable key', () => {
    const proto = Object.prototype as Record<string, unknown>;
    Object.defineProperty(proto, 'polluted', {
      value: 2,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    try {
      expect(deepEqual({ a: 1, b: { c: 1 } }, { a: 1, b: { c: 1 } })).toBe(true);
      expect(deepEqual({ a: 1, polluted: 2 }, { a: 1 })).toBe(false);
      expect(deepEqual({ a: 1 }, { a: 1, polluted: 2 })).toBe(false);
      expect(deepEqual({ a: { polluted: 2 } }, { a: {} })).toBe(false);
    } finally {
      delete proto.polluted;
    }
    expect(Object.keys({})).toEqual([]);
  });

  it('compares deep objects with keys in another order at every level once, not once per path', () => {
    // The keys part ways after `child`: were a level compared again after finding that, 200
    // levels would take 2^200 comparisons.
    const build = (depth: number, flip: boolean): unknown => {
      let value: unknown = { leaf: true };
      for (let i = 0; i < depth; i++) {
        value = flip ? { child: value, z: i, a: i } : { child: value, a: i, z: i };
      }
      return value;
    };
    expect(deepEqual(build(200, false), build(200, true))).toBe(true);
    expect(deepEqual(build(200, false), build(199, true))).toBe(false);
  });
});
