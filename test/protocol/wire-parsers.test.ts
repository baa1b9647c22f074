/**
 * Every wire parser of protocol/wire, attacked field by field: a wrong type, a missing field, a
 * `__proto__` or `constructor` key, an oversized value each give a `ValidationError` (and nothing
 * leaks onto `Object.prototype`); a well-formed body comes back with the same fields.
 */
import { describe, expect, it } from 'vitest';
import {
  ValidationError,
  parseAuditPageResponse,
  parseConfigResponse,
  parseDecisionBody,
  parseDecisionResponse,
  parseDeploymentDetail,
  parseDeploymentEvent,
  parseDeploymentListResponse,
  parseDeploymentPageResponse,
  parseDeviceListResponse,
  parseDriftRequest,
  parseEnrollRequest,
  parseEnrollResponse,
  parseErrorBody,
  parseInstanceRequest,
  parseInvitationRequest,
  parseIssuedInstance,
  parseInvitationResponse,
  parseJsonText,
  parseKeysResponse,
  parseOutcomeRequest,
  parseOutcomeResponse,
  parsePolicy,
  parseProposalRequest,
  parseProposalResponse,
  parsePushPayload,
  parsePushSubscription,
  parsePushUpdateRequest,
  parseRevokeResponse,
  type Change,
} from '../../protocol/index.js';

const REV_A = 'a'.repeat(64);
const REV_B = 'b'.repeat(64);
const DEVICE = 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6';
const AT = '2026-11-29T10:00:00.000Z';
const B64_32 = 'A'.repeat(43);
const JWK = { kty: 'EC', crv: 'P-256', x: B64_32, y: B64_32 };
/** 65 bytes and 16 bytes, base64url. */
const P256DH = 'B'.repeat(87);
const AUTH = 'C'.repeat(22);
const PUSH = {
  endpoint: 'https://push.example.com/send/1',
  expirationTime: null,
  keys: { p256dh: P256DH, auth: AUTH },
};
const SOURCE = { user: 'alice', via: 'editor', address: '10.0.0.5' };
const SUMMARY = {
  id: '0a1b2c3d4e5f',
  instance: 'line-1',
  status: 'pending',
  createdAt: AT,
  expiresAt: AT,
  source: SOURCE,
  changeCount: 1,
};
const APPROVAL = {
  device: DEVICE,
  verdict: 'approve',
  at: AT,
  jws: 'e30.e30.AAAA',
  changes: { 'node:n1': 'approve' },
};
const CHANGE: Change = {
  id: 'node:n1',
  kind: 'node',
  op: 'changed',
  flow: { id: 'tab1', label: 'Main' },
  node: { id: 'n1', type: 'function', name: 'f' },
  before: { func: 'return 1;' },
  after: { func: 'return 2;' },
  risk: 'high',
};
const EVENT = { ...SUMMARY, base: REV_A, target: REV_B, creds: null, approvals: [APPROVAL] };
const DETAIL = {
  ...EVENT,
  credentials: {},
  type: 'full',
  changes: [CHANGE],
};

type Case = {
  parse: (input: unknown) => unknown;
  valid: Record<string, unknown>;
  /** Fields that may be left out. */
  optional?: string[];
  /** The whole body may be null. */
  nullable?: boolean;
};

