/** An instance's approval policy (DESIGN 4): one type and one parser for the server and the plugin. */
import { ValidationError } from './errors.js';
import { objectAt } from './wire/guards.js';

/** An instance's approval policy. */
export type Policy = {
  /** Distinct owners whose approval is needed. */
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

/** Longest wait a policy may set. */
const MAX_DURATION_S = 365 * 86400;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

function configError(message: string): ValidationError {
  return new ValidationError(message, { code: 'ERR_CONFIG' });
}

/** Seconds of a duration such as `'90s'`, `'30m'`, `'24h'`, `'7d'` (or a number of seconds), up to 365 days. */
export function durationSeconds(value: unknown, name = 'expiresIn'): number {
  if (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value > 0 &&
    value <= MAX_DURATION_S
  ) {
    return value;
  }
  if (typeof value === 'string' && value.length <= 20) {
    const match = /^(\d{1,6})\s*([smhd])$/.exec(value.trim());
    if (match) {
      const seconds = Number(match[1]) * UNIT_SECONDS[match[2]!]!;
      if (seconds > 0 && seconds <= MAX_DURATION_S) return seconds;
    }
  }
  throw configError(`${name} must be a duration such as "30m", "24h" or "7d" (up to 365 days)`);
}

/** Checks a (partial) policy over `base`; errors name the setting (`ERR_CONFIG`). */
export function parsePolicy(input: unknown, base: Policy = DEFAULT_POLICY): Policy {
  if (input === undefined || input === null) return { ...base };
  let p: Readonly<Record<string, unknown>>;
  try {
    p = objectAt(input, 'policy');
  } catch (cause) {
    throw configError((cause as Error).message);
  }
  const out: Policy = { ...base };
  if (p.requiredApprovals !== undefined) {
    const n = p.requiredApprovals;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100) {
      throw configError('requiredApprovals must be an integer from 1 to 100');
    }
    out.requiredApprovals = n;
  }
  if (p.forbidSelfApproval !== undefined) {
    if (typeof p.forbidSelfApproval !== 'boolean') {
      throw configError('forbidSelfApproval must be true or false');
    }
    out.forbidSelfApproval = p.forbidSelfApproval;
  }
  if (p.expiresIn !== undefined) {
    durationSeconds(p.expiresIn);
    out.expiresIn =
      typeof p.expiresIn === 'number'
        ? `${p.expiresIn}s`
        : String(p.expiresIn).trim().replace(/\s+/, '');
  }
  return out;
}
