import type { ChangeKind, Risk } from './changes/types.js';
import type { ModuleDescriptor } from './module.js';
import { hasHidden } from './text.js';

/**
 * Node types that run code, touch files, spawn processes or reach networks (5.2). A change to one of
 * these can do anything the Node-RED process can do.
 */
const HIGH: ReadonlySet<string> = new Set([
  'function',
  'exec',
  'file',
  'file in',
  'watch',
  'template',
  'http in',
  'http request',
  'http proxy',
  'tls-config',
  'tcp in',
  'tcp out',
  'tcp request',
  'udp in',
  'udp out',
  'websocket in',
  'websocket out',
  'websocket-listener',
  'websocket-client',
  'mqtt in',
  'mqtt out',
  'mqtt-broker',
]);

/** Types known to do little harm on their own: they annotate, or only shape the canvas. */
const LOW: ReadonlySet<string> = new Set(['comment']);

/** Node-RED's core types that are neither high nor low. */
const MEDIUM: ReadonlySet<string> = new Set([
  'tab',
  'group',
  'junction',
  'inject',
  'debug',
  'complete',
  'catch',
  'status',
  'link in',
  'link out',
  'link call',
  'change',
  'switch',
  'range',
  'delay',
  'trigger',
  'split',
  'join',
  'sort',
  'batch',
  'csv',
  'html',
  'json',
  'xml',
  'yaml',
  'rbe',
  'filter',
  'http response',
  'global-config',
  'unknown',
]);

/** The risk of changing a node of `type`: high for code, files, processes, networks, subflows and unknown types. */
export function riskOfType(type: string): Risk {
  if (HIGH.has(type)) return 'high';
  if (LOW.has(type)) return 'low';
  if (MEDIUM.has(type)) return 'medium';
  // Subflow definitions and instances, and every type this list does not know.
  return 'high';
}

/** The risk of a change of `kind` to a node of `type`. */
export function riskOf(kind: ChangeKind, type: string): Risk {
  switch (kind) {
    case 'layout':
      return 'low';
    case 'credentials':
    case 'subflow':
      return 'high';
    case 'wiring':
      // Rewiring decides what runs after what: never low.
      return riskOfType(type) === 'high' ? 'high' : 'medium';
    case 'flow':
    case 'node':
    case 'config':
      return riskOfType(type);
    case 'module':
      return 'high';
  }
}

/**
 * The risk of a change of `kind` to a node of `type` that shows `shown` (its values, ids, field
 * names): high when any of it holds an invisible or reordering character (5.2, Text display), which
 * could make what runs read differently from what the card shows. Layout changes stay low: they
 * show no values.
 */
export function riskOfChange(kind: ChangeKind, type: string, shown: readonly unknown[]): Risk {
  if (kind !== 'layout' && (hasHidden(type) || shown.some(hasHidden))) return 'high';
  return riskOf(kind, type);
}

/** The package name of Countersign itself: removing it removes the gate. */
export const COUNTERSIGN_PACKAGE = 'node-red-contrib-countersign';

/**
 * The risk of a palette change (7.1): high when code runs or could start running (an install or
 * update runs npm and loads the module, an enable loads a node set's code, any install script) and
 * when the change removes Countersign itself; medium for a removal or disable, which only takes
 * types away (Node-RED refuses while flows use them).
 */
export function riskOfModule(
  descriptor: Pick<ModuleDescriptor, 'action' | 'name' | 'scripts'>,
): Risk {
  if (Object.keys(descriptor.scripts).length > 0) return 'high';
  if (descriptor.action === 'remove' || descriptor.action === 'disable') {
    return descriptor.name === COUNTERSIGN_PACKAGE ? 'high' : 'medium';
  }
  return 'high';
}
