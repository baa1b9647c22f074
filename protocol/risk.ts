import type { Change, ChangeKind, Edge, Risk } from './changes/types.js';
import type { ModuleDescriptor } from './module.js';
import { hasHidden } from './text.js';

/**
 * Risk by what changed (DESIGN 5.2), in one module: what a node can do when it runs decides how much
 * a change to it can do, and a change that touches only how it looks (its name, its place on a
 * dashboard) is low whatever the node does. Each rating carries its reasons, the words on the badge.
 */

/** What a rating rests on: a few plain words a reviewer reads on the badge. */
export const REASON = {
  code: 'runs code',
  libraries: 'installs libraries',
  template: 'renders templates',
  dashboardCode: 'runs code in the dashboard',
  processes: 'starts processes',
  files: 'touches files',
  endpoint: 'opens an endpoint',
  outbound: 'sends data out',
  network: 'reaches the network',
  tls: 'changes TLS settings',
  credentials: 'sets credentials',
  subflow: 'changes a subflow',
  subflowInstance: 'runs a subflow',
  unknown: 'type not known to Countersign',
  hidden: 'hidden characters',
  repeated: 'repeated node id',
  flowSwitch: 'turns a flow on or off',
  behaviour: 'changes how messages are handled',
  rewire: 'changes where messages go',
  dashboardInput: 'takes input from the dashboard',
  dashboardShow: 'shows data on the dashboard',
  presentation: 'presentation only',
  layout: 'only moved',
  editorOnly: 'editor only',
} as const;

/** What a node of some type can do when it runs. */
type Capability = { risk: Risk; reason: string };

const cap = (risk: Risk, reason: string): Capability => ({ risk, reason });

/** Types that run code, touch files, spawn processes or reach networks, and a few harmless ones. */
const CAPABILITIES: ReadonlyMap<string, Capability> = new Map<string, Capability>([
  ['function', cap('high', REASON.code)],
  ['template', cap('high', REASON.template)],
  ['ui_template', cap('high', REASON.dashboardCode)],
  ['exec', cap('high', REASON.processes)],
  ['file', cap('high', REASON.files)],
  ['file in', cap('high', REASON.files)],
  ['watch', cap('high', REASON.files)],
  ['http in', cap('high', REASON.endpoint)],
  ['websocket-listener', cap('high', REASON.endpoint)],
  ['udp in', cap('high', REASON.endpoint)],
  ['tcp in', cap('high', REASON.endpoint)],
  ['http request', cap('high', REASON.outbound)],
  ['http proxy', cap('high', REASON.outbound)],
  ['tcp out', cap('high', REASON.outbound)],
  ['tcp request', cap('high', REASON.outbound)],
  ['udp out', cap('high', REASON.outbound)],
  ['mqtt out', cap('high', REASON.outbound)],
  ['mqtt-broker', cap('high', REASON.outbound)],
  ['websocket out', cap('high', REASON.outbound)],
  ['websocket-client', cap('high', REASON.outbound)],
  ['e-mail', cap('high', REASON.outbound)],
  ['mqtt in', cap('high', REASON.network)],
  ['websocket in', cap('high', REASON.network)],
  ['tls-config', cap('high', REASON.tls)],
  ['comment', cap('low', REASON.editorOnly)],
  ['debug', cap('low', REASON.editorOnly)],
  ['tab', cap('low', REASON.presentation)],
  // Dashboard (node-red-dashboard) layout: where widgets sit, and the theme.
  ['ui_base', cap('low', REASON.presentation)],
  ['ui_tab', cap('low', REASON.presentation)],
  ['ui_group', cap('low', REASON.presentation)],
  ['ui_spacer', cap('low', REASON.presentation)],
  ...[
    'ui_button',
    'ui_switch',
    'ui_slider',
    'ui_numeric',
    'ui_text_input',
    'ui_dropdown',
    'ui_date_picker',
    'ui_colour_picker',
    'ui_form',
  ].map((type): [string, Capability] => [type, cap('medium', REASON.dashboardInput)]),
  ...['ui_text', 'ui_chart', 'ui_gauge', 'ui_toast', 'ui_audio', 'ui_table', 'ui_ui_control'].map(
    (type): [string, Capability] => [type, cap('medium', REASON.dashboardShow)],
  ),
  ...[
    'group',
    'junction',
    'inject',
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
  ].map((type): [string, Capability] => [type, cap('medium', REASON.behaviour)]),
]);

/** What a node of `type` can do: subflow instances and every type not listed are high. */
export function capabilityOf(type: string): Capability {
  const known = CAPABILITIES.get(type);
  if (known !== undefined) return known;
  if (type === 'subflow') return cap('high', REASON.subflow);
  if (type.startsWith('subflow:')) return cap('high', REASON.subflowInstance);
  return cap('high', REASON.unknown);
}

/** The risk of changing a node of `type` as a whole (adding, removing, or changing what it does). */
export function riskOfType(type: string): Risk {
  return capabilityOf(type).risk;
}

/** Properties that change how any node looks in the editor, never what it does. */
const EDITOR_KEYS: ReadonlySet<string> = new Set([
  'name',
  'info',
  'icon',
  'inputLabels',
  'outputLabels',
  'g',
  'l',
  'x',
  'y',
  'w',
  'h',
]);

/** More such properties of tabs and subflow definitions. */
const CONTAINER_KEYS: ReadonlySet<string> = new Set(['label', 'category', 'color']);

