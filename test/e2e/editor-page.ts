/**
 * The real Node-RED editor in Chromium, driven as a person drives it: nodes dragged from the
 * palette, wired port to port, the Deploy button pressed; and read as a person reads it (the
 * notifications on screen, the Deploy button, the change markers).
 */
import type { Page } from 'playwright-core';

/** Opens the editor and waits until it has loaded the flows. */
export async function openEditor(page: Page, editorUrl: string): Promise<void> {
  await page.goto(editorUrl);
  await page.waitForFunction(
    () =>
      typeof (
        window as unknown as { RED?: { nodes?: { version?: () => unknown } } }
      ).RED?.nodes?.version?.() === 'string',
    null,
    { timeout: 60_000 },
  );
  await page.locator('.red-ui-palette-node[data-palette-type="inject"]').waitFor();
}

/** Drags a node type from the palette onto the workspace at (x, y) of the visible chart. */
export async function dragFromPalette(
  page: Page,
  type: string,
  x: number,
  y: number,
): Promise<void> {
  const from = (await page
    .locator(`.red-ui-palette-node[data-palette-type="${type}"]`)
    .boundingBox())!;
  const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
  await page.mouse.up();
}

/** Wires the output port of the node labelled `from` to the input port of the node labelled `to`. */
export async function wire(page: Page, from: string, to: string): Promise<void> {
  const node = (label: string) =>
    page.locator('.red-ui-flow-node-group', {
      has: page.locator('.red-ui-flow-node-label', { hasText: label }),
    });
  const out = (await node(from).locator('.red-ui-flow-port-output').first().boundingBox())!;
  const into = (await node(to).locator('.red-ui-flow-port-input').first().boundingBox())!;
  await page.mouse.move(out.x + out.width / 2, out.y + out.height / 2);
  await page.mouse.down();
  await page.mouse.move(into.x + into.width / 2, into.y + into.height / 2, { steps: 12 });
  await page.mouse.up();
}

/** Presses Deploy. */
export async function deploy(page: Page): Promise<void> {
  await page.locator('#red-ui-header-button-deploy').click();
}

/** The text of every notification on screen. */
export function notifications(page: Page): Promise<string[]> {
  return page.locator('.red-ui-notification:visible').allInnerTexts();
}

/** Waits for a notification whose text matches, and returns that text. */
export async function waitForNotification(page: Page, pattern: RegExp): Promise<string> {
  const notice = page.locator('.red-ui-notification:visible', { hasText: pattern }).first();
  await notice.waitFor({ timeout: 60_000 });
  return notice.innerText();
}

/** What tells a person the editor is out of step: unsaved state, change markers, a red Deploy. */
export type EditorState = {
  dirty: boolean;
  version: string | null;
  changedNodes: number;
  deployHighlighted: boolean;
  links: number;
};

/** The editor's state as its own API and its Deploy button report it. */
export function editorState(page: Page): Promise<EditorState> {
  return page.evaluate(() => {
    type Node = { changed?: boolean; moved?: boolean };
    const RED = (
      window as unknown as {
        RED: {
          nodes: {
            dirty(): boolean;
            version(): string | null;
            eachNode(cb: (n: Node) => void): void;
            filterLinks(filter: object): unknown[];
          };
        };
      }
    ).RED;
    let changedNodes = 0;
    RED.nodes.eachNode((n) => {
      if (n.changed || n.moved) changedNodes++;
    });
    const button = document.querySelector('#red-ui-header-button-deploy');
    return {
      dirty: RED.nodes.dirty(),
      version: RED.nodes.version(),
      changedNodes,
      deployHighlighted: button !== null && !button.classList.contains('disabled'),
      links: RED.nodes.filterLinks({}).length,
    };
  });
}
