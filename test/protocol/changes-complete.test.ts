/**
 * The change model shows every difference (DESIGN 5.2, completeness; T9), even for input that never
 * met the gate's shape check: a wire hidden in a nested array or given as a number, a port naming a
 * target twice, keys named `__proto__` or `constructor`, `null` in a list. And a change that shows an
 * invisible or reordering character is high risk.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  computeChanges,
  diffValues,
  patchValue,
  type FlowNode,
  type Flows,
} from '../../protocol/index.js';
import { deltaRows } from '../../pwa/src/cards/delta-rows.js';
import { FIXTURES_DIR, loadFlows } from '../helpers/fixtures.js';

const http = loadFlows(
  join(FIXTURES_DIR, 'node-red-examples', 'network__http__01_-_Create_HTTP_endpoint.json'),
);
const [template] = http.filter((n) => n.type === 'template');

function edit(flows: Flows, id: string, change: (node: FlowNode) => void): Flows {
  const target = structuredClone(flows);
  change(target.find((n) => n.id === id)!);
  return target;
}

/** Sets an own property, as JSON.parse does, even `__proto__`. */
function own(node: FlowNode, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

describe('wires the edge list cannot show', () => {
  it('shows a wire hidden in a nested array as a raw property change', () => {
    const wires = template!.wires as string[][];
    const target = edit(http, template!.id, (n) => {
      n.wires = [[...wires[0]!, ['hidden-target']]];
    });
    const [change] = computeChanges(http, target);
    expect(change).toMatchObject({ id: `node:${template!.id}`, op: 'changed' });
    expect(change!.before!.wires).toEqual(wires);
    expect(change!.after!.wires).toEqual([[...wires[0]!, ['hidden-target']]]);
    const rows = deltaRows(change!.delta, change!.before, change!.after);
    expect(rows.map((r) => [r.path, r.new?.text])).toContainEqual([
      'wires[0][1]',
      '["hidden-target"]',
    ]);
  });

  it('shows a wire given as a number', () => {
    const target = edit(http, template!.id, (n) => {
      n.wires = [[...(n.wires as string[][])[0]!, 123]];
    });
    const [change] = computeChanges(http, target);
    const rows = deltaRows(change!.delta, change!.before, change!.after);
    expect(rows.map((r) => [r.path, r.new?.text])).toContainEqual(['wires[0][1]', '123']);
  });

  it('shows a port that names a target twice (Node-RED delivers twice)', () => {
    const target = edit(http, template!.id, (n) => {
      const [port] = n.wires as string[][];
      n.wires = [[...port!, port![0]!]];
    });
    const changes = computeChanges(http, target);
    expect(changes.map((c) => c.id)).toEqual([`node:${template!.id}`]);
    expect(changes[0]!.after!.wires).toEqual(target.find((n) => n.id === template!.id)!.wires);
  });

  it('still reads canonical wires as edges, order inside a port not a change', () => {
    const target = edit(http, template!.id, (n) => {
      n.wires = [[...(n.wires as string[][])[0]!, 'new-target']];
    });
    const [change] = computeChanges(http, target);
    expect(change!.kind).toBe('wiring');
    expect(change!.edges!.added).toEqual([
      { from: template!.id, port: 0, to: 'new-target', via: 'wire' },
    ]);
  });
});

describe('keys JavaScript treats specially', () => {
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`keeps a property named ${key}, added and removed, with its value`, () => {
      const target = edit(http, template!.id, (n) => own(n, key, { injected: 'yes' }));
      const [added] = computeChanges(http, target);
      const rows = deltaRows(added!.delta, added!.before, added!.after);
      expect(rows.map((r) => [r.path, r.op, r.new?.text])).toEqual([
        [key, 'added', '{"injected":"yes"}'],
      ]);
      expect(Object.prototype.hasOwnProperty.call(added!.delta, key)).toBe(true);
      const [removed] = computeChanges(target, http);
      const back = deltaRows(removed!.delta, removed!.before, removed!.after);
      expect(back.map((r) => [r.path, r.op, r.old?.text])).toEqual([
        [key, 'removed', '{"injected":"yes"}'],
      ]);
    });
  }

  it('keeps a property whose name a setter on Object.prototype would take', () => {
    const taken: unknown[] = [];
    Object.defineProperty(Object.prototype, 'countersignTrap', {
      set(value: unknown) {
        taken.push(value);
      },
      configurable: true,
    });
    try {
      const target = edit(http, template!.id, (n) => own(n, 'countersignTrap', 'kept'));
      const [change] = computeChanges(http, target);
      expect(Object.prototype.hasOwnProperty.call(change!.after, 'countersignTrap')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(change!.after, 'countersignTrap')?.value).toBe('kept');
      expect(taken).toEqual([]);
    } finally {
      delete (Object.prototype as Record<string, unknown>).countersignTrap;
    }
  });

  it('diffs and patches values with reserved keys at any depth, losing nothing', () => {
    const before = JSON.parse('{"a": {"__proto__": {"x": 1}}, "list": [{"constructor": 1}]}');
    const after = JSON.parse(
      '{"a": {"__proto__": {"x": 2}, "prototype": 3}, "list": [{"constructor": 2}, null]}',
    );
    const delta = diffValues(before, after);
    expect(JSON.parse(JSON.stringify(patchValue(before, delta)))).toEqual(after);
    expect(JSON.stringify(patchValue(before, delta))).toBe(JSON.stringify(after));
  });

  it('compares lists that hold null (they used to crash the change list)', () => {
    const target = edit(http, template!.id, (n) => {
      n.headers = [null, { id: 'h' }];
    });
    const base = edit(http, template!.id, (n) => {
      n.headers = [{ id: 'h' }, null];
    });
    expect(computeChanges(base, target)).toHaveLength(1);
  });
});

describe('invisible and reordering characters make a change high risk', () => {
  // A comment is low risk, a change node medium: only the hidden character makes these high.
  const base: Flows = [
    { id: 't', type: 'tab', label: 'T' },
    { id: 'c1', type: 'comment', z: 't', name: 'note', info: '', x: 1, y: 1, wires: [] },
    { id: 'ch', type: 'change', z: 't', name: 'set', rules: [], x: 1, y: 2, wires: [[]] },
  ];

  it.each([
    ['a right-to-left override in a comment', 'c1', 'info', '\u202E'],
    ['a zero-width space in a name', 'ch', 'name', '\u200B'],
    ['a line separator in a text', 'c1', 'info', '\u2028'],
    ['a bare CR in a value', 'ch', 'name', '\r'],
    ['a byte order mark', 'c1', 'name', '\uFEFF'],
    ['a soft hyphen', 'ch', 'name', '\u00AD'],
  ])('%s', (_name, id, key, char) => {
    const plain = edit(base, id, (n) => (n[key] = 'plain words'));
    const [ordinary] = computeChanges(base, plain);
    expect(ordinary!.risk).not.toBe('high');
    const [flagged] = computeChanges(
      base,
      edit(base, id, (n) => (n[key] = `plain${char}words`)),
    );
    expect(flagged!.risk).toBe('high');
  });

  it('flags a hidden character in the id of a node that is wired in', () => {
    const target = edit(base, 'ch', (n) => (n.wires = [['c\u200B1']]));
    const [wiring] = computeChanges(base, target);
    expect(wiring).toMatchObject({ kind: 'wiring', risk: 'high' });
  });
});
