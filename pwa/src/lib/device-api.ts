/**
 * The device API's enrolment and device calls (DESIGN 5.5, 5.7), typed and checked by their
 * protocol/wire parsers. Kept apart from `api.ts` so that these parsers load with the screens that
 * use them (enrolment, devices, history), not with the review.
 */
import type { Api } from './api.js';
import {
  parseConfigResponse,
  parseDeviceListResponse,
  parseDeviceView,
  parseEnrollResponse,
  parseInvitationResponse,
  parseRevokeResponse,
  type ConfigResponse,
  type DeviceListResponse,
  type DeviceView,
  type EnrollRequest,
  type EnrollResponse,
  type InvitationRequest,
  type InvitationResponse,
  type PushSubscriptionJson,
  type RevokeResponse,
} from '../../../protocol/wire/devices.js';

/** `GET /config`: the server's id, name and VAPID key. */
export function configOf(api: Api): Promise<ConfigResponse> {
  return api.call('GET', '/config', parseConfigResponse, undefined, false);
}

/** `POST /devices` with an invitation code (5.5). */
export function enroll(api: Api, request: EnrollRequest): Promise<EnrollResponse> {
  return api.call('POST', '/devices', parseEnrollResponse, request, false);
}

/** `GET /devices`. */
export function devicesOf(api: Api): Promise<DeviceListResponse> {
  return api.call('GET', '/devices', parseDeviceListResponse);
}

/** `POST /devices/:id/revoke`. */
export function revoke(api: Api, id: string): Promise<RevokeResponse> {
  return api.call('POST', `/devices/${encodeURIComponent(id)}/revoke`, parseRevokeResponse);
}

/** `POST /devices/:id/confirm`: a suspended device confirmed (5.5). */
export function confirm(api: Api, id: string): Promise<DeviceView> {
  return api.call('POST', `/devices/${encodeURIComponent(id)}/confirm`, (v) => parseDeviceView(v));
}

/** `PUT /devices/self/push`: this device's new subscription, or null (the answer says only ok). */
export async function setPush(api: Api, push: PushSubscriptionJson | null): Promise<void> {
  await api.call('PUT', '/devices/self/push', () => undefined, { push });
}

/** `POST /invitations`: another device of this device's owner. */
export function invite(api: Api, request: InvitationRequest): Promise<InvitationResponse> {
  return api.call('POST', '/invitations', parseInvitationResponse, request);
}
