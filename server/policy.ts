import { ValidationError } from '../protocol/index.js';

/** An instance's approval policy (DESIGN 4). */
export type Policy = {
  /** Distinct devices whose approval is needed. */
  requiredApprovals: number;
  /** A device owned by the deploying user may not decide. */
  forbidSelfApproval: boolean;
  /** How long a pending deployment waits, e.g. `'24h'`. */
  expiresIn: string;
};

/** The defaults of DESIGN 4. */
export const DEFAULT_POLICY: Policy = {
  requiredApprovals: 1,
  forbidSelfApproval: false,
  expiresIn: '24h',
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds of a duration such as `'90s'`, `'30m'`, `'24h'`, `'7d'` (or a number of seconds). */
export function durationSeconds(value: unknown, name = 'expiresIn'): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string') {
    const match = /^(\d{1,6})\s*([smhd])$/.exec(value.trim());
    if (match) {
      const seconds = Number(match[1]) * UNIT_SECONDS[match[2]!]!;
      if (seconds > 0 && seconds <= 365 * 86400) return seconds;
    }
  }
  throw new ValidationError(
    `${name} must be a duration such as "30m", "24h" or "7d" (up to 365 days)`,
    { code: 'ERR_CONFIG' },
  );
}

/** Checks a (partial) policy over the defaults; errors name the setting. */
export function parsePolicy(input: unknown, base: Policy = DEFAULT_POLICY): Policy {
  if (input === undefined || input === null) return { ...base };
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('policy must be an object', { code: 'ERR_CONFIG' });
  }
  const p = input as Record<string, unknown>;
  const out: Policy = { ...base };
  if (p.requiredApprovals !== undefined) {
    const n = p.requiredApprovals;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100) {
      throw new ValidationError('requiredApprovals must be an integer from 1 to 100', {
        code: 'ERR_CONFIG',
      });
    }
    out.requiredApprovals = n;
  }
  if (p.forbidSelfApproval !== undefined) {
    if (typeof p.forbidSelfApproval !== 'boolean') {
      throw new ValidationError('forbidSelfApproval must be true or false', { code: 'ERR_CONFIG' });
    }
    out.forbidSelfApproval = p.forbidSelfApproval;
  }
  if (p.expiresIn !== undefined) {
    durationSeconds(p.expiresIn);
    out.expiresIn =
      typeof p.expiresIn === 'number' ? `${p.expiresIn}s` : String(p.expiresIn).trim();
  }
  return out;
}
