/**
 * `POST /api/v1/deployments/:id/decision` (5.3 proof, 5.4 rows): the one handler, mounted on the
 * express API router and, for the route's plain form, called straight from the HTTP server's
 * request listener. Express's per-request work (request and response prototypes, the router's
 * layers, the middleware chain) costs as much CPU as both signature checks together, and this is
 * the route phones call in bursts (DESIGN 9: ≥ 2,000 verified per CPU second; docs/decisions.md).
 * Both ways answer with the same security headers (`headers.ts`), the same `Cache-Control` and
 * JSON answer (`sendJson`), the same body reader (`body.ts`) and the same error answers
 * (`answerError`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_PREFIX } from '../../protocol/index.js';
import { verifyDeviceProof } from '../auth/device-proof.js';
import type { Context } from '../context.js';
import { decide } from '../deployments/decide.js';
import { readJson } from './body.js';
import { answerError, sendJson } from './errors.js';

/**
 * Answers a decision on deployment `id`; throws the error to answer instead. `url` is the request
 * URL as the client sent it (express rewrites `req.url` below a mount point), for the proof's htu.
 */
export type DecisionHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  target: { id: string; url: string },
) => Promise<void>;

/** The decision route's handler: the proof (5.3), then the body (size-limited JSON), then 5.4. */
export function decisionHandler(ctx: Context): DecisionHandler {
  return async (req, res, { id, url }) => {
    const proof = req.headers.dpop;
    await verifyDeviceProof(ctx, {
      proof: typeof proof === 'string' ? proof : undefined,
      method: req.method ?? '',
      path: url,
    });
    const body = await readJson(req, ctx.config.limits.decisionBytes);
    sendJson(res, 200, await decide(ctx, id, body));
  };
}

/**
 * The route's plain form: `POST /api/v1/deployments/<id>/decision`, an id of URL-safe characters
 * (every id the server issues), any query. Anything else (a trailing slash, an escaped id) is left
 * to express, which routes it to the same handler.
 */
const PLAIN = new RegExp(`^${API_PREFIX}/deployments/([A-Za-z0-9_-]{1,128})/decision(?:\\?|$)`);

/**
 * The direct path: a request listener's first step, true when it took the request (the plain form
 * of the decision route), false to hand it to the express app.
 */
export function directDecision(
  ctx: Context,
  handler: DecisionHandler,
  setSecurityHeaders: (res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const plain = PLAIN.exec(url);
    if (!plain) return false;
    setSecurityHeaders(res);
    handler(req, res, { id: plain[1]!, url }).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else answerError(ctx.log, err, req, res, url.split('?')[0]!);
    });
    return true;
  };
}
