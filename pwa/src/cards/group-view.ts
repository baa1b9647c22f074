/**
 * What a group card shows, as text, without a DOM (DESIGN 8): for a flow added or removed whole,
 * what matters first — code, endpoints it opens, outbound connections, files and processes,
 * credentials, and types Countersign does not know — then each high-risk change it holds as its own
 * full card, in that order, then every other change in a list that opens to each one's full card.
 * For a flow's low-risk changes, the list of them. `cs-group-card` renders exactly this, and the
 * completeness check reads the members' full cards from it.
 */
import { assessChange } from '../../../protocol/risk.js';
import { visibleText } from '../../../protocol/text.js';
import type { Change, Risk } from '../lib/protocol.js';
import { cardText, cardView, type CardHead, type CardView } from './card-view.js';
import { RISK_TEXT, flowText, titleOf } from './describe.js';
import type { ReviewCard } from './grouping.js';
import { libRows, libText } from './libs.js';
import type { NodeIndex } from './node-index.js';

/** One thing that matters: which node, and what it does (`GET /hook`, `rm -rf …`). */
export type TopicItem = { id: string; name: string; detail: string };

/** A heading of the summary and its items. */
export type Topic = { key: TopicKey; heading: string; items: TopicItem[] };

type TopicKey = 'code' | 'endpoints' | 'outbound' | 'files' | 'credentials' | 'other';

const HEADINGS: Record<TopicKey, string> = {
  code: 'Code',
  endpoints: 'Endpoints it opens',
  outbound: 'Outbound connections',
  files: 'Files and processes',
  credentials: 'Credentials',
  other: 'Other high-risk nodes',
};

/** The heading of a group's list of changes. */
export const MEMBERS_HEADING = 'Every change in it';

/** The heading of a group's high-risk changes, each shown as its own full card. */
export const EMBEDDED_HEADING = 'Each high-risk change, in full';

/** The heading of the list of a group's other changes, when its high-risk ones are shown above. */
export const OTHERS_HEADING = 'Every other change';

/** One change in a group's list: its name, type, what changed, and its risk. */
export type MemberRow = {
  id: string;
  title: string;
  type?: string;
  what: string;
  risk: Risk;
  riskText: string;
};

/** A group card, as shown. */
export type GroupView = CardHead & {
  /** "42 changes: 12 high risk, 20 medium, 10 low". */
  counts: string;
  /** What matters, for a whole flow; empty for a low-risk group. */
  topics: Topic[];
  /** For a whole flow with no topic: a plain sentence saying so. */
  quiet?: string;
  /** The high-risk changes, each shown as its own full card, in the order of the summary. */
  embedded: MemberRow[];
  /** The heading of the list: every change, or every other change when some are embedded. */
  listHeading: string;
  /** The changes in the expandable list: all that are not embedded. */
  members: MemberRow[];
};

const RANK: Record<Risk, number> = { low: 0, medium: 1, high: 2 };

function str(value: unknown): string {
  return typeof value === 'string'
    ? value
    : value === undefined || value === null
      ? ''
      : String(value);
}

/** `host:port`, or what is there of it. */
function address(host: unknown, port: unknown): string {
  const h = str(host);
  const p = str(port);
  return h && p ? `${h}:${p}` : h || (p ? `port ${p}` : '');
}

function lineCount(text: unknown): number {
  return typeof text === 'string' && text !== '' ? text.split(/\r\n|[\n\r\u2028\u2029]/).length : 0;
}

