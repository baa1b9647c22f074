import { randomBytes } from 'node:crypto';
import {
  CountersignError,
  INVITATION_TTL_S,
  ValidationError,
  type InvitationResponse,
} from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import type { Context } from '../context.js';
import { sha256HexSync } from '../store/files.js';
import type { DeviceRecord } from '../store/types.js';

/** True when `text` holds a control character (C0 or DEL). */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A person's or device's label: 1–100 characters, no control characters. */
export function parseLabel(input: unknown, name: string): string {
  if (typeof input !== 'string') throw new ValidationError(`${name} must be a string`);
  const text = input.trim();
  if (text.length === 0 || text.length > 100 || hasControl(text)) {
    throw new ValidationError(`${name} must be 1 to 100 characters without control characters`);
  }
  return text;
}

/** Checks `{owner, name}` of an invitation request. */
export function parseInvitationRequest(input: unknown): { owner: string; name: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('the invitation must be {owner, name}');
  }
  const b = input as Record<string, unknown>;
  return { owner: parseLabel(b.owner, 'owner'), name: parseLabel(b.name, 'name') };
}

/**
 * A single-use invitation (5.5): 32 random bytes, base64url; only its SHA-256 is stored; it expires
 * after 10 minutes. `by` is `admin` (the command line) or the inviting device, which may invite
 * only for its own owner: a new person is the administrator's act, so nobody can mint the second
 * approver of a quorum, or a colleague to approve their own deployment.
 */
export async function createInvitation(
  ctx: Context,
  body: unknown,
  by: DeviceRecord | 'admin',
): Promise<InvitationResponse> {
  const { owner, name } = parseInvitationRequest(body);
  if (by !== 'admin' && owner !== by.owner) {
    throw new CountersignError(
      'ERR_FORBIDDEN',
      `a device invites only another device of its own owner (${by.owner}); a new person is invited from the server's command line (countersign enroll)`,
    );
  }
  const byId = by === 'admin' ? 'admin' : by.id;
  const code = randomBytes(32).toString('base64url');
  const now = ctx.clock.now();
  const expiresAt = isoOf(ctx.clock, now + INVITATION_TTL_S * 1000);
  await ctx.store.addInvitation(
    {
      codeHash: sha256HexSync(code),
      owner,
      name,
      createdAt: isoOf(ctx.clock, now),
      expiresAt,
      usedAt: null,
      by: byId,
    },
    [{ type: 'invitation-created', data: { owner, name, by: byId, expiresAt } }],
  );
  ctx.log.info(
    `invitation for ${owner} (${name}) made by ${by === 'admin' ? 'admin' : byId.slice(0, 16)}`,
  );
  return { code, url: `${ctx.config.publicUrl}/#/enroll?code=${code}`, expiresAt };
}
