import http from 'node:http';
import https from 'node:https';
import webpush from 'web-push';
import { parseRetryAfter, type PushSubscriptionJson } from '../../protocol/index.js';
import type { VapidKeys } from '../secrets.js';
import { checkSendTarget, guardedLookup, type PushPolicy } from './endpoint-policy.js';

/** One push message to one subscription (DESIGN 5.6). */
export type PushRequest = {
  subscription: PushSubscriptionJson;
  /** The JSON payload text, at most 1 KiB. */
  payload: string;
  /** Seconds the push service keeps it. */
  ttl: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  /** ≤ 32 base64url characters: a newer message with the same topic replaces the older. */
  topic: string;
};

/** The push service's answer; network errors are thrown. */
export type PushResult = { status: number; retryAfterS?: number };

/** Sends one push message. The real one encrypts with web-push; tests may pass their own. */
export type PushSender = { send(request: PushRequest): Promise<PushResult> };

/** How long a VAPID token is valid (RFC 8292 allows at most 24 hours), in seconds. */
const VAPID_LIFETIME_S = 12 * 60 * 60;
/** How long one token is used before a new one is signed, in milliseconds. */
const VAPID_REUSE_MS = 60 * 60 * 1000;
/** Push services (origins) whose token is kept; past this the tokens are signed afresh. */
const VAPID_AUDIENCES_MAX = 64;

/**
 * The VAPID `Authorization` for a push service's origin (RFC 8292: the token names the origin as
 * its audience). A token is signed once and used for an hour, as the RFC allows, rather than
 * signed again for every message: an ES256 signature through web-push costs about 1–2 ms here,
 * paid once per device on every deployment, on the event loop that answers the plugin.
 */
export function vapidAuthorizer(options: {
  vapid: VapidKeys;
  subject: string;
  now?: () => number;
}): (audience: string) => string {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, { header: string; signedAt: number }>();
  return (audience) => {
    const at = now();
    const kept = tokens.get(audience);
    if (kept !== undefined && at >= kept.signedAt && at - kept.signedAt < VAPID_REUSE_MS) {
      return kept.header;
    }
    if (tokens.size >= VAPID_AUDIENCES_MAX) tokens.clear();
    const { Authorization: header } = webpush.getVapidHeaders(
      audience,
      options.subject,
      options.vapid.publicKey,
      options.vapid.privateKey,
      'aes128gcm',
      Math.floor(at / 1000) + VAPID_LIFETIME_S,
    );
    tokens.set(audience, { header, signedAt: at });
    return header;
  };
}

/**
 * The real sender: web-push builds the encrypted (RFC 8291 aes128gcm) request, with our VAPID
 * (RFC 8292) header (see `vapidAuthorizer`), and we send it ourselves over https, connecting only
 * to public addresses (5.6; the one test origin of `policy` aside, which may be a local http
 * receiver).
 */
export function webPushSender(options: {
  vapid: VapidKeys;
  subject: string;
  policy: PushPolicy;
  timeoutMs?: number;
}): PushSender {
  const lookup = guardedLookup(options.policy);
  const authorization = vapidAuthorizer(options);
  return {
    send(request) {
      let url: URL;
      try {
        url = checkSendTarget(request.subscription.endpoint, options.policy);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      // Without VAPID details web-push adds no Authorization; the kept token is set here.
      const details = webpush.generateRequestDetails(request.subscription, request.payload, {
        TTL: request.ttl,
        urgency: request.urgency,
        topic: request.topic,
      });
      details.headers.Authorization = authorization(url.origin);
      const exempt = url.origin === options.policy.testOrigin;
      const client = url.protocol === 'https:' ? https : http;
      return new Promise<PushResult>((resolve, reject) => {
        const req = client.request(
          url,
          {
            method: details.method,
            headers: details.headers as http.OutgoingHttpHeaders,
            timeout: options.timeoutMs ?? 10_000,
            ...(exempt ? {} : { lookup }),
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              const retryAfterS = parseRetryAfter(res.headers['retry-after'], Date.now());
              resolve({
                status: res.statusCode ?? 0,
                ...(retryAfterS === undefined ? {} : { retryAfterS }),
              });
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('push request timed out')));
        req.on('error', reject);
        req.end(details.body ?? undefined);
      });
    },
  };
}