/** Where a member's node stands in the summary, and what to say of it; null when it is not risky. */
function topicOf(change: Change, index: NodeIndex): [TopicKey, string] | null {
  if (change.kind === 'credentials') {
    return ['credentials', `${(change.fields ?? []).join(', ')} (values hidden)`];
  }
  if (change.kind === 'wiring' || change.kind === 'layout' || change.node === undefined)
    return null;
  const p = (change.op === 'removed' ? change.before : change.after) ?? {};
  const type = change.node.type;
  switch (type) {
    case 'function': {
      const libs = libRows(change)
        .filter((r) => r.state !== 'removed')
        .map((r) => libText(r.lib));
      const lines = lineCount(p.func) + lineCount(p.initialize) + lineCount(p.finalize);
      return [
        'code',
        `${lines} ${lines === 1 ? 'line' : 'lines'} of JavaScript${libs.length > 0 ? `; installs ${libs.join(', ')}` : ''}`,
      ];
    }
    case 'template':
      return ['code', `template, ${lineCount(p.template)} lines`];
    case 'ui_template':
      return ['code', `dashboard template, ${lineCount(p.format)} lines (HTML and scripts)`];
    case 'http in':
      return ['endpoints', `${str(p.method).toUpperCase() || 'HTTP'} ${str(p.url)}`];
    case 'websocket-listener':
      return ['endpoints', `WebSocket ${str(p.path)}`];
    case 'udp in':
      return ['endpoints', `UDP port ${str(p.port)}`];
    case 'tcp in':
      return p.server === 'client'
        ? ['outbound', `TCP ${address(p.host, p.port)}`]
        : ['endpoints', `TCP port ${str(p.port)}`];
    case 'http request':
      return [
        'outbound',
        `${str(p.method).toUpperCase() || 'GET'} ${str(p.url) || '(URL from msg.url)'}`,
      ];
    case 'http proxy':
      return ['outbound', `proxy ${str(p.url)}`];
    case 'mqtt in':
    case 'mqtt out': {
      const broker = typeof p.broker === 'string' && p.broker !== '' ? index.label(p.broker) : '';
      const verb = type === 'mqtt in' ? 'subscribes to' : 'publishes to';
      return [
        'outbound',
        `MQTT ${verb} ${str(p.topic) || '(topic from msg)'}${broker ? ` via ${broker}` : ''}`,
      ];
    }
    case 'mqtt-broker':
      return ['outbound', `MQTT broker ${address(p.broker, p.port)}`];
    case 'websocket-client':
      return ['outbound', `WebSocket ${str(p.path)}`];
    case 'tcp out':
    case 'tcp request':
      return ['outbound', `TCP ${address(p.host, p.port) || '(address from msg)'}`];
    case 'udp out':
      return ['outbound', `UDP ${address(p.addr, p.port) || '(address from msg)'}`];
    case 'e-mail':
      return ['outbound', `e-mail via ${str(p.server)}`];
    case 'file':
    case 'file in':
      return [
        'files',
        `${type === 'file' ? 'writes' : 'reads'} ${str(p.filename) || '(file name from msg)'}`,
      ];
    case 'watch':
      return ['files', `watches ${str(p.files)}`];
    case 'exec':
      return ['files', `runs ${str(p.command) || '(command from msg)'}`];
    default:
      break;
  }
  const assessed = assessChange(change);
  if (assessed.risk !== 'high') return null;
  return ['other', `${visibleText(type)}: ${assessed.reasons.join(', ')}`];
}

/** What a change in a group's list says changed. */
function whatOf(change: Change): string {
  if (change.kind === 'layout') {
    const n = change.nodes?.length ?? 0;
    return `${n} ${n === 1 ? 'node' : 'nodes'} moved`;
  }
  if (change.kind === 'wiring') return 'connections changed';
  if (change.kind === 'credentials') return 'credentials set';
  if (change.op !== 'changed') return change.op;
  const delta = change.delta;
  if (typeof delta !== 'object' || delta === null || Array.isArray(delta)) return 'changed';
  const keys = Object.keys(delta).filter((k) => k !== '_t');
  return `changed: ${keys.map((k) => visibleText(k)).join(', ')}`;
}

/** A change's name in a group's list: the node's name, else what the editor's canvas calls it. */
function memberTitle(change: Change, index: NodeIndex): string {
  const id = change.node?.id;
  if (id === undefined || change.kind === 'flow' || change.kind === 'subflow') {
    return titleOf(change, index);
  }
  return index.nameOf(id) ?? index.editorLabel(id);
}

function memberRow(change: Change, index: NodeIndex): MemberRow {
  const type = change.node?.type;
  return {
    id: change.id,
    title: change.kind === 'layout' ? 'Layout' : memberTitle(change, index),
    ...(type !== undefined && change.kind !== 'flow' ? { type: visibleText(type) } : {}),
    what: whatOf(change),
    risk: change.risk,
    riskText: RISK_TEXT[change.risk],
  };
}

function countsOf(members: readonly Change[]): string {
  const n = (risk: Risk): number => members.filter((c) => c.risk === risk).length;
  const parts = (['high', 'medium', 'low'] as const)
    .filter((r) => n(r) > 0)
    .map((r, i) => `${n(r)} ${i === 0 ? `${r} risk` : r}`);
  return `${members.length} ${members.length === 1 ? 'change' : 'changes'}: ${parts.join(', ')}`;
}

/**
 * A group's high-risk changes, each to be shown as its own full card: in the order the summary
 * names them (code, endpoints, outbound connections, files and processes, credentials, others),
 * then any the summary does not name (the flow itself, a wiring change), in the change list's order.
 */
function embeddedOrder(members: readonly Change[], topics: readonly Topic[]): Change[] {
  const high = members.filter((c) => c.risk === 'high');
  const named = topics.flatMap((t) => t.items.map((item) => item.id));
  const rank = (c: Change): number => {
    const at = named.indexOf(c.id);
    return at === -1 ? named.length : at;
  };
  // A stable sort: changes the summary does not name keep the list's order after the named ones.
  return [...high].sort((a, b) => rank(a) - rank(b));
}

/** The ids of the changes a group shows as their own full cards; empty for a low-risk group. */
export function embeddedIds(
  card: Exclude<ReviewCard, { kind: 'single' }>,
  byId: ReadonlyMap<string, Change>,
  index: NodeIndex,
): string[] {
  return groupView(card, byId, index).embedded.map((row) => row.id);
}

