/**
 * The `countersign` block of Node-RED's settings.js (DESIGN 4), checked into a typed value. Every
 * error names the setting, so a wrong setting stops Node-RED's start with one clear line.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CountersignError } from '../protocol/index.js';
import { parseTrustProxy } from '../server/http/client-address.js';

/** How the gate reaches its approval server. */
export type ServerMode =
  | { kind: 'embedded'; port: number; host: string; dataDir: string; publicUrl?: string }
  | { kind: 'standalone'; url: string; instanceToken: string };

/** The validated settings. */
export type GateSettings = {
  server: ServerMode;
  /** The instance name the approval server shows. */
  name: string;
  requiredApprovals: number;
  forbidSelfApproval: boolean;
  expiresIn: string;
  /** `expiresIn` in seconds. */
  expiresInS: number;
  onStartMismatch: 'hold' | 'stop';
  /** Embedded server only: TLS files and the VAPID subject. */
  tls?: { cert: string; key: string };
  pushSubject?: string;
  /** Embedded server only: reverse proxies whose `X-Forwarded-For` names the client. */
  trustProxy?: string[];
  /** Embedded server only: how long decided deployments stay live (days, and how many). */
  retention?: { days?: number; keep?: number };
};

/** What the settings are checked against: where Node-RED keeps its files and serves its editor. */
export type SettingsContext = {
  userDir: string;
  /** The editor's origin(s), e.g. `http://127.0.0.1:1880`; a public URL may not equal any of them. */
  editorOrigins: string[];
};

