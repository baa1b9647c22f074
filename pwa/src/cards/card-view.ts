/**
 * What one card shows, as text, without a DOM: the header (what happened, to what, where, how
 * risky), plain warnings, and sections of rows — property diffs, line diffs, connections, credential
 * field names, moved nodes. `cs-change-card` renders exactly this, the completeness check reads it,
 * and tests read `cardText` of it as a person reads the card.
 */
import type { Change, Edge, Risk } from '../lib/protocol.js';
import { deltaRows, propertyRows, type PropertyRow } from './delta-rows.js';
import { RISK_TEXT, edgeText, flowText, kindWord, opWord, titleOf } from './describe.js';
import { libRows, libText } from './libs.js';
import type { NodeIndex } from './node-index.js';
import { assessChange } from '../../../protocol/risk.js';
import { hasHiddenText, visibleText } from '../../../protocol/text.js';

/** One connection as shown: the names at both ends and the port. */
export type EdgeRow = {
  edge: Edge;
  state: 'added' | 'removed';
  from: string;
  port: string;
  to: string;
};

/** A library a function node has Node-RED install (7.1 item 5), and whether this change adds it. */
export type LibRowView = { text: string; state: 'added' | 'removed' | 'kept'; as?: string };

/** A node named in a list (moved nodes, users of a config node). */
export type NameRow = { id: string; name: string; type?: string };

/** A part of a card's body. */
export type Section =
  | { kind: 'properties'; heading: string; op: 'added' | 'removed'; rows: PropertyRow[] }
  | { kind: 'changes'; heading: string; rows: PropertyRow[] }
  | { kind: 'edges'; heading: string; rows: EdgeRow[] }
  | { kind: 'fields'; heading: string; fields: string[] }
  | { kind: 'names'; heading: string; rows: NameRow[]; more: number }
  | { kind: 'libs'; heading: string; rows: LibRowView[] }
  | { kind: 'explain'; text: string };

/** The head every card shows: what happened, to what, where, how risky and why. */
export type CardHead = {
  id: string;
  op: string;
  kind: string;
  risk: Risk;
  riskText: string;
  /** Why it is rated so, on the badge: "runs code", "sends data out"… */
  why: string;
  title: string;
  flow: string;
};

/** A card, as shown. */
export type CardView = CardHead & {
  /** The node's type, shown beside the flow (absent for tabs, layout and orphan credentials). */
  type?: string;
  /** Plain warnings above the body (hidden characters, whitespace-only changes). */
  warnings: string[];
  sections: Section[];
};

/** Names listed before "and N more". */
export const MAX_LISTED = 12;

/** The warning a card carries when it shows an invisible or reordering character. */
export const HIDDEN_WARNING =
  'Contains invisible or reordering characters, shown as ⟨U+…⟩ codes. Code with them can run differently from how it reads.';

/** An escape of a hidden character (the bracket alone, U+27E8, is not hidden). */
const HIDDEN_ESCAPE = /\u27E8U\+(?!27E8\u27E9)[0-9A-F]{4,6}\u27E9/;

function edgeRows(edges: Edge[], state: 'added' | 'removed', index: NodeIndex): EdgeRow[] {
  return edges.map((edge) => ({ edge, state, ...edgeText(edge, index) }));
}

function edgeSection(
  edges: { added: Edge[]; removed: Edge[] } | undefined,
  index: NodeIndex,
): Section[] {
  if (edges === undefined || (edges.added.length === 0 && edges.removed.length === 0)) return [];
  return [
    {
      kind: 'edges',
      heading: 'Connections',
      rows: [
        ...edgeRows(edges.removed, 'removed', index),
        ...edgeRows(edges.added, 'added', index),
      ],
    },
  ];
}

function nameSection(heading: string, ids: string[], index: NodeIndex): Section {
  const rows = ids.slice(0, MAX_LISTED).map((id) => {
    const type = index.typeOf(id);
    const name = index.label(id);
    const shownType = type !== undefined ? visibleText(type) : undefined;
    return shownType !== undefined && !name.startsWith(shownType)
      ? { id, name, type: shownType }
      : { id, name };
  });
  return { kind: 'names', heading, rows, more: ids.length - rows.length };
}

function usersSection(change: Change, index: NodeIndex): Section[] {
  if (change.kind !== 'config' || change.node === undefined || !index.complete) return [];
  const users = index.usersOf(change.node.id);
  return users.length === 0 ? [] : [nameSection('Used by', users, index)];
}

/** The libraries a function node lists, new ones marked: Node-RED installs them from npm. */
function libsSection(change: Change): Section[] {
  const rows = libRows(change);
  if (rows.length === 0) return [];
  return [
    {
      kind: 'libs',
      heading: 'Libraries Node-RED installs from npm',
      rows: rows.map(({ lib, state }) => ({
        text: visibleText(libText(lib)),
        state,
        ...(lib.var ? { as: visibleText(lib.var) } : {}),
      })),
    },
    { kind: 'explain', text: 'Node-RED downloads and runs these packages when the flows start.' },
  ];
}