/** Every parser, with a body the real server or client sends. */
const CASES: Record<string, Case> = {
  config: {
    parse: parseConfigResponse,
    valid: {
      serverId: 'abcDEF012_-',
      name: 'Countersign',
      vapidPublicKey: P256DH,
      version: '0.1.0',
    },
  },
  'enrolment request': {
    parse: parseEnrollRequest,
    valid: {
      code: 'c'.repeat(43),
      name: "Alice's phone",
      publicJwk: JWK,
      push: PUSH,
      proof: 'a.b.c',
    },
    optional: ['name', 'push'],
  },
  'enrolment answer': {
    parse: parseEnrollResponse,
    valid: { id: DEVICE, fingerprint: 'Zm9v YmFy YmF6 cXV4', owner: 'alice', name: 'phone' },
  },
  'push subscription': {
    parse: (v) => parsePushSubscription(v),
    valid: PUSH,
    nullable: true,
    optional: ['expirationTime'],
  },
  'push update': { parse: parsePushUpdateRequest, valid: { push: PUSH } },
  'device list': {
    parse: parseDeviceListResponse,
    valid: {
      devices: [
        {
          id: DEVICE,
          fingerprint: 'Zm9v YmFy YmF6 cXV4',
          owner: 'alice',
          name: 'phone',
          createdAt: AT,
          revokedAt: null,
          suspendedAt: null,
          push: true,
          self: true,
        },
      ],
    },
  },
  revocation: {
    parse: parseRevokeResponse,
    valid: { id: DEVICE, revokedAt: AT, suspended: [DEVICE] },
    optional: ['suspended'],
  },
  'invitation request': {
    parse: parseInvitationRequest,
    valid: { owner: 'alice', name: 'tablet' },
  },
  'invitation answer': {
    parse: parseInvitationResponse,
    valid: { code: 'c'.repeat(43), url: 'https://cs.example.com/#/enroll?code=x', expiresAt: AT },
  },
  proposal: {
    parse: parseProposalRequest,
    valid: {
      base: REV_A,
      target: REV_B,
      creds: null,
      credentials: {},
      type: 'full',
      source: SOURCE,
    },
  },
  'proposal answer': {
    parse: parseProposalResponse,
    valid: {
      id: '0a1b2c3d4e5f',
      status: 'pending',
      expiresAt: AT,
      reviewUrl: 'https://x/#/review/1',
    },
  },
  'deployment list': { parse: parseDeploymentListResponse, valid: { deployments: [SUMMARY] } },
  'deployment page': {
    parse: parseDeploymentPageResponse,
    valid: { deployments: [SUMMARY], next: 'cursor' },
    optional: ['next'],
  },
  'deployment event': { parse: parseDeploymentEvent, valid: EVENT },
  'deployment detail': { parse: parseDeploymentDetail, valid: DETAIL },
  'decision answer': {
    parse: parseDecisionResponse,
    valid: { status: 'approved', approvals: [{ device: DEVICE, verdict: 'approve', at: AT }] },
  },
  outcome: {
    parse: parseOutcomeRequest,
    valid: { status: 'applied', rev: REV_B, message: 'done' },
    optional: ['message'],
  },
  'outcome answer': { parse: parseOutcomeResponse, valid: { status: 'applied' } },
  drift: {
    parse: parseDriftRequest,
    valid: { rev: REV_A, message: 'changed on disk' },
    optional: ['message'],
  },
  keys: {
    parse: parseKeysResponse,
    valid: { keys: [{ ...JWK, kid: DEVICE, owner: 'alice', alg: 'ES256', use: 'sig' }] },
  },
  'audit page': {
    parse: parseAuditPageResponse,
    valid: {
      entries: [
        {
          seq: 1,
          at: AT,
          type: 'deployment-proposed',
          data: { deployment: 'x' },
          prev: '0',
          hash: REV_A,
        },
      ],
      next: null,
    },
    optional: ['next'],
  },
  'instance request': {
    parse: parseInstanceRequest,
    valid: { name: 'line-1', policy: { requiredApprovals: 2 }, rotate: false },
    optional: ['policy', 'rotate'],
  },
  'issued instance': {
    parse: parseIssuedInstance,
    valid: { id: '0a1b2c3d4e5f6a7b', name: 'line-1', token: `csi_${'t'.repeat(43)}` },
  },
  'push payload': {
    parse: parsePushPayload,
    valid: {
      v: 1,
      kind: 'deployment',
      id: '0a1b',
      instance: 'line-1',
      changes: 3,
      by: 'alice',
      expiresAt: AT,
    },
    optional: ['expiresAt'],
  },
};

/** A value of another JSON type than `value`. */
function wrongTypeOf(value: unknown): unknown {
  if (typeof value === 'string') return 42;
  if (typeof value === 'number') return '42';
  if (typeof value === 'boolean') return 'true';
  if (Array.isArray(value)) return { 0: value[0] };
  if (value === null) return [];
  return 'x';
}

/** A value of the same type, far over any size the contract allows. */
function oversizedOf(value: unknown): unknown {
  if (typeof value === 'string') return 'x'.repeat(2_000_000);
  if (typeof value === 'number') return 1e300;
  if (Array.isArray(value)) return Array.from({ length: 1_100_000 }, () => value[0]);
  return undefined;
}

function expectInvalid(parse: (input: unknown) => unknown, input: unknown, label: string): void {
  let thrown: unknown;
  try {
    parse(input);
  } catch (err) {
    thrown = err;
  }
  expect(thrown, label).toBeInstanceOf(ValidationError);
  expect((thrown as ValidationError).message, label).not.toBe('');
}

