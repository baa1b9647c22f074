/**
 * Code that reads like a code review (issue: big reviews, item 3), on real function edits from the
 * shared histories: the changed characters marked within a line, wrapping only between tokens (a
 * string literal is never cut), code added where there was none shown only as added, line numbers
 * of the code that will run, and a very long line collapsed around what changed.
 */
import { describe, expect, it } from 'vitest';
import { computeChanges, type Change } from '../../protocol/index.js';
import { collapsed, runsOf, tokensOf, LONG_LINE } from '../../pwa/src/cards/code-line.js';
import { deltaRows } from '../../pwa/src/cards/delta-rows.js';
import { lineDiff, linesOf, tokenParts } from '../../pwa/src/cards/line-diff.js';
import { historyVersion, historyPairs, loadFlows } from '../helpers/fixtures.js';

const version = historyVersion;

function realChange(repo: string, from: string, to: string, id: string): Change {
  return computeChanges(version(repo, from), version(repo, to)).find((c) => c.id === id)!;
}

const marked = (parts: { text: string; mark?: true }[] | undefined): string[] =>
  (parts ?? []).filter((p) => p.mark && p.text !== '').map((p) => p.text);

describe('changed characters within a line', () => {
  it('marks toLocaleTimeString() → toTimeString() in Hackuarium 03→04 down to the word', () => {
    const change = realChange('Hackuarium__bioreactor-docker', '03', '04', 'node:14d65ca8.488213');
    const lines = lineDiff(String(change.before!.func), String(change.after!.func));
    const removed = lines.filter((l) => l.op === '-');
    const added = lines.filter((l) => l.op === '+');
    expect(removed).toHaveLength(1);
    expect(added).toHaveLength(1);
    expect(marked(removed[0]!.parts)).toEqual(['Locale']);
    expect(marked(added[0]!.parts)).toEqual([".split(' ').slice(0, 1).join(' ')"]);
    // The parts put together are the line.
    expect(removed[0]!.parts!.map((p) => p.text).join('')).toBe(removed[0]!.text);
    expect(added[0]!.parts!.map((p) => p.text).join('')).toBe(added[0]!.text);
  });

  it('numbers and cuts every changed line of every real function edit exactly', () => {
    let pairs = 0;
    for (const [label, b, t] of historyPairs()) {
      for (const change of computeChanges(loadFlows(b), loadFlows(t))) {
        if (change.node?.type !== 'function' || change.op !== 'changed') continue;
        const before = change.before?.func;
        const after = change.after?.func;
        if (typeof before !== 'string' || typeof after !== 'string' || before === after) continue;
        const lines = lineDiff(before, after);
        // The kept and added lines are the new code, numbered 1…n; removed lines carry old numbers.
        const now = lines.filter((l) => l.op !== '-');
        expect(
          now.map((l) => l.text),
          label,
        ).toEqual(linesOf(after));
        expect(now.map((l) => l.new)).toEqual(now.map((_, i) => i + 1));
        const was = lines.filter((l) => l.op !== '+');
        expect(was.map((l) => l.text)).toEqual(linesOf(before));
        expect(was.map((l) => l.old)).toEqual(was.map((_, i) => i + 1));
        for (const line of lines.filter((l) => l.parts !== undefined)) {
          pairs++;
          expect(line.parts!.map((p) => p.text).join(''), label).toBe(line.text);
        }
      }
    }
    expect(pairs).toBeGreaterThan(50);
  });

  it('marks whole tokens, then characters when one token replaced another', () => {
    expect(tokenParts('a = foo(1);', 'a = foo(1, 2);')).toEqual([
      [{ text: 'a = foo(1' }, { text: '', mark: true }, { text: ');' }],
      [{ text: 'a = foo(1' }, { text: ', 2', mark: true }, { text: ');' }],
    ]);
    expect(tokenParts('a = foo(1);', 'a = bar(1);')).toEqual([
      [{ text: 'a = ' }, { text: 'foo', mark: true }, { text: '(1);' }],
      [{ text: 'a = ' }, { text: 'bar', mark: true }, { text: '(1);' }],
    ]);
    const [, after] = tokenParts('x = "abc";', 'x = "abd";');
    expect(marked(after)).toEqual(['d']);
  });
});

