/**
 * The canonical shape of DESIGN 5.2, as `parseFlows` (the one parser of the gate, the server and the
 * phone) reads it: every real flows file passes; each rule refuses with `ERR_FLOWS_INVALID` naming
 * the node and the rule.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFlows, type FlowNode } from '../../protocol/index.js';
import { exampleFiles, historyPairs, realFlowsFiles } from '../helpers/fixtures.js';

function refusal(flows: unknown): string {
  try {
    parseFlows(flows);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_FLOWS_INVALID');
    return (err as Error).message;
  }
  throw new Error('not refused');
}

const fn: FlowNode = {
  id: 'fn1',
  type: 'function',
  z: 'tab1',
  name: 'f',
  func: 'return msg;',
  x: 1,
  y: 1,
  wires: [['out1']],
};

/** `fn` with own properties set (even `__proto__`), as JSON.parse makes them. */
function fnWith(props: Record<string, unknown>): FlowNode {
  const node = { ...fn };
  for (const [key, value] of Object.entries(props)) {
    Object.defineProperty(node, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return node;
}

describe('the canonical shape', () => {
  it('accepts every real flows file, example and version of the fixtures', () => {
    const paths = [
      ...realFlowsFiles().map(([, p]) => p),
      ...exampleFiles().map(([, p]) => p),
      ...historyPairs().flatMap(([, b, t]) => [b, t]),
    ];
    for (const path of new Set(paths)) {
      expect(() => parseFlows(JSON.parse(readFileSync(path, 'utf8'))), path).not.toThrow();
    }
  });

  it.each([
    ['not an array', { flows: [] }, /^flows must be an array of node objects$/],
    ['an entry that is not an object', [fn, 7], /^flows\[1\] is not a node object$/],
    ['a node without an id', [{ type: 'debug' }], /^flows\[0\] has no string id$/],
    ['a numeric id', [{ ...fn, id: 5 }], /^flows\[0\] has no string id$/],
    ['a node without a type', [{ id: 'n1' }], /^node "n1" has no string type$/],
    ['a flow given as a number', [{ ...fn, z: 3 }], /^node "fn1" \(function\): z must be a string/],
    [
      'a wire hidden in a nested array',
      [{ ...fn, wires: [['out1', ['evil']]] }],
      /^node "fn1" \(function\): wires must be an array of arrays of node ids, but wires\[0\]\[1\] is an array$/,
    ],
    [
      'a wire given as a number',
      [{ ...fn, wires: [['out1', 123]] }],
      /wires\[0\]\[1\] is a number$/,
    ],
    ['a port that is not a list', [{ ...fn, wires: ['out1'] }], /wires\[0\] is a string$/],
    ['wires that are not a list', [{ ...fn, wires: { 0: ['out1'] } }], /wires is an object$/],
    ['wires set to null', [{ ...fn, wires: null }], /wires is null$/],
    [
      "a link node's link given as a number",
      [{ id: 'lo', type: 'link out', z: 't', links: ['a', 42], x: 1, y: 1, wires: [] }],
      /^node "lo" \(link out\): links must be an array of node ids, but links\[1\] is a number$/,
    ],
    [
      'a property named __proto__',
      [fnWith(JSON.parse('{"__proto__": {"admin": true}}') as Record<string, unknown>)],
      /^node "fn1" \(function\): the key "__proto__" \(at __proto__\) is not allowed/,
    ],
    [
      'a nested key named constructor',
      [fnWith({ libs: [{ var: 'os', constructor: 'os' }] })],
      /the key "constructor" \(at libs\[0\]\.constructor\) is not allowed/,
    ],
    [
      'a deep key named prototype',
      [fnWith({ env: { a: { prototype: 1 } } })],
      /the key "prototype" \(at env\.a\.prototype\) is not allowed/,
    ],
    [
      'a number JSON reads as Infinity (1e400)',
      JSON.parse(`[${JSON.stringify(fn).replace('"x":1', '"x":1e400')}]`),
      /^node "fn1" \(function\): x is not a finite number/,
    ],
    [
      'a negative infinity deep inside',
      [fnWith({ rules: [{ v: -Infinity }] })],
      /rules\[0\]\.v is not a finite number/,
    ],
  ])('refuses %s, naming the node and the rule', (_name, flows, message) => {
    expect(refusal(flows)).toMatch(message);
  });

  it('reads only the own keys of a node, whatever Object.prototype lists', () => {
    Object.defineProperty(Object.prototype, 'countersignPlanted', {
      value: Infinity,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    try {
      expect(() => parseFlows([fnWith({ rules: [{ v: 1 }] })])).not.toThrow();
      expect(refusal([fnWith({ rules: [{ v: -Infinity }] })])).toMatch(
        /rules\[0\]\.v is not a finite number/,
      );
    } finally {
      delete (Object.prototype as Record<string, unknown>).countersignPlanted;
    }
  });

  it("leaves a non-link node's links alone: only link nodes wire through them", () => {
    expect(() => parseFlows([{ ...fn, links: [1, { a: 1 }] }])).not.toThrow();
  });

  it('shows a hidden character in a node id as its escape, and keeps long ids short', () => {
    expect(refusal([{ ...fn, id: 'a\u202Eb', z: 1 }])).toMatch(/^node "a⟨U\+202E⟩b"/);
    expect(refusal([{ ...fn, id: 'x'.repeat(500), z: 1 }])).toMatch(
      new RegExp(`^node "${'x'.repeat(60)}…"`),
    );
  });
});
