import { randomBytes } from 'node:crypto';
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
  const existing = await ctx.store.instanceByName(name);
  const policy = parsePolicy(policyInput, existing?.policy ?? ctx.config.policy);
  const { instance, created } = await ctx.store.saveInstance(
    {
      name,
      id: randomBytes(8).toString('hex'),
      tokenHash: sha256HexSync(token),
      policy,
      at: isoOf(ctx.clock),
    },
    mode,
    (r) => [
      {
        type: r.created ? 'instance-added' : 'instance-token',
        data: { instance: r.instance.id, name, policy: r.instance.policy },
      },
    ],
  );
  ctx.log.info(`instance ${name}: ${created ? 'added' : 'new token issued'}`);
  return { id: instance.id, name, token };
}

/** The instance whose token is `bearer`; ERR_UNAUTHORIZED otherwise. */
export async function instanceOfToken(
  ctx: Context,
  authorization: string | undefined,
): Promise<InstanceRecord> {
  const match = /^Bearer ([A-Za-z0-9_.~+/=-]{1,512})$/.exec(authorization ?? '');
  if (!match)
    throw new CountersignError('ERR_UNAUTHORIZED', 'this request needs an instance token');
  const found = await ctx.store.instanceByTokenHash(sha256HexSync(match[1]!));
  if (!found) throw new CountersignError('ERR_UNAUTHORIZED', 'unknown instance token');
  return found;
}