describe('wrapping between tokens', () => {
  it('keeps every string literal of the real code whole, in one run', () => {
    const change = realChange('Hackuarium__bioreactor-docker', '03', '04', 'node:14d65ca8.488213');
    const line = lineDiff(String(change.before!.func), String(change.after!.func)).find(
      (l) => l.op === '+',
    )!;
    const runs = runsOf(collapsed(line.parts!));
    const strings = runs.filter((r) => 'str' in r && r.str);
    expect(strings.map((r) => ('pieces' in r ? r.pieces.map((p) => p.text).join('') : ''))).toEqual(
      ["' '", "' '", "', '", "' '", "' '"],
    );
    // Put together again, the runs are the line.
    expect(
      runs.map((r) => ('pieces' in r ? r.pieces.map((p) => p.text).join('') : '')).join(''),
    ).toBe(line.text);
  });

  it('reads escapes, comments and unterminated strings as single tokens', () => {
    expect(tokensOf("a('x ⟨U+202E⟩ y') // it's").map((t) => t.text)).toEqual([
      'a',
      '(',
      "'x ⟨U+202E⟩ y'",
      ')',
      ' ',
      "// it's",
    ]);
    expect(tokensOf("s = 'open").at(-1)).toEqual({ text: "'open", str: true });
  });
});

describe('code added where there was none', () => {
  it('shows a function written into an empty node as added lines only, numbered from 1', () => {
    const base = version('Hackuarium__bioreactor-docker', '04');
    const fn = base.find((n) => n.id === '14d65ca8.488213')!;
    const code = String(fn.func);
    const emptied = base.map((n) => (n.id === fn.id ? { ...n, func: '' } : n));
    const [change] = computeChanges(emptied, base);
    const [row] = deltaRows(change!.delta, change!.before, change!.after);
    expect(row!.lines!.every((l) => l.op === '+')).toBe(true);
    expect(row!.lines!.map((l) => l.new)).toEqual(linesOf(code).map((_, i) => i + 1));
    // And taken out again: removed lines only.
    const [back] = computeChanges(base, emptied);
    const [gone] = deltaRows(back!.delta, back!.before, back!.after);
    expect(gone!.lines!.every((l) => l.op === '-')).toBe(true);
  });
});

describe('long strings collapsed around the change', () => {
  const long = `${'x = 1; '.repeat(2857)}y`;

  it('shows the end of a 20,000-character line changed at its end, the rest behind a fold', () => {
    const lines = lineDiff(long, `${long.slice(0, -1)}z`);
    for (const line of lines) {
      const pieces = collapsed(line.parts!);
      const shown = pieces.flatMap((p) => ('text' in p ? [p.text] : [])).join('');
      const folded = pieces.flatMap((p) => ('fold' in p ? [p.fold] : [])).join('');
      expect(shown.length).toBeLessThan(LONG_LINE);
      expect(shown.length + folded.length).toBe(line.text.length);
      expect(shown.endsWith(line.op === '+' ? 'z' : 'y')).toBe(true);
      expect(marked(pieces.filter((p): p is { text: string } => 'text' in p))).toEqual([
        line.op === '+' ? 'z' : 'y',
      ]);
    }
  });

  it('shows the start of a long line that was added whole, and never cuts an escape', () => {
    const text = `${'a'.repeat(159)}\u202E${'b'.repeat(500)}`;
    const [line] = lineDiff('', text);
    const pieces = collapsed(line!.parts ?? [{ text: line!.text, mark: true }]);
    const shown = pieces.flatMap((p) => ('text' in p ? [p.text] : [])).join('');
    expect(shown).toBe(`${'a'.repeat(159)}⟨U+202E⟩`);
  });

  it('leaves short lines as they are', () => {
    const parts = [{ text: 'return msg;' }];
    expect(collapsed(parts)).toEqual(parts);
  });
});
