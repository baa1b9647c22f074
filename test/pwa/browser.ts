/**
 * The real PWA in Debian's Chromium, for browser tests, screenshots and the benchmark: a built app
 * (`dist/pwa`), served by the real approval server, opened in a fresh headless Chromium profile.
 *
 * The one seam: `pushManager.subscribe` cannot reach a push service here, so `installPushSeam`
 * makes it return a subscription of the local push receiver (what a real push service would have
 * returned). Everything else — service worker, IndexedDB keys, DPoP, Web Push encryption, CDP push
 * delivery — is the real thing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type BrowserContext,
  type CDPSession,
  type Page,
  type Worker,
} from 'playwright-core';
import type { PushSubscriptionJson } from '../../protocol/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the built PWA is. */
export const PWA_DIR = join(root, 'dist/pwa');

/** Chromium flags for headless runs here (see COMMON.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Builds the PWA when `dist/pwa` has no build yet (`npm test` builds it first anyway). */
export function ensurePwaBuilt(): string {
  if (!existsSync(join(PWA_DIR, 'index.html')) || !existsSync(join(PWA_DIR, 'sw.js'))) {
    execFileSync('npx', ['vite', 'build', '--config', 'pwa/vite.config.ts', '--logLevel', 'warn'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  return PWA_DIR;
}

/** A Chromium profile of its own. */
export type Browser = { context: BrowserContext; close(): Promise<void> };

/** Options for a phone-shaped browser. */
export type BrowserOptions = {
  width?: number;
  height?: number;
  colorScheme?: 'light' | 'dark';
  reducedMotion?: 'reduce' | 'no-preference';
  deviceScaleFactor?: number;
  /** Another browser's user agent (e.g. an iPhone's), for platform-specific screens. */
  userAgent?: string;
  /** More Chromium flags (e.g. host resolver rules, a trusted certificate's SPKI hash). */
  args?: string[];
};

/** Launches Chromium with a new empty profile, sized like a phone (360×640 by default). */
export async function launchBrowser(options: BrowserOptions = {}): Promise<Browser> {
  const userDir = mkdtempSync(join(tmpdir(), 'countersign-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    viewport: { width: options.width ?? 360, height: options.height ?? 640 },
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
    hasTouch: true,
    colorScheme: options.colorScheme ?? 'light',
    reducedMotion: options.reducedMotion ?? 'reduce',
    ...(options.userAgent !== undefined ? { userAgent: options.userAgent } : {}),
  });
  // Generous waits: the machine is shared, and a busy run is slow, not wrong.
  context.setDefaultTimeout(60_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/**
 * The narrowest seam for push: `PushManager.subscribe` resolves to a subscription pointing at the
 * local receiver, as a real push service would; `getSubscription` starts empty.
 */
export async function installPushSeam(
  context: BrowserContext,
  subscription: PushSubscriptionJson,
): Promise<void> {
  // A string, not a function: the test runner's transform would add helpers the page lacks.
  await context.addInitScript(`(() => {
    const sub = ${JSON.stringify(subscription)};
    const made = {
      endpoint: sub.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: null },
      getKey: () => null,
      toJSON: () => sub,
      unsubscribe: async () => true,
    };
    let current = null;
    PushManager.prototype.subscribe = async function subscribe() {
      current = made;
      return made;
    };
    PushManager.prototype.getSubscription = async function getSubscription() {
      return current;
    };
  })();`);
}

/** Grants notifications to the server's origin (as a person tapping "Allow" would). */
export async function allowNotifications(context: BrowserContext, origin: string): Promise<void> {
  await context.grantPermissions(['notifications'], { origin });
}

/** What the enrolment screen showed. */
export type Enrolled = { fingerprint: string };

/** Opens an invitation link and enrols through the real UI; returns the fingerprint shown. */
export async function enrollThroughUi(
  page: Page,
  url: string,
  name = 'Test phone',
): Promise<Enrolled> {
  await page.goto(url);
  const input = page.getByLabel('Name for this phone');
  await input.fill(name);
  await page.getByRole('button', { name: /enrol/i }).click();
  const fingerprint = page.locator('cs-enroll .fingerprint');
  await fingerprint.waitFor();
  return { fingerprint: (await fingerprint.innerText()).trim() };
}

/** A CDP session with the service worker domain on, and the registration id of the app's worker. */
/** The app's service worker registration, as the DevTools Protocol names it, for `deliverPush`. */
export type ServiceWorkerHandle = {
  cdp: CDPSession;
  registrationId: string;
  origin: string;
  context: BrowserContext;
};

export async function serviceWorkerOf(page: Page): Promise<ServiceWorkerHandle> {
  const origin = new URL(page.url()).origin;
  const cdp = await page.context().newCDPSession(page);
  const found = new Promise<string>((resolveId, reject) => {
    const timer = setTimeout(() => reject(new Error('no service worker registration')), 60_000);
    cdp.on('ServiceWorker.workerVersionUpdated', (event) => {
      for (const v of event.versions) {
        if (v.status === 'activated' && v.scriptURL.startsWith(origin)) {
          clearTimeout(timer);
          resolveId(v.registrationId);
        }
      }
    });
  });
  await cdp.send('ServiceWorker.enable');
  return { cdp, registrationId: await found, origin, context: page.context() };
}

/** The running worker of `sw`'s origin, started if Chromium stopped it for idleness. */
async function runningWorker(sw: ServiceWorkerHandle): Promise<Worker> {
  const find = (): Worker | undefined =>
    sw.context.serviceWorkers().find((w) => w.url().startsWith(sw.origin));
  const running = find();
  if (running !== undefined) return running;
  const started = sw.context.waitForEvent('serviceworker', {
    predicate: (w) => w.url().startsWith(sw.origin),
    timeout: 60_000,
  });
  await sw.cdp.send('ServiceWorker.startWorker', { scopeURL: `${sw.origin}/` });
  return find() ?? (await started);
}

/**
 * Delivers a push message (the decrypted payload text) to the app's real service worker, and
 * waits until the worker's `push` event has fired. On a busy machine Chromium sometimes drops a
 * DevTools delivery that races with stopping or starting the idle worker (a real push service
 * redelivers what was not acknowledged), so an unacknowledged delivery is repeated, at most 3 times.
 */
export async function deliverPush(sw: ServiceWorkerHandle, data: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const worker = await runningWorker(sw);
      // Counts push events from here on, beside the app's own handler.
      const before = await worker.evaluate(() => {
        const scope = self as unknown as { __pushesSeen?: number } & EventTarget;
        if (scope.__pushesSeen === undefined) {
          scope.__pushesSeen = 0;
          scope.addEventListener('push', () => (scope.__pushesSeen! += 1));
        }
        return scope.__pushesSeen;
      });
      await sw.cdp.send('ServiceWorker.deliverPushMessage', {
        origin: sw.origin,
        registrationId: sw.registrationId,
        data,
      });
      const end = Date.now() + 10_000;
      while (Date.now() < end) {
        const seen = await worker.evaluate(
          () => (self as unknown as { __pushesSeen: number }).__pushesSeen,
        );
        if (seen > before) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch (error) {
      // The worker stopped under us (its counter went with it): deliver again to a running one.
      if (!(error instanceof Error) || !/closed|destroyed|Target/i.test(error.message)) throw error;
    }
  }
  throw new Error('the service worker did not receive the push after 3 deliveries');
}

/** The notifications the service worker is showing. */
export async function notificationsOf(
  page: Page,
): Promise<Array<{ title: string; body: string; tag: string; data: unknown; actions: number }>> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const list = await registration.getNotifications();
    return list.map((n) => ({
      title: n.title,
      body: n.body,
      tag: n.tag,
      data: n.data as unknown,
      actions: ((n as Notification & { actions?: unknown[] }).actions ?? []).length,
    }));
  });
}

type Shown = Awaited<ReturnType<typeof notificationsOf>>;

/**
 * Delivers a push and waits until the notifications shown satisfy `done`; returns them. Headless
 * Chromium here sometimes loses a notification the worker showed (its `showNotification` resolved,
 * yet `getNotifications()` never lists it: seen about once in 5 runs on a busy machine), so the
 * push is delivered again when nothing shows within 10 s, at most 3 times; every push the app
 * sends is idempotent (one tag per deployment or device).
 */
export async function pushUntilShown(
  sw: ServiceWorkerHandle,
  page: Page,
  data: string,
  done: (shown: Shown) => boolean,
): Promise<Shown> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) console.warn(`push delivered again (${attempt + 1}): no notification in 10 s`);
    await deliverPush(sw, data);
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      const shown = await notificationsOf(page);
      if (done(shown)) return shown;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('the notification did not show after 3 deliveries');
}

/** The card-renderer harness, built with Vite and served over http: `page.goto(url)`. */
export async function startCardHarness(): Promise<{ url: string; close(): Promise<void> }> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'countersign-harness-'));
  await build({
    configFile: false,
    root: join(root, 'test/pwa/harness'),
    base: './',
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, assetsInlineLimit: 0 },
  });
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = join(outDir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(outDir)) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => {
        const type = file.endsWith('.js')
          ? 'text/javascript'
          : file.endsWith('.css')
            ? 'text/css'
            : 'text/html';
        res.writeHead(200, { 'content-type': type }).end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/`,
    async close() {
      await new Promise<void>((ok) => server.close(() => ok()));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
