import { describe, expect, it } from 'vitest';
import {
  ApprovalError,
  canTransition,
  CountersignError,
  DEPLOYMENT_STATES,
  ERROR_STATUS,
  isCountersignError,
  isFinal,
  parseFlows,
  statusOf,
} from '../../protocol/index.js';

describe('deployment states', () => {
  it('allows exactly the transitions of DESIGN 5.8', () => {
    const allowed = DEPLOYMENT_STATES.flatMap((from) =>
      DEPLOYMENT_STATES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'pending→approved',
        'approved→applied',
        'approved→stale',
        'approved→failed',
        'pending→rejected',
        'pending→expired',
        'pending→superseded',
      ].sort(),
    );
    expect(DEPLOYMENT_STATES.filter(isFinal).sort()).toEqual(
      ['applied', 'stale', 'failed', 'rejected', 'expired', 'superseded'].sort(),
    );
  });
});

describe('errors', () => {
  it('maps every code to a 4xx or 5xx status', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(code).toMatch(/^ERR_[A-Z_]+$/);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it('uses the status classes of DESIGN 5.7', () => {
    expect(statusOf('ERR_BAD_REQUEST')).toBe(400);
    expect(statusOf('ERR_APPROVAL_MALFORMED')).toBe(400);
    expect(statusOf('ERR_PROOF_SIGNATURE')).toBe(401);
    expect(statusOf('ERR_DEVICE_REVOKED')).toBe(403);
    expect(statusOf('ERR_NOT_FOUND')).toBe(404);
    expect(statusOf('ERR_DEPLOYMENT_NOT_PENDING')).toBe(409);
    expect(statusOf('ERR_BODY_TOO_LARGE')).toBe(413);
    expect(statusOf('ERR_APPROVAL_SIGNATURE')).toBe(422);
    expect(statusOf('ERR_RATE_LIMITED')).toBe(429);
  });

  it('carries a code, a cause and the wire form', () => {
    const cause = new Error('inner');
    const error = new ApprovalError('ERR_APPROVAL_REPLAY', 'jti used before', { cause });
    expect(error).toBeInstanceOf(CountersignError);
    expect(error.cause).toBe(cause);
    expect(error.status).toBe(422);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'ERR_APPROVAL_REPLAY',
      message: 'jti used before',
    });
    expect(isCountersignError(error)).toBe(true);
    expect(isCountersignError(new Error('x'))).toBe(false);
  });

  it('refuses flows that are not an array of nodes with ids and types', () => {
    expect(() => parseFlows({})).toThrow(/array/);
    expect(() => parseFlows([null])).toThrow(/flows\[0\]/);
    expect(() => parseFlows([{ type: 'tab' }])).toThrow(/id/);
    expect(() => parseFlows([{ id: 'a' }])).toThrow(/type/);
    expect(() => parseFlows([{ id: 'a', type: 'tab' }])).not.toThrow();
  });
});
