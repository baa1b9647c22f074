/** The server's configuration, enrolment, devices and invitations on the wire (5.5, 5.7). */
import type { DeviceJwk } from '../claims.js';
import { parseDeviceJwk } from '../device-id.js';
import { ValidationError } from '../errors.js';
import {
  booleanAt,
  idAt,
  labelAt,
  listAt,
  nullableAt,
  objectAt,
  textAt,
  timeAt,
} from './guards.js';

/** Most devices a `GET /devices` answer may list. */
const MAX_DEVICES = 10_000;

/** `GET /config`. */
export type ConfigResponse = {
  serverId: string;
  name: string;
  vapidPublicKey: string;
  version: string;
};

/** Checks a `GET /config` answer. */
export function parseConfigResponse(input: unknown): ConfigResponse {
  const b = objectAt(input, 'the configuration');
  return {
    serverId: idAt(b.serverId, 'serverId', 128),
    name: textAt(b.name, 'name', 200),
    vapidPublicKey: textAt(b.vapidPublicKey, 'vapidPublicKey', 200),
    version: textAt(b.version, 'version', 100),
  };
}

/** A `PushSubscription.toJSON()`. */
export type PushSubscriptionJson = {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
};

/** Bytes of a base64url value (padding allowed), or -1 when it is not one. */
function base64urlBytes(value: unknown): number {
  if (typeof value !== 'string' || value.length > 200 || !/^[A-Za-z0-9_-]*={0,2}$/.test(value)) {
    return -1;
  }
  const chars = value.replace(/=+$/, '').length;
  return chars % 4 === 1 ? -1 : Math.floor((chars * 3) / 4);
}

/**
 * Checks the shape of a `PushSubscription.toJSON()` (or null). Where its endpoint may point (https,
 * public addresses: 5.6) is the server's to say, with a lookup this parser cannot make.
 */
