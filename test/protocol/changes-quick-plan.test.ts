/**
 * The change list's quick plan (protocol/changes/compute-changes.ts) against the full comparison.
 * `computeChanges` looks closely only at the nodes its one pass over each side finds new, different or
 * with credentials; `computeChangesFully` reads every node of both sides, indexes every copy of every
 * id and compares each pair by its canonical JSON. They must give the same list, to the last field,
 * on every real deployment of the fixtures and on inputs built to trip a shortcut: nested wires,
 * numeric targets, `__proto__` keys, key order, U+2028 in code, values of different types that look
 * alike, repeated ids placed where a positional walk would miss them, and nodes that change places.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { CredentialFields, FlowNode, Flows } from '../../protocol/index.js';
import { computeChanges, computeChangesFully } from '../../protocol/changes/compute-changes.js';
import { exampleFiles, historyPairs, loadFlows, realFlowsFiles } from '../helpers/fixtures.js';
import { KINDS, mutateAt, pathsOf } from '../helpers/json-mutations.js';
import { cloneFlows, MUTATIONS, mutate, rng } from '../helpers/mutations.js';

// A new seed each run widens the search; a failure prints it, and COUNTERSIGN_SEED replays it.
const seed = Number(process.env.COUNTERSIGN_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Both lists, as a person's review would get them: the same JSON and the same values. */
function expectSameLists(base: Flows, target: Flows, credentials: CredentialFields = {}, at = '') {
  const quick = computeChanges(base, target, credentials);
  const full = computeChangesFully(base, target, credentials);
  // node's strict comparison: vitest's reads an own `__proto__` key as the prototype. On a
  // difference, toEqual prints where.
  if (!isDeepStrictEqual(quick, full)) expect(quick, at).toEqual(full);
  expect(isDeepStrictEqual(quick, full), at).toBe(true);
  expect(JSON.stringify(quick), at).toBe(JSON.stringify(full));
  return quick;
}

/** Flows as they arrive: parsed from JSON text (so `__proto__` is an own key, as in a request). */
function parsed(text: string): Flows {
  return JSON.parse(text) as Flows;
}

const TAB = { id: 't1', type: 'tab', label: 'Main' };
const node = (id: string, extra: Record<string, unknown> = {}): FlowNode => ({
  id,
  type: 'function',
  z: 't1',
  name: id,
  func: 'return msg;',
  x: 100,
  y: 100,
  wires: [[]],
  ...extra,
});

