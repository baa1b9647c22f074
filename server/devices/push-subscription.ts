import { ValidationError, type PushSubscriptionJson } from '../../protocol/index.js';

function b64urlBytes(value: unknown): number {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(value) || value.length > 200)
    return -1;
  return Buffer.from(value.replace(/=+$/, ''), 'base64url').length;
}

/**
 * Checks the shape of a `PushSubscription.toJSON()` (or null). Where its endpoint may point (https,
 * public addresses: 5.6) is `checkPushEndpoint`'s to say, with a lookup this parser cannot make.
 */
export function parsePushSubscription(input: unknown): PushSubscriptionJson | null {
  if (input === null) return null;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('push must be a PushSubscription JSON object or null');
  }
  const p = input as Record<string, unknown>;
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
  const keys = p.keys as Record<string, unknown> | null;
  if (typeof keys !== 'object' || keys === null) throw new ValidationError('push.keys is missing');
  if (b64urlBytes(keys.p256dh) !== 65)
    throw new ValidationError('push.keys.p256dh must be a P-256 point');
  if (b64urlBytes(keys.auth) !== 16) throw new ValidationError('push.keys.auth must be 16 bytes');
  const exp = p.expirationTime;
  if (exp !== undefined && exp !== null && typeof exp !== 'number') {
    throw new ValidationError('push.expirationTime must be a number or null');
  }
  return {
    endpoint: url.href,
    expirationTime: (exp as number | null | undefined) ?? null,
    keys: { p256dh: keys.p256dh as string, auth: keys.auth as string },
  };
}
