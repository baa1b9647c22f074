/** The words on a card: what happened, to what, where. Names and ids are shown with hidden characters escaped. */
import { visibleText } from '../../../protocol/text.js';
import type { Change, Edge } from '../lib/protocol.js';
import type { NodeIndex } from './node-index.js';

const KIND_WORD: Record<Change['kind'], string> = {
  flow: 'Flow',
  subflow: 'Subflow',
  node: 'Node',
  config: 'Config node',
  wiring: 'Wiring',
  layout: 'Layout',
  credentials: 'Credentials',
  module: 'Palette module',
};

/** The words of the risk chip. */
export const RISK_TEXT = { high: 'High risk', medium: 'Medium risk', low: 'Low risk' } as const;

const OP_WORD: Record<Change['op'], string> = {
  added: 'Added',
  removed: 'Removed',
  changed: 'Changed',
};

/** "Added", "Removed", "Changed", or for wiring "Rewired", for layout "Moved". */
export function opWord(change: Change): string {
  const action = change.module?.descriptor.action;
  if (action !== undefined) return action.charAt(0).toUpperCase() + action.slice(1);
  if (change.kind === 'wiring') return 'Rewired';
  if (change.kind === 'layout') return 'Moved';
  if (change.kind === 'credentials') return change.op === 'added' ? 'Set' : 'Changed';
  return OP_WORD[change.op];
}

/** "Node", "Config node", "Flow"… */
export function kindWord(change: Change): string {
  return KIND_WORD[change.kind];
}

/** The card's title: the subject's name, or what it is. */
export function titleOf(change: Change, index: NodeIndex): string {
  if (change.kind === 'layout') {
    const count = change.nodes?.length ?? 0;
    return `${count} ${count === 1 ? 'node' : 'nodes'} moved`;
  }
  if (change.node !== undefined) {
    const own = change.node.name !== undefined ? visibleText(change.node.name).trim() : '';
    return own || (index.nameOf(change.node.id) ?? visibleText(change.node.type));
  }
  if (change.module !== undefined) return visibleText(change.module.descriptor.name);
  return visibleText(change.id);
}

/** The flow a change sits in, for the card's subtitle. */
export function flowText(change: Change): string {
  if (change.kind === 'module') return 'Palette';
  if (change.kind === 'flow' || change.kind === 'subflow')
    return change.kind === 'flow' ? 'Tab' : 'Subflow definition';
  return change.flow === null ? 'Global configuration' : visibleText(change.flow.label);
}

/** One line of an edge list: "Read sensor (out 2) → Store". */
export function edgeText(
  edge: Edge,
  index: NodeIndex,
): { from: string; port: string; to: string; via: string } {
  const outputs = index.outputsOf(edge.from);
  const port =
    edge.via === 'link'
      ? 'link'
      : (outputs ?? 0) > 1 || edge.port > 0
        ? `out ${edge.port + 1}`
        : '';
  return { from: index.label(edge.from), port, to: index.label(edge.to), via: edge.via ?? 'wire' };
}

/** A sentence for screen readers and the summary: "Changed node Parse reading (function) in Kitchen". */
export function sentenceOf(change: Change, index: NodeIndex): string {
  const where =
    change.kind === 'module'
      ? `version ${visibleText(change.module?.descriptor.version ?? '')} in the palette`
      : change.flow === null
        ? 'in global configuration'
        : `in ${visibleText(change.flow.label)}`;
  const type =
    change.node !== undefined && change.kind !== 'flow'
      ? ` (${visibleText(change.node.type)})`
      : '';
  return `${opWord(change)} ${kindWord(change).toLowerCase()} ${titleOf(change, index)}${type} ${where}`;
}
