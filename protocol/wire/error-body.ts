/** `{code, message}`: the body of every error (5.7), as the plugin and the phone read it. */
import { isErrorCode, type ErrorCode } from '../errors.js';
import { isObject } from './guards.js';

/** `{code, message}`: the body of every error. */
export type ErrorBody = { code: string; message: string };

/** The generic code of an HTTP status, for an answer without a known code (a proxy's page, say). */
export function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'ERR_UNAUTHORIZED';
  if (status === 403) return 'ERR_FORBIDDEN';
  if (status === 404) return 'ERR_NOT_FOUND';
  if (status === 413) return 'ERR_BODY_TOO_LARGE';
  if (status === 429) return 'ERR_RATE_LIMITED';
  if (status >= 400 && status < 500) return 'ERR_BAD_REQUEST';
  return 'ERR_INTERNAL';
}

/**
 * What an error answer says: its code when the body is `{code, message}` with a known code (else the
 * status's generic code), the code as sent (or null), and its message (else the status line).
 */
export function parseErrorBody(
  status: number,
  statusText: string,
  input: unknown,
): { code: ErrorCode; sent: string | null; message: string } {
  const body = isObject(input) ? input : {};
  const sent = typeof body.code === 'string' ? body.code.slice(0, 64) : null;
  const message =
    typeof body.message === 'string' && body.message !== ''
      ? body.message.slice(0, 2000)
      : `${status} ${statusText}`.trim();
  return { code: isErrorCode(sent) ? sent : codeOfStatus(status), sent, message };
}

/**
 * A `Retry-After` header (RFC 9110 10.2.3) as whole seconds from `nowMs`: delay-seconds or an
 * HTTP-date; undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) || !/[a-z]/i.test(text)
    ? undefined
    : Math.max(0, Math.ceil((at - nowMs) / 1000));
}