const KNOWN = [
  'server',
  'port',
  'host',
  'publicUrl',
  'instanceToken',
  'name',
  'dataDir',
  'requiredApprovals',
  'forbidSelfApproval',
  'expiresIn',
  'onStartMismatch',
  'tls',
  'pushSubject',
  'trustProxy',
  'retention',
] as const;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function bad(setting: string, message: string): CountersignError {
  return new CountersignError('ERR_CONFIG', `countersign.${setting} ${message}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** True for a loopback host name, where plain http is acceptable. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Checks a URL setting: http(s), https unless the host is loopback, no query or fragment. */
function parseUrlSetting(setting: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw bad(
      setting,
      `must be a URL such as "https://approvals.example.com" (got ${describe(value)})`,
    );
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw bad(setting, `is not a valid URL (got ${describe(value)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw bad(setting, `must be an http(s) URL (got ${describe(value)})`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw bad(setting, `must use https unless the host is localhost (got ${describe(value)})`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw bad(
      setting,
      `must not carry credentials, a query or a fragment (got ${describe(value)})`,
    );
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** The origin of a URL with its default port made explicit, for comparing origins. */
export function originKey(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const host = isLoopbackHost(u.hostname) ? 'loopback' : u.hostname.toLowerCase();
  return `${u.protocol}//${host}:${port}`;
}

/** A duration such as `'30m'`, `'24h'`, `'7d'` (up to 365 days), as the server accepts it. */
function parseDuration(setting: string, value: unknown): { text: string; seconds: number } {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 365 * 86400) {
    return { text: `${value}s`, seconds: value };
  }
  if (typeof value === 'string') {
    const match = /^(\d{1,6})\s*([smhd])$/.exec(value.trim());
    const unit = { s: 1, m: 60, h: 3600, d: 86400 } as const;
    if (match) {
      const seconds = Number(match[1]) * unit[match[2] as keyof typeof unit];
      if (seconds > 0 && seconds <= 365 * 86400) return { text: `${match[1]}${match[2]}`, seconds };
    }
  }
  throw bad(setting, `must be a duration such as "30m", "24h" or "7d" (got ${describe(value)})`);
}

function parsePort(setting: string, value: unknown): number {
  if (typeof value === 'string' && /^\d{1,5}$/.test(value)) value = Number(value);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw bad(setting, `must be a port number from 0 to 65535 (got ${describe(value)})`);
  }
  return value;
}

function parseString(setting: string, value: unknown, max = 200): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw bad(
      setting,
      `must be a non-empty string of at most ${max} characters (got ${describe(value)})`,
    );
  }
  return value.trim();
}

/**
 * Checks the `countersign` settings block. `undefined` gives the embedded defaults (DESIGN 4): port
 * 1881, data directory `<userDir>/countersign`, one approval.
 */
export function parseGateSettings(input: unknown, context: SettingsContext): GateSettings {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new CountersignError(
      'ERR_CONFIG',
      `countersign must be an object (got ${describe(input)})`,
    );
  }
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw bad(key, `is not a setting (known: ${KNOWN.join(', ')})`);
    }
  }
  const given = (key: (typeof KNOWN)[number]): boolean => raw[key] !== undefined;

  const requiredApprovals = given('requiredApprovals') ? raw.requiredApprovals : 1;
  if (
    typeof requiredApprovals !== 'number' ||
    !Number.isInteger(requiredApprovals) ||
    requiredApprovals < 1 ||
    requiredApprovals > 100
  ) {
    throw bad(
      'requiredApprovals',
      `must be an integer from 1 to 100 (got ${describe(requiredApprovals)})`,
    );
  }
  const forbidSelfApproval = given('forbidSelfApproval') ? raw.forbidSelfApproval : false;
  if (typeof forbidSelfApproval !== 'boolean') {
    throw bad('forbidSelfApproval', `must be true or false (got ${describe(forbidSelfApproval)})`);
  }
  const expires = given('expiresIn')
    ? parseDuration('expiresIn', raw.expiresIn)
    : { text: '24h', seconds: 86400 };
  const onStartMismatch = given('onStartMismatch') ? raw.onStartMismatch : 'hold';
  if (onStartMismatch !== 'hold' && onStartMismatch !== 'stop') {
    throw bad('onStartMismatch', `must be "hold" or "stop" (got ${describe(onStartMismatch)})`);
  }
  const name = given('name') ? parseString('name', raw.name, 100) : `node-red@${hostname()}`;

  const serverSetting = given('server') ? raw.server : 'embedded';
  let server: ServerMode;
  if (serverSetting === 'embedded') {
    if (given('instanceToken')) {
      throw bad('instanceToken', 'is only used with a standalone server (server is "embedded")');
    }
    const port = given('port') ? parsePort('port', raw.port) : 1881;
    const host = given('host') ? parseString('host', raw.host) : '127.0.0.1';
    const dataDir = given('dataDir')
      ? parseString('dataDir', raw.dataDir, 4096)
      : join(context.userDir, 'countersign');
    const publicUrl = given('publicUrl') ? parseUrlSetting('publicUrl', raw.publicUrl) : undefined;
    server = { kind: 'embedded', port, host, dataDir, ...(publicUrl ? { publicUrl } : {}) };
  } else {
    const url = parseUrlSetting('server', serverSetting);
    for (const key of [
      'port',
      'host',
      'dataDir',
      'tls',
      'pushSubject',
      'trustProxy',
      'retention',
    ] as const) {
      if (given(key)) throw bad(key, 'is only used with the embedded server (server is a URL)');
    }
    if (given('publicUrl')) parseUrlSetting('publicUrl', raw.publicUrl);
    if (!given('instanceToken')) {
      throw bad(
        'instanceToken',
        'is required with a standalone server (from `countersign instances add`)',
      );
    }
    const token = raw.instanceToken;
    if (typeof token !== 'string' || !/^[\x21-\x7e]{8,1024}$/.test(token)) {
      throw bad('instanceToken', 'must be the token printed by `countersign instances add`');
    }
    server = { kind: 'standalone', url, instanceToken: token };
  }

  let tls: GateSettings['tls'];
  if (given('tls')) {
    const t = raw.tls as Record<string, unknown> | null;
    if (
      typeof t !== 'object' ||
      t === null ||
      typeof t.cert !== 'string' ||
      typeof t.key !== 'string'
    ) {
      throw bad('tls', 'must be {cert, key} with PEM file paths or contents');
    }
    tls = { cert: t.cert, key: t.key };
  }
  let pushSubject: string | undefined;
  if (given('pushSubject')) {
    pushSubject = parseString('pushSubject', raw.pushSubject, 500);
    if (!/^(mailto:|https:)/.test(pushSubject)) {
      throw bad('pushSubject', `must be a mailto: or https: URL (got ${describe(pushSubject)})`);
    }
  }

  let trustProxy: string[] | undefined;
  if (given('trustProxy')) {
    try {
      trustProxy = parseTrustProxy(raw.trustProxy);
    } catch (err) {
      throw bad('trustProxy', `${(err as Error).message.replace(/^trustProxy:? ?/, '')}`);
    }
  }
  let retention: GateSettings['retention'];
  if (given('retention')) {
    const r = raw.retention as Record<string, unknown> | null;
    const whole = (v: unknown): boolean =>
      v === undefined || (Number.isInteger(v) && (v as number) >= 0);
    if (
      typeof r !== 'object' ||
      r === null ||
      Array.isArray(r) ||
      Object.keys(r).some((k) => k !== 'days' && k !== 'keep') ||
      !whole(r.days) ||
      !whole(r.keep)
    ) {
      throw bad(
        'retention',
        `must be {days, keep} with whole numbers, such as {days: 90, keep: 500} (got ${describe(r)})`,
      );
    }
    retention = {
      ...(r.days !== undefined ? { days: r.days as number } : {}),
      ...(r.keep !== undefined ? { keep: r.keep as number } : {}),
    };
  }

  // DESIGN 2: the approval server's origin must differ from the editor's, so no editor code can
  // reach the phone app's storage or keys.
  const editorKeys = new Set(context.editorOrigins.map(originKey));
  const publicOrigin =
    server.kind === 'embedded'
      ? server.publicUrl
      : given('publicUrl')
        ? String(raw.publicUrl)
        : server.url;
  const settingName = server.kind === 'embedded' || given('publicUrl') ? 'publicUrl' : 'server';
  if (publicOrigin && editorKeys.has(originKey(publicOrigin))) {
    throw bad(
      settingName,
      `must not have the same origin as the Node-RED editor (${new URL(publicOrigin).origin})`,
    );
  }
  if (server.kind === 'embedded' && server.port !== 0) {
    for (const origin of context.editorOrigins) {
      const u = new URL(origin);
      if (Number(u.port || (u.protocol === 'https:' ? 443 : 80)) === server.port) {
        throw bad('port', `must differ from the Node-RED editor's port (${server.port})`);
      }
    }
  }

  return {
    server,
    name,
    requiredApprovals,
    forbidSelfApproval,
    expiresIn: expires.text,
    expiresInS: expires.seconds,
    onStartMismatch,
    ...(tls ? { tls } : {}),
    ...(pushSubject ? { pushSubject } : {}),
    ...(trustProxy ? { trustProxy } : {}),
    ...(retention ? { retention } : {}),
  };
}

/** The editor origins Node-RED will serve, from its settings and, once it listens, its server. */
export function editorOriginsOf(
  settings: { uiHost?: unknown; uiPort?: unknown; https?: unknown; httpAdminRoot?: unknown },
  listeningPort?: number,
): string[] {
  if (settings.httpAdminRoot === false) return [];
  const scheme = settings.https ? 'https' : 'http';
  const host =
    typeof settings.uiHost === 'string' && !['0.0.0.0', '::', ''].includes(settings.uiHost)
      ? settings.uiHost.includes(':') && !settings.uiHost.startsWith('[')
        ? `[${settings.uiHost}]`
        : settings.uiHost
      : '127.0.0.1';
  const ports = new Set<number>();
  const configured = Number(settings.uiPort);
  if (Number.isInteger(configured) && configured > 0) ports.add(configured);
  if (listeningPort) ports.add(listeningPort);
  if (ports.size === 0) ports.add(1880);
  const origins: string[] = [];
  for (const port of ports) {
    origins.push(`${scheme}://${host}:${port}`);
    if (host !== '127.0.0.1') origins.push(`${scheme}://127.0.0.1:${port}`);
  }
  return origins;
}
