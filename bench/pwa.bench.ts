/**
 * `pwa-js-gzip-kb` and `first-card-ms` (DESIGN 9, issue 5).
 *
 * - pwa-js-gzip-kb: the JavaScript the first load fetches — the entry chunk of the built app and
 *   every chunk it imports statically (Vite's build manifest), each gzipped (level 9). Chunks loaded
 *   on demand (enrolment, devices, history, the T8 change model) are not part of the first load.
 * - first-card-ms: from navigation start to the first review card rendered (the app's
 *   `countersign:first-card` mark), in Debian's Chromium with 4× CPU throttling (DevTools Protocol
 *   `Emulation.setCPUThrottlingRate`), against the real server on this machine; the median of 9
 *   opens of a 7-change deployment, with the app installed (its service worker controls the page,
 *   as when a notification opens it). The first open after enrolment (code and caches still cold)
 *   is reported too, as information.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startPushReceiver } from '../test/helpers/push-receiver.js';
import { startTestServer } from '../test/helpers/server.js';
import {
  allowNotifications,
  enrollThroughUi,
  ensurePwaBuilt,
  installPushSeam,
  launchBrowser,
} from '../test/pwa/browser.js';
import { bioreactorScenario } from '../test/pwa/scenario.js';
import { median, type BenchRow } from './row.js';

type ManifestEntry = { file: string; imports?: string[]; isEntry?: boolean };

/** Gzipped size in KB of the entry chunk and its static imports. */
export function firstLoadJsKb(dir: string): number {
  const manifest = JSON.parse(readFileSync(join(dir, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestEntry
  >;
  const seen = new Set<string>();
  const visit = (key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const next of manifest[key]?.imports ?? []) visit(next);
  };
  for (const [key, entry] of Object.entries(manifest)) if (entry.isEntry) visit(key);
  let bytes = 0;
  for (const key of seen) {
    const file = manifest[key]!.file;
    if (file.endsWith('.js')) bytes += gzipSync(readFileSync(join(dir, file)), { level: 9 }).length;
  }
  return bytes / 1024;
}

async function firstCard(): Promise<{ cold: number; warm: number[] }> {
  const receiver = await startPushReceiver();
  const server = await startTestServer({ appDir: ensurePwaBuilt() });
  const browser = await launchBrowser({ reducedMotion: 'no-preference' });
  try {
    const { token } = await server.addInstance('bioreactor-lab');
    const s = bioreactorScenario();
    const { id } = await server.propose(token, s.base, s.target, {
      credentials: s.credentials,
      creds: s.creds,
    });
    await installPushSeam(browser.context, receiver.createPushSubscription());
    await allowNotifications(browser.context, server.url);
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const open = async (): Promise<number> => {
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/review/${id}`);
      const handle = await page.waitForFunction(
        () => performance.getEntriesByName('countersign:first-card')[0]?.startTime,
        undefined,
        { timeout: 30_000, polling: 50 },
      );
      return (await handle.jsonValue()) as number;
    };
    // Enrolment is the app's first load: the worker installs and precaches the shell there.
    const invitation = await server.invite({ owner: 'alice', name: 'phone' });
    await enrollThroughUi(page, invitation.url, 'bench phone');
    const cold = await open();
    const warm: number[] = [];
    for (let i = 0; i < 9; i++) warm.push(await open());
    return { cold, warm };
  } finally {
    await browser.close();
    await server.close();
    await receiver.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const dir = ensurePwaBuilt();
  const kb = firstLoadJsKb(dir);
  const { cold, warm } = await firstCard();
  const ms = median(warm);
  return [
    { name: 'pwa-js-gzip-kb', value: kb, unit: 'KB', budget: '≤ 60', ok: kb <= 60 },
    { name: 'first-card-ms', value: ms, unit: 'ms', budget: '≤ 1000', ok: ms <= 1000 },
    {
      name: 'first-card-first-open-ms',
      value: cold,
      unit: 'ms',
      budget: 'info (one run)',
      ok: true,
    },
  ];
}
