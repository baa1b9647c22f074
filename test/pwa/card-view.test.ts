/**
 * What a card shows, without a browser (DESIGN 5.2, T9): text split and escaped as JavaScript reads
 * it, changed characters marked, whitespace changes said plainly, warnings; and the completeness
 * check, which refuses to sign when the cards leave a difference out.
 */
import { describe, expect, it } from 'vitest';
import {
  computeChanges,
  revOf,
  snapshotBytes,
  visibleText,
  splitLines,
  type Change,
  type Flows,
} from '../../protocol/index.js';
import { cardText, cardView, HIDDEN_WARNING } from '../../pwa/src/cards/card-view.js';
import { unshownDifferences, unshownMessage } from '../../pwa/src/cards/completeness.js';
import { lineDiff, linesOf } from '../../pwa/src/cards/line-diff.js';
import { NodeIndex } from '../../pwa/src/cards/node-index.js';
import { verifyDeployment } from '../../pwa/src/lib/verify.js';
import { historyPairs, loadFlows } from '../helpers/fixtures.js';
import { MUTATIONS, cloneFlows, mutate, rng } from '../helpers/mutations.js';
import { bioreactorScenario, functionEditScenario } from './scenario.js';

const FORMAT = 'f23c470d.dad1f8';

function viewOf(change: Change, base: Flows, target: Flows) {
  return cardView(change, new NodeIndex([change], base, target));
}

describe('text as JavaScript reads it', () => {
  it('splits lines at LF, CR LF, CR, U+2028 and U+2029, marking every end but LF', () => {
    expect(linesOf('a\nb\r\nc\rd\u2028e\u2029f')).toEqual([
      'a',
      'b⟨U+000D⟩',
      'c⟨U+000D⟩',
      'd⟨U+2028⟩',
      'e⟨U+2029⟩',
      'f',
    ]);
    // The old split (at CR and LF only) drew `// note<U+2028>code` as one comment line.
    expect(linesOf('// note\u2028msg.payload = 1;')).toEqual([
      '// note⟨U+2028⟩',
      'msg.payload = 1;',
    ]);
    expect(splitLines('x\n').map((l) => l.text)).toEqual(['x', '']);
  });

  it('escapes every hidden character, keeps tab and LF, and never lets text pass for an escape', () => {
    expect(visibleText('a\u202Eb\u200Bc\uFEFF\u00AD\u0007\t\n')).toBe(
      'a⟨U+202E⟩b⟨U+200B⟩c⟨U+FEFF⟩⟨U+00AD⟩⟨U+0007⟩\t\n',
    );
    expect(visibleText('⟨U+202E⟩')).toBe('⟨U+27E8⟩U+202E⟩');
    expect(visibleText('\u{E0041}')).toBe('⟨U+E0041⟩');
  });

  it('marks the changed characters within a changed line, never cutting an escape', () => {
    const lines = lineDiff('let a = 1;\nreturn a;', 'let a = 12;\nreturn a;');
    const removed = lines.find((l) => l.op === '-')!;
    const added = lines.find((l) => l.op === '+')!;
    expect(added.parts).toEqual([{ text: 'let a = 1' }, { text: '2', mark: true }, { text: ';' }]);
    // The removed side marks the place, empty, where the other side inserted.
    expect(removed.parts).toEqual([{ text: 'let a = 1' }, { text: '', mark: true }, { text: ';' }]);
    const hidden = lineDiff('x\u202Dy', 'x\u202Ey').find((l) => l.op === '+')!;
    expect(hidden.parts).toEqual([{ text: 'x' }, { text: '⟨U+202E⟩', mark: true }, { text: 'y' }]);
  });

  it('shows a trailing newline added or removed', () => {
    const lines = lineDiff('return msg;', 'return msg;\n');
    expect(lines.filter((l) => l.op !== ' ').map((l) => `${l.op}${l.text}`)).toEqual(['+']);
  });
});

