/** An enrolled phone ready to talk to its server: the stored record, its key, and the API client. */
import { deviceKeyFrom, type DeviceKey } from './protocol.js';
import { Api } from './api.js';
import type { DeviceRecord } from './device-store.js';

/** What every signed-in view needs. */
export type Session = { device: DeviceRecord; key: DeviceKey; api: Api };

/** The session of a stored device, against this page's origin. */
export async function sessionOf(
  device: DeviceRecord,
  onDeviceGone: ConstructorParameters<typeof Api>[2],
): Promise<Session> {
  const key = await deviceKeyFrom(device.privateKey, device.publicKey);
  return { device, key, api: new Api(location.origin, key, onDeviceGone) };
}
