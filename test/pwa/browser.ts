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
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
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
export async function serviceWorkerOf(
  page: Page,
): Promise<{ cdp: CDPSession; registrationId: string; origin: string }> {
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
  return { cdp, registrationId: await found, origin };
}

/** Delivers a push message (the decrypted payload text) to the app's real service worker. */
export async function deliverPush(
  sw: { cdp: CDPSession; registrationId: string; origin: string },
  data: string,
): Promise<void> {
  await sw.cdp.send('ServiceWorker.deliverPushMessage', {
    origin: sw.origin,
    registrationId: sw.registrationId,
    data,
  });
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