/** Dashboard widget properties that only change how and where it shows: order, size, colour. */
const DASHBOARD_KEYS: ReadonlySet<string> = new Set([
  'order',
  'width',
  'height',
  'group',
  'label',
  'tooltip',
  'className',
  'color',
  'colors',
  'bgcolor',
  'fgcolor',
  'icon',
  'layout',
  'disp',
  'collapse',
  'hidden',
  'disabled',
  'title',
  'legend',
  'ymin',
  'ymax',
  'xformat',
  'nodata',
  'dot',
  'interpolate',
  'cutout',
  'useOneColor',
  'useUTC',
  'gtype',
  'seg1',
  'seg2',
  'place',
]);

/** True when changing `key` of a node of `type` changes only how it looks. */
export function isPresentationKey(type: string, key: string): boolean {
  if (EDITOR_KEYS.has(key)) return true;
  if ((type === 'tab' || type === 'subflow') && CONTAINER_KEYS.has(key)) return true;
  // A dashboard template's look is its code; every other dashboard widget's is not.
  return type.startsWith('ui_') && type !== 'ui_template' && DASHBOARD_KEYS.has(key);
}

/** A rating and the reasons for it, most telling first. */
export type Assessment = { risk: Risk; reasons: string[] };

const RANK: Record<Risk, number> = { low: 0, medium: 1, high: 2 };

function worst(...all: Assessment[]): Assessment {
  const risk = all.reduce<Risk>((r, a) => (RANK[a.risk] > RANK[r] ? a.risk : r), 'low');
  const reasons = [...new Set(all.filter((a) => a.risk === risk).flatMap((a) => a.reasons))];
  return { risk, reasons };
}

function of(capability: Capability): Assessment {
  return { risk: capability.risk, reasons: [capability.reason] };
}

/** The node ids at both ends of some edges (a card names them). */
function idsOf(...lists: Edge[][]): string[] {
  return lists.flatMap((edges) => edges.flatMap((e) => [e.from, e.to]));
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The strings a change's card shows, scanned for hidden characters. */
function shownOf(change: Omit<Change, 'risk'>): unknown[] {
  const id = change.node?.id ?? change.id;
  switch (change.kind) {
    case 'layout':
      return [];
    case 'credentials':
      return [id, change.fields ?? []];
    case 'wiring':
      return [id, idsOf(change.edges?.added ?? [], change.edges?.removed ?? [])];
    default:
      if (change.op === 'changed') return [change.node, change.delta];
      return [
        id,
        change.op === 'added' ? change.after : change.before,
        idsOf(change.edges?.added ?? [], change.edges?.removed ?? []),
      ];
  }
}

/** A changed node: presentation keys only is low, anything else is what its type can do. */
function changedNode(type: string, delta: unknown): Assessment {
  // Copies of one id that differ, with no delta: which copy runs depends on array order.
  if (!isObj(delta)) return { risk: 'high', reasons: [REASON.repeated] };
  const keys = Object.keys(delta).filter((key) => key !== '_t');
  const typeDelta = delta.type;
  const types = Array.isArray(typeDelta) && typeDelta.length === 2 ? typeDelta.map(String) : [type];
  if (keys.every((key) => types.every((t) => isPresentationKey(t, key)))) {
    return { risk: 'low', reasons: [REASON.presentation] };
  }
  const found = types.map((t) => {
    if (t === 'tab') {
      return keys.includes('disabled')
        ? { risk: 'medium' as const, reasons: [REASON.flowSwitch] }
        : { risk: 'medium' as const, reasons: [REASON.behaviour] };
    }
    const assessment = of(capabilityOf(t));
    if (t === 'function' && keys.includes('libs')) assessment.reasons.push(REASON.libraries);
    return assessment;
  });
  return worst(...found);
}

/**
 * The rating of one change (5.2) from what its card shows: what changed, on what type of node.
 * The change model sets `risk` from it; the phone shows its reasons on the badge.
 */
export function assessChange(change: Omit<Change, 'risk'>): Assessment {
  if (change.kind === 'module' && change.module !== undefined) {
    const risk = riskOfModule(change.module.descriptor);
    return { risk, reasons: [risk === 'high' ? REASON.code : REASON.behaviour] };
  }
  if (change.kind === 'layout') return { risk: 'low', reasons: [REASON.layout] };
  const type = change.node?.type ?? '';
  const hidden: Assessment =
    hasHidden(type) || shownOf(change).some(hasHidden)
      ? { risk: 'high', reasons: [REASON.hidden] }
      : { risk: 'low', reasons: [] };
  let own: Assessment;
  switch (change.kind) {
    case 'credentials':
      own = { risk: 'high', reasons: [REASON.credentials] };
      break;
    case 'wiring': {
      const capability = capabilityOf(type);
      own =
        capability.risk === 'high' ? of(capability) : { risk: 'medium', reasons: [REASON.rewire] };
      break;
    }
    default:
      own = change.op === 'changed' ? changedNode(type, change.delta) : of(capabilityOf(type));
  }
  // Hidden characters first: the badge says that before what the node does.
  return worst(hidden, own);
}

/** The risk of a change of `kind` to a node of `type`, as a whole (no property-level view). */
export function riskOf(kind: ChangeKind, type: string): Risk {
  switch (kind) {
    case 'layout':
      return 'low';
    case 'credentials':
    case 'subflow':
    case 'module':
      return 'high';
    case 'wiring':
      return riskOfType(type) === 'high' ? 'high' : 'medium';
    case 'flow':
    case 'node':
    case 'config':
      return riskOfType(type);
  }
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