/** The group card for `card`, whose changes are in `byId`. */
export function groupView(
  card: Exclude<ReviewCard, { kind: 'single' }>,
  byId: ReadonlyMap<string, Change>,
  index: NodeIndex,
): GroupView {
  const members = card.changes.map((id) => byId.get(id)!).filter((c) => c !== undefined);
  const risk = members.reduce<Risk>((r, c) => (RANK[c.risk] > RANK[r] ? c.risk : r), 'low');
  const why = [
    ...new Set(members.filter((c) => c.risk === risk).flatMap((c) => assessChange(c).reasons)),
  ];
  const base = {
    id: card.id,
    risk,
    riskText: RISK_TEXT[risk],
    why: why.join(', '),
    counts: countsOf(members),
  };
  if (card.kind === 'low') {
    // Every change of a low-risk group is low: none is high, so the list holds them all.
    return {
      ...base,
      embedded: [],
      listHeading: MEMBERS_HEADING,
      members: members.map((c) => memberRow(c, index)),
      op: 'Changed',
      kind: 'Group',
      title: `${members.length} low-risk changes`,
      flow: card.flow === null ? 'Global configuration' : visibleText(card.flow.label),
      topics: [],
    };
  }
  const topics = new Map<TopicKey, TopicItem[]>();
  for (const change of members) {
    const found = topicOf(change, index);
    if (found === null) continue;
    const [key, detail] = found;
    const id = change.node?.id ?? change.id;
    topics.set(key, [
      ...(topics.get(key) ?? []),
      { id: change.id, name: index.editorLabel(id), detail: visibleText(detail) },
    ]);
  }
  const subject = byId.get(card.subject);
  const ordered = (Object.keys(HEADINGS) as TopicKey[])
    .filter((key) => topics.has(key))
    .map((key) => ({ key, heading: HEADINGS[key], items: topics.get(key)! }));
  const embedded = embeddedOrder(members, ordered);
  const inList = members.filter((c) => !embedded.includes(c));
  return {
    ...base,
    embedded: embedded.map((c) => memberRow(c, index)),
    listHeading: embedded.length > 0 ? OTHERS_HEADING : MEMBERS_HEADING,
    members: inList.map((c) => memberRow(c, index)),
    op: card.op === 'added' ? 'Added' : 'Removed',
    kind: card.container === 'flow' ? 'Whole flow' : 'Whole subflow',
    title: subject !== undefined ? titleOf(subject, index) : visibleText(card.flow.label),
    flow: subject !== undefined ? flowText(subject) : 'Tab',
    topics: ordered,
    ...(ordered.length === 0
      ? {
          quiet:
            'Nothing in it runs code, opens an endpoint, connects out, touches files or processes, or sets credentials.',
        }
      : {}),
  };
}

/** The full cards of a group's changes, as each opens in the list. */
export function memberViews(
  card: Exclude<ReviewCard, { kind: 'single' }>,
  byId: ReadonlyMap<string, Change>,
  index: NodeIndex,
): CardView[] {
  return card.changes.flatMap((id) => {
    const change = byId.get(id);
    return change === undefined ? [] : [cardView(change, index)];
  });
}

/**
 * Everything a group card shows, as lines of text. `open` holds the full cards to read: those of the
 * embedded high-risk changes (shown in full on the card) and those opened in the list.
 */
export function groupText(view: GroupView, open: readonly CardView[] = []): string {
  const out = [
    view.op,
    view.kind,
    `${view.riskText} · ${view.why}`,
    view.title,
    view.flow,
    view.counts,
  ];
  for (const topic of view.topics) {
    out.push(topic.heading);
    for (const item of topic.items) out.push(`${item.name} ${item.detail}`);
  }
  if (view.quiet !== undefined) out.push(view.quiet);
  if (view.embedded.length > 0) out.push(EMBEDDED_HEADING);
  for (const row of view.embedded) {
    const full = open.find((v) => v.id === row.id);
    out.push(full !== undefined ? cardText(full) : `${row.title} ${row.riskText}`);
  }
  out.push(view.listHeading);
  for (const row of view.members) {
    out.push(`${row.title}${row.type ? ` ${row.type}` : ''} ${row.what} ${row.riskText}`);
    const full = open.find((v) => v.id === row.id);
    if (full !== undefined) out.push(cardText(full));
  }
  return out.join('\n');
}

/** A group card in a sentence: "Added whole flow Kitchen: 42 changes: 12 high risk, 30 low". */
export function groupSentence(
  card: Exclude<ReviewCard, { kind: 'single' }>,
  byId: ReadonlyMap<string, Change>,
  index: NodeIndex,
): string {
  const view = groupView(card, byId, index);
  return `${view.op} ${view.kind.toLowerCase()} ${view.title} in ${view.flow}, ${view.counts}`;
}
