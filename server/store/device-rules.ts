/**
 * The rules the store keeps about devices and invitations (DESIGN 5.5), as functions over records,
 * so every store applies the same ones inside its transactions.
 */
import { timingSafeEqual } from 'node:crypto';
import { CountersignError } from '../../protocol/index.js';
import type { DeviceRecord, EnrolmentInput, InvitationRecord } from './types.js';

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

/**
 * Enrols a device under the invitation `codeHash` (5.5): the invitation must be usable (else
 * ERR_INVITATION_INVALID) and the key new (else ERR_DEVICE_EXISTS). Marks the invitation used and
 * returns it with the new device; the caller stores both.
 */
export function enrolUnder(
  invitations: readonly InvitationRecord[],
  devices: readonly DeviceRecord[],
  input: EnrolmentInput,
): { invitation: InvitationRecord; device: DeviceRecord } {
  const invitation = usableInvitation(invitations, devices, input.codeHash, input.nowMs);
  if (!invitation) {
    throw new CountersignError(
      'ERR_INVITATION_INVALID',
      'the invitation code is unknown, used or expired',
    );
  }
  if (devices.some((d) => d.id === input.id)) {
    throw new CountersignError('ERR_DEVICE_EXISTS', 'this key is already registered');
  }
  invitation.usedAt = input.at;
  const device: DeviceRecord = {
    id: input.id,
    jwk: input.jwk,
    owner: invitation.owner,
    name: input.name ?? invitation.name,
    createdAt: input.at,
    revokedAt: null,
    push: input.push,
    invitedBy: invitation.by,
    suspendedAt: null,
    suspendedBy: null,
  };
  return { invitation, device };
}

/**
 * Revokes `id` among `devices` and suspends every active device it invited, and theirs (5.5),
 * changing the records in place; `changed` lists every record changed (for the caller to store).
 */
export function revokeIn(
  devices: readonly DeviceRecord[],
  id: string,
  at: string,
): { device: DeviceRecord; suspended: DeviceRecord[]; changed: boolean } {
  const device = devices.find((d) => d.id === id);
  if (!device) throw new CountersignError('ERR_NOT_FOUND', 'no such device');
  if (device.revokedAt !== null) return { device, suspended: [], changed: false };
  device.revokedAt = at;
  device.push = null;
  const suspended = invitedBy(devices, id).filter((d) => d.suspendedAt === null);
  for (const d of suspended) {
    d.suspendedAt = at;
    d.suspendedBy = id;
  }
  return { device, suspended, changed: true };
}

/**
 * Lifts the suspension of `id`, confirmed `by` the command line (`admin`) or another active device
 * (else ERR_FORBIDDEN); a revoked device cannot be confirmed. `changed` is false when it was not
 * suspended.
 */
export function confirmIn(
  devices: readonly DeviceRecord[],
  id: string,
  by: string,
): { device: DeviceRecord; changed: boolean } {
  const device = devices.find((d) => d.id === id);
  if (!device) throw new CountersignError('ERR_NOT_FOUND', 'no such device');
  if (device.revokedAt !== null) {
    throw new CountersignError('ERR_DEVICE_REVOKED', 'a revoked device cannot be confirmed');
  }
  if (by !== 'admin') {
    const confirmer = devices.find((d) => d.id === by);
    if (by === id || !confirmer || !isActive(confirmer)) {
      throw new CountersignError(
        'ERR_FORBIDDEN',
        'a suspended device is confirmed by another active device or the command line',
      );
    }
  }
  if (device.suspendedAt === null) return { device, changed: false };
  device.suspendedAt = null;
  device.suspendedBy = null;
  return { device, changed: true };
}
