/**
 * A node's label as Node-RED's editor draws it on the canvas: its name first, else what the type's
 * own `label` function computes from its settings (an inject of a timestamp is "timestamp", an HTTP
 * endpoint "[get] /hook", a change node "set msg.payload"), else the type. Written from the label
 * functions of Node-RED's core nodes, in English; other types show their name, their dashboard
 * label, or their type. Hidden characters are escaped by the caller.
 */
import type { FlowNode } from '../lib/protocol.js';

type Obj = Record<string, unknown>;

function s(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** Node-RED's `parseContextKey`, enough for a label: `#:(store)::key` → `key`. */
function contextKey(key: string): string {
  const m = /^#:\((\S+?)\)::(.*)$/.exec(key);
  return m ? m[2]! : key;
}

const INJECT_TYPE_LABEL: Record<string, string> = {
  date: 'timestamp',
  bin: 'buffer',
  env: 'env variable',
};

function injectLabel(n: Obj): string {
  let suffix = '';
  if (n.once === true) suffix = ' ¹';
  if (
    (n.repeat !== undefined && n.repeat !== '' && n.repeat !== '0' && n.repeat !== 0) ||
    n.crontab
  )
    suffix = '\t↻';
  if (s(n.name) !== '') return s(n.name) + suffix;
  let payload = '';
  let payloadType = 'str';
  let topic = '';
  if (Array.isArray(n.props)) {
    for (const p of n.props as Obj[]) {
      if (p.p === 'payload') {
        payload = s(p.v ?? n.payload);
        payloadType = s(p.vt ?? n.payloadType) || 'str';
      } else if (p.p === 'topic') topic = s(p.v ?? n.topic);
    }
  } else {
    payload = s(n.payload);
    payloadType = s(n.payloadType) || 'str';
    topic = s(n.topic);
  }
  if (['string', 'str', 'num', 'bool', 'json'].includes(payloadType)) {
    if (topic !== '' && topic.length + payload.length <= 32) return `${topic}:${payload}${suffix}`;
    if (payload.length > 0 && payload.length < 24) return payload + suffix;
    return `inject${suffix}`;
  }
  const typeLabel = INJECT_TYPE_LABEL[payloadType];
  if (typeLabel !== undefined) {
    return topic !== '' && topic.length <= 16
      ? `${topic}:${typeLabel}${suffix}`
      : typeLabel + suffix;
  }
  if (payloadType === 'flow' || payloadType === 'global') {
    return `${payloadType}.${contextKey(payload)}${suffix}`;
  }
  return `inject${suffix}`;
}

function changeLabel(n: Obj): string {
  const verb = (t: unknown): string =>
    t === 'set' ? 'set' : t === 'change' ? 'change' : t === 'move' ? 'move' : 'delete';
  if (!Array.isArray(n.rules)) {
    const action = n.action === 'replace' ? 'set' : n.action;
    return `${verb(action)} msg.${s(n.property)}`;
  }
  const rules = n.rules as Obj[];
  if (rules.length === 1) {
    const r = rules[0]!;
    return `${verb(r.t)} ${s(r.pt) || 'msg'}.${contextKey(s(r.p))}`;
  }
  return `change: ${rules.length} rules`;
}

function delayLabel(n: Obj): string {
  if (n.pauseType === 'delayv') return 'variable';
  if (n.pauseType === 'delay') {
    const unitsText = s(n.timeoutUnits);
    const units = unitsText === 'milliseconds' ? 'ms' : unitsText ? unitsText.charAt(0) : 's';
    return `delay ${s(n.timeout)}${units}`;
  }
  if (n.pauseType === 'random') return 'random';
  const rateUnits = s(n.rateUnits);
  const nb = Number(n.nbRateUnits);
  const rate = `${s(n.rate)} msg/${rateUnits ? (nb > 1 ? nb : '') + rateUnits.charAt(0) : 's'}`;
  return n.pauseType === 'rate' ? `limit ${rate}` : `limit topic ${rate}`;
}

function httpRoot(path: string): string {
  return `/${path.startsWith('/') ? path.slice(1) : path}`;
}

function fileName(n: Obj): string {
  const type = s(n.filenameType);
  if (type !== 'str' && type !== 'env') return '';
  return type === 'env' ? `env.${s(n.filename)}` : s(n.filename);
}

/** Finds another node by id (a websocket node's server, say). */
export type NodeLookup = (id: string) => FlowNode | undefined;

/** The label a type's `label` function gives an unnamed node, or undefined for types not known here. */
function typeLabel(n: Obj, type: string, lookup: NodeLookup): string | undefined {
  switch (type) {
    case 'inject':
      return injectLabel(n);
    case 'debug': {
      const suffix = n.console === true || n.console === 'true' ? '\t⇲' : '';
      const name = s(n.name);
      if (n.targetType === 'jsonata') return `${name || 'JSONata'}${suffix}`;
      if (n.complete === true || n.complete === 'true') return `${name || 'msg'}${suffix}`;
      const complete = !n.complete || n.complete === 'false' ? 'payload' : s(n.complete);
      return `${name || `msg.${complete}`}${suffix}`;
    }
    case 'complete':
      return `complete: ${Array.isArray(n.scope) ? n.scope.length : 0}`;
    case 'catch':
      if (n.scope === 'group') return 'catch: group';
      if (Array.isArray(n.scope)) return `catch: ${n.scope.length}`;
      return n.uncaught ? 'catch: uncaught' : 'catch: all';
    case 'status':
      if (n.scope === 'group') return 'status: group';
      if (Array.isArray(n.scope)) return `status: ${n.scope.length}`;
      return 'status: all';
    case 'link in':
      return 'link in';
    case 'link out':
      return n.mode === 'return' ? 'link return' : 'link out';
    case 'link call':
      return n.linkType === 'dynamic' ? 'Dynamic' : 'link call';
    case 'comment':
      return 'comment';
    case 'function':
      return 'function';
    case 'switch':
      return 'switch';
    case 'change':
      return changeLabel(n);
    case 'range':
      return s(n.minout) !== '' && s(n.maxout) !== '' ? `${s(n.minout)} - ${s(n.maxout)}` : 'range';
    case 'template':
      return 'template';
    case 'delay':
      return delayLabel(n);
    case 'trigger': {
      const d = Number(n.duration);
      if (d > 0) return `trigger ${d}${s(n.units)}`;
      if (d < 0) return `resend every ${-d}${s(n.units)}`;
      return 'trigger & block';
    }
    case 'exec':
      return s(n.command) || (n.useSpawn === 'true' ? 'spawn' : 'exec');
    case 'rbe':
      return (
        s(n.func).replace('Eq', '').replace('rbei', 'filter').replace('rbe', 'filter') || 'filter'
      );
    case 'http in':
      return n.url ? `[${s(n.method)}] ${httpRoot(s(n.url))}` : 'http';
    case 'http response':
      return `http${n.statusCode ? ` (${s(n.statusCode)})` : ''}`;
    case 'http request':
      return 'http request';
    case 'mqtt in':
    case 'mqtt out':
      return n.topicType !== 'dynamic' && n.topic ? s(n.topic) : 'mqtt';
    case 'websocket in':
    case 'websocket out': {
      const config = lookup(s(n.client) || s(n.server));
      return config !== undefined ? `[ws] ${editorLabel(config, undefined, lookup)}` : 'websocket';
    }
    case 'websocket-listener':
      return httpRoot(s(n.path));
    case 'websocket-client':
      return s(n.path);
    case 'mqtt-broker': {
      const broker = s(n.broker) || 'undefined';
      const label = `${n.clientid ? `${s(n.clientid)}@` : ''}${broker}`;
      return broker.includes('://') ? label : `${label}:${s(n.port) || '1883'}`;
    }
    case 'tls-config':
      return 'TLS configuration';
    case 'http proxy':
      return s(n.url) || `http proxy:${s(n.id)}`;
    case 'tcp in':
    case 'tcp out':
      return `tcp:${n.host ? `${s(n.host)}:` : ''}${s(n.port)}`;
    case 'tcp request':
      return `tcp:${n.server ? `${s(n.server)}:` : ''}${s(n.port)}`;
    case 'udp in':
      return n.multicast === 'false' || n.multicast === undefined
        ? `udp ${s(n.port)}`
        : `udp ${s(n.group)}:${s(n.port)}`;
    case 'udp out':
      return `udp ${s(n.addr)}:${s(n.port)}`;
    case 'csv':
    case 'json':
    case 'xml':
    case 'yaml':
      return type;
    case 'html':
      return s(n.tag) || 'html';
    case 'split':
      return 'split';
    case 'join': {
      let name = s(n.name) || 'join';
      if (n.mode === 'custom' && !Number.isNaN(Number(n.count))) {
        name += ` ${s(n.count)}`;
        if (n.accumulate === true) name += '+';
      }
      return name;
    }
    case 'sort':
      return 'sort';
    case 'batch': {
      let name = s(n.name) || 'batch';
      if (n.mode === 'count' && !Number.isNaN(Number(n.count))) name += ` ${s(n.count)}`;
      if (n.mode === 'interval' && !Number.isNaN(Number(n.interval))) name += ` ${s(n.interval)}s`;
      return name;
    }
    case 'file': {
      const fn = fileName(n);
      return n.overwriteFile === 'delete' ? `delete ${fn}` : fn || 'write file';
    }
    case 'file in':
      return fileName(n) || 'read file';
    case 'watch':
      return s(n.files) || 'watch';
    default:
      return undefined;
  }
}

/** Types whose label is more than their name when they have one. */
const NAME_AND_MORE: ReadonlySet<string> = new Set(['inject', 'debug', 'join', 'batch']);

/**
 * The editor's label for `node`: its name, else its type's label. `subflowName` names a subflow
 * instance's definition; `lookup` finds the config nodes some labels name.
 */
export function editorLabel(
  node: FlowNode,
  subflowName?: string,
  lookup: NodeLookup = () => undefined,
): string {
  // A few types add to the name (an inject that repeats shows ↻ after it); they say so themselves.
  if (NAME_AND_MORE.has(node.type)) return typeLabel(node, node.type, lookup)!;
  const own = node.type === 'tab' ? node.label : node.name;
  if (typeof own === 'string' && own.trim() !== '') return own;
  const computed = typeLabel(node, node.type, lookup);
  if (computed !== undefined && computed.trim() !== '') return computed;
  if (node.type.startsWith('subflow:')) return subflowName ?? 'subflow';
  // Dashboard widgets show their label; other types their type name.
  if (node.type.startsWith('ui_') && typeof node.label === 'string' && node.label.trim() !== '') {
    return node.label;
  }
  return node.type;
}
