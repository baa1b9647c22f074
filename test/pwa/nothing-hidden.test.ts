/**
 * Nothing hidden, in the real PWA in Chromium (DESIGN 5.2, T9): one case of each class, each a real
 * deployment of the bioreactor's real flows reviewed in the built app, read as a person reads it —
 * the visible text of the card, through its shadow roots. Shapes the server refuses (a wire in a
 * nested array, a wire given as a number, the keys `__proto__` and `constructor`) reach the phone
 * only from a lying server: the phone shows them on the card and refuses to sign, naming the node
 * and the rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  API_PREFIX,
  computeChanges,
  revOf,
  snapshotText,
  type FlowNode,
  type Flows,
} from '../../protocol/index.js';
import type { TestServer } from '../helpers/server.js';
import { startPwaSession, type PwaSession } from './pwa-session.js';
import { bioreactorFlows } from './scenario.js';
import { readCard, type ReadCard } from './visible-text.js';

const FORMAT = 'f23c470d.dad1f8';

let session: PwaSession;
let server: TestServer;
let page: Page;
let instances = 0;

beforeAll(async () => {
  session = await startPwaSession({ enrolAs: 'Pixel 8' });
  ({ server, page } = session);
}, 120_000);

afterAll(async () => {
  await session?.close();
});

/** The bioreactor flows with node `id` edited. */
function edited(edit: (node: FlowNode) => void, base: Flows = bioreactorFlows()): Flows {
  const target = structuredClone(base);
  edit(target.find((n) => n.id === FORMAT)!);
  return target;
}

/** Proposes base → target on an instance of its own, opens the review, reads the first card. */
async function review(base: Flows, target: Flows): Promise<ReadCard> {
  const { token } = await server.addInstance(`line-${++instances}`);
  const { id } = await server.propose(token, base, target);
  await page.goto(`${server.url}/#/review/${id}`);
  await page.locator('cs-review .verified.ok').waitFor();
  return readCard(page);
}

function funcEdit(code: (func: string) => string): Promise<ReadCard> {
  const base = bioreactorFlows();
  return review(
    base,
    edited((n) => {
      n.func = code(String(n.func));
    }, base),
  );
}

const HIDDEN_WARNING = 'Contains invisible or reordering characters, shown as ⟨U+…⟩ codes.';

describe('text as JavaScript reads it, in the real app', { timeout: 120_000 }, () => {
  for (const [name, char, escape] of [
    ['U+2028 (line separator)', '\u2028', '⟨U+2028⟩'],
    ['U+2029 (paragraph separator)', '\u2029', '⟨U+2029⟩'],
    ['a bare CR', '\r', '⟨U+000D⟩'],
  ] as const) {
    it(`splits a comment line where ${name} ends it, so the statement after it shows`, async () => {
      const card = await funcEdit((f) =>
        f.replace('}\n\nreturn msg;\n', `}\n\n// note${char}msg.payload = "pwned";\nreturn msg;\n`),
      );
      expect(card.added, JSON.stringify(card)).toContain(`// note${escape}`);
      expect(card.added).toContain('msg.payload = "pwned";');
      expect(card.risk).toBe('High risk · hidden characters, runs code');
      expect(card.text).toContain(HIDDEN_WARNING);
    });
  }

  it('shows a right-to-left override as ⟨U+202E⟩, high risk, with a warning', async () => {
    const card = await funcEdit((f) =>
      f.replace('}\n\nreturn msg;\n', '}\n\nreturn msg; // \u202E;)(tixe.ssecorp\n'),
    );
    expect(card.added).toContain('return msg; // ⟨U+202E⟩;)(tixe.ssecorp');
    expect(card.text).not.toMatch(/\u202E/);
    expect(card.risk).toBe('High risk · hidden characters, runs code');
    expect(card.text).toContain(HIDDEN_WARNING);
  });

  it('shows a zero-width space in a name, in the title and the property, high risk', async () => {
    const base = bioreactorFlows();
    const card = await review(
      base,
      edited((n) => {
        n.name = 'format\u200BDbEntry';
      }, base),
    );
    expect(card.title).toBe('format⟨U+200B⟩DbEntry');
    expect(card.text).toContain('"formatDbEntry"');
    expect(card.text).toContain('"format⟨U+200B⟩DbEntry"');
    expect(card.risk).toBe('High risk · hidden characters');
    expect(card.text).toContain(HIDDEN_WARNING);
  });

  it('marks whitespace added at the end of a line, and says only whitespace changed', async () => {
    const card = await funcEdit((f) => f.replace('}\n\nreturn msg;\n', '}\n\nreturn msg; \n'));
    expect(card.removed).toEqual(['return msg;']);
    expect(card.added).toEqual(['return msg; ']);
    expect(card.marks).toContain(' ');
    expect(card.text).toContain('Only whitespace changed');
  });

  it('shows the end of a 20,000-character line that changed at its end', async () => {
    const long = `${'x = 1; '.repeat(2857)}y`;
    expect(long.length).toBe(20_000);
    const base = edited((n) => {
      n.info = long;
    });
    const card = await review(
      base,
      edited((n) => {
        n.info = `${long.slice(0, -1)}z`;
      }, base),
    );
    // Collapsed around the change: the end of each line, marked, the rest behind a fold.
    expect(card.marks).toEqual(['y', 'z']);
    expect(card.removed).toHaveLength(1);
    expect(card.removed[0]).toMatch(/⋯ 19,\d{3} more\s*1; x = 1; .*x = 1; y$/s);
    expect(card.added[0]).toMatch(/⋯ 19,\d{3} more\s*1; x = 1; .*x = 1; z$/s);
    // One tap on each fold shows the whole line.
    const folds = page.locator('cs-review cs-line-diff button.more');
    expect(await folds.count()).toBe(2);
    for (let left = 2; left > 0; left--) {
      await folds.first().click();
      await expect.poll(() => folds.count()).toBe(left - 1);
    }
    const open = await readCard(page);
    expect(open.removed).toEqual([long]);
    expect(open.added).toEqual([`${long.slice(0, -1)}z`]);
  });

  it("shows a node's d (disabled) flag as a property change", async () => {
    const base = bioreactorFlows();
    const card = await review(
      base,
      edited((n) => {
        n.d = true;
      }, base),
    );
    expect(card.text).toMatch(/What changed d true/);
  });
});

