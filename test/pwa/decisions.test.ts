/** Reading who decided what from the audit log (DESIGN 8), for entries written now and before. */
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../protocol/index.js';
import { decisionOf, historyOf } from '../../pwa/src/lib/decisions.js';

function entry(seq: number, type: string, data: Record<string, unknown>): AuditEntry {
  return { seq, at: `2026-11-29T10:0${seq}:00.000Z`, type, data, prev: '0', hash: '0' };
}

function jwsWith(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256' })}.${part(claims)}.c2ln`;
}

describe('decisions from the audit log', () => {
  it('reads the map and the note beside the JWS', () => {
    const d = decisionOf(
      entry(1, 'decision', {
        deployment: 'd1',
        device: 'dev-a',
        verdict: 'reject',
        jws: jwsWith({ note: 'ignored: the entry has its own' }),
        changes: { 'node:a': 'reject', 'node:b': 'approve' },
        note: 'Not on a Friday.',
      }),
    );
    expect(d).toEqual({
      device: 'dev-a',
      verdict: 'reject',
      at: '2026-11-29T10:01:00.000Z',
      note: 'Not on a Friday.',
      changes: { 'node:a': 'reject', 'node:b': 'approve' },
    });
  });

  it('reads older entries from the JWS claims, and refuses malformed ones', () => {
    const old = decisionOf(
      entry(2, 'decision', {
        deployment: 'd1',
        device: 'dev-b',
        verdict: 'approve',
        jws: jwsWith({ changes: { 'node:a': 'approve' }, note: 'fine' }),
      }),
    );
    expect(old).toMatchObject({ note: 'fine', changes: { 'node:a': 'approve' } });
    expect(decisionOf(entry(3, 'decision', { device: 'x', verdict: 'maybe' }))).toBeNull();
    expect(
      decisionOf(
        entry(4, 'decision', {
          device: 'x',
          verdict: 'approve',
          changes: { a: 'sure' },
          note: null,
        }),
      ),
    ).toMatchObject({ changes: null, note: null });
  });

  it("keeps one deployment's decisions and steps, in order", () => {
    const log = [
      entry(1, 'deployment-proposed', { deployment: 'd1' }),
      entry(2, 'deployment-proposed', { deployment: 'd2' }),
      entry(3, 'decision', { deployment: 'd1', device: 'a', verdict: 'approve', note: null }),
      entry(4, 'deployment-approved', { deployment: 'd1' }),
      entry(5, 'deployment-applied', { deployment: 'd1' }),
    ];
    const h = historyOf(log, 'd1');
    expect(h.decisions.map((d) => d.device)).toEqual(['a']);
    expect(h.steps.map((s) => s.status)).toEqual(['proposed', 'approved', 'applied']);
  });
});
