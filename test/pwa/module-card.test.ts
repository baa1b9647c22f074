/**
 * The module card of a palette change (7.1) in the real app at 360×640, read as a person sees it
 * (visible text through shadow roots): what the module is, where it came from, its size, the node
 * types it adds, each install script as code, both versions of an update, and the flows a removal
 * touches. The phone's T8 check covers module deployments too, and a function node's new library
 * shows on its card with its version. Screenshots go to docs/screenshots/, light and dark.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Flows } from '../../protocol/index.js';
import { proposeModule, sampleDescriptor } from '../helpers/module-proposal.js';
import { changesFileOf, type TestServer } from '../helpers/server.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';

const SHOTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');

let session: PwaSession;
let server: TestServer;
let page: Page;
let token: string;

/** The running flows: the roof tab uses the weather types. */
const BASE: Flows = [
  { id: 'roof', type: 'tab', label: 'Roof sensors' },
  { id: 'w1', type: 'weather-now', z: 'roof', name: 'Now', x: 100, y: 60, wires: [] },
  { id: 'w2', type: 'weather-forecast', z: 'roof', name: 'Forecast', x: 100, y: 120, wires: [] },
];

beforeAll(async () => {
  session = await startPwaSession({ enrolAs: 'Pixel 8' });
  ({ server, page } = session);
  ({ token } = await server.addInstance('greenhouse'));
}, 120_000);

afterAll(async () => {
  await session?.close();
});

/** Every visible text under the card in view, shadow roots included, in document order. */
async function cardText(): Promise<string> {
  return page.locator('cs-review .card').evaluate((card) => {
    let out = '';
    // Text as a person reads it: blocks apart, inline runs (a line of code cut into tokens) joined.
    const walk = (n: Node): void => {
      if (n.nodeType === Node.TEXT_NODE) {
        const parent = n.parentElement;
        if (parent && parent.checkVisibility() && !parent.closest('.sr-only'))
          out += n.textContent ?? '';
        return;
      }
      const el = n as Element;
      const apart = el instanceof Element && !getComputedStyle(el).display.startsWith('inline');
      if (apart) out += ' ';
      if (el.shadowRoot) walk(el.shadowRoot);
      n.childNodes.forEach(walk);
      if (apart) out += ' ';
    };
    walk(card);
    return out.replace(/\s+/g, ' ').trim();
  });
}

async function openReview(id: string): Promise<void> {
  await page.goto(`${server.url}/#/review/${id}`);
  await page.locator('cs-review .verified.ok, cs-review .verified.failed').waitFor();
}

