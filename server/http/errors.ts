/** The one place that maps errors to HTTP answers: always `{code, message}`, status from protocol/errors.ts. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { isCountersignError, statusOf, type ErrorBody } from '../../protocol/index.js';
import type { Log } from '../log.js';

/** The status and body that answer `err`. Unknown errors are 500 with a generic message. */
export function errorAnswer(err: unknown): { status: number; body: ErrorBody } {
  if (isCountersignError(err)) {
    return { status: statusOf(err.code), body: { code: err.code, message: err.message } };
  }
  // Errors raised by express or its body readers carry a 4xx status of their own.
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413)
      return { status, body: { code: 'ERR_BODY_TOO_LARGE', message: 'the body is too large' } };
    return {
      status: 400,
      body: { code: 'ERR_BAD_REQUEST', message: 'the request could not be read' },
    };
  }
  return { status: 500, body: { code: 'ERR_INTERNAL', message: 'internal error' } };
}

/**
 * Answers `body` as JSON, never cached. Written straight to the response: an error answer is one
 * fixed shape, so express's content negotiation, charset and freshness steps have nothing to do.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Logs a server fault (status 500 and up) as `<method> <path>: <stack>`: no bodies, no secrets. */
function logFault(
  log: Log,
  status: number,
  err: unknown,
  req: IncomingMessage,
  path: string,
): void {
  if (status >= 500) log.error(`${req.method} ${path}: ${(err as Error)?.stack ?? String(err)}`);
}

/**
 * Answers `err` on `res` with `errorAnswer` (and `Retry-After` for a rate limit), logging server
 * faults. The express routes (through
 * `errorHandler`) and the decision route's direct path both answer errors here.
 */
export function answerError(
  log: Log,
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): void {
  const { status, body } = errorAnswer(err);
  logFault(log, status, err, req, path);
  // A rate-limited caller is told when the window lets it in again (RFC 9110 10.2.3, seconds).
  const retryAfterS = isCountersignError(err) ? err.retryAfterS : undefined;
  if (retryAfterS !== undefined) res.setHeader('Retry-After', String(retryAfterS));
  sendJson(res, status, body);
}

/** Express error handler: `answerError`, unless the answer has started already. */
export function errorHandler(log: Log) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    const path = `${req.baseUrl}${req.path}`;
    if (res.headersSent) {
      logFault(log, errorAnswer(err).status, err, req, path);
      next(err);
      return;
    }
    answerError(log, err, req, res, path);
  };
}

/** The answer for unknown routes. */
export function notFound(_req: Request, res: Response): void {
  sendJson(res, 404, { code: 'ERR_NOT_FOUND', message: 'no such route' });
}