/** Parses JSON text the way each part reads it off the wire. */
function fromText(text: string): unknown {
  return JSON.parse(text) as unknown;
}

describe.each(Object.entries(CASES))('the %s parser', (_name, c) => {
  it('takes the body as the contract gives it', () => {
    expect(() => c.parse(structuredClone(c.valid))).not.toThrow();
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, 'text', 42, [c.valid], true]) {
      if (body === null && c.nullable) expect(c.parse(body)).toBeNull();
      else expectInvalid(c.parse, body, String(body));
    }
  });

  it('refuses each field of the wrong type', () => {
    for (const [field, value] of Object.entries(c.valid)) {
      if (value === null) continue; // a nullable field: its other type is tested in the field's own case
      expectInvalid(c.parse, { ...c.valid, [field]: wrongTypeOf(value) }, field);
    }
  });

  it('refuses each required field left out', () => {
    for (const field of Object.keys(c.valid)) {
      if (c.optional?.includes(field)) continue;
      const body: Record<string, unknown> = { ...c.valid };
      delete body[field];
      expectInvalid(c.parse, body, field);
    }
  });

  it('refuses each field grown past its limit', () => {
    let tried = 0;
    for (const [field, value] of Object.entries(c.valid)) {
      const big = oversizedOf(value);
      if (big === undefined) continue;
      tried++;
      expectInvalid(c.parse, { ...c.valid, [field]: big }, field);
    }
    if (tried === 0) expect(Object.values(c.valid).every((v) => typeof v === 'object')).toBe(true);
  });

  it('refuses __proto__ and constructor keys, and pollutes nothing', () => {
    const text = JSON.stringify(c.valid);
    for (const extra of [
      '"__proto__":{"polluted":true}',
      '"constructor":{"prototype":{"polluted":true}}',
    ]) {
      expectInvalid(c.parse, fromText(text.replace('{', `{${extra},`)), extra);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('nested values', () => {
  it('refuses a __proto__ key in a change, deep in an audit entry, in a source or a device', () => {
    const cases: Array<[(v: unknown) => unknown, unknown]> = [
      [
        parseDeploymentDetail,
        {
          ...DETAIL,
          changes: [{ ...(fromText('{"__proto__":{"risk":"low"}}') as object), ...CHANGE }],
        },
      ],
      [parseDeploymentDetail, { ...DETAIL, credentials: fromText('{"__proto__":["password"]}') }],
      [
        parseDeploymentEvent,
        { ...EVENT, source: fromText('{"user":"a","via":"b","__proto__":{"x":1}}') },
      ],
      [
        parseDeploymentEvent,
        { ...EVENT, approvals: [{ ...APPROVAL, changes: fromText('{"__proto__":"approve"}') }] },
      ],
      [
        parseAuditPageResponse,
        {
          entries: [
            {
              seq: 1,
              at: AT,
              type: 't',
              data: fromText('{"d":[{"__proto__":1}]}'),
              prev: '',
              hash: '',
            },
          ],
        },
      ],
      [
        parseEnrollRequest,
        { ...CASES['enrolment request']!.valid, publicJwk: fromText('{"__proto__":{"kty":"EC"}}') },
      ],
    ];
    for (const [parse, body] of cases)
      expectInvalid(parse, body, JSON.stringify(body).slice(0, 80));
  });

  it("leaves a change's shown properties as they are, for the phone's own checks (T8, T9)", () => {
    const after = fromText('{"a":{"__proto__":{"x":1}},"constructor":2}') as Record<
      string,
      unknown
    >;
    const parsed = parseDeploymentDetail({ ...DETAIL, changes: [{ ...CHANGE, after }] });
    expect(Object.keys(parsed.changes[0]!.after!)).toEqual(['a', 'constructor']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses a change or approval of an unknown kind, op, risk or verdict', () => {
    for (const [field, value] of [
      ['kind', 'script'],
      ['op', 'moved'],
      ['risk', 'none'],
      ['id', ''],
    ] as const) {
      expectInvalid(
        parseDeploymentDetail,
        { ...DETAIL, changes: [{ ...CHANGE, [field]: value }] },
        field,
      );
    }
    expectInvalid(
      parseDeploymentEvent,
      { ...EVENT, approvals: [{ ...APPROVAL, verdict: 'maybe' }] },
      'verdict',
    );
    expectInvalid(parseDeploymentEvent, { ...EVENT, status: 'approved-ish' }, 'status');
    expectInvalid(parseDeploymentEvent, { ...EVENT, base: REV_A.toUpperCase() }, 'base');
  });

  it('keeps only the fields of the contract, whatever else a body carries', () => {
    const parsed = parseInvitationRequest({ owner: ' alice ', name: 'tablet', isAdmin: true });
    expect(parsed).toEqual({ owner: 'alice', name: 'tablet' });
    const key = parseKeysResponse({
      keys: [{ ...JWK, key_ops: ['verify'], kid: DEVICE, owner: 'a', alg: 'ES256', use: 'sig' }],
    });
    expect(key.keys[0]).not.toHaveProperty('key_ops');
  });

  it('refuses a proposal whose credentials digest and field names disagree (T8)', () => {
    const valid = CASES.proposal!.valid;
    expectInvalid(parseProposalRequest, { ...valid, creds: REV_A }, 'digest without names');
    expectInvalid(
      parseProposalRequest,
      { ...valid, credentials: { n1: ['password'] } },
      'names without digest',
    );
    expect(
      parseProposalRequest({ ...valid, creds: REV_A, credentials: { n1: ['password'] } }).creds,
    ).toBe(REV_A);
  });
});

describe('decision bodies', () => {
  it('hands the JWS and the map to the ordered rules of 5.4, and refuses a non-object as row 1', () => {
    expect(parseDecisionBody({ jws: 42, changes: 'x' })).toEqual({ jws: 42, changes: 'x' });
    for (const body of [null, 'a.b.c', [], fromText('{"__proto__":{},"jws":"a"}')]) {
      let thrown: unknown;
      try {
        parseDecisionBody(body);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).code).toBe('ERR_APPROVAL_MALFORMED');
    }
  });
});

describe('JSON text', () => {
  it('refuses text that is not JSON, nests too deeply, or hides __proto__', () => {
    for (const text of [
      '{',
      '',
      "{a: 'b'}",
      '['.repeat(100) + ']'.repeat(100),
      '{"a":[{"__proto__":{}}]}',
    ]) {
      expectInvalid((t) => parseJsonText(t as string), text, text.slice(0, 20));
    }
    expect(parseJsonText('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
  });
});

describe('error bodies', () => {
  it("keeps a known code, falls back to the status's code, and never trusts an unknown one", () => {
    expect(
      parseErrorBody(409, 'Conflict', { code: 'ERR_DEPLOYMENT_NOT_PENDING', message: 'm' }),
    ).toEqual({
      code: 'ERR_DEPLOYMENT_NOT_PENDING',
      sent: 'ERR_DEPLOYMENT_NOT_PENDING',
      message: 'm',
    });
    expect(parseErrorBody(403, 'Forbidden', { code: 'ERR_MADE_UP', message: 'm' }).code).toBe(
      'ERR_FORBIDDEN',
    );
    expect(parseErrorBody(502, 'Bad Gateway', '<html>').code).toBe('ERR_INTERNAL');
    expect(parseErrorBody(502, 'Bad Gateway', null).message).toBe('502 Bad Gateway');
    expect(
      parseErrorBody(400, '', { code: 'toString', message: 'x'.repeat(10_000) }).message.length,
    ).toBe(2000);
  });
});

describe('policy', () => {
  it('takes a partial policy over the defaults, and refuses each wrong setting as ERR_CONFIG', () => {
    expect(parsePolicy({ requiredApprovals: 2 })).toEqual({
      requiredApprovals: 2,
      forbidSelfApproval: false,
      expiresIn: '24h',
    });
    expect(parsePolicy({ expiresIn: 90 }).expiresIn).toBe('90s');
    for (const bad of [
      { requiredApprovals: 0 },
      { requiredApprovals: '2' },
      { requiredApprovals: 101 },
      { forbidSelfApproval: 'yes' },
      { expiresIn: 'forever' },
      { expiresIn: 366 * 86400 },
      { expiresIn: 'x'.repeat(1_000_000) },
      fromText('{"__proto__":{"requiredApprovals":0}}'),
      [],
      'strict',
    ]) {
      let thrown: unknown;
      try {
        parsePolicy(bad);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, JSON.stringify(bad).slice(0, 40)).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).code).toBe('ERR_CONFIG');
    }
  });
});
