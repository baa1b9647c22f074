/**
 * `first-card-400-ms` and `review-gestures-*` (DESIGN 9 and 8; issue: big reviews).
 *
 * - first-card-400-ms: a 406-change deployment (the Hackuarium bioreactor's real flows, version 04,
 *   imported into an empty Node-RED), from navigation start to when the first card is drawn and its
 *   Approve button usable (the app's `countersign:first-card` mark, set once the card has rendered;
 *   the footer with Approve renders with it), in Debian's Chromium with 4× CPU throttling, against
 *   the real server; the median of 7 opens with the app installed.
 * - review-gestures-*: the gestures (swipes and taps) a person needs to review and sign Hackuarium
 *   03→04 and the 406-node import, counted by the browser test `test/e2e/review-gestures.test.ts`,
 *   which reviews them against a real Node-RED with the plugin and checks that both apply exactly.
 *   It runs in its own process (Node-RED's modules are singletons) and hands its counts back.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Flows } from '../protocol/index.js';
import { historyVersion } from '../test/helpers/fixtures.js';
import { startPushReceiver } from '../test/helpers/push-receiver.js';
import { startTestServer } from '../test/helpers/server.js';
import {
  allowNotifications,
  enrollThroughUi,
  ensurePwaBuilt,
  installPushSeam,
  launchBrowser,
} from '../test/pwa/browser.js';
import { median, type BenchRow } from './row.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const version = (n: string): Flows => historyVersion('Hackuarium__bioreactor-docker', n);

/**
 * The first card's mark, once the card is drawn and Approve is there and enabled (searched through
 * the shadow roots without named helpers, which the runner's transform would add to the page). On a
 * group card that shows high-risk changes in full, the enabled Approve button first reads "N to
 * read" (`aria-disabled`) and brings the next one into view: what follows is reading, not waiting.
 * The shadow roots are searched only once the mark is there: a search on every poll took the
 * throttled page's time while it loaded (about 250 ms of the 400-change figure).
 */
function approveUsable(): number | undefined {
  const mark = performance.getEntriesByName('countersign:first-card')[0]?.startTime;
  if (mark === undefined) return undefined;
  const stack: ParentNode[] = [document];
  let review: Element | null = null;
  while (stack.length > 0 && review === null) {
    const at = stack.pop()!;
    review = at.querySelector('cs-review');
    for (const el of at.querySelectorAll('*')) if (el.shadowRoot) stack.push(el.shadowRoot);
  }
  const approve = review?.shadowRoot?.querySelector('footer .approve');
  return approve instanceof HTMLButtonElement && !approve.disabled ? mark : undefined;
}

async function firstCard400(): Promise<number> {
  const receiver = await startPushReceiver();
  const server = await startTestServer({ appDir: ensurePwaBuilt() });
  const browser = await launchBrowser({ reducedMotion: 'no-preference' });
  try {
    const { token } = await server.addInstance('bioreactor-2');
    const { id } = await server.propose(token, [], version('04'));
    await installPushSeam(browser.context, receiver.createPushSubscription());
    await allowNotifications(browser.context, server.url);
    const page = await browser.context.newPage();
    const invitation = await server.invite({ owner: 'alice', name: 'phone' });
    await enrollThroughUi(page, invitation.url, 'bench phone');
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const open = async (): Promise<number> => {
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/review/${id}`);
      const handle = await page.waitForFunction(approveUsable, undefined, {
        timeout: 60_000,
        polling: 50,
      });
      return (await handle.jsonValue()) as number;
    };
    await open(); // the first open warms the code cache
    const warm: number[] = [];
    for (let i = 0; i < 7; i++) warm.push(await open());
    return median(warm);
  } finally {
    await browser.close();
    await server.close();
    await receiver.close();
  }
}

/** Runs the gesture-counting browser test and reads its counts. */
function gestures(): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-gestures-'));
  const out = join(dir, 'counts.json');
  try {
    execFileSync('npx', ['vitest', 'run', 'test/e2e/review-gestures.test.ts'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, COUNTERSIGN_GESTURES_OUT: out },
    });
    return JSON.parse(readFileSync(out, 'utf8')) as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  const ms = await firstCard400();
  const counts = gestures();
  const edit = counts['hackuarium-03-04'] ?? Number.NaN;
  const imported = counts['hackuarium-import-406'] ?? Number.NaN;
  return [
    { name: 'first-card-400-ms', value: ms, unit: 'ms', budget: '≤ 1000', ok: ms <= 1000 },
    {
      name: 'review-gestures-hackuarium-03-04',
      value: edit,
      unit: 'gestures',
      budget: '≤ 12',
      ok: edit <= 12,
    },
    {
      name: 'review-gestures-hackuarium-import-406',
      value: imported,
      unit: 'gestures',
      budget: '≤ 25',
      ok: imported <= 25,
    },
  ];
}
