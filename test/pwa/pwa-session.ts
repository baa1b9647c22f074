/**
 * The setup most browser tests share: a local push receiver, the real server serving the built
 * PWA, and a fresh Chromium with the push seam and notifications allowed, one page open, and
 * (optionally) a phone enrolled through the real UI.
 *
 * ```ts
 * const session = await startPwaSession({ enrolAs: 'Pixel 8' });
 * await session.page.goto(`${session.server.url}/#/inbox`);
 * await session.close();
 * ```
 */
import type { Page } from 'playwright-core';
import type { PushSubscriptionJson } from '../../protocol/index.js';
import { startPushReceiver, type PushReceiver } from '../helpers/push-receiver.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/server.js';
import {
  allowNotifications,
  enrollThroughUi,
  ensurePwaBuilt,
  installPushSeam,
  launchBrowser,
  type Browser,
  type BrowserOptions,
} from './browser.js';

/** A Chromium ready for the app at one origin: push seam installed, notifications allowed. */
export type PwaBrowser = {
  browser: Browser;
  page: Page;
  /** The subscription `pushManager.subscribe` hands the app. */
  subscription: PushSubscriptionJson;
};

/** Launches Chromium with the push seam to `receiver` and notifications allowed at `origin`, and opens a page. */
export async function openPwaBrowser(
  receiver: PushReceiver,
  origin: string,
  options: BrowserOptions = {},
): Promise<PwaBrowser> {
  const browser = await launchBrowser(options);
  const subscription = receiver.createPushSubscription();
  await installPushSeam(browser.context, subscription);
  await allowNotifications(browser.context, origin);
  const page = await browser.context.newPage();
  return { browser, page, subscription };
}

/** Options for `startPwaSession`. */
export type PwaSessionOptions = {
  /** Where the built app is served from (default: `dist/pwa`, built when missing). */
  appDir?: string;
  /** The server's display name. */
  serverName?: string;
  browser?: BrowserOptions;
  /** Enrol alice's phone under this name through the real UI; no enrolment when absent. */
  enrolAs?: string;
  /** More settings of the test server. */
  server?: TestServerOptions;
};

/** A running push receiver, server and browser; `close()` stops all three. */
export type PwaSession = PwaBrowser & {
  server: TestServer;
  receiver: PushReceiver;
  close(): Promise<void>;
};

/** Starts a push receiver, a test server with the built app and a prepared Chromium page. */
export async function startPwaSession(options: PwaSessionOptions = {}): Promise<PwaSession> {
  const receiver = await startPushReceiver();
  const server = await startTestServer({
    ...options.server,
    appDir: options.appDir ?? ensurePwaBuilt(),
    ...(options.serverName !== undefined ? { name: options.serverName } : {}),
  });
  const opened = await openPwaBrowser(receiver, server.url, options.browser);
  if (options.enrolAs !== undefined) {
    const invitation = await server.invite({ owner: 'alice', name: 'phone' });
    await enrollThroughUi(opened.page, invitation.url, options.enrolAs);
  }
  return {
    ...opened,
    server,
    receiver,
    async close() {
      await opened.browser.close();
      await server.close();
      await receiver.close();
    },
  };
}