describe('the quick plan against the full comparison', () => {
  it.each(historyPairs())(
    'gives the same list for %s, both ways',
    (_label, basePath, targetPath) => {
      const base = loadFlows(basePath);
      const target = loadFlows(targetPath);
      expectSameLists(base, target);
      expectSameLists(target, base);
      expect(expectSameLists(base, cloneFlows(base))).toEqual([]);
    },
  );

  it('sees a wire hidden in a nested array, and a numeric target', () => {
    const base = [TAB, node('a', { wires: [['b']] }), node('b'), node('1')];
    for (const wires of [[['b', ['c']]], [[['b']]], [['b', 1]], [[1]], [['b'], [1]]]) {
      const changes = expectSameLists(base, [TAB, node('a', { wires }), node('b'), node('1')]);
      expect(changes.map((c) => c.id)).toContain('node:a');
    }
  });

  it('sees __proto__, constructor and prototype keys, at the top and deep down', () => {
    const base = parsed(`[{"id":"t1","type":"tab"},
      {"id":"a","type":"change","z":"t1","x":1,"y":1,"rules":[{"t":"set","p":"x"}],"wires":[[]]}]`);
    for (const extra of [
      '"__proto__":{"polluted":true}',
      '"constructor":{"prototype":1}',
      '"rules":[{"t":"set","p":"x","__proto__":"y"}]',
      '"prototype":null',
    ]) {
      const target = parsed(`[{"id":"t1","type":"tab"},
        {"id":"a","type":"change","z":"t1","x":1,"y":1,"rules":[{"t":"set","p":"x"}],"wires":[[]],${extra}}]`);
      const changes = expectSameLists(base, target);
      expect(changes.map((c) => c.id)).toEqual(['node:a']);
      expectSameLists(target, base);
      expect(expectSameLists(target, parsed(JSON.stringify(target)))).toEqual([]);
    }
  });

  it('finds nothing when only the order of keys changed, at any depth', () => {
    const base = parsed(
      '[{"id":"t1","type":"tab"},{"id":"a","type":"inject","z":"t1","x":1,"y":2,"props":[{"p":"payload","v":"1"}],"wires":[["b"]]},{"id":"b","type":"debug","z":"t1","x":3,"y":4,"wires":[]}]',
    );
    const target = parsed(
      '[{"type":"tab","id":"t1"},{"wires":[["b"]],"props":[{"v":"1","p":"payload"}],"y":2,"x":1,"z":"t1","type":"inject","id":"a"},{"id":"b","z":"t1","type":"debug","wires":[],"y":4,"x":3}]',
    );
    expect(expectSameLists(base, target)).toEqual([]);
  });

  it('sees a statement behind U+2028 and U+2029 in code', () => {
    const base = [TAB, node('a', { func: '// note msg.payload = 1;\nreturn msg;' })];
    for (const separator of ['\u2028', '\u2029', '\r']) {
      const target = [TAB, node('a', { func: `// note${separator}msg.payload = 1;\nreturn msg;` })];
      expect(expectSameLists(base, target).map((c) => c.id)).toEqual(['node:a']);
    }
  });

  it('tells apart values of different types that read alike', () => {
    const pairs: Array<[unknown, unknown]> = [
      ['1', 1],
      ['true', true],
      ['null', null],
      [null, false],
      [0, false],
      ['', []],
      [[], {}],
      [['a'], { 0: 'a' }],
      [['a'], { 0: 'a', length: 1 }],
      [[['b']], ['b']],
      [{ a: 1 }, [{ a: 1 }]],
      [{ a: undefined }, {}],
    ];
    for (const [before, after] of pairs) {
      const base = parsed(JSON.stringify([TAB, node('a', { v: before })]));
      const target = parsed(JSON.stringify([TAB, node('a', { v: after })]));
      const at = `${JSON.stringify(before)} → ${JSON.stringify(after)}`;
      const same = JSON.stringify(before) === JSON.stringify(after);
      expect(expectSameLists(base, target, {}, at).length, at).toBe(same ? 0 : 1);
    }
  });

  it('falls back to the full comparison for an id repeated anywhere, on either side, or not a string', () => {
    const nodes = Array.from({ length: 40 }, (_, i) => node(`n${i}`));
    const base = [TAB, ...nodes];
    const cases: Array<[string, Flows, Flows]> = [
      ['a late copy in the target', base, [...base, node('n3', { name: 'twin' })]],
      ['a late copy in the base', [...base, node('n3', { name: 'twin' })], base],
      ['an added id, twice', base, [...base, node('new'), node('new', { func: 'x' })]],
      ['an early copy', base, [TAB, node('n39', { name: 'first' }), ...nodes]],
      ['the tab twice', [TAB, ...nodes, { ...TAB, label: 'Other' }], base],
      ['both sides', [...base, node('n5', { x: 1 })], [...base, node('n5', { x: 2 })]],
      ['an id that is not a string', base, [...base, { ...node('7'), id: 7 as unknown as string }]],
    ];
    for (const [label, b, t] of cases) {
      expectSameLists(b, t, {}, label);
      expectSameLists(t, b, {}, `${label}, reversed`);
    }
  });

  it('follows nodes that change places, ids that swap, and additions and removals anywhere', () => {
    const nodes = Array.from({ length: 30 }, (_, i) => node(`n${i}`, { wires: [[`n${i + 1}`]] }));
    const base = [TAB, ...nodes];
    const swapped = nodes.map((n) =>
      n.id === 'n4' ? { ...n, id: 'n9' } : n.id === 'n9' ? { ...n, id: 'n4' } : n,
    );
    const cases: Array<[string, Flows]> = [
      ['reversed', [...base].reverse()],
      ['first node last', [TAB, ...nodes.slice(1), nodes[0]!]],
      ['last node first', [nodes[29]!, TAB, ...nodes.slice(0, 29)]],
      ['ids swapped', [TAB, ...swapped]],
      ['removed in the middle', [TAB, ...nodes.slice(0, 10), ...nodes.slice(20)]],
      [
        'added in the middle',
        [TAB, ...nodes.slice(0, 10), node('x1'), node('x2'), ...nodes.slice(10)],
      ],
      [
        'added and removed at one place',
        [TAB, ...nodes.slice(0, 10), node('x1'), ...nodes.slice(11)],
      ],
      ['everything new', [TAB, node('x1'), node('x2')]],
      ['nothing left', []],
    ];
    for (const [label, target] of cases) {
      expectSameLists(base, target, {}, label);
      expectSameLists(target, base, {}, `${label}, reversed`);
    }
  });

  it('keeps credentials of unchanged, added and absent nodes', () => {
    const base = [TAB, node('a'), node('b')];
    const target = [TAB, node('a'), node('b'), node('c')];
    const credentials: CredentialFields = {
      a: ['password'],
      c: ['token'],
      gone: ['key'],
      $: ['x'],
    };
    const changes = expectSameLists(base, target, credentials);
    expect(changes.filter((c) => c.kind === 'credentials').map((c) => c.id)).toEqual([
      'credentials:a',
      'credentials:c',
      'credentials:$',
      'credentials:gone',
    ]);
  });

  it(`agrees on random edits of every real flows file (COUNTERSIGN_SEED=${seed})`, () => {
    const random = rng(seed);
    const files = [...realFlowsFiles(), ...exampleFiles()].map(([name, path]) => ({
      name,
      flows: loadFlows(path),
    }));
    let rounds = 0;
    for (const file of files) {
      for (let round = 0; round < 4; round++) {
        const target = cloneFlows(file.flows);
        let credentials: CredentialFields = {};
        const done: string[] = [];
        for (let i = 1 + Math.floor(random() * 6); i > 0 && target.length > 0; i--) {
          const pick = Math.floor(random() * target.length);
          const choice = random();
          if (choice < 0.4) {
            // A change at any JSON path of one node (JSON values only: `JSON.parse` makes no other
            // kind, and the shape check refuses non-finite numbers before any list is made).
            const kind = KINDS[Math.floor(random() * KINDS.length)]!;
            if (kind === 'non-finite') continue;
            const paths = pathsOf(target[pick]!);
            const edit = mutateAt(
              target[pick]!,
              paths[Math.floor(random() * paths.length)]!,
              kind,
              random,
            );
            if (edit) target[pick] = edit.node;
            done.push(`${kind} at ${pick}`);
          } else if (choice < 0.8) {
            const name = MUTATIONS[Math.floor(random() * MUTATIONS.length)]!;
            const mutation = mutate(target, name, random);
            if (mutation?.credentials) credentials = { ...credentials, ...mutation.credentials };
            done.push(name);
          } else if (choice < 0.9) {
            // A node moves to another place in the array.
            const [moved] = target.splice(pick, 1);
            target.splice(Math.floor(random() * (target.length + 1)), 0, moved!);
            done.push(`move ${pick}`);
          } else {
            // A copy of a node under its own id, somewhere else.
            target.splice(Math.floor(random() * target.length), 0, structuredClone(target[pick]!));
            done.push(`repeat ${pick}`);
          }
        }
        // The change model reads nodes with a string id and type (rule 2 of the shape check, which
        // every reader applies first); every other shape the edits make is kept.
        if (!target.every((n) => typeof n.id === 'string' && typeof n.type === 'string')) continue;
        const at = `seed ${seed}, ${file.name} round ${round}: ${done.join(', ')}`;
        expectSameLists(file.flows, target, credentials, at);
        expectSameLists(target, file.flows, credentials, `${at}, reversed`);
        rounds++;
      }
    }
    expect(rounds).toBeGreaterThan(100);
  }, 300_000);
});
