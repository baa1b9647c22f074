/** Configuration of `countersign serve` from flags, environment and a file; one clear line per error. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CountersignError } from '../../protocol/index.js';
import type { Quotas } from '../context.js';
import { parseTrustProxy } from '../http/client-address.js';
import { parsePolicy, type Policy } from '../policy.js';
import { parsePublicUrl, parseStoreUrl } from '../start.js';
import { parseRetention, type Retention } from '../store/retention.js';

/** What `serve` runs with. */
export type ServeConfig = {
  dataDir: string;
  host: string;
  port: number;
  publicUrl?: string;
  tls?: { cert: string; key: string };
  name?: string;
  pushSubject?: string;
  policy: Policy;
  /** Reverse proxies whose `X-Forwarded-For` names the client. */
  trustProxy: string[];
  retention: Retention;
  quotas?: Partial<Quotas>;
  /** A `postgres://` URL; without one, lowdb in the data directory. */
  store?: string;
};

const FILE_KEYS = new Set([
  'host',
  'port',
  'publicUrl',
  'tls',
  'name',
  'pushSubject',
  'policy',
  'trustProxy',
  'retention',
  'quotas',
  'store',
]);

function configError(message: string): CountersignError {
  return new CountersignError('ERR_CONFIG', message);
}

/** The data directory: `--data-dir`, then `COUNTERSIGN_DATA_DIR`, then `./.countersign`. */
export function dataDirOf(flag: string | undefined, env: NodeJS.ProcessEnv, cwd = '.'): string {
  return resolve(cwd, flag ?? env.COUNTERSIGN_DATA_DIR ?? '.countersign');
}

/** Where `countersign serve` and `npm start` keep a server's data, relative to the folder they run in. */
export const LOCAL_DATA_DIRS = ['.countersign', join('.countersign', 'countersign')] as const;

/** The data directory a command that talks to a server uses, and how it was chosen. */
export type ServerDataDir = { dir: string; how: 'given' | 'found' | 'default' };

/**
 * The data directory of a running server: `--data-dir`, then `COUNTERSIGN_DATA_DIR`, then the one
 * of `./.countersign` (`countersign serve`) and `./.countersign/countersign` (`npm start`) whose
 * server runs (has `server.json`), then the one that has a store, then `./.countersign`.
 */
export function serverDataDirOf(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd = '.',
): ServerDataDir {
  if (flag !== undefined || env.COUNTERSIGN_DATA_DIR !== undefined) {
    return { dir: dataDirOf(flag, env, cwd), how: 'given' };
  }
  const candidates = LOCAL_DATA_DIRS.map((d) => resolve(cwd, d));
  const running = candidates.find((d) => existsSync(join(d, 'server.json')));
  if (running) return { dir: running, how: 'found' };
  const stored = candidates.find((d) => existsSync(join(d, 'countersign.json')));
  if (stored) return { dir: stored, how: 'found' };
  return { dir: candidates[0]!, how: 'default' };
}

function parsePort(value: unknown, where: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw configError(`${where}: port must be an integer from 0 to 65535`);
  }
  return n;
}

