/**
 * What a person sees on the review's current card, read in the page through the shadow roots:
 * the visible text (hidden and screen-reader-only elements left out), the lines a line diff adds
 * and removes, the marked characters, the title and the risk badge.
 */
import type { Page } from 'playwright-core';

/** The card in view, as read. */
export type ReadCard = {
  /** All visible text, whitespace runs collapsed. */
  text: string;
  title: string;
  risk: string;
  /** Lines a line diff adds / removes, exactly as shown (no sign, no number). */
  added: string[];
  removed: string[];
  /** Text of every marked (changed) run of characters. */
  marks: string[];
};

// A string, not a function: the test runner's transform would add helpers the page lacks.
const READ = `(() => {
  const find = (root, selector) => {
    const hit = root.querySelector(selector);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) {
        const found = find(el.shadowRoot, selector);
        if (found) return found;
      }
    }
    return null;
  };
  const all = (root, selector, out = []) => {
    out.push(...root.querySelectorAll(selector));
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) all(el.shadowRoot, selector, out);
    return out;
  };
  const review = find(document, 'cs-review');
  const card = review.shadowRoot.querySelector('.card');
  let text = '';
  const visible = (el) => {
    const style = getComputedStyle(el);
    return style.display !== 'none' && style.visibility !== 'hidden' &&
      !el.classList.contains('sr-only') && !el.classList.contains('stamp');
  };
  const walk = (node) => {
    if (node.nodeType === 3) { text += node.textContent; return; }
    if (node.nodeType === 1 && !visible(node)) return;
    if (node.nodeType === 1 && (node.tagName === 'STYLE' || node.tagName === 'SCRIPT')) return;
    // Blocks, and the cells of a grid or a flex row, read as separate words.
    const apart = node.nodeType === 1 && !/^inline/.test(getComputedStyle(node).display);
    if (apart) text += ' ';
    const children = node.shadowRoot ? node.shadowRoot.childNodes : node.childNodes;
    for (const child of children) walk(child);
    if (apart) text += ' ';
  };
  walk(card);
  const own = (line) => {
    const span = line.querySelector('.text');
    let out = '';
    for (const child of span.childNodes) {
      if (child.nodeType === 1 && child.classList.contains('sr-only')) continue;
      if (child.nodeType === 1 || child.nodeType === 3) out += child.textContent;
    }
    return out;
  };
  const lines = all(card, '.line');
  const cardEl = find(card, 'cs-change-card');
  const root = cardEl ? cardEl.shadowRoot : card;
  return {
    text: text.replace(/\\s+/g, ' ').trim(),
    title: (root.querySelector('h2')?.textContent ?? '').trim(),
    risk: (root.querySelector('.risk')?.textContent ?? '').trim(),
    added: lines.filter((l) => l.classList.contains('add')).map(own),
    removed: lines.filter((l) => l.classList.contains('del')).map(own),
    marks: all(card, 'mark').map((m) => m.textContent),
  };
})()`;

/** Reads the review's current card. */
export async function readCard(page: Page): Promise<ReadCard> {
  await page.locator('cs-review cs-change-card').waitFor();
  return (await page.evaluate(READ)) as ReadCard;
}
