/**
 * Component-test harness: mounts the app's real `cs-change-card` element for given changes and
 * snapshots, and reports what each card shows (text, diff lines, edges, fields, sketch), so the
 * Node side can compare it with the change model.
 */
import '../../../pwa/src/styles/app.css';
import '../../../pwa/src/components/cs-change-card.js';
import { NodeIndex } from '../../../pwa/src/cards/node-index.js';
import type { Change, Flows } from '../../../protocol/index.js';

/** What one rendered card shows. */
export type RenderedCard = {
  id: string;
  text: string;
  chips: string[];
  title: string;
  risk: string;
  added: number;
  removed: number;
  edges: Array<{ state: string; from: string; to: string }>;
  fields: string[];
  hidden: number;
  props: string[];
  sketch: { subject: string | null; boxes: number; lines: string[]; label: string } | null;
  pendingSketch: boolean;
};

/** All text under a node, shadow roots of nested elements included. */
function deepText(node: Node): string {
  let out = '';
  const walk = (n: Node): void => {
    if (n.nodeType === Node.TEXT_NODE) out += `${n.textContent ?? ''} `;
    const shadow = (n as Element).shadowRoot;
    if (shadow) walk(shadow);
    n.childNodes.forEach(walk);
  };
  walk(node);
  return out.replace(/\s+/g, ' ').trim();
}

function textOf(root: ParentNode, selector: string): string {
  return (root.querySelector(selector)?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

async function render(
  changes: Change[],
  base: Flows | null,
  target: Flows | null,
): Promise<RenderedCard[]> {
  const host = document.getElementById('cards')!;
  host.replaceChildren();
  const index = new NodeIndex(changes, base ?? undefined, target ?? undefined);
  const changedIds = new Set(changes.flatMap((c) => (c.node ? [c.node.id] : [])));
  const cards = changes.map((change) => {
    const card = document.createElement('cs-change-card');
    card.change = change;
    card.index = index;
    card.base = base;
    card.target = target;
    card.changedIds = changedIds;
    host.append(card);
    return card;
  });
  await Promise.all(cards.map((c) => c.updateComplete));
  // Nested elements (line diffs, sketches) render in their own update.
  await Promise.all(
    cards.flatMap((c) =>
      [...c.shadowRoot!.querySelectorAll('cs-line-diff, cs-flow-sketch')].map(
        (el) => (el as HTMLElement & { updateComplete: Promise<unknown> }).updateComplete,
      ),
    ),
  );
  return cards.map((card, i) => {
    const root = card.shadowRoot!;
    let added = 0;
    let removed = 0;
    for (const diff of root.querySelectorAll('cs-line-diff')) {
      added += diff.shadowRoot!.querySelectorAll('.line.add').length;
      removed += diff.shadowRoot!.querySelectorAll('.line.del').length;
    }
    const svg = root.querySelector('cs-flow-sketch')?.shadowRoot?.querySelector('svg') ?? null;
    return {
      id: changes[i]!.id,
      text: deepText(root),
      chips: [...root.querySelectorAll('.chip')].map((c) => (c.textContent ?? '').trim()),
      title: textOf(root, 'h2'),
      risk: textOf(root, '.risk'),
      added,
      removed,
      edges: [...root.querySelectorAll('li.edge')].map((li) => ({
        state: li.classList.contains('added') ? 'added' : 'removed',
        from: textOf(li, '.from'),
        to: textOf(li, '.to'),
      })),
      fields: [...root.querySelectorAll('li.field .name')].map((f) => (f.textContent ?? '').trim()),
      hidden: root.querySelectorAll('li.field .hidden').length,
      props: [...root.querySelectorAll('dl.props dt')].map((d) => (d.textContent ?? '').trim()),
      sketch:
        svg === null
          ? null
          : {
              subject:
                [...svg.querySelectorAll('rect.subject')].map(
                  (r) => r.getAttribute('class') ?? '',
                )[0] ?? null,
              boxes: svg.querySelectorAll('rect.box').length,
              lines: [...svg.querySelectorAll('path.line')].map(
                (p) => p.getAttribute('class') ?? '',
              ),
              label: svg.getAttribute('aria-label') ?? '',
            },
      pendingSketch: root.querySelector('figure.pending') !== null,
    };
  });
}

(window as unknown as { renderCards: typeof render }).renderCards = render;
