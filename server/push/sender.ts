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

/**
 * The real sender: web-push builds the encrypted (RFC 8291 aes128gcm) request with a VAPID
 * (RFC 8292) header, and we send it ourselves over https, connecting only to public addresses
 * (5.6; the one test origin of `policy` aside, which may be a local http receiver).
 */
export function webPushSender(options: {
  vapid: VapidKeys;
  subject: string;
  policy: PushPolicy;
  timeoutMs?: number;
}): PushSender {
  const lookup = guardedLookup(options.policy);
  const vapidDetails = {
    subject: options.subject,
    publicKey: options.vapid.publicKey,
    privateKey: options.vapid.privateKey,
  };
  return {
    send(request) {
      let url: URL;
      try {
        url = checkSendTarget(request.subscription.endpoint, options.policy);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      const details = webpush.generateRequestDetails(request.subscription, request.payload, {
        vapidDetails,
        TTL: request.ttl,
        urgency: request.urgency,
        topic: request.topic,
      });
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