function readConfigFile(path: string, required: boolean): Record<string, unknown> {
  if (!existsSync(path)) {
    if (required) throw configError(`config file ${path} does not exist`);
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw configError(`config file ${path} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(`config file ${path} must hold a JSON object`);
  }
  for (const key of Object.keys(value)) {
    if (!FILE_KEYS.has(key)) {
      throw configError(
        `config file ${path}: unknown setting "${key}" (known: ${[...FILE_KEYS].join(', ')})`,
      );
    }
  }
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '')
    throw configError(`${name} must be a non-empty string`);
  return value;
}

/** Flags `serve` accepts. */
export type ServeFlags = {
  'data-dir'?: string;
  config?: string;
  host?: string;
  port?: string;
  'public-url'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  name?: string;
  'push-subject'?: string;
  'required-approvals'?: string;
  'forbid-self-approval'?: boolean;
  'expires-in'?: string;
  'trust-proxy'?: string;
  'retention-days'?: string;
  'retention-keep'?: string;
  store?: string;
};

/** `quotas` of the config file: `{blobMiB, proposals, windowMinutes}`. */
function parseQuotas(value: unknown): Partial<Quotas> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError('quotas must be {blobMiB, proposals, windowMinutes}');
  }
  const q = value as Record<string, unknown>;
  const whole = (key: string, max: number): number | undefined => {
    const n = q[key];
    if (n === undefined) return undefined;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
      throw configError(`quotas.${key} must be a whole number from 1 to ${max}`);
    }
    return n;
  };
  for (const key of Object.keys(q)) {
    if (!['blobMiB', 'proposals', 'windowMinutes'].includes(key)) {
      throw configError(
        `quotas.${key} is not a setting (known: blobMiB, proposals, windowMinutes)`,
      );
    }
  }
  const blobMiB = whole('blobMiB', 1024);
  const proposals = whole('proposals', 100_000);
  const windowMinutes = whole('windowMinutes', 24 * 60);
  return {
    ...(blobMiB ? { blobBytes: blobMiB * 1048576 } : {}),
    ...(proposals || windowMinutes
      ? { proposals: { max: proposals ?? 60, windowMs: (windowMinutes ?? 10) * 60_000 } }
      : {}),
  };
}

/** Resolves the serve configuration: flags over environment over the file over defaults. */
export function serveConfig(flags: ServeFlags, env: NodeJS.ProcessEnv, cwd = '.'): ServeConfig {
  const dataDir = dataDirOf(flags['data-dir'], env, cwd);
  const file = flags.config
    ? readConfigFile(resolve(flags.config), true)
    : readConfigFile(join(dataDir, 'config.json'), false);
  const host = optionalString(flags.host ?? file.host ?? '127.0.0.1', 'host')!;
  const portSource = flags.port ?? env.COUNTERSIGN_PORT ?? file.port ?? 1881;
  const port = parsePort(
    portSource,
    flags.port !== undefined
      ? '--port'
      : env.COUNTERSIGN_PORT !== undefined
        ? 'COUNTERSIGN_PORT'
        : 'config',
  );
  const publicUrlRaw = optionalString(
    flags['public-url'] ?? env.COUNTERSIGN_PUBLIC_URL ?? file.publicUrl,
    'publicUrl',
  );
  const publicUrl = publicUrlRaw === undefined ? undefined : parsePublicUrl(publicUrlRaw);

  const fileTls = file.tls as { cert?: unknown; key?: unknown } | undefined;
  if (fileTls !== undefined && (typeof fileTls !== 'object' || fileTls === null))
    throw configError('tls must be {cert, key}');
  const cert = optionalString(flags['tls-cert'] ?? fileTls?.cert, 'tls cert');
  const key = optionalString(flags['tls-key'] ?? fileTls?.key, 'tls key');
  if ((cert === undefined) !== (key === undefined))
    throw configError('TLS needs both a certificate and a key (--tls-cert and --tls-key)');
  for (const f of [cert, key])
    if (f !== undefined && !existsSync(f)) throw configError(`TLS file ${f} does not exist`);

  let policy: Policy;
  try {
    policy = parsePolicy(file.policy ?? undefined);
    const overrides: Record<string, unknown> = {};
    if (flags['required-approvals'] !== undefined)
      overrides.requiredApprovals = Number(flags['required-approvals']);
    if (flags['forbid-self-approval'] !== undefined)
      overrides.forbidSelfApproval = flags['forbid-self-approval'];
    if (flags['expires-in'] !== undefined) overrides.expiresIn = flags['expires-in'];
    policy = parsePolicy(overrides, policy);
  } catch (err) {
    throw configError(`policy: ${(err as Error).message}`);
  }
  const name = optionalString(flags.name ?? file.name, 'name');
  const pushSubject = optionalString(flags['push-subject'] ?? file.pushSubject, 'pushSubject');
  if (pushSubject !== undefined && !/^(mailto:|https:)/.test(pushSubject)) {
    throw configError('pushSubject must be a mailto: or https: URL');
  }
  let trustProxy: string[];
  try {
    trustProxy = parseTrustProxy(
      flags['trust-proxy'] ?? env.COUNTERSIGN_TRUST_PROXY ?? file.trustProxy,
    );
  } catch (err) {
    throw configError((err as Error).message);
  }
  let retention: Retention;
  try {
    retention = parseRetention(
      {
        ...(flags['retention-days'] !== undefined ? { days: flags['retention-days'] } : {}),
        ...(flags['retention-keep'] !== undefined ? { keep: flags['retention-keep'] } : {}),
      },
      parseRetention(file.retention ?? undefined),
    );
  } catch (err) {
    throw configError((err as Error).message);
  }
  const quotas = parseQuotas(file.quotas);
  const storeRaw = optionalString(flags.store ?? env.COUNTERSIGN_STORE ?? file.store, 'store');
  const store = storeRaw === undefined ? undefined : parseStoreUrl(storeRaw);
  return {
    dataDir,
    host,
    port,
    policy,
    trustProxy,
    retention,
    ...(quotas ? { quotas } : {}),
    ...(store ? { store } : {}),
    ...(publicUrl ? { publicUrl } : {}),
    ...(cert && key ? { tls: { cert, key } } : {}),
    ...(name ? { name } : {}),
    ...(pushSubject ? { pushSubject } : {}),
  };
}
