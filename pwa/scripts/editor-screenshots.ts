/**
 * Screenshots of the Countersign notices in the real Node-RED editor for `docs/screenshots/`: a
 * deploy held for approval, the editor in step once it is applied, and a rejection with the
 * approver's note. A real embedded Node-RED with the plugin, Chromium at 1280×800; the phone is a
 * test device. Run `npm run build` first, then `npx tsx pwa/scripts/editor-screenshots.ts [out-dir]`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNodeRed } from '../../test/helpers/node-red.js';
import { launchBrowser } from '../../test/pwa/browser.js';
import {
  deploy,
  dragFromPalette,
  openEditor,
  waitForNotification,
  wire,
} from '../../test/e2e/editor-page.js';
import { shrink } from './shrink.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../../docs/screenshots'));
mkdirSync(out, { recursive: true });

const nr = await startNodeRed({ flows: [] });
const browser = await launchBrowser({ width: 1280, height: 800 });
try {
  const phone = await nr.enrollDevice({ owner: 'marta', name: "Marta's phone" });
  const page = await browser.context.newPage();
  const shot = async (name: string): Promise<void> => {
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(out, `${name}.png`) });
    shrink(join(out, `${name}.png`));
    console.log(`${name}.png`);
  };
  await openEditor(page, nr.editorUrl);
  await dragFromPalette(page, 'inject', 200, 150);
  await dragFromPalette(page, 'debug', 500, 150);
  await wire(page, 'timestamp', 'debug');
  await deploy(page);
  const held = await waitForNotification(page, /is held for approval/);
  const id = /Deployment ([0-9a-f]{12})/.exec(held)![1]!;
  await shot('editor-held');

  await phone.decide(nr.approvalUrl, id);
  await waitForNotification(page, /approved and applied/);
  await shot('editor-applied');

  await dragFromPalette(page, 'function', 350, 300);
  await deploy(page);
  const second = /Deployment ([0-9a-f]{12})/.exec(
    await waitForNotification(page, /is held for approval/),
  )![1]!;
  await phone.decide(nr.approvalUrl, second, {
    verdict: 'reject',
    note: 'An empty function node does nothing yet. Fill it in, then deploy again.',
  });
  await waitForNotification(page, /was rejected/);
  await shot('editor-rejected');
} finally {
  await browser.close();
  await nr.close();
}
