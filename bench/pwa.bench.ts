/**
 * The phone app's budgets (DESIGN 9).
 *
 * - pwa-js-gzip-kb: every JavaScript file a review loads before Approve is usable, as Chromium
 *   fetched them opening one (the entry, its static imports, and the chunks loaded on demand: the
 *   cards the deployment needs, the T8 change model), each gzipped (level 9). `pwa-first-load-js-gzip-kb` is the entry and its static imports alone
 *   (Vite's build manifest), as information.
 * - first-card-ms: from navigation start to the moment Approve is usable — the first review card
 *   rendered and the phone's snapshot check (T8) passed (the app's `countersign:approve-ready`
 *   mark) — in Debian's Chromium with 4× CPU throttling (DevTools Protocol
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

/** The JavaScript files of the entry chunk and its static imports, from Vite's build manifest. */
function firstLoadFiles(dir: string): string[] {
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
  return [...seen].map((key) => manifest[key]!.file).filter((file) => file.endsWith('.js'));
}

/** Gzipped size in KB of the entry chunk and its static imports. */
export function firstLoadJsKb(dir: string): number {
  return gzipKb(dir, firstLoadFiles(dir));
}

async function firstCard(): Promise<{ cold: number; warm: number[]; scripts: string[] }> {
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
        () => performance.getEntriesByName('countersign:approve-ready')[0]?.startTime,
        undefined,
        { timeout: 30_000, polling: 50 },
      );
      return (await handle.jsonValue()) as number;
    };
    // Enrolment is the app's first load: the worker installs and precaches the shell there.
    const invitation = await server.invite({ owner: 'alice', name: 'phone' });
    await enrollThroughUi(page, invitation.url, 'bench phone');
    const cold = await open();
    // The files fetched before Approve was usable; what the app fetches after it (the summary,
    // the service worker's registration) is not on that path.
    const scripts = await page.evaluate(() => {
      const ready = performance.getEntriesByName('countersign:approve-ready')[0]!.startTime;
      return performance
        .getEntriesByType('resource')
        .filter((e) => e.startTime <= ready)
        .map((e) => new URL(e.name).pathname)
        .filter((path) => path.endsWith('.js'));
    });
    const warm: number[] = [];
    for (let i = 0; i < 9; i++) warm.push(await open());
    return { cold, warm, scripts };
  } finally {
    await browser.close();
    await server.close();
    await receiver.close();
  }
}

/** Gzipped size in KB of the built files at these paths of the app. */
function gzipKb(dir: string, paths: string[]): number {
  let bytes = 0;
  for (const path of new Set(paths.map((p) => p.replace(/^\/+/, '')))) {
    bytes += gzipSync(readFileSync(join(dir, path)), { level: 9 }).length;
  }
  return bytes / 1024;
}

export async function run(): Promise<BenchRow[]> {
  const dir = ensurePwaBuilt();
  const firstLoad = firstLoadJsKb(dir);
  const { cold, warm, scripts } = await firstCard();
  // The first load counts even if the browser took a file from its memory cache unreported.
  const files = [
    ...new Set([...firstLoadFiles(dir), ...scripts.map((p) => p.replace(/^\/+/, ''))]),
  ];
  const kb = gzipKb(dir, files);
  const ms = median(warm);
  return [
    {
      name: 'pwa-js-gzip-kb',
      value: kb,
      unit: 'KB',
      budget: `≤ 60 (the ${files.length} files a review loads)`,
      ok: kb <= 60,
    },
    {
      name: 'pwa-first-load-js-gzip-kb',
      value: firstLoad,
      unit: 'KB',
      budget: 'info (entry and static imports)',
      ok: true,
    },
    {
      name: 'first-card-ms',
      value: ms,
      unit: 'ms',
      budget: '≤ 1000 (to Approve usable: card shown, T8 check passed)',
      ok: ms <= 1000,
    },
    {
      name: 'first-card-first-open-ms',
      value: cold,
      unit: 'ms',
      budget: 'info (one run)',
      ok: true,
    },
  ];
}
