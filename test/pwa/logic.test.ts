/**
 * The phone's own logic, without a browser: line diffs, the review's decisions and undo, the
 * approval claims it signs, the T8 comparison, the push payload check, and hash routes.
 */
import { describe, expect, it } from 'vitest';
import {
  computeChanges,
  decisionsDigest,
  generateDeviceKey,
  MAX_APPROVAL_LIFETIME_S,
  MAX_NOTE_LENGTH,
} from '../../protocol/index.js';
import { APPROVAL_LIFETIME_S, approvalFor, signDecision } from '../../pwa/src/lib/approval.js';
import { readPushPayload, planNotification } from '../../pwa/src/lib/push-payload.js';
import { ORDER_ONLY, ReviewState } from '../../pwa/src/lib/review-state.js';
import { hrefOf, parseRoute } from '../../pwa/src/lib/router.js';
import { differingChanges, verifyDeployment } from '../../pwa/src/lib/verify.js';
import { hunksOf, lineDiff } from '../../pwa/src/cards/line-diff.js';
import { deltaRows } from '../../pwa/src/cards/delta-rows.js';
import { bioreactorScenario } from './scenario.js';
import { revOf, snapshotBytes } from '../../protocol/index.js';

describe('line diff', () => {
  it('marks exactly the edited lines and keeps line numbers of both sides', () => {
    const lines = lineDiff('a\nb\nc\nd\n', 'a\nB\nc\nd\ne\n');
    expect(lines.map((l) => `${l.op}${l.text}`)).toEqual([' a', '-b', '+B', ' c', ' d', '+e', ' ']);
    expect(lines.find((l) => l.text === 'e')).toMatchObject({ op: '+', new: 5 });
    expect(lines.find((l) => l.text === 'b')).toMatchObject({ op: '-', old: 2 });
  });

  it('folds long unchanged stretches around the hunks', () => {
    const before = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 20', 'line twenty');
    const parts = hunksOf(lineDiff(before, after), 3);
    expect(parts).toHaveLength(3);
    expect(parts[0]).toEqual({ fold: 17 });
    expect(parts[2]).toEqual({ fold: 16 });
  });

  it('falls back to remove-all, add-all for a rewrite too large to search', () => {
    const before = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const after = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    const lines = lineDiff(before, after);
    expect(lines.filter((l) => l.op === '-')).toHaveLength(3000);
    expect(lines.filter((l) => l.op === '+')).toHaveLength(3000);
  });
});

describe('delta rows', () => {
  it('shows each changed path with old and new values, code as a line diff', () => {
    const { base, target, credentials } = bioreactorScenario();
    const change = computeChanges(base, target, credentials).find(
      (c) => c.id === 'node:f23c470d.dad1f8',
    )!;
    const rows = deltaRows(change.delta, change.before, change.after);
    expect(rows.map((r) => r.path)).toEqual(['func']);
    expect(rows[0]!.lines!.filter((l) => l.op !== ' ')).toHaveLength(3);
    const broker = computeChanges(base, target, credentials).find(
      (c) => c.id === 'config:1013011c.82c3ef',
    )!;
    expect(
      deltaRows(broker.delta, broker.before, broker.after).map((r) => ({
        path: r.path,
        op: r.op,
        old: r.old?.text,
        new: r.new?.text,
      })),
    ).toEqual([
      { path: 'port', op: 'changed', old: '"1883"', new: '"8883"' },
      { path: 'usetls', op: 'changed', old: 'false', new: 'true' },
    ]);
  });
});

describe('review state', () => {
  it('takes one verdict per card in order, undoes the last, and revisits from the summary', () => {
    const state = new ReviewState(['a', 'b', 'c']);
    state.decide('approve');
    state.decide('reject');
    expect(state.current).toBe('c');
    expect(state.undo()).toBe('b');
    expect(state.current).toBe('b');
    state.decide('approve');
    state.decide('approve');
    expect(state.done).toBe(true);
    expect(state.verdict).toBe('approve');
    state.revisit('a');
    expect(state.current).toBe('a');
    state.decide('reject');
    expect(state.current).toBeNull();
    expect(state.changesClaim).toEqual({ a: 'reject', b: 'approve', c: 'approve' });
    expect(state.verdict).toBe('reject');
  });

  it('gives an order-only deployment one card and an empty changes claim', () => {
    const state = new ReviewState([]);
    expect(state.cards).toEqual([ORDER_ONLY]);
    state.decide('approve');
    expect(state.done).toBe(true);
    expect(state.changesClaim).toEqual({});
  });
});

