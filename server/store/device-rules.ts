/**
 * The rules the store keeps about devices and invitations (DESIGN 5.5), as functions over records,
 * so every store applies the same ones inside its transactions.
 */
import { timingSafeEqual } from 'node:crypto';
import type { DeviceRecord, InvitationRecord } from './types.js';

/** True when a device may act: neither revoked nor suspended. */
export function isActive(d: Pick<DeviceRecord, 'revokedAt' | 'suspendedAt'>): boolean {
  return d.revokedAt === null && d.suspendedAt === null;
}

/**
 * The unused, unexpired invitation whose code hashes to `codeHash`, compared in constant time over
 * every invitation. An invitation made by a device that is no longer active is dead too (T5: a
 * stolen phone's invitations go with it, and a suspended one's wait for its confirmation).
 */
export function usableInvitation(
  invitations: readonly InvitationRecord[],
  devices: readonly DeviceRecord[],
  codeHash: string,
  nowMs: number,
): InvitationRecord | undefined {
  const hash = Buffer.from(codeHash, 'hex');
  const inviterActive = (by: string): boolean =>
    by === 'admin' || devices.some((d) => d.id === by && isActive(d));
  let found: InvitationRecord | undefined;
  for (const inv of invitations) {
    const stored = Buffer.from(inv.codeHash, 'hex');
    const match = stored.length === hash.length && timingSafeEqual(hash, stored);
    if (
      match &&
      inv.usedAt === null &&
      Date.parse(inv.expiresAt) > nowMs &&
      inviterActive(inv.by)
    ) {
      found = inv;
    }
  }
  return found;
}

/**
 * Every device `revokedId` invited, and the devices they invited in turn, that is not revoked:
 * the devices a revocation suspends (5.5). Each is listed once, nearest first.
 */
export function invitedBy(devices: readonly DeviceRecord[], revokedId: string): DeviceRecord[] {
  const out: DeviceRecord[] = [];
  const seen = new Set([revokedId]);
  for (let queue = [revokedId]; queue.length > 0;) {
    const inviter = queue.shift()!;
    for (const d of devices) {
      if (d.invitedBy !== inviter || seen.has(d.id) || d.revokedAt !== null) continue;
      seen.add(d.id);
      out.push(d);
      queue.push(d.id);
    }
  }
  return out;
}
