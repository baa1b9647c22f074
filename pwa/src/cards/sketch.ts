/**
 * The small picture on a card: the flow around one node (what feeds it on the left, what it feeds
 * on the right), or for layout and whole-flow changes a minimap of the tab. Pure geometry; the
 * `cs-flow-sketch` element draws it. Added is green, removed red, changed amber.
 */
import { edgesOf, type Change, type Edge, type FlowNode, type Flows } from '../lib/protocol.js';
import type { NodeIndex } from './node-index.js';

/** How a node or edge looks in the sketch. */
export type SketchState = 'added' | 'removed' | 'changed' | 'same';

/** A box in the sketch (viewBox units). */
export type SketchBox = {
  id: string;
  label: string;
  state: SketchState;
  subject: boolean;
  x: number;
  y: number;
  w: number;
  h: number;
};

/** A connection drawn between two boxes. */
export type SketchLine = { from: string; to: string; state: SketchState; d: string };

/** A drawing: boxes, lines and a caption for screen readers. */
export type Sketch = {
  width: number;
  height: number;
  /** Label size in drawing units, and how many lines a label may take. */
  font: number;
  labelLines: number;
  boxes: SketchBox[];
  lines: SketchLine[];
  /** "+2 more" counts per side, when a side had too many to draw. */
  more: { left: number; right: number };
  /** Dashed outlines of old positions (layout minimap). */
  ghosts: Array<{ x: number; y: number; w: number; h: number; toX: number; toY: number }>;
  caption: string;
};

/**
 * Sizes in drawing units. On a card the drawing is about as wide as the card's content at 360 CSS
 * px (286 px), so a unit is about a pixel and labels stay at 12 px or more; the enlarged view is
 * drawn wider and scrolls.
 */
export type SketchSize = 'card' | 'large';

const LAYOUT = {
  card: { width: 286, sideW: 84, subjectW: 102, boxH: 42, gap: 8, font: 13, lines: 2, scale: 0 },
  large: {
    width: 620,
    sideW: 180,
    subjectW: 210,
    boxH: 56,
    gap: 12,
    font: 15,
    lines: 3,
    scale: 0.8,
  },
} as const;

const MAX_PER_SIDE = 4;

/** Average advance of a character, as a share of the font size (a conservative guess). */
const CHAR = 0.6;

/**
 * A label cut into at most `lines` lines that fit `width` at `font`: broken at spaces, a word
 * longer than a line cut where it must, and an ellipsis where the label goes on.
 */
