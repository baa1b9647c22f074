/// <reference lib="webworker" />
/**
 * The service worker: precaches the app shell (Workbox injectManifest) and shows a notification for
 * every push (5.6). A notification never carries an approve action; a tap focuses an open app or
 * opens the review. `decided` and `device-revoked` pushes close the notifications they make moot.
 * Only precached shell files are served from cache: API requests always go to the network.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, precacheAndRoute } from 'workbox-precaching';
import { loadDevice } from './lib/device-store.js';
import { readPushPayload, planNotification } from './lib/push-payload.js';

type Scope = ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<string | { url: string; revision: string | null }>;
};
const sw = self as unknown as Scope;

/** What a Countersign notification remembers, for taps and for closing it later. */
type NoteData = { kind: string; id: string; instance: string; hash: string };

precacheAndRoute((self as unknown as Scope).__WB_MANIFEST);
cleanupOutdatedCaches();

sw.addEventListener('message', (event: ExtendableMessageEvent) => {
  // The page sends this only after the person chose to update (workbox-window messageSkipWaiting).
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void sw.skipWaiting();
});

// The first version takes the open page at once; later ones wait for the person (SKIP_WAITING).
clientsClaim();

async function selfId(): Promise<string | null> {
  try {
    return (await loadDevice())?.id ?? null;
  } catch {
    return null;
  }
}

async function closeWhere(match: (data: NoteData) => boolean): Promise<void> {
  for (const note of await sw.registration.getNotifications()) {
    const data = note.data as NoteData | null;
    if (data !== null && typeof data === 'object' && match(data)) note.close();
  }
}

async function windows(): Promise<readonly WindowClient[]> {
  return sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
}

async function onPush(text: string | null): Promise<void> {
  const payload = text === null ? null : readPushPayload(text);
  if (payload === null) {
    await sw.registration.showNotification('Countersign', {
      body: 'Something changed. Open Countersign to see what.',
      tag: 'unknown',
      icon: './icons/icon-192.png',
      badge: './icons/badge-96.png',
    });
    return;
  }
  const me = await selfId();
  if (payload.kind === 'decided') {
    await closeWhere((d) => d.kind === 'deployment' && d.id === payload.id);
  } else if (payload.kind === 'device-revoked') {
    await closeWhere((d) =>
      payload.id === me
        ? d.kind === 'deployment'
        : d.kind === 'device-revoked' && d.id === payload.id,
    );
  }
  const plan = planNotification(payload, me);
  const data: NoteData = {
    kind: payload.kind,
    id: payload.id,
    instance: payload.instance,
    hash: plan.hash,
  };
  await sw.registration.showNotification(plan.title, {
    body: plan.body,
    tag: plan.tag,
    silent: plan.silent,
    data,
    icon: './icons/icon-192.png',
    badge: './icons/badge-96.png',
    // A newer deployment of the same instance replaces the older notification, and rings again.
    ...({ renotify: !plan.silent, timestamp: Date.now() } as NotificationOptions),
  });
  for (const client of await windows()) client.postMessage({ type: 'push', payload });
}

sw.addEventListener('push', (event: PushEvent) => {
  event.waitUntil(onPush(event.data?.text() ?? null));
});

/** A tap: bring an open window to the review, or open one there. */
async function openApp(hash: string): Promise<void> {
  const scope = sw.registration.scope;
  const open = (await windows()).filter((c) => c.url.startsWith(scope));
  const client = open.find((c) => c.focused) ?? open[0];
  if (client !== undefined) {
    client.postMessage({ type: 'open', hash });
    try {
      await client.focus();
    } catch {
      // Focus needs the tap's user activation; the page has the message either way.
    }
    return;
  }
  await sw.clients.openWindow(new URL(hash, scope).href);
}

sw.addEventListener('notificationclick', (event: NotificationEvent) => {
  event.notification.close();
  const data = event.notification.data as NoteData | null;
  const hash =
    data !== null && typeof data?.hash === 'string' && data.hash.startsWith('#/')
      ? data.hash
      : '#/inbox';
  event.waitUntil(openApp(hash));
});
