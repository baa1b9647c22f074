import { CountersignError, fingerprintOf, type DeviceView } from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import type { Context } from '../context.js';
import { checkPushEndpoint } from '../push/endpoint-policy.js';
import type { DeviceRecord } from '../store/types.js';
import { parsePushSubscription } from './push-subscription.js';

/** The view of one device (5.7), `self` marking the caller's. */
export function deviceView(d: DeviceRecord, selfId: string | null): DeviceView {
  return {
    id: d.id,
    fingerprint: fingerprintOf(d.id),
    owner: d.owner,
    name: d.name,
    createdAt: d.createdAt,
    revokedAt: d.revokedAt,
    suspendedAt: d.suspendedAt,
    push: d.push !== null,
    self: d.id === selfId,
  };
}

/** `GET /devices`: every device, `self` marking the caller's. */
export async function listDevices(ctx: Context, selfId: string | null): Promise<DeviceView[]> {
  return (await ctx.store.devices()).map((d) => deviceView(d, selfId));
}

/**
 * Revokes device `id` (5.5, T5), by another device, itself, or `admin`: from now on its proofs and
 * approvals are refused, its push subscription is dropped, and the other devices are told. Every
 * device it invited, and theirs, is suspended until another active device or the command line
 * confirms it: a stolen phone's invitations do not outlive it.
 */
export async function revokeDevice(
  ctx: Context,
  id: string,
  by: DeviceRecord | 'admin',
): Promise<{ id: string; revokedAt: string; suspended: string[] }> {
  const byId = by === 'admin' ? 'admin' : by.id;
  const { device, changed, suspended } = await ctx.store.revokeDevice(id, isoOf(ctx.clock), (r) => [
    { type: 'device-revoked', data: { device: r.device.id, by: byId } },
    ...r.suspended.map((s) => ({
      type: 'device-suspended',
      data: { device: s.id, invitedBy: s.invitedBy, revoked: r.device.id },
    })),
  ]);
  if (changed) {
    const byLabel = by === 'admin' ? 'admin' : fingerprintOf(by.id);
    ctx.log.info(`device ${fingerprintOf(device.id)} revoked by ${byLabel}`);
    for (const s of suspended) {
      ctx.log.warn(
        `device ${fingerprintOf(s.id)} (${s.owner}) suspended: invited through ${fingerprintOf(device.id)}`,
      );
    }
    ctx.notifier.notify(
      {
        kind: 'device-revoked',
        id: device.id,
        instance: ctx.config.name,
        changes: 0,
        by: byLabel,
        expiresAt: null,
        ttl: 86_400,
        topic: `dev${device.id.slice(0, 29)}`,
      },
      device.id,
    );
  }
  return { id: device.id, revokedAt: device.revokedAt!, suspended: suspended.map((s) => s.id) };
}

/** Confirms a suspended device (5.5): by another active device, or `admin` (the command line). */
export async function confirmDevice(
  ctx: Context,
  id: string,
  by: DeviceRecord | 'admin',
): Promise<DeviceView> {
  const byId = by === 'admin' ? 'admin' : by.id;
  const device = await ctx.store.confirmDevice(id, byId, [
    { type: 'device-confirmed', data: { device: id, by: byId } },
  ]);
  ctx.log.info(
    `device ${fingerprintOf(device.id)} confirmed by ${by === 'admin' ? 'admin' : fingerprintOf(byId)}`,
  );
  return deviceView(device, by === 'admin' ? null : by.id);
}

/** `PUT /devices/self/push`: the caller's new subscription (or null), checked as 5.6 says. */
export async function setPush(ctx: Context, device: DeviceRecord, body: unknown): Promise<void> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('push' in body)) {
    throw new CountersignError('ERR_BAD_REQUEST', 'the body must be {push}');
  }
  const push = parsePushSubscription((body as { push: unknown }).push);
  if (push) await checkPushEndpoint(push.endpoint, ctx.pushPolicy);
  await ctx.store.setPush(device.id, push, [
    { type: 'device-push', data: { device: device.id, push: push !== null } },
  ]);
}
