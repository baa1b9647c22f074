/**
 * Renders the app icons from `icon-svg.ts` with Chromium (playwright-core) into `pwa/public/icons/`.
 * Run after changing the drawing: `npx tsx pwa/scripts/render-icons.ts`. The PNGs are committed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { badgeSvg, iconSvg } from './icon-svg.js';

const out = resolve(dirname(fileURLToPath(import.meta.url)), '../public/icons');

const targets: Array<{ file: string; size: number; svg: string }> = [
  { file: 'icon-192.png', size: 192, svg: iconSvg({ size: 192 }) },
  { file: 'icon-512.png', size: 512, svg: iconSvg({ size: 512 }) },
  { file: 'maskable-512.png', size: 512, svg: iconSvg({ size: 512, full: true }) },
  { file: 'apple-touch-icon.png', size: 180, svg: iconSvg({ size: 180, full: true }) },
  { file: 'badge-96.png', size: 96, svg: badgeSvg(96) },
];

const userDir = mkdtempSync(join(tmpdir(), 'countersign-icons-'));
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await context.newPage();
  for (const { file, size, svg } of targets) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${svg}</body></html>`,
    );
    await page.screenshot({
      path: join(out, file),
      omitBackground: true,
      clip: { x: 0, y: 0, width: size, height: size },
    });
    console.log(`wrote ${file}`);
  }
  writeFileSync(join(out, 'icon.svg'), iconSvg({ size: 512 }) + '\n');
  console.log('wrote icon.svg');
} finally {
  await context.close();
  rmSync(userDir, { recursive: true, force: true });
}