describe('the card view', () => {
  it('writes a hidden character in a name as its escape everywhere, high risk with a warning', () => {
    const { base } = functionEditScenario();
    const target = structuredClone(base);
    target.find((n) => n.id === FORMAT)!.name = 'format\u200BDbEntry';
    const [change] = computeChanges(base, target);
    const view = viewOf(change!, base, target);
    expect(view.title).toBe('format⟨U+200B⟩DbEntry');
    expect(view.risk).toBe('high');
    expect(view.warnings).toEqual([HIDDEN_WARNING]);
    expect(cardText(view)).not.toMatch(/\u200B/);
  });

  it('says so when only whitespace changed, and marks it', () => {
    const { base } = functionEditScenario();
    const target = structuredClone(base);
    target.find((n) => n.id === FORMAT)!.name = 'formatDbEntry ';
    const [change] = computeChanges(base, target);
    const view = viewOf(change!, base, target);
    const section = view.sections.find((s) => s.kind === 'changes')!;
    const [row] = section.kind === 'changes' ? section.rows : [];
    expect(row!.note).toMatch(/^Only whitespace changed/);
    expect(row!.new!.parts).toContainEqual({ text: ' ', mark: true });
  });

  it('lists every changed path of the real scenario as text a person reads', () => {
    const s = bioreactorScenario();
    const changes = computeChanges(s.base, s.target, s.credentials);
    const index = new NodeIndex(changes, s.base, s.target);
    const text = changes.map((c) => cardText(cardView(c, index))).join('\n');
    expect(text).toContain('entry.time = Math.round(entry.epoch * 1e6);');
    expect(text).toContain('usetls');
    expect(text).toContain('password value hidden');
    expect(text).toContain('Notify ops');
  });
});

describe('the completeness check', () => {
  it('finds nothing left out in every real history and every kind of edit', () => {
    for (const [label, b, t] of historyPairs()) {
      const base = loadFlows(b);
      const target = loadFlows(t);
      expect(unshownDifferences(base, target, computeChanges(base, target)), label).toEqual([]);
    }
    const s = bioreactorScenario();
    const target = cloneFlows(s.base);
    const random = rng(11);
    const credentials: Record<string, string[]> = {};
    for (const name of MUTATIONS)
      Object.assign(credentials, mutate(target, name, random)?.credentials);
    const changes = computeChanges(s.base, target, credentials);
    expect(unshownDifferences(s.base, target, changes, credentials)).toEqual([]);
  });

  it('names a property a change list leaves out (as wires once were)', () => {
    const { base, target } = functionEditScenario();
    const withoutFunc = (props: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(props).filter(([key]) => key !== 'func'));
    const changes = computeChanges(base, target).map((c) => ({
      ...c,
      before: withoutFunc(c.before!),
      after: withoutFunc(c.after!),
      delta: undefined,
    }));
    const unshown = unshownDifferences(base, target, changes);
    expect(unshown).toEqual([
      { id: FORMAT, node: '“formatDbEntry” (function)', what: 'property “func” is not shown' },
    ]);
    expect(unshownMessage(unshown)).toBe(
      'The cards do not show everything this deployment changes (node “formatDbEntry” (function): property “func” is not shown).',
    );
  });

  it('names a node no card covers, a connection left out, and a credential field left out', () => {
    const s = bioreactorScenario();
    const changes = computeChanges(s.base, s.target, s.credentials);
    const without = (id: string) => changes.filter((c) => c.id !== id);
    expect(
      unshownDifferences(s.base, s.target, without('node:c0ffee00.a1b2c3'), s.credentials),
    ).toContainEqual(
      expect.objectContaining({ id: 'c0ffee00.a1b2c3', what: 'is added, on no card' }),
    );
    // The function node keeps its card for the code; the card of its new connection is dropped.
    const rewired = without(`wiring:${FORMAT}`);
    expect(
      unshownDifferences(s.base, s.target, rewired, s.credentials).map((u) => u.what),
    ).toContainEqual(expect.stringMatching(/^a new connection .* is not shown$/));
    const credentials = changes.map((c) =>
      c.kind === 'credentials' ? { ...c, fields: ['password'] } : c,
    );
    expect(unshownDifferences(s.base, s.target, credentials, s.credentials)).toContainEqual(
      expect.objectContaining({ what: 'credential field “user” is not shown' }),
    );
  });

  it('makes the phone refuse to sign when its own change list leaves something out', async () => {
    const { base, target } = functionEditScenario();
    const blobs = new Map([
      [await revOf(base), snapshotBytes(base)],
      [await revOf(target), snapshotBytes(target)],
    ]);
    const faulty: typeof computeChanges = (b, t, c) =>
      computeChanges(b, t, c).map((change) => ({
        ...change,
        after: { ...change.after, func: change.before!.func },
      }));
    const detail = {
      base: await revOf(base),
      target: await revOf(target),
      creds: null,
      credentials: {},
      changes: faulty(base, target, {}),
    };
    const result = await verifyDeployment(detail, async (rev) => blobs.get(rev)!, faulty);
    expect(result).toMatchObject({ ok: false, reason: 'unshown' });
    expect((result as { message: string }).message).toContain('property “func” is not shown');
    expect(
      await verifyDeployment({ ...detail, changes: computeChanges(base, target) }, async (rev) =>
        blobs.get(rev)!,
      ),
    ).toMatchObject({ ok: true });
  });
});
