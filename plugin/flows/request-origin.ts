/**
 * Where an admin API request came from, for the label the phone shows ("in the editor" or "through
 * the admin API"). Node-RED hands the runtime API only a small log object of the request, so the
 * editor API's `getRequestLogObject` is wrapped to mark it. A label, not a check: any client can
 * send any header, and nothing is decided from it.
 */

/** How a deployment arrived over HTTP. */
export type Via = 'editor' | 'admin-api';

const MARK = 'countersignVia';

type Headers = Record<string, string | string[] | undefined>;

/**
 * `editor` when a browser page of the editor's own origin sent it (browsers set `Sec-Fetch-Site`,
 * and scripts in a page cannot), or, from browsers without it, the editor's jQuery request header;
 * anything else (curl, node-red-admin, scripts) is the admin API.
 */
export function viaOfHeaders(headers: Headers): Via {
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' ? 'editor' : 'admin-api';
  return headers['x-requested-with'] === 'XMLHttpRequest' ? 'editor' : 'admin-api';
}

/** Wraps `getRequestLogObject(req)` so that its result carries the request's `Via` (not enumerable). */
export function markingRequestLogObject<T extends (req: unknown) => unknown>(original: T): T {
  return function getRequestLogObject(this: unknown, req: unknown) {
    const log = original.call(this, req);
    const headers = (req as { headers?: Headers } | null)?.headers;
    if (typeof log === 'object' && log !== null && headers) {
      Object.defineProperty(log, MARK, { value: viaOfHeaders(headers), enumerable: false });
    }
    return log;
  } as T;
}

/** The `Via` a wrapped `getRequestLogObject` marked, or null. */
export function viaOfLogObject(log: unknown): Via | null {
  const via = (log as Record<string, unknown> | null)?.[MARK];
  return via === 'editor' || via === 'admin-api' ? via : null;
}
