/**
 * Notification permission and the push subscription (5.5, 5.6). Failures are reported, never
 * thrown: a phone without push still enrols, it just has to be opened to see deployments.
 */
import type { PushSubscriptionJson } from './protocol.js';

/** The outcome of asking for push. */
export type PushSetup =
  { ok: true; subscription: PushSubscriptionJson } | { ok: false; reason: string };

/** How long to wait for the push service before enrolling without it. */
const SUBSCRIBE_TIMEOUT_MS = 8_000;

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A wait that ran out: the other side never answered (not a refusal). */
class TimedOut extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimedOut(what)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Asks for notification permission. Call it straight from a tap: browsers require the gesture. */
export async function askNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  return Notification.requestPermission();
}

/** Subscribes to push with the server's VAPID key, replacing any older subscription. */
export async function subscribePush(vapidPublicKey: string): Promise<PushSetup> {
  if (!('serviceWorker' in navigator) || typeof PushManager === 'undefined') {
    return { ok: false, reason: 'This browser does not support push notifications.' };
  }
  if (typeof Notification !== 'undefined' && Notification.permission !== 'granted') {
    return { ok: false, reason: 'Notifications are not allowed for this app.' };
  }
  try {
    const registration = await withTimeout(
      navigator.serviceWorker.ready,
      10_000,
      'The service worker',
    );
    const old = await registration.pushManager.getSubscription();
    if (old !== null) await old.unsubscribe().catch(() => false);
    // Some browsers never answer when no push service is reachable: give up after a while.
    const subscription = await withTimeout(
      registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(vapidPublicKey),
      }),
      SUBSCRIBE_TIMEOUT_MS,
      'The push service',
    );
    const json = subscription.toJSON();
    if (typeof json.endpoint !== 'string' || !json.keys?.p256dh || !json.keys.auth) {
      return { ok: false, reason: 'The push service gave an incomplete subscription.' };
    }
    return {
      ok: true,
      subscription: {
        endpoint: json.endpoint,
        expirationTime: json.expirationTime ?? null,
        keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
      },
    };
  } catch (error) {
    if (error instanceof TimedOut) {
      return {
        ok: false,
        reason: `${error.message} did not answer in time: this browser may have no connection to its push service.`,
      };
    }
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `The push service refused the subscription (${detail}).` };
  }
}

/** Asks the browser to keep this app's storage (the device key) under storage pressure. */
export async function persistStorage(): Promise<boolean> {
  try {
    return (await navigator.storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}