export function labelLines(label: string, width: number, font: number, lines: number): string[] {
  const max = Math.max(3, Math.floor((width - 8) / (font * CHAR)));
  const out: string[] = [];
  let rest = label.replace(/\s+/g, ' ').trim();
  while (rest !== '' && out.length < lines) {
    if (rest.length <= max) {
      out.push(rest);
      rest = '';
      break;
    }
    const space = rest.lastIndexOf(' ', max);
    // A word longer than the line breaks where it reads best: at a space, else after `_ - . /`
    // or before a capital (formatChart|Data), else where it must.
    const seam = [...rest.slice(1, max + 1).matchAll(/[_\-./](?=.)|[a-z](?=[A-Z])/g)].at(-1);
    const at = space > max / 3 ? space : seam !== undefined ? seam.index + 2 : max;
    out.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  if (rest !== '') {
    const last = out.pop() ?? '';
    out.push(`${last.slice(0, Math.max(1, max - 1)).trimEnd()}…`);
  }
  return out;
}

function keyOf(e: Edge): string {
  return `${e.from}\u0000${e.port}\u0000${e.to}\u0000${e.via ?? 'wire'}`;
}

/** Every edge touching `id`, in base and in target, with whether it was added, removed or kept. */
function edgesAround(id: string, base: Flows, target: Flows): Array<Edge & { state: SketchState }> {
  const collect = (flows: Flows): Map<string, Edge> => {
    const out = new Map<string, Edge>();
    for (const node of flows) {
      for (const edge of edgesOf(node))
        if (edge.from === id || edge.to === id) out.set(keyOf(edge), edge);
    }
    return out;
  };
  const before = collect(base);
  const after = collect(target);
  const out: Array<Edge & { state: SketchState }> = [];
  for (const [key, edge] of after) out.push({ ...edge, state: before.has(key) ? 'same' : 'added' });
  for (const [key, edge] of before) if (!after.has(key)) out.push({ ...edge, state: 'removed' });
  return out;
}

function curve(x1: number, y1: number, x2: number, y2: number): string {
  const dx = Math.max(24, Math.abs(x2 - x1) / 2);
  return `M${x1} ${y1} C${x1 + dx} ${y1} ${x2 - dx} ${y2} ${x2} ${y2}`;
}

function opState(op: Change['op']): SketchState {
  return op === 'changed' ? 'changed' : op;
}

/**
 * The neighbourhood of the node a change is about, or null when the node is not on a canvas (config
 * nodes, orphan credentials) or the snapshots are not in yet.
 */
export function sketchAround(
  change: Change,
  index: NodeIndex,
  base: Flows,
  target: Flows,
  changedIds: ReadonlySet<string> = new Set(),
  size: SketchSize = 'card',
): Sketch | null {
  const { width: WIDTH, sideW: SIDE_W, subjectW: SUBJECT_W, boxH: BOX_H, gap: GAP } = LAYOUT[size];
  const id = change.node?.id;
  if (id === undefined || !index.complete) return null;
  const node = index.node(id);
  if (
    node === undefined ||
    node.x === undefined ||
    node.type === 'tab' ||
    node.type === 'subflow'
  ) {
    return null;
  }
  const edges = edgesAround(id, base, target).filter((e) => e.from !== e.to);
  const subjectState: SketchState =
    change.kind === 'wiring' || change.kind === 'credentials' ? 'changed' : opState(change.op);

  const leftIds: string[] = [];
  const rightIds: string[] = [];
  for (const edge of edges) {
    if (edge.to === id && !leftIds.includes(edge.from) && !rightIds.includes(edge.from))
      leftIds.push(edge.from);
    if (edge.from === id && !rightIds.includes(edge.to)) {
      rightIds.push(edge.to);
      const at = leftIds.indexOf(edge.to);
      if (at >= 0) leftIds.splice(at, 1);
    }
  }
  // Changed edges first, so the ones the card is about are always drawn.
  const rank = (other: string): number =>
    edges.some((e) => (e.from === other || e.to === other) && e.state !== 'same') ? 0 : 1;
  leftIds.sort((a, b) => rank(a) - rank(b));
  rightIds.sort((a, b) => rank(a) - rank(b));
  const left = leftIds.slice(0, MAX_PER_SIDE);
  const right = rightIds.slice(0, MAX_PER_SIDE);

  const rows = Math.max(1, left.length, right.length);
  const more = { left: leftIds.length - left.length, right: rightIds.length - right.length };
  // Room under the columns for a "+N more" line.
  const foot = more.left > 0 || more.right > 0 ? LAYOUT[size].font + 4 : 0;
  const height = rows * BOX_H + (rows - 1) * GAP + 16 + foot;
  const columnY = (count: number, i: number): number => {
    const used = count * BOX_H + (count - 1) * GAP;
    return (height - foot - used) / 2 + i * (BOX_H + GAP);
  };
  const neighbourState = (other: string): SketchState => {
    const side = index.side(other);
    if (side === 'base') return 'removed';
    if (side === 'target' && !base.some((n) => n.id === other)) return 'added';
    return changedIds.has(other) ? 'changed' : 'same';
  };

  const boxes: SketchBox[] = [];
  left.forEach((other, i) =>
    boxes.push({
      id: other,
      label: index.editorLabel(other),
      state: neighbourState(other),
      subject: false,
      x: 4,
      y: columnY(left.length, i),
      w: SIDE_W,
      h: BOX_H,
    }),
  );
  boxes.push({
    id,
    label: index.editorLabel(id),
    state: subjectState,
    subject: true,
    x: (WIDTH - SUBJECT_W) / 2,
    y: (height - foot - BOX_H) / 2,
    w: SUBJECT_W,
    h: BOX_H,
  });
  right.forEach((other, i) =>
    boxes.push({
      id: other,
      label: index.editorLabel(other),
      state: neighbourState(other),
      subject: false,
      x: WIDTH - SIDE_W - 4,
      y: columnY(right.length, i),
      w: SIDE_W,
      h: BOX_H,
    }),
  );

  const at = new Map(boxes.map((b) => [b.id, b]));
  const lines: SketchLine[] = [];
  const drawn = new Set<string>();
  for (const edge of edges) {
    const from = at.get(edge.from);
    const to = at.get(edge.to);
    if (from === undefined || to === undefined) continue;
    const key = `${edge.from}>${edge.to}>${edge.state}`;
    if (drawn.has(key)) continue;
    drawn.add(key);
    // Sources sit in the left column and targets in the right, so every line runs left to right.
    lines.push({
      from: edge.from,
      to: edge.to,
      state: edge.state,
      d: curve(from.x + from.w, from.y + from.h / 2, to.x, to.y + to.h / 2),
    });
  }

  const caption = describe(
    index.editorLabel(id),
    left.map((o) => index.editorLabel(o)),
    right.map((o) => index.editorLabel(o)),
    edges,
    index,
  );
  return {
    width: WIDTH,
    height,
    font: LAYOUT[size].font,
    labelLines: LAYOUT[size].lines,
    boxes,
    lines,
    ghosts: [],
    more,
    caption,
  };
}

function describe(
  subject: string,
  left: string[],
  right: string[],
  edges: Array<Edge & { state: SketchState }>,
  index: NodeIndex,
): string {
  const parts = [`Sketch of ${subject}`];
  if (left.length > 0) parts.push(`fed by ${left.join(', ')}`);
  if (right.length > 0) parts.push(`feeding ${right.join(', ')}`);
  const added = edges
    .filter((e) => e.state === 'added')
    .map((e) => `${index.editorLabel(e.from)} to ${index.editorLabel(e.to)}`);
  const removed = edges
    .filter((e) => e.state === 'removed')
    .map((e) => `${index.editorLabel(e.from)} to ${index.editorLabel(e.to)}`);
  if (added.length > 0) parts.push(`new connections: ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`removed connections: ${removed.join(', ')}`);
  return parts.join('; ') + '.';
}

type Placed = { node: FlowNode; x: number; y: number };

function placed(nodes: FlowNode[]): Placed[] {
  return nodes
    .filter((n) => typeof n.x === 'number' && typeof n.y === 'number' && n.type !== 'group')
    .map((node) => ({ node, x: node.x as number, y: node.y as number }));
}

/**
 * A minimap of one flow: every node as a small box at its place on the canvas. For a layout change
 * the moved nodes are amber with a dashed outline where they were; for a whole flow added or
 * removed, every node takes that colour.
 */
export function minimapOf(
  change: Change,
  index: NodeIndex,
  size: SketchSize = 'card',
): Sketch | null {
  if (!index.complete) return null;
  const layout = LAYOUT[size];
  const WIDTH = layout.width;
  const flowId =
    change.kind === 'flow' || change.kind === 'subflow' ? change.node?.id : change.flow?.id;
  if (flowId === undefined) return null;
  const side = change.op === 'removed' ? 'base' : 'target';
  const nodes = placed(index.nodesOf(flowId, side));
  if (nodes.length === 0) return null;
  const moved = new Set(change.kind === 'layout' ? (change.nodes ?? []) : []);
  const oldPlaces = new Map<string, { x: number; y: number }>();
  for (const id of moved) {
    const old = index.nodesOf(flowId, 'base').find((n) => n.id === id);
    if (old !== undefined && typeof old.x === 'number' && typeof old.y === 'number') {
      oldPlaces.set(id, { x: old.x, y: old.y });
    }
  }
  const xs = [...nodes.map((p) => p.x), ...[...oldPlaces.values()].map((p) => p.x)];
  const ys = [...nodes.map((p) => p.y), ...[...oldPlaces.values()].map((p) => p.y)];
  // Room at the sides for the widest box (enlarged boxes are as wide as their labels).
  const margin = layout.scale > 0 ? 160 : 60;
  const minX = Math.min(...xs) - margin;
  const maxX = Math.max(...xs) + margin;
  const minY = Math.min(...ys) - 20;
  const maxY = Math.max(...ys) + 20;
  // On a card the whole flow fits the width; enlarged, it keeps a readable scale and scrolls.
  const scale = layout.scale > 0 ? layout.scale : Math.min(WIDTH / (maxX - minX), 1);
  const height =
    layout.scale > 0
      ? Math.max(80, (maxY - minY) * scale)
      : Math.max(60, Math.min(200, (maxY - minY) * scale));
  const scaleY = layout.scale > 0 ? scale : Math.min(scale, height / (maxY - minY));
  const tx = (x: number): number => (x - minX) * scale;
  const ty = (y: number): number => (y - minY) * scaleY;
  const boxW = Math.max(10, 100 * scale);
  const boxH = Math.max(6, (layout.scale > 0 ? 30 : 26) * scaleY);
  const wholeState: SketchState =
    change.kind === 'flow' || change.kind === 'subflow' ? opState(change.op) : 'same';

  const boxes: SketchBox[] = nodes.map(({ node, x, y }) => {
    const label = index.editorLabel(node.id);
    // Enlarged, a box is as wide as its label, as on the editor's canvas.
    const w =
      layout.scale > 0
        ? Math.max(boxW, Math.min(240, label.length * layout.font * CHAR + 16))
        : boxW;
    return {
      id: node.id,
      label,
      state: moved.has(node.id) ? 'changed' : wholeState,
      subject: moved.has(node.id),
      x: tx(x) - w / 2,
      y: ty(y) - boxH / 2,
      w,
      h: boxH,
    };
  });
  const at = new Map(boxes.map((b) => [b.id, b]));
  const lines: SketchLine[] = [];
  for (const { node } of nodes) {
    for (const edge of edgesOf(node)) {
      const a = at.get(edge.from);
      const b = at.get(edge.to);
      if (a === undefined || b === undefined || edge.via === 'link') continue;
      lines.push({
        from: edge.from,
        to: edge.to,
        state: wholeState,
        d: curve(a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2),
      });
    }
  }
  const ghosts = [...oldPlaces].flatMap(([id, old]) => {
    const now = at.get(id);
    if (now === undefined) return [];
    return [
      {
        x: tx(old.x) - boxW / 2,
        y: ty(old.y) - boxH / 2,
        w: boxW,
        h: boxH,
        toX: now.x,
        toY: now.y,
      },
    ];
  });
  const caption =
    change.kind === 'layout'
      ? `Map of the flow: ${moved.size} moved ${moved.size === 1 ? 'node' : 'nodes'} highlighted, dashed outlines where they were.`
      : `Map of the flow with its ${nodes.length} ${nodes.length === 1 ? 'node' : 'nodes'}.`;
  const width = layout.scale > 0 ? Math.max(WIDTH, (maxX - minX) * scale) : WIDTH;
  return {
    width,
    height,
    font: layout.font,
    labelLines: 1,
    boxes,
    lines,
    ghosts,
    more: { left: 0, right: 0 },
    caption,
  };
}
