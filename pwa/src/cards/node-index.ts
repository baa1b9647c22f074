/**
 * Names for node ids, so a card says "Parse reading → Send alert" rather than two hex ids. The
 * server's change list names the nodes it is about; the snapshots, once fetched, name the rest.
 */
import { hasHiddenText, visibleText } from '../../../protocol/text.js';
import type { Change, FlowNode, Flows } from '../lib/protocol.js';
import { editorLabel } from './editor-label.js';

/** Looks up nodes of a deployment by id, target first, then base. */
export class NodeIndex {
  private readonly target = new Map<string, FlowNode>();
  private readonly base = new Map<string, FlowNode>();
  private readonly named = new Map<string, { type: string; name?: string }>();
  /** True once the snapshots are in. */
  readonly complete: boolean;

  constructor(changes: readonly Change[], base?: Flows, target?: Flows) {
    for (const change of changes) if (change.node) this.named.set(change.node.id, change.node);
    for (const node of base ?? []) this.base.set(node.id, node);
    for (const node of target ?? []) this.target.set(node.id, node);
    this.complete = base !== undefined && target !== undefined;
  }

  /** The node as the target has it, or as the base had it. */
  node(id: string): FlowNode | undefined {
    return this.target.get(id) ?? this.base.get(id);
  }

  /** Whether the node exists in the target, only in the base, or is unknown. */
  side(id: string): 'target' | 'base' | 'unknown' {
    return this.target.has(id) ? 'target' : this.base.has(id) ? 'base' : 'unknown';
  }

  /** The node's type, when known. */
  typeOf(id: string): string | undefined {
    return this.node(id)?.type ?? this.named.get(id)?.type;
  }

  /** The node's own name (or a tab's label) as shown, hidden characters escaped, when it has one. */
  nameOf(id: string): string | undefined {
    const node = this.node(id);
    const name =
      node === undefined ? this.named.get(id)?.name : node.type === 'tab' ? node.label : node.name;
    if (typeof name !== 'string') return undefined;
    const shown = visibleText(name).trim();
    return shown !== '' ? shown : undefined;
  }

  /**
   * What to call a node: its name, else its type and a short id, else the id (as shown). An id with
   * a hidden character is shown in full beside the name, since two such ids can look alike.
   */
  label(id: string): string {
    const suffix = hasHiddenText(id) ? ` (id "${visibleText(id)}")` : '';
    const name = this.nameOf(id);
    if (name !== undefined) return name + suffix;
    const type = this.typeOf(id);
    const short = suffix === '' ? visibleText(shortId(id)) : `"${visibleText(id)}"`;
    return type !== undefined ? `${visibleText(type)} ${short}` : short;
  }

  /**
   * What the editor's canvas calls a node (its name, else its type's label: "timestamp",
   * "[get] /hook"), as shown; unknown nodes as `label` does.
   */
  editorLabel(id: string): string {
    const node = this.node(id);
    if (node === undefined) return this.label(id);
    const suffix = hasHiddenText(id) ? ` (id "${visibleText(id)}")` : '';
    const definition = node.type.startsWith('subflow:')
      ? this.node(node.type.slice('subflow:'.length))
      : undefined;
    const subflowName = typeof definition?.name === 'string' ? definition.name : undefined;
    return visibleText(editorLabel(node, subflowName, (other) => this.node(other))).trim() + suffix;
  }

  /** How many output ports a node has (from its wires), when known. */
  outputsOf(id: string): number | undefined {
    const wires = this.node(id)?.wires;
    return Array.isArray(wires) ? wires.length : undefined;
  }

  /** Nodes of the target (then base-only ones) whose properties name `id`: users of a config node. */
  usersOf(id: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const map of [this.target, this.base]) {
      for (const node of map.values()) {
        if (node.id === id || seen.has(node.id)) continue;
        if (refersTo(node, id)) {
          out.push(node.id);
          seen.add(node.id);
        }
      }
    }
    return out;
  }

  /** The nodes of one flow (tab or subflow) in the target, or in the base for a removed flow. */
  nodesOf(flowId: string, side: 'target' | 'base' = 'target'): FlowNode[] {
    const map = side === 'target' ? this.target : this.base;
    return [...map.values()].filter((node) => node.z === flowId);
  }
}

function refersTo(node: FlowNode, id: string): boolean {
  for (const [key, value] of Object.entries(node)) {
    if (key === 'id' || key === 'z' || key === 'wires' || key === 'g') continue;
    if (value === id) return true;
  }
  return false;
}

/** The first 6 characters of an id: enough to tell nodes apart on a card. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 6) : id;
}
