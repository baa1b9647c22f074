import { randomBytes, timingSafeEqual } from 'node:crypto';
import { CountersignError, ValidationError } from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import { hasControl } from '../devices/invitations.js';
import type { Context } from '../context.js';
import { parsePolicy, type Policy } from '../policy.js';
import { sha256HexSync } from '../store/files.js';
import type { InstanceRecord } from '../store/types.js';

/** An instance with its bearer token, shown once. */
export type IssuedInstance = { id: string; name: string; token: string };

/** Checks an instance name: 1–100 printable characters. */
export function parseInstanceName(input: unknown): string {
  const name = typeof input === 'string' ? input.trim() : '';
  if (name.length === 0 || name.length > 100 || hasControl(name)) {
    throw new ValidationError('an instance name is 1 to 100 printable characters');
  }
  return name;
}

function newToken(): string {
  return `csi_${randomBytes(32).toString('base64url')}`;
}

/**
 * Creates the instance `name`, or, when it exists, issues it a new token (the old one stops
 * working: tokens are kept only as hashes). `policy` replaces the instance's policy when given.
 */
export async function issueInstance(
  ctx: Context,
  nameInput: unknown,
  policyInput?: Partial<Policy>,
  mode: 'create' | 'ensure' = 'ensure',
): Promise<IssuedInstance> {
  const name = parseInstanceName(nameInput);
  const token = newToken();
  const tokenHash = sha256HexSync(token);
  const result = await ctx.store.update((data) => {
    let instance = data.instances.find((i) => i.name === name);
    if (instance && mode === 'create') {
      throw new CountersignError('ERR_BAD_REQUEST', `an instance named "${name}" exists already`);
    }
    const policy = parsePolicy(policyInput, instance?.policy ?? ctx.config.policy);
    if (instance) {
      instance.tokenHash = tokenHash;
      instance.policy = policy;
      return { instance, created: false };
    }
    instance = {
      id: randomBytes(8).toString('hex'),
      name,
      tokenHash,
      policy,
      createdAt: isoOf(ctx.clock),
    };
    data.instances.push(instance);
    return { instance, created: true };
  });
  await ctx.store.audit.append(result.created ? 'instance-added' : 'instance-token', {
    instance: result.instance.id,
    name,
    policy: result.instance.policy,
  });
  ctx.log.info(`instance ${name}: ${result.created ? 'added' : 'new token issued'}`);
  return { id: result.instance.id, name, token };
}

/** The instance whose token is `bearer`; ERR_UNAUTHORIZED otherwise. */
export function instanceOfToken(ctx: Context, authorization: string | undefined): InstanceRecord {
  const match = /^Bearer ([A-Za-z0-9_.~+/=-]{1,512})$/.exec(authorization ?? '');
  if (!match)
    throw new CountersignError('ERR_UNAUTHORIZED', 'this request needs an instance token');
  const hash = Buffer.from(sha256HexSync(match[1]!), 'hex');
  let found: InstanceRecord | undefined;
  for (const instance of ctx.store.data.instances) {
    if (timingSafeEqual(hash, Buffer.from(instance.tokenHash, 'hex'))) found = instance;
  }
  if (!found) throw new CountersignError('ERR_UNAUTHORIZED', 'unknown instance token');
  return found;
}
