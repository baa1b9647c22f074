/** The loopback admin API the command line calls (5.7 `/admin/…`): what has no device-API twin. */
import { ValidationError } from '../errors.js';
import { parsePolicy, type Policy } from '../policy.js';
import { booleanAt, idAt, labelAt, objectAt, textAt } from './guards.js';

/** `POST /admin/instances`: add an instance (or, with `rotate`, issue an existing one a new token). */
export type InstanceRequest = { name: string; policy: Partial<Policy>; rotate: boolean };

/** Checks an instance request; the policy's settings are checked here, merged by the server. */
export function parseInstanceRequest(input: unknown): InstanceRequest {
  const b = objectAt(input, 'the instance');
  const given = b.policy === undefined || b.policy === null ? {} : objectAt(b.policy, 'policy');
  let full: Policy;
  try {
    full = parsePolicy(given);
  } catch (cause) {
    throw new ValidationError((cause as Error).message, { cause });
  }
  const policy: Partial<Policy> = {};
  if (given.requiredApprovals !== undefined) policy.requiredApprovals = full.requiredApprovals;
  if (given.forbidSelfApproval !== undefined) policy.forbidSelfApproval = full.forbidSelfApproval;
  if (given.expiresIn !== undefined) policy.expiresIn = full.expiresIn;
  return {
    name: labelAt(b.name, 'name'),
    policy,
    rotate: b.rotate === undefined ? false : booleanAt(b.rotate, 'rotate'),
  };
}

/** `POST /admin/instances` → 201, and `countersign instances add --json`: the token is shown once. */
export type IssuedInstance = { id: string; name: string; token: string };

/** Checks an issued instance. */
export function parseIssuedInstance(input: unknown): IssuedInstance {
  const b = objectAt(input, 'the instance');
  return {
    id: idAt(b.id, 'id'),
    name: labelAt(b.name, 'name'),
    token: textAt(b.token, 'token', 1024, 8),
  };
}
