import { CountersignError, fingerprintOf, type DeviceView } from '../../protocol/index.js';
import { isoOf } from '../clock.js';
import type { Context } from '../context.js';
import type { DeviceRecord } from '../store/types.js';
import { parsePushSubscription } from './push-subscription.js';

/** `GET /devices`: every device, `self` marking the caller's. */
export function listDevices(ctx: Context, selfId: string | null): DeviceView[] {
  return ctx.store.data.devices.map((d) => ({
    id: d.id,
    fingerprint: fingerprintOf(d.id),
    owner: d.owner,
    name: d.name,
    createdAt: d.createdAt,
    revokedAt: d.revokedAt,
    push: d.push !== null,
    self: d.id === selfId,
  }));
}

/**
 * Revokes device `id` (5.5, T5), by another device, itself, or `admin`: from now on its proofs and
 * approvals are refused, its push subscription is dropped, and the other devices are told.
 */
export async function revokeDevice(
  ctx: Context,
  id: string,
  by: DeviceRecord | 'admin',
): Promise<{ id: string; revokedAt: string }> {
  const result = await ctx.store.update((data) => {
    const device = data.devices.find((d) => d.id === id);
    if (!device) throw new CountersignError('ERR_NOT_FOUND', 'no such device');
    if (device.revokedAt !== null) return { device, changed: false };
    device.revokedAt = isoOf(ctx.clock);
    device.push = null;
    return { device, changed: true };
  });
  const { device, changed } = result;
  if (changed) {
    const byLabel = by === 'admin' ? 'admin' : fingerprintOf(by.id);
    await ctx.store.audit.append('device-revoked', {
      device: device.id,
      by: by === 'admin' ? 'admin' : by.id,
    });
    ctx.log.info(`device ${fingerprintOf(device.id)} revoked by ${byLabel}`);
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
  return { id: device.id, revokedAt: device.revokedAt! };
}

/** `PUT /devices/self/push`: the caller's new subscription (or null). */
export async function setPush(ctx: Context, device: DeviceRecord, body: unknown): Promise<void> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('push' in body)) {
    throw new CountersignError('ERR_BAD_REQUEST', 'the body must be {push}');
  }
  const push = parsePushSubscription((body as { push: unknown }).push);
  await ctx.store.update((data) => {
    const d = data.devices.find((x) => x.id === device.id);
    if (d && d.revokedAt === null) d.push = push;
  });
  await ctx.store.audit.append('device-push', { device: device.id, push: push !== null });
}
