/**
 * The sketch names nodes as Node-RED's editor draws them (issue: big reviews, item 4). Checked
 * against the editor itself: the `label` functions of Node-RED's core node definitions (the
 * `<script>` blocks of `@node-red/nodes/core/*\/*.html`, run here with a small `RED` that records
 * each `registerType` and answers `this._(…)` from the English messages), called on every node of
 * every real flows file and history version.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { FlowNode } from '../../protocol/index.js';
import { editorLabel } from '../../pwa/src/cards/editor-label.js';
import { NodeIndex } from '../../pwa/src/cards/node-index.js';
import { historyPairs, loadFlows, realFlowsFiles } from '../helpers/fixtures.js';

const NODES = dirname(createRequire(import.meta.url).resolve('@node-red/nodes/package.json'));
const MESSAGES = JSON.parse(
  readFileSync(join(NODES, 'locales/en-US/messages.json'), 'utf8'),
) as Record<string, unknown>;

/** Node-RED's `RED._`: a message by key, with `__name__` placeholders filled. */
function message(key: string, vars: Record<string, unknown> = {}): string {
  let found: unknown = MESSAGES;
  for (const part of key.replace(/^node-red:/, '').split('.')) {
    found =
      typeof found === 'object' && found !== null
        ? (found as Record<string, unknown>)[part]
        : undefined;
  }
  let text = typeof found === 'string' ? found : key;
  for (const [name, value] of Object.entries(vars))
    text = text.split(`__${name}__`).join(String(value));
  return text;
}

type Definition = { label?: string | ((this: Record<string, unknown>) => string) };

/** The editor's definitions of the core node types, by type. */
function coreDefinitions(): Map<string, Definition> {
  const defs = new Map<string, Definition>();
  const RED = {
    nodes: {
      registerType: (type: string, def: Definition) => defs.set(type, def),
      // The editor's node lookup: the node of the flows being labelled, with its own label().
      node: (id: string) => {
        const node = current.get(id);
        return node === undefined ? null : { ...node, label: () => editorsOwn(node) ?? node.type };
      },
    },
    _: message,
    settings: { httpNodeRoot: '/' },
    utils: { parseContextKey: (key: string) => ({ key }) },
    editor: {},
    validators: { number: () => () => true, regex: () => () => true, typedInput: () => () => true },
  };
  for (const dir of readdirSync(join(NODES, 'core'))) {
    for (const file of readdirSync(join(NODES, 'core', dir)).filter((f) => f.endsWith('.html'))) {
      const html = readFileSync(join(NODES, 'core', dir, file), 'utf8');
      for (const m of html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)) {
        try {
          runInNewContext(m[1]!, { RED, $: () => ({}), jQuery: () => ({}), window: {}, console });
        } catch {
          // A block that needs the editor's page to run (the function node's); its label is
          // `name || "function"`, pinned below.
        }
      }
    }
  }
  return defs;
}

/** The flows being labelled, by id. */
let current = new Map<string, FlowNode>();
const defs = coreDefinitions();

/** What the editor's canvas shows for `node`: its name, else its definition's label. */
function editorsOwn(node: FlowNode): string | undefined {
  const def = defs.get(node.type);
  if (def === undefined || typeof def.label !== 'function') return undefined;
  const self = { ...structuredClone(node), _: message } as Record<string, unknown>;
  return def.label.call(self);
}

describe('node labels as the editor draws them', () => {
  it('knows the editor’s own label of most core types', () => {
    expect(defs.size).toBeGreaterThan(40);
    for (const type of ['inject', 'change', 'http in', 'mqtt out', 'delay', 'debug', 'exec']) {
      expect(defs.has(type), type).toBe(true);
    }
  });

  it('labels every core node of the real flows and histories as the editor does', () => {
    let compared = 0;
    const wrong = new Map<string, string>();
    const files = [
      ...realFlowsFiles().map(([, path]) => path),
      ...historyPairs().map(([, , target]) => target),
    ];
    for (const path of files) {
      const flows = loadFlows(path);
      current = new Map(flows.map((n) => [n.id, n]));
      for (const node of flows) {
        const expected = editorsOwn(node);
        if (expected === undefined) continue;
        compared++;
        const mine = editorLabel(node, undefined, (id) => current.get(id));
        if (mine !== expected) {
          wrong.set(
            node.type,
            `${JSON.stringify(mine)} ≠ ${JSON.stringify(expected)} ${JSON.stringify(node).slice(0, 300)}`,
          );
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
    expect(Object.fromEntries(wrong)).toEqual({});
  });

  it('calls an unnamed timestamp inject "timestamp", a function "function", an instance by its subflow', () => {
    const inject = { id: 'a', type: 'inject', z: 't', payloadType: 'date', topic: '', payload: '' };
    expect(editorLabel(inject)).toBe('timestamp');
    expect(editorLabel({ id: 'f', type: 'function', z: 't' })).toBe('function');
    expect(editorLabel({ id: 'f', type: 'function', z: 't', name: 'Parse' })).toBe('Parse');
    const flows = [
      { id: 's', type: 'subflow', name: 'Scale reading' },
      { id: 'i', type: 'subflow:s', z: 't', x: 1, y: 1 },
    ];
    expect(new NodeIndex([], flows, flows).editorLabel('i')).toBe('Scale reading');
  });
});
