import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeChanges, parseFlows, type Flows } from '../../protocol/index.js';
import { ParsedSnapshots, sameJsonText } from '../../server/deployments/parsed-snapshots.js';
import { historyPairs } from '../helpers/fixtures.js';

const parse = (text: string): Flows => parseFlows(JSON.parse(text));

describe('sameJsonText', () => {
  it('is true exactly when JSON.stringify gives the same text', () => {
    const pairs: Array<[unknown, unknown]> = [
      [
        { a: 1, b: [1, { c: 'x' }] },
        { a: 1, b: [1, { c: 'x' }] },
      ],
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      [{ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }],
      [
        [1, 2],
        [2, 1],
      ],
      [
        [1, 2],
        [1, 2, 3],
      ],
      [{ a: [] }, { a: {} }],
      [{ a: null }, { a: {} }],
      [{ a: '1' }, { a: 1 }],
      [{ a: 1 }, { a: 1, b: 2 }],
      [{}, []],
      ['x', 'x'],
      [0, -0],
    ];
    for (const [a, b] of pairs) {
      expect(sameJsonText(a, b), JSON.stringify([a, b])).toBe(
        JSON.stringify(a) === JSON.stringify(b),
      );
    }
  });
  it('takes values nested past 64 levels as different, without walking them', () => {
    const nested = (depth: number): unknown => {
      let value: unknown = 'leaf';
      for (let i = 0; i < depth; i++) value = { v: [value] };
      return value;
    };
    expect(sameJsonText(nested(20), nested(20))).toBe(true);
    expect(sameJsonText(nested(5000), nested(5000))).toBe(false);
    // The same object is still the same.
    const one = nested(5000);
    expect(sameJsonText(one, one)).toBe(true);
  });
  it('takes objects as different while Object.prototype lists a key of its own', () => {
    expect(sameJsonText({ a: 1, b: [{ c: 2 }] }, { a: 1, b: [{ c: 2 }] })).toBe(true);
    Object.defineProperty(Object.prototype, 'countersignPlanted', {
      value: 1,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    try {
      expect(sameJsonText({ a: 1 }, { a: 1 })).toBe(false);
    } finally {
      delete (Object.prototype as Record<string, unknown>).countersignPlanted;
    }
    expect(sameJsonText({ a: 1 }, { a: 1 })).toBe(true);
  });
});

describe('ParsedSnapshots', () => {
  it('shares the nodes whose text is unchanged with the snapshot kept before, and nothing else', () => {
    const cache = new ParsedSnapshots();
    const baseText = JSON.stringify([
      { id: 't', type: 'tab', label: 'Flow' },
      { id: 'a', type: 'inject', z: 't', x: 1, y: 2, wires: [['b']] },
      { id: 'b', type: 'function', z: 't', func: 'return msg;', x: 3, y: 4, wires: [[]] },
      { id: 'c', type: 'debug', z: 't', x: 5, y: 6, wires: [] },
    ]);
    const targetText = JSON.stringify([
      { id: 't', type: 'tab', label: 'Flow' },
      // Same properties, another key order: the target's text differs, so it is kept as it is.
      { type: 'inject', id: 'a', z: 't', x: 1, y: 2, wires: [['b']] },
      { id: 'b', type: 'function', z: 't', func: 'return null;', x: 3, y: 4, wires: [[]] },
      { id: 'c', type: 'debug', z: 't', x: 5, y: 6, wires: [] },
      { id: 'd', type: 'debug', z: 't', x: 7, y: 8, wires: [] },
    ]);
    const base = parse(baseText);
    const target = parse(targetText);
    cache.remember('base', base, baseText.length);
    cache.remember('target', target, targetText.length);

    expect(cache.get('target')).toBe(target);
    // Unchanged text: the base's node. Key order, property or new node: the target's own.
    expect(target[0]).toBe(base[0]);
    expect(target[3]).toBe(base[3]);
    expect(target[1]).not.toBe(base[1]);
    expect(target[2]).not.toBe(base[2]);
    expect(target[4]!.id).toBe('d');
    // The flows read exactly as their text.
    expect(JSON.stringify(target)).toBe(targetText);
    expect(JSON.stringify(base)).toBe(baseText);
  });

  it('shares nothing when an id repeats, on either side', () => {
    const node = { id: 'a', type: 'debug', z: 't', x: 1, y: 2, wires: [] };
    const once = JSON.stringify([node]);
    const twice = JSON.stringify([node, node]);
    for (const [first, second] of [
      [once, twice],
      [twice, once],
    ] as const) {
      const cache = new ParsedSnapshots();
      const earlier = parse(first);
      const later = parse(second);
      cache.remember('earlier', earlier, first.length);
      cache.remember('later', later, second.length);
      for (const n of later) expect(earlier).not.toContain(n);
      // With sharing, both copies of a repeated id would be one object: both would "run".
      if (later.length === 2) expect(later[0]).not.toBe(later[1]);
    }
  });

  it('changes neither the text nor the change list of any real deployment', () => {
    const cache = new ParsedSnapshots();
    let shared = 0;
    for (const [label, basePath, targetPath] of historyPairs()) {
      const baseText = readFileSync(basePath, 'utf8');
      const targetText = readFileSync(targetPath, 'utf8');
      const base = parse(baseText);
      const target = parse(targetText);
      cache.remember(`${label} base`, base, baseText.length);
      cache.remember(`${label} target`, target, targetText.length);
      shared += target.filter((node) => base.includes(node)).length;
      expect(JSON.stringify(target), label).toBe(JSON.stringify(JSON.parse(targetText)));
      expect(computeChanges(base, target), label).toEqual(
        computeChanges(parse(baseText), parse(targetText)),
      );
    }
    expect(shared).toBeGreaterThan(100);
  });
});
