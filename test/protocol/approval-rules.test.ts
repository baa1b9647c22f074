/**
 * The approval rules of DESIGN 5.4 as written once in `protocol/approval`: every row's failing case
 * on the pure function (no HTTP), the order of the rows, the plugin's validity window for row 6, a
 * key published under another device's id, the decision map's canonical form and digest, quorum
 * by owners, and the credentials rule of T8.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ALG,
  TYP_APPROVAL,
  approvingOwners,
  canonicalDecisions,
  canonicalJson,
  credsMatchFields,
  decisionsDigest,
  decisionsDigestFor,
  generateDeviceKey,
  quorumMet,
  signApproval,
  verifyApproval,
  type ApprovalClaims,
  type ApprovalContext,
  type ErrorCode,
} from '../../protocol/index.js';
import { signRaw } from '../helpers/sign-raw.js';
import { TestDevice } from '../helpers/device.js';

const NOW = 1_800_000_000;
const CHANGES = { 'node:a': 'approve', 'wiring:b': 'approve', 'credentials:c': 'approve' } as const;

async function setup(): Promise<{
  device: TestDevice;
  claims: ApprovalClaims;
  ctx: ApprovalContext;
}> {
  const device = await TestDevice.create({ owner: 'alice' });
  const claims: ApprovalClaims = {
    iss: device.id,
    aud: 'server-1',
    sub: 'dep-1',
    iat: NOW,
    exp: NOW + 120,
    jti: 'jti-1',
    base: 'b'.repeat(64),
    target: 't'.repeat(64),
    creds: 'c'.repeat(64),
    verdict: 'approve',
    decisions: await decisionsDigest(CHANGES),
  };
  const ctx: ApprovalContext = {
    serverId: 'server-1',
    now: NOW,
    subject: {
      id: 'dep-1',
      base: claims.base,
      target: claims.target,
      creds: claims.creds,
      changeIds: Object.keys(CHANGES),
      user: 'dave',
    },
    pending: true,
    device: (kid) =>
      kid === device.id
        ? { id: device.id, jwk: device.key.publicJwk, owner: 'alice', revoked: false }
        : undefined,
    jtiUsed: () => false,
    decidedBefore: () => false,
    forbidSelfApproval: false,
  };
  return { device, claims, ctx };
}

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'accepted'> {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    return (err as { code: ErrorCode }).code;
  }
}

describe('verifyApproval: one failing case per row of 5.4', () => {
  it('accepts an honest approval and returns the device, claims and decision map', async () => {
    const { device, claims, ctx } = await setup();
    const jws = await device.signApproval(claims);
    const verified = await verifyApproval(jws, { ...CHANGES }, ctx);
    expect(verified.device.id).toBe(device.id);
    expect(verified.claims).toEqual(claims);
    expect({ ...verified.decisions }).toEqual(CHANGES);
    expect(Object.getPrototypeOf(verified.decisions)).toBeNull();
  });

  it('answers each broken row with its code', async () => {
    const { device, claims, ctx } = await setup();
    const other = await generateDeviceKey();
    const sign = (c: Partial<ApprovalClaims> & Record<string, unknown>) =>
      device.signApproval({ ...claims, ...c });
    const cases: Array<[ErrorCode, () => Promise<unknown>]> = [
      ['ERR_APPROVAL_MALFORMED', async () => verifyApproval('a.b', CHANGES, ctx)],
      ['ERR_APPROVAL_MALFORMED', async () => verifyApproval(42, CHANGES, ctx)],
      [
        'ERR_APPROVAL_HEADER',
        async () =>
          verifyApproval(
            await signRaw(device, { alg: ALG, typ: 'JWT', kid: device.id }, { ...claims }),
            CHANGES,
            ctx,
          ),
      ],
      [
        'ERR_APPROVAL_HEADER',
        async () =>
          verifyApproval(
            await signRaw(
              device,
              { alg: ALG, typ: TYP_APPROVAL, kid: device.id, crit: ['exp'] },
              { ...claims },
            ),
            CHANGES,
            ctx,
          ),
      ],
      [
        'ERR_DEVICE_UNKNOWN',
        async () =>
          verifyApproval(await signApproval(other, { ...claims, iss: other.id }), CHANGES, ctx),
      ],
      [
        'ERR_DEVICE_REVOKED',
        async () =>
          verifyApproval(await sign({}), CHANGES, {
            ...ctx,
            device: (kid) => ({ ...ctx.device(kid)!, revoked: true }),
          }),
      ],
      [
        'ERR_APPROVAL_SIGNATURE',
        async () =>
          verifyApproval(
            await signRaw(
              { key: other },
              { alg: ALG, typ: TYP_APPROVAL, kid: device.id },
              { ...claims },
            ),
            CHANGES,
            ctx,
          ),
      ],
      [
        'ERR_APPROVAL_CLAIMS',
        async () => verifyApproval(await sign({ aud: 'elsewhere' }), CHANGES, ctx),
      ],
      [
        'ERR_APPROVAL_CLAIMS',
        async () => verifyApproval(await sign({ sub: 'dep-2' }), CHANGES, ctx),
      ],
      [
        'ERR_APPROVAL_CLAIMS',
        async () => verifyApproval(await sign({ note: 'n'.repeat(501) }), CHANGES, ctx),
      ],
      [
        'ERR_APPROVAL_EXPIRED',
        async () => verifyApproval(await sign({ iat: NOW + 61 }), CHANGES, ctx),
      ],
      ['ERR_APPROVAL_EXPIRED', async () => verifyApproval(await sign({ exp: NOW }), CHANGES, ctx)],
      [
        'ERR_APPROVAL_EXPIRED',
        async () => verifyApproval(await sign({ iat: NOW - 10, exp: NOW + 291 }), CHANGES, ctx),
      ],
      [
        'ERR_APPROVAL_REPLAY',
        async () =>
          verifyApproval(await sign({}), CHANGES, { ...ctx, jtiUsed: (j) => j === 'jti-1' }),
      ],
      [
        'ERR_DEPLOYMENT_NOT_PENDING',
        async () => verifyApproval(await sign({}), CHANGES, { ...ctx, pending: false }),
      ],
      [
        'ERR_APPROVAL_MISMATCH',
        async () => verifyApproval(await sign({ creds: null }), CHANGES, ctx),
      ],
      ['ERR_APPROVAL_INCOMPLETE', async () => verifyApproval(await sign({}), {}, ctx)],
      ['ERR_APPROVAL_INCOMPLETE', async () => verifyApproval(await sign({}), undefined, ctx)],
      [
        'ERR_APPROVAL_INCOMPLETE',
        async () => verifyApproval(await sign({}), { ...CHANGES, 'node:a': 'reject' }, ctx),
      ],
      [
        'ERR_APPROVAL_INCONSISTENT',
        async () =>
          verifyApproval(
            await sign({
              decisions: await decisionsDigest({ ...CHANGES, 'node:a': 'reject' }),
            }),
            { ...CHANGES, 'node:a': 'reject' },
            ctx,
          ),
      ],
      [
        'ERR_APPROVAL_DUPLICATE',
        async () => verifyApproval(await sign({}), CHANGES, { ...ctx, decidedBefore: () => true }),
      ],
      [
        'ERR_SELF_APPROVAL',
        async () =>
          verifyApproval(await sign({}), CHANGES, {
            ...ctx,
            forbidSelfApproval: true,
            subject: { ...ctx.subject, user: 'alice' },
          }),
      ],
    ];
    for (const [code, attempt] of cases) expect(await codeOf(attempt())).toBe(code);
  });

  it('answers the first failing row when several fail', async () => {
    const { device, claims, ctx } = await setup();
    const all = await device.signApproval({ ...claims, exp: NOW - 1, base: 'x', verdict: 'no' });
    expect(await codeOf(verifyApproval(all, {}, { ...ctx, pending: false }))).toBe(
      'ERR_APPROVAL_EXPIRED',
    );
  });

  it('refuses a key published under another device id (its thumbprint is not the kid)', async () => {
    const { device, claims, ctx } = await setup();
    const mallory = await generateDeviceKey();
    const forged = await signRaw(
      { key: mallory },
      { alg: ALG, typ: TYP_APPROVAL, kid: device.id },
      { ...claims },
    );
    const lying = {
      ...ctx,
      device: (kid: string) =>
        kid === device.id
          ? { id: device.id, jwk: mallory.publicJwk, owner: 'alice', revoked: false }
          : undefined,
    };
    expect(await codeOf(verifyApproval(forged, CHANGES, lying))).toBe('ERR_APPROVAL_SIGNATURE');
  });
});

describe('the key caches keep what a key is, never whether its device may sign', () => {
  it('refuses a device revoked, suspended or no longer published after its key verified an approval', async () => {
    const { device, claims, ctx } = await setup();
    const jws = await device.signApproval(claims);
    // The device's key is imported (and its thumbprint computed) once, here.
    expect((await verifyApproval(jws, { ...CHANGES }, ctx)).device.id).toBe(device.id);
    const known = { id: device.id, jwk: device.key.publicJwk, owner: 'alice', revoked: false };
    const as = (state: Partial<typeof known> & { suspended?: boolean }) => ({
      ...ctx,
      device: async () => ({ ...known, ...state }),
    });
    expect(await codeOf(verifyApproval(jws, { ...CHANGES }, as({ revoked: true })))).toBe(
      'ERR_DEVICE_REVOKED',
    );
    expect(await codeOf(verifyApproval(jws, { ...CHANGES }, as({ suspended: true })))).toBe(
      'ERR_DEVICE_SUSPENDED',
    );
    expect(
      await codeOf(verifyApproval(jws, { ...CHANGES }, { ...ctx, device: () => undefined })),
    ).toBe('ERR_DEVICE_UNKNOWN');
  });

  it('does not verify a signature with a key published under another device id', async () => {
    const { device, claims, ctx } = await setup();
    const other = await generateDeviceKey();
    const jws = await device.signApproval(claims);
    expect((await verifyApproval(jws, { ...CHANGES }, ctx)).device.id).toBe(device.id);
    // The cached key of `device`, offered under the id of another: row 4 refuses it.
    const relabelled = {
      ...ctx,
      device: () => ({ id: other.id, jwk: device.key.publicJwk, owner: 'alice', revoked: false }),
    };
    const forged = await signRaw(
      device,
      { alg: ALG, typ: TYP_APPROVAL, kid: other.id },
      { ...claims, iss: other.id },
    );
    expect(await codeOf(verifyApproval(forged, { ...CHANGES }, relabelled))).toBe(
      'ERR_APPROVAL_SIGNATURE',
    );
  });
});

describe('row 6 for a verifier that applies later (the plugin)', () => {
  it('accepts an approval that was valid after the proposal even if it expired since', async () => {
    const { device, claims, ctx } = await setup();
    const jws = await device.signApproval(claims); // exp NOW + 120
    const later = { ...ctx, now: NOW + 600, validFrom: NOW - 30 };
    expect(await codeOf(verifyApproval(jws, CHANGES, later))).toBe('accepted');
  });
  it('refuses one that expired before the proposal, or that claims a long life', async () => {
    const { device, claims, ctx } = await setup();
    const stale = await device.signApproval({ ...claims, iat: NOW - 86_520, exp: NOW - 86_400 });
    expect(await codeOf(verifyApproval(stale, CHANGES, { ...ctx, validFrom: NOW - 30 }))).toBe(
      'ERR_APPROVAL_EXPIRED',
    );
    const tenYears = await device.signApproval({ ...claims, exp: NOW + 10 * 365 * 86_400 });
    expect(await codeOf(verifyApproval(tenYears, CHANGES, { ...ctx, validFrom: NOW }))).toBe(
      'ERR_APPROVAL_EXPIRED',
    );
  });
});

describe('the decision map', () => {
  it('is serialised as RFC 8785 canonical JSON, the same text canonicalJson gives', () => {
    const tricky: Record<string, 'approve' | 'reject'> = {
      'node:z': 'approve',
      'node:ä': 'reject',
      'node:\u2028': 'approve',
      'node:"q"': 'approve',
      'node:😀': 'reject',
      'node:\uff61': 'approve',
      'node:A': 'approve',
      'node:a\\b': 'reject',
    };
    expect(canonicalDecisions(tricky)).toBe(canonicalJson(tricky));
    expect(canonicalDecisions({})).toBe('{}');
  });
  it('digests to base64url SHA-256 of that text', async () => {
    const map = { 'node:b': 'reject', 'node:a': 'approve' } as const;
    const expected = createHash('sha256')
      .update('{"node:a":"approve","node:b":"reject"}', 'utf8')
      .digest('base64url');
    expect(await decisionsDigest(map)).toBe(expected);
    // The server passes Node's SHA-256 in place of Web Crypto's: the same digest.
    const nodeSha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();
    expect(await decisionsDigest(map, nodeSha256)).toBe(expected);
  });
  it('is digested from the change ids the same way when the keys are exactly those ids', async () => {
    const map: Record<string, 'approve' | 'reject'> = {
      'node:z': 'approve',
      'node:ä': 'reject',
      'node:"q"': 'approve',
      'node:😀': 'reject',
      'node:\uff61': 'approve',
      'node:A': 'approve',
    };
    // The deployment's list in its own order; the map's keys in another.
    const ids = ['node:😀', 'node:A', 'node:\uff61', 'node:z', 'node:"q"', 'node:ä'];
    expect(await decisionsDigestFor(map, ids)).toBe(await decisionsDigest(map));
    // Asked again with the same list (its plan is kept), and with a copy of it.
    expect(await decisionsDigestFor(map, ids)).toBe(await decisionsDigest(map));
    expect(await decisionsDigestFor(map, [...ids].reverse())).toBe(await decisionsDigest(map));
    // A key missing, one too many, one replaced: no digest.
    const fewer = Object.fromEntries(Object.entries(map).filter(([id]) => id !== 'node:z'));
    expect(await decisionsDigestFor(fewer, ids)).toBeNull();
    expect(await decisionsDigestFor({ ...map, 'node:extra': 'approve' }, ids)).toBeNull();
    expect(await decisionsDigestFor({ ...fewer, 'node:y': 'approve' }, ids)).toBeNull();
    expect(await decisionsDigestFor({}, [])).toBe(await decisionsDigest({}));
  });
});

describe('quorum and credentials', () => {
  it('counts owners, not devices, and only approvals', () => {
    const decisions = [
      { verdict: 'approve', owner: 'alice' },
      { verdict: 'approve', owner: 'alice' },
      { verdict: 'reject', owner: 'bob' },
    ] as const;
    expect([...approvingOwners(decisions)]).toEqual(['alice']);
    expect(quorumMet(decisions, 1)).toBe(true);
    expect(quorumMet(decisions, 2)).toBe(false);
    expect(quorumMet([...decisions, { verdict: 'approve', owner: 'carol' }], 2)).toBe(true);
  });
  it('agrees when creds is null exactly when no credential field is named', () => {
    expect(credsMatchFields(null, {})).toBe(true);
    expect(credsMatchFields('c'.repeat(64), { n: ['password'] })).toBe(true);
    expect(credsMatchFields('c'.repeat(64), {})).toBe(false);
    expect(credsMatchFields('c'.repeat(64), { n: [] })).toBe(false);
    expect(credsMatchFields(null, { n: ['password'] })).toBe(false);
  });
});