describe('approval claims', () => {
  it('bind the device, the server it enrolled with, the deployment and every change', async () => {
    const key = await generateDeviceKey();
    const { claims, changes } = await approvalFor({
      deviceId: key.id,
      serverId: 'srv',
      detail: { id: 'dep1', base: 'b'.repeat(64), target: 't'.repeat(64), creds: null },
      changes: { 'node:1': 'approve', 'wiring:2': 'reject' },
      note: '  too risky  ',
      now: 1000,
    });
    expect({ ...changes }).toEqual({ 'node:1': 'approve', 'wiring:2': 'reject' });
    // The decision map travels beside the JWS; the claims carry only its digest (5.4).
    expect(claims).not.toHaveProperty('changes');
    expect(claims.decisions).toBe(await decisionsDigest(changes));
    expect(claims.decisions).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(claims).toMatchObject({
      iss: key.id,
      aud: 'srv',
      sub: 'dep1',
      iat: 1000,
      exp: 1000 + APPROVAL_LIFETIME_S,
      verdict: 'reject',
      note: 'too risky',
    });
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(MAX_APPROVAL_LIFETIME_S);
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('approve only when every change is approved; an empty list takes the chosen verdict', async () => {
    const base = {
      deviceId: 'd',
      serverId: 's',
      detail: { id: 'x', base: '', target: '', creds: null },
      now: 1,
    };
    const verdictOf = async (input: Omit<Parameters<typeof approvalFor>[0], keyof typeof base>) =>
      (await approvalFor({ ...base, ...input })).claims.verdict;
    expect(await verdictOf({ changes: { a: 'approve' } })).toBe('approve');
    expect(await verdictOf({ changes: { a: 'approve', b: 'reject' } })).toBe('reject');
    expect(await verdictOf({ changes: {}, verdict: 'reject' })).toBe('reject');
    expect(await verdictOf({ changes: {} })).toBe('approve');
  });

  it('stays under 2 KiB as a JWS however many changes the deployment has', async () => {
    const key = await generateDeviceKey();
    const changes = Object.fromEntries(
      Array.from({ length: 5000 }, (_, i) => [
        `node:${i.toString(16).padStart(16, '0')}`,
        'approve',
      ]),
    ) as Record<string, 'approve'>;
    const approval = await approvalFor({
      deviceId: key.id,
      serverId: 'srv',
      detail: { id: 'dep1', base: 'b'.repeat(64), target: 't'.repeat(64), creds: 'c'.repeat(64) },
      changes,
      note: 'n'.repeat(MAX_NOTE_LENGTH),
      now: 1000,
    });
    const body = await signDecision(key, approval);
    expect(Object.keys(body.changes)).toHaveLength(5000);
    expect(body.jws.length).toBeLessThan(2048);
  });
});

describe('T8: the phone checks the server', () => {
  const scenario = bioreactorScenario();
  const detailOf = async () => ({
    base: await revOf(scenario.base),
    target: await revOf(scenario.target),
    creds: scenario.creds,
    credentials: scenario.credentials,
    changes: JSON.parse(
      JSON.stringify(computeChanges(scenario.base, scenario.target, scenario.credentials)),
    ),
  });
  const blobs = (map: Record<string, Uint8Array<ArrayBuffer>>) => async (rev: string) => map[rev]!;

  it('accepts snapshots that hash right and give the same changes', async () => {
    const detail = await detailOf();
    const result = await verifyDeployment(
      detail,
      blobs({
        [detail.base]: snapshotBytes(scenario.base),
        [detail.target]: snapshotBytes(scenario.target),
      }),
    );
    expect(result.ok).toBe(true);
  });

  it('refuses a target snapshot that does not hash to the target rev', async () => {
    const detail = await detailOf();
    const forged = structuredClone(scenario.target);
    forged[0]!.label = 'changed behind your back';
    const result = await verifyDeployment(
      detail,
      blobs({
        [detail.base]: snapshotBytes(scenario.base),
        [detail.target]: snapshotBytes(forged),
      }),
    );
    expect(result).toMatchObject({ ok: false, reason: 'target-hash' });
  });

  it('refuses a change list that hides, adds or alters a change', async () => {
    const detail = await detailOf();
    const bytes = {
      [detail.base]: snapshotBytes(scenario.base),
      [detail.target]: snapshotBytes(scenario.target),
    };
    const hidden = {
      ...detail,
      changes: detail.changes.filter((c: { id: string }) => c.id !== 'wiring:1cef8f82.9e01f'),
    };
    expect(await verifyDeployment(hidden, blobs(bytes))).toMatchObject({
      ok: false,
      reason: 'changes',
      ids: ['wiring:1cef8f82.9e01f'],
    });
    const altered = structuredClone(detail);
    altered.changes[0].risk = 'low';
    expect(await verifyDeployment(altered, blobs(bytes))).toMatchObject({
      ok: false,
      reason: 'changes',
      ids: [altered.changes[0].id],
    });
  });

  it('refuses a deployment whose credential field names were dropped while creds is set', async () => {
    const detail = await detailOf();
    expect(detail.creds).not.toBeNull();
    expect(Object.keys(detail.credentials).length).toBeGreaterThan(0);
    const bytes = {
      [detail.base]: snapshotBytes(scenario.base),
      [detail.target]: snapshotBytes(scenario.target),
    };
    // A lying server leaves the field names out: its change list and the phone's recomputed one
    // then agree (neither shows the credentials), but the digest says credentials are set.
    const dropped = {
      ...detail,
      credentials: {},
      changes: JSON.parse(JSON.stringify(computeChanges(scenario.base, scenario.target, {}))),
    };
    expect(await verifyDeployment(dropped, blobs(bytes))).toMatchObject({
      ok: false,
      reason: 'credentials',
    });
    // And the other way round: field names listed, but no digest binds their values.
    expect(await verifyDeployment({ ...detail, creds: null }, blobs(bytes))).toMatchObject({
      ok: false,
      reason: 'credentials',
    });
  });

  it('names duplicated ids as differences', () => {
    const [first] = computeChanges(scenario.base, scenario.target, {});
    expect(differingChanges([first!], [first!, first!])).toEqual([first!.id]);
  });
});

describe('push payloads', () => {
  it('plan a deployment notification with instance, who and the count, opening the review', () => {
    const p = readPushPayload(
      JSON.stringify({
        v: 1,
        kind: 'deployment',
        id: 'abc',
        instance: 'line-1',
        changes: 3,
        by: 'alice',
        expiresAt: null,
      }),
    )!;
    expect(planNotification(p, null)).toMatchObject({
      title: 'line-1 · alice deployed',
      body: '3 changes to review',
      hash: '#/review/abc',
      silent: false,
    });
  });

  it('reject anything that is not a v1 payload of a known kind', () => {
    expect(readPushPayload('not json')).toBeNull();
    expect(
      readPushPayload(JSON.stringify({ v: 2, kind: 'deployment', id: 'a', instance: 'x' })),
    ).toBeNull();
    expect(
      readPushPayload(JSON.stringify({ v: 1, kind: 'approve-now', id: 'a', instance: 'x' })),
    ).toBeNull();
  });

  it('tell this phone when it was revoked, and others quietly', () => {
    const p = readPushPayload(
      JSON.stringify({
        v: 1,
        kind: 'device-revoked',
        id: 'dev1',
        instance: 's',
        changes: 0,
        by: 'admin',
        expiresAt: null,
      }),
    )!;
    expect(planNotification(p, 'dev1').title).toBe('This phone was revoked');
    expect(planNotification(p, 'dev2').silent).toBe(true);
  });
});

describe('routes', () => {
  it('parse the hash routes and round-trip them', () => {
    expect(parseRoute('#/enroll?code=a-b_c')).toEqual({ name: 'enroll', code: 'a-b_c' });
    expect(parseRoute('#/review/0123abcd')).toEqual({ name: 'review', id: '0123abcd' });
    expect(parseRoute('#/devices')).toEqual({ name: 'devices' });
    expect(parseRoute('#/nowhere')).toEqual({ name: 'inbox' });
    expect(parseRoute(hrefOf({ name: 'review', id: 'x/y' }))).toEqual({
      name: 'review',
      id: 'x/y',
    });
  });
});
