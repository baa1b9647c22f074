/** The VAPID token (RFC 8292) the push sender signs once per push service and reuses for an hour. */
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { vapidAuthorizer } from '../../server/push/sender.js';
import { verifyVapid } from '../helpers/push-receiver.js';

const HOUR = 60 * 60 * 1000;

function authorizer(clock: { at: number }): (audience: string) => string {
  return vapidAuthorizer({
    vapid: webpush.generateVAPIDKeys(),
    subject: 'mailto:ops@countersign.invalid',
    now: () => clock.at,
  });
}

describe('VAPID tokens', () => {
  it('reuses one valid token per push service within the hour, and names that service', () => {
    const clock = { at: Date.now() };
    const authorization = authorizer(clock);
    const fcm = authorization('https://fcm.googleapis.com');
    expect(verifyVapid(fcm, 'https://fcm.googleapis.com').aud).toBe('https://fcm.googleapis.com');
    clock.at += HOUR - 1000;
    expect(authorization('https://fcm.googleapis.com')).toBe(fcm);

    // Another push service never gets the first one's token.
    const mozilla = authorization('https://updates.push.services.mozilla.com');
    expect(mozilla).not.toBe(fcm);
    expect(verifyVapid(mozilla, 'https://updates.push.services.mozilla.com').aud).toBe(
      'https://updates.push.services.mozilla.com',
    );
  });

  it('signs a new token after an hour, and when the clock went back', () => {
    const clock = { at: Date.now() - 2 * HOUR };
    const authorization = authorizer(clock);
    const first = authorization('https://web.push.apple.com');
    clock.at += HOUR;
    const second = authorization('https://web.push.apple.com');
    expect(second).not.toBe(first);
    // Signed at the clock's time, valid for 12 hours (at most 24, as the RFC requires).
    const { exp } = verifyVapid(second, 'https://web.push.apple.com');
    expect(exp).toBe(Math.floor(clock.at / 1000) + 12 * 60 * 60);
    clock.at -= 60_000;
    expect(authorization('https://web.push.apple.com')).not.toBe(second);
  });
});