/**
 * A lying server: it proposes `target` (which the real server would refuse) by answering the
 * phone's requests for the deployment and its target blob with it, hashes and all.
 */
async function reviewFromLyingServer(
  target: Flows,
): Promise<ReadCard & { alert: string; signDisabled: boolean }> {
  const base = bioreactorFlows();
  const decoy = edited((n) => {
    n.name = 'decoy';
  }, base);
  const { token } = await server.addInstance(`liar-${++instances}`);
  const { id } = await server.propose(token, base, decoy);
  const text = snapshotText(target);
  const rev = await revOf(target);
  const changes = JSON.parse(JSON.stringify(computeChanges(base, target, {}))) as unknown;
  await page.route(`**${API_PREFIX}/deployments/${id}`, async (route) => {
    const response = await route.fetch();
    const detail = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...detail, target: rev, changes } });
  });
  await page.route(`**${API_PREFIX}/blobs/${rev}`, (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: text }),
  );
  try {
    await page.goto(`${server.url}/#/review/${id}`);
    await page.locator('cs-review .verified.failed').waitFor();
    const card = await readCard(page);
    const alert = await page.locator('cs-review .alert').innerText();
    // Approve every card: the summary still will not sign.
    while ((await page.locator('cs-review cs-review-summary').count()) === 0) {
      await page.keyboard.press('ArrowRight');
      await page.waitForTimeout(40);
    }
    const signDisabled = await page.getByRole('button', { name: 'Approve and sign' }).isDisabled();
    return { ...card, alert, signDisabled };
  } finally {
    await page.unrouteAll();
  }
}

/** `node` with an own property `key` (even `__proto__`), as JSON.parse makes one. */
function withKey(node: FlowNode, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

describe('shapes only a lying server would send', { timeout: 120_000 }, () => {
  it('shows a wire hidden in a nested array on the card, and refuses to sign', async () => {
    const card = await reviewFromLyingServer(
      edited((n) => {
        n.wires = [['ea5ea00.d6a596', ['b393ac06.23f5f']]];
      }),
    );
    expect(card.text).toContain('wires');
    expect(card.text).toContain('["b393ac06.23f5f"]');
    expect(card.alert).toContain('Do not approve');
    expect(card.alert).toContain(
      'node "f23c470d.dad1f8" (function): wires must be an array of arrays of node ids, but wires[0][1] is an array',
    );
    expect(card.signDisabled).toBe(true);
  });

  it('shows a wire given as a number on the card, and refuses to sign', async () => {
    const base = bioreactorFlows();
    const target = edited((n) => {
      n.wires = [['ea5ea00.d6a596', 123]];
    }, base);
    target.push({
      id: '123',
      type: 'debug',
      z: '22b23614.75c2ca',
      name: 'sink',
      x: 1,
      y: 1,
      wires: [],
    });
    const card = await reviewFromLyingServer(target);
    expect(card.text).toContain('wires');
    expect(card.text).toMatch(/\b123\b/);
    expect(card.alert).toContain('wires[0][1] is a number');
    expect(card.signDisabled).toBe(true);
  });

  for (const key of ['__proto__', 'constructor']) {
    it(`shows a property named ${key} with its value, and refuses to sign`, async () => {
      const card = await reviewFromLyingServer(edited((n) => withKey(n, key, { polluted: 'yes' })));
      expect(card.text).toContain(key);
      expect(card.text).toContain('{"polluted":"yes"}');
      expect(card.text).not.toContain('appears more than once');
      expect(card.alert).toContain(`the key "${key}" (at ${key}) is not allowed`);
      expect(card.signDisabled).toBe(true);
    });
  }
});