async function shot(name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SHOTS, `${name}-360x640-${colorScheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('the module card', { timeout: 120_000 }, () => {
  it('shows an install: what, where from, size, types, scripts as code, dependencies, waiting flows', async () => {
    const { id } = await proposeModule(server, token, BASE, sampleDescriptor());
    await openReview(id);
    await page.locator('cs-review .verified.ok').waitFor();
    const text = await cardText();
    for (const part of [
      'Install',
      'Palette module',
      'High risk',
      'node-red-contrib-weather',
      'version 2.1.0',
      'Uploaded in the editor as node-red-contrib-weather-2.1.0.tgz',
      '48.2 kB',
      `sha512-${'A'.repeat(86)}==`,
      'weather-now',
      'weather-forecast',
      'postinstall',
      'node scripts/fetch-binary.js --target=$npm_config_arch',
      'axios ^1.7.0',
      'Roof sensors: 2 nodes (weather-now, weather-forecast)',
    ]) {
      expect(text).toContain(part);
    }
    expect(await page.locator('cs-review .card').getAttribute('aria-label')).toBe(
      'Install palette module node-red-contrib-weather version 2.1.0 in the palette',
    );
    // The script is shown as code, in the line view used for function code.
    expect(await page.locator('cs-module-card cs-line-diff').count()).toBe(1);
    await page.locator('cs-review .card').evaluate((el) => (el.scrollTop = 0));
    await shot('card-module');
  });

  it('shows both versions of an update', async () => {
    const d = sampleDescriptor({
      action: 'update',
      version: '3.0.0',
      types: ['weather-now', 'weather-radar'],
      previous: { version: '2.1.0', types: ['weather-now', 'weather-forecast'] },
      scripts: {},
      source: 'registry',
      origin: 'node-red-contrib-weather@3.0.0',
    });
    const { id } = await proposeModule(server, token, BASE, d);
    await openReview(id);
    const text = await cardText();
    expect(text).toContain('Update');
    expect(text).toMatch(/2\.1\.0 → 3\.0\.0/);
    expect(text).toContain('The npm registry: node-red-contrib-weather@3.0.0');
    expect(text).toContain('weather-radar');
    expect(text).toContain('weather-forecast (no longer)');
    expect(text).toContain('npm runs no script of this package');
    await shot('card-module-update');
  });

  it('names the flows a removal touches and says Node-RED refuses types in use', async () => {
    const d = sampleDescriptor({
      action: 'remove',
      integrity: null,
      size: null,
      scripts: {},
      source: 'installed',
      origin: '',
      sets: ['node-red-contrib-weather/weather'],
      dependencies: {},
    });
    const { id } = await proposeModule(server, token, BASE, d);
    await openReview(id);
    const text = await cardText();
    expect(text).toContain('Remove');
    expect(text).toContain('Medium risk');
    expect(text).toContain('Node types it removes');
    expect(text).toContain('Roof sensors: 2 nodes');
    expect(text).toContain('Node-RED refuses to remove or disable node types the flows use');
  });

  it('warns when the module removed is Countersign itself', async () => {
    const d = sampleDescriptor({
      action: 'remove',
      name: 'node-red-contrib-countersign',
      version: '0.1.0',
      integrity: null,
      size: null,
      types: [],
      scripts: {},
      source: 'installed',
      origin: '',
      plugins: ['node-red-contrib-countersign/countersign'],
      dependencies: {},
    });
    const { id } = await proposeModule(server, token, BASE, d);
    await openReview(id);
    const text = await cardText();
    expect(text).toContain('High risk');
    expect(text).toContain('This is Countersign itself');
  });

  it('refuses to sign when the server’s module change differs from the descriptor blob (T8)', async () => {
    const { id } = await proposeModule(
      server,
      token,
      BASE,
      sampleDescriptor({ name: 'node-red-contrib-quiet' }),
    );
    // A lying server: its stored change list hides the install script.
    const file = await changesFileOf(server, id);
    const stored = readFileSync(file, 'utf8');
    const edited = stored.replace(/"postinstall":"[^"]*"/, '');
    expect(edited).not.toBe(stored);
    writeFileSync(file, edited);
    await page.goto(`${server.url}/#/review/${id}`);
    await page.locator('cs-review .verified.failed').waitFor();
    expect(await page.locator('cs-review .alert').innerText()).toContain('Do not approve');
    expect(await cardText()).not.toContain('fetch-binary');
    await page.keyboard.press('ArrowRight');
    await page.locator('cs-review cs-review-summary').waitFor();
    expect(await page.getByRole('button', { name: 'Approve and sign' }).isDisabled()).toBe(true);
  });
});

describe('a function node’s libraries (item 5)', { timeout: 120_000 }, () => {
  it('lists a new libs entry with its version on the function card', async () => {
    const base: Flows = [
      { id: 'kitchen', type: 'tab', label: 'Kitchen' },
      {
        id: 'fn',
        type: 'function',
        z: 'kitchen',
        name: 'Format reading',
        func: 'return msg;',
        outputs: 1,
        libs: [],
        x: 200,
        y: 80,
        wires: [[]],
      },
    ];
    const target = structuredClone(base);
    target[1]!.libs = [{ var: 'helper', module: 'totally-harmless-helper@6.6.6' }];
    const { id } = await server.propose(token, base, target);
    await openReview(id);
    await page.locator('cs-review .verified.ok').waitFor();
    const text = await cardText();
    expect(text).toContain('High risk');
    expect(text).toContain('Libraries Node-RED installs from npm');
    expect(text).toContain('New: totally-harmless-helper 6.6.6 as helper');
    await shot('card-function-libs');
  });
});