function bodyOf(change: Change, index: NodeIndex): Section[] {
  switch (change.kind) {
    case 'wiring':
      return [
        ...edgeSection(change.edges, index),
        {
          kind: 'explain',
          text: 'Only the connections of this node changed. Messages will now flow as shown.',
        },
      ];
    case 'credentials':
      return [
        {
          kind: 'fields',
          heading: 'Credential fields set',
          fields: (change.fields ?? []).map(visibleText),
        },
        {
          kind: 'explain',
          text: 'Credential values never leave Node-RED. The signature covers a digest of them, so they cannot be swapped after you approve.',
        },
      ];
    case 'layout':
      return [
        {
          kind: 'explain',
          text: 'These nodes only moved on the canvas. Nothing about what they do changed.',
        },
        nameSection('Moved', change.nodes ?? [], index),
      ];
    default:
      break;
  }
  if (change.op === 'added' || change.op === 'removed') {
    return [
      ...(change.op === 'added' ? libsSection(change) : []),
      {
        kind: 'properties',
        heading: change.op === 'added' ? 'Properties' : 'Properties it had',
        op: change.op,
        rows: propertyRows(change.op === 'added' ? change.after : change.before, change.op),
      },
      ...edgeSection(change.edges, index),
      ...(change.op === 'added' ? usersSection(change, index) : []),
    ];
  }
  const rows = deltaRows(change.delta, change.before, change.after);
  return [
    ...libsSection(change),
    rows.length > 0
      ? { kind: 'changes', heading: 'What changed', rows }
      : {
          kind: 'explain',
          text: 'This id appears more than once in the flows file, and the copies differ. Which copy runs depends on their order.',
        },
    ...usersSection(change, index),
  ];
}

/** The card for `change`, with names from `index`. */
export function cardView(change: Change, index: NodeIndex): CardView {
  const type = change.node?.type;
  const view: CardView = {
    id: change.id,
    op: opWord(change),
    kind: kindWord(change),
    risk: change.risk,
    riskText: RISK_TEXT[change.risk],
    why: assessChange(change).reasons.join(', '),
    title: titleOf(change, index),
    ...(type !== undefined && change.kind !== 'flow' ? { type: visibleText(type) } : {}),
    flow: flowText(change),
    warnings: [],
    sections: [
      ...(change.node !== undefined && hasHiddenText(change.node.id)
        ? [{ kind: 'explain' as const, text: `Its id is "${visibleText(change.node.id)}".` }]
        : []),
      ...bodyOf(change, index),
    ],
  };
  if (HIDDEN_ESCAPE.test(cardText(view))) view.warnings.push(HIDDEN_WARNING);
  return view;
}

function rowText(row: PropertyRow): string[] {
  const out = [row.path];
  if (row.lines !== undefined) {
    for (const line of row.lines) out.push(`${line.op === ' ' ? ' ' : line.op} ${line.text}`);
  } else if (row.op === 'moved') {
    out.push(`moved to position ${(row.to ?? 0) + 1}`);
  } else {
    if (row.old !== undefined) out.push(row.old.text);
    if (row.new !== undefined) out.push(row.new.text);
  }
  if (row.note !== undefined) out.push(row.note);
  return out;
}

/** Everything a card shows, as lines of text, in the order it shows them. */
export function cardText(view: CardView): string {
  const out: string[] = [view.op, view.kind, `${view.riskText} · ${view.why}`, view.title];
  if (view.type !== undefined) out.push(view.type);
  out.push(view.flow, ...view.warnings);
  for (const section of view.sections) {
    if (section.kind === 'explain') {
      out.push(section.text);
      continue;
    }
    out.push(section.heading);
    switch (section.kind) {
      case 'properties':
      case 'changes':
        if (section.rows.length === 0) out.push('No properties.');
        for (const row of section.rows) out.push(...rowText(row));
        break;
      case 'edges':
        for (const r of section.rows) out.push(`${r.from}${r.port ? ` ${r.port}` : ''} → ${r.to}`);
        break;
      case 'fields':
        for (const field of section.fields) out.push(`${field} value hidden`);
        break;
      case 'names':
        for (const r of section.rows) out.push(r.type ? `${r.name} ${r.type}` : r.name);
        if (section.more > 0) out.push(`and ${section.more} more`);
        break;
      case 'libs':
        for (const r of section.rows) {
          const word = r.state === 'added' ? 'New: ' : r.state === 'removed' ? 'Dropped: ' : '';
          out.push(`${word}${r.text}${r.as !== undefined ? ` as ${r.as}` : ''}`);
        }
        break;
    }
  }
  return out.join('\n');
}