export function parsePushSubscription(input: unknown): PushSubscriptionJson | null {
  if (input === null) return null;
  const p = objectAt(input, 'push');
  let url: URL;
  try {
    if (typeof p.endpoint !== 'string' || p.endpoint.length > 2048) throw new Error('endpoint');
    url = new URL(p.endpoint);
  } catch {
    throw new ValidationError('push.endpoint must be a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ValidationError('push.endpoint must be an https URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw new ValidationError('push.endpoint must not carry credentials');
  }
  const keys = objectAt(p.keys, 'push.keys');
  if (base64urlBytes(keys.p256dh) !== 65) {
    throw new ValidationError('push.keys.p256dh must be a P-256 point');
  }
  if (base64urlBytes(keys.auth) !== 16)
    throw new ValidationError('push.keys.auth must be 16 bytes');
  const exp = p.expirationTime;
  if (exp !== undefined && exp !== null && (typeof exp !== 'number' || !Number.isFinite(exp))) {
    throw new ValidationError('push.expirationTime must be a number or null');
  }
  return {
    endpoint: url.href,
    expirationTime: exp ?? null,
    keys: { p256dh: keys.p256dh as string, auth: keys.auth as string },
  };
}

/** `POST /devices`; a `name` that is null or empty takes the invitation's. */
export type EnrollRequest = {
  code: string;
  name: string | null;
  publicJwk: DeviceJwk;
  push: PushSubscriptionJson | null;
  proof: string;
};

/** Checks an enrolment body (5.5). The proof is only checked to be text here; 5.5's checks follow. */
export function parseEnrollRequest(input: unknown): EnrollRequest {
  const b = objectAt(input, 'the enrolment');
  if (typeof b.code !== 'string' || b.code.length === 0 || b.code.length > 256) {
    throw new ValidationError('code must be the invitation code');
  }
  return {
    code: b.code,
    name: b.name === undefined || b.name === null || b.name === '' ? null : labelAt(b.name, 'name'),
    publicJwk: parseDeviceJwk(b.publicJwk),
    push: parsePushSubscription(b.push ?? null),
    proof: textAt(b.proof, 'proof', 8 * 1024, 1),
  };
}

/** `POST /devices` → 201. */
export type EnrollResponse = { id: string; fingerprint: string; owner: string; name: string };

/** Checks an enrolment answer. */
export function parseEnrollResponse(input: unknown): EnrollResponse {
  const b = objectAt(input, 'the enrolment answer');
  return {
    id: idAt(b.id, 'id'),
    fingerprint: textAt(b.fingerprint, 'fingerprint', 40),
    owner: labelAt(b.owner, 'owner'),
    name: labelAt(b.name, 'name'),
  };
}

/** `PUT /devices/self/push`. */
export type PushUpdateRequest = { push: PushSubscriptionJson | null };

/** Checks `{push}` of a push update; `push` must be present (null turns push off). */
export function parsePushUpdateRequest(input: unknown): PushUpdateRequest {
  const b = objectAt(input, 'the body');
  if (!('push' in b)) throw new ValidationError('the body must be {push}');
  return { push: parsePushSubscription(b.push) };
}

/** One entry of `GET /devices`. */
export type DeviceView = {
  id: string;
  fingerprint: string;
  owner: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  /** Set while the device is suspended: the device that invited it was revoked (5.5). */
  suspendedAt: string | null;
  push: boolean;
  self: boolean;
};

/** Checks one device view. */
export function parseDeviceView(input: unknown, name = 'the device'): DeviceView {
  const d = objectAt(input, name);
  return {
    id: idAt(d.id, `${name}.id`),
    fingerprint: textAt(d.fingerprint, `${name}.fingerprint`, 40),
    owner: labelAt(d.owner, `${name}.owner`),
    name: labelAt(d.name, `${name}.name`),
    createdAt: timeAt(d.createdAt, `${name}.createdAt`),
    revokedAt: nullableAt(d.revokedAt, `${name}.revokedAt`, timeAt),
    suspendedAt: nullableAt(d.suspendedAt ?? null, `${name}.suspendedAt`, timeAt),
    push: booleanAt(d.push, `${name}.push`),
    self: booleanAt(d.self, `${name}.self`),
  };
}

/** `GET /devices`. */
export type DeviceListResponse = { devices: DeviceView[] };

/** Checks a `GET /devices` answer. */
export function parseDeviceListResponse(input: unknown): DeviceListResponse {
  const b = objectAt(input, 'the device list');
  return { devices: listAt(b.devices, 'devices', MAX_DEVICES, parseDeviceView) };
}

/** `POST /devices/:id/revoke`: the device and those suspended with it (5.5). */
export type RevokeResponse = { id: string; revokedAt: string; suspended: string[] };

/** Checks a revocation answer. */
export function parseRevokeResponse(input: unknown): RevokeResponse {
  const b = objectAt(input, 'the revocation');
  return {
    id: idAt(b.id, 'id'),
    revokedAt: timeAt(b.revokedAt, 'revokedAt'),
    suspended: listAt(b.suspended ?? [], 'suspended', MAX_DEVICES, (v, n) => idAt(v, n)),
  };
}

/** `POST /invitations`. */
export type InvitationRequest = { owner: string; name: string };

/** Checks `{owner, name}` of an invitation request. */
export function parseInvitationRequest(input: unknown): InvitationRequest {
  const b = objectAt(input, 'the invitation');
  return { owner: labelAt(b.owner, 'owner'), name: labelAt(b.name, 'name') };
}

/** `POST /invitations` → 201, and `countersign enroll --json`. */
export type InvitationResponse = { code: string; url: string; expiresAt: string };

/** Checks an invitation answer. */
export function parseInvitationResponse(input: unknown): InvitationResponse {
  const b = objectAt(input, 'the invitation');
  return {
    code: textAt(b.code, 'code', 256, 1),
    url: textAt(b.url, 'url', 4096, 1),
    expiresAt: timeAt(b.expiresAt, 'expiresAt'),
  };
}
