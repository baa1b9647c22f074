/**
 * The query strings of 5.7's paged reads: one type, one parser (throwing `ValidationError` that
 * names the parameter) and one writer per route, used by the server that reads them and by the
 * clients that build them (the phone, the command line). A parameter given twice, one the route does
 * not know, or a value out of range is a bad request.
 */
import { ValidationError } from '../errors.js';
import { DEPLOYMENT_STATES, type DeploymentStatus } from '../states.js';

/** Largest page of a paged read. */
export const MAX_PAGE = 1000;

/** Longest `before` cursor of the deployment history (the server makes them; they are short). */
const MAX_CURSOR = 200;

/** `GET /deployments`: the live ones in one `status` (the inbox), or every one a page at a time. */
export type DeploymentsQuery = { status?: DeploymentStatus; before?: string; limit?: number };

/** `GET /admin/history`: every deployment, newest first, a page at a time. */
export type HistoryQuery = { before?: string; limit?: number };

/**
 * `GET /audit` (and `/admin/audit`): entries `after` a sequence number (oldest first) or `before`
 * one (newest first), at most `limit`; or every line about one `deployment`.
 */
export type AuditQuery = { after?: number; before?: number; limit?: number; deployment?: string };

/** The values of `params`, each given at most once, all of them among `allowed`. */
function single<K extends string>(
  params: URLSearchParams,
  allowed: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of params) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw new ValidationError(`unexpected query parameter ${key.slice(0, 40)}`);
    }
    if (out[key as K] !== undefined) {
      throw new ValidationError(`query parameter ${key} is given more than once`);
    }
    out[key as K] = value;
  }
  return out;
}

/** A page size: 1 to `MAX_PAGE`. */
function pageSizeOf(value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE)) {
    throw new ValidationError(`limit must be a number from 1 to ${MAX_PAGE}`);
  }
  return n;
}

/** An audit sequence number: 0 or more, a safe integer. */
function sequenceOf(value: string, name: string): number {
  const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new ValidationError(`${name} must be a sequence number`);
  return n;
}

/** A history cursor from a previous page. */
function cursorOf(value: string): string {
  if (value === '' || value.length > MAX_CURSOR) {
    throw new ValidationError('before must be a cursor from a previous page');
  }
  return value;
}

/** `params` as a query string (with its `?`), or '' when there are none. */
function written(entries: Array<[string, string | number | undefined]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of entries) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Checks the query of `GET /deployments`. */
export function parseDeploymentsQuery(params: URLSearchParams): DeploymentsQuery {
  const q = single(params, ['status', 'before', 'limit']);
  const out: DeploymentsQuery = {};
  if (q.status !== undefined) {
    if (!(DEPLOYMENT_STATES as readonly string[]).includes(q.status)) {
      throw new ValidationError(`status must be one of ${DEPLOYMENT_STATES.join(', ')}`);
    }
    out.status = q.status as DeploymentStatus;
  }
  if (q.before !== undefined) out.before = cursorOf(q.before);
  if (q.limit !== undefined) out.limit = pageSizeOf(q.limit);
  return out;
}

/** `?status=…&before=…&limit=…` for `GET /deployments`. */
export function formatDeploymentsQuery(query: DeploymentsQuery): string {
  return written([
    ['status', query.status],
    ['limit', query.limit],
    ['before', query.before],
  ]);
}

/** Checks the query of `GET /admin/history`. */
export function parseHistoryQuery(params: URLSearchParams): HistoryQuery {
  const q = single(params, ['before', 'limit']);
  const out: HistoryQuery = {};
  if (q.before !== undefined) out.before = cursorOf(q.before);
  if (q.limit !== undefined) out.limit = pageSizeOf(q.limit);
  return out;
}

/** `?before=…&limit=…` for `GET /admin/history`. */
export function formatHistoryQuery(query: HistoryQuery): string {
  return written([
    ['limit', query.limit],
    ['before', query.before],
  ]);
}

/** Checks the query of `GET /audit`: `after` or `before` (not both), or `deployment` alone. */
export function parseAuditQuery(params: URLSearchParams): AuditQuery {
  const q = single(params, ['after', 'before', 'limit', 'deployment']);
  const out: AuditQuery = {};
  if (q.deployment !== undefined) {
    if (!/^[0-9a-f]{1,64}$/.test(q.deployment)) {
      throw new ValidationError('deployment must be a deployment id');
    }
    if (q.after !== undefined || q.before !== undefined || q.limit !== undefined) {
      throw new ValidationError('deployment takes no after, before or limit');
    }
    out.deployment = q.deployment;
  }
  if (q.after !== undefined) out.after = sequenceOf(q.after, 'after');
  if (q.before !== undefined) out.before = sequenceOf(q.before, 'before');
  if (out.after !== undefined && out.before !== undefined) {
    throw new ValidationError('give after or before, not both');
  }
  if (q.limit !== undefined) out.limit = pageSizeOf(q.limit);
  return out;
}

/** `?after=…|before=…&limit=…` or `?deployment=…` for `GET /audit`. */
export function formatAuditQuery(query: AuditQuery): string {
  return written([
    ['deployment', query.deployment],
    ['after', query.after],
    ['before', query.before],
    ['limit', query.limit],
  ]);
}
