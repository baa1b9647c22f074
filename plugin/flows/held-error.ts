/**
 * What a held deployment answers (DESIGN 3.2, 7): a rejected promise carrying `ERR_HELD`, which the
 * editor's admin routes turn into HTTP 423 with a short, HTML-escaped text/plain body. Never 2xx,
 * never 401 or 409.
 */
import { CountersignError, isCountersignError } from '../../protocol/index.js';
import type { EditorUtil, HttpResponse } from '../runtime-modules.js';

/** A deployment the gate did not let through. `deploymentId` is set once the server has one. */
export class HeldError extends CountersignError {
  readonly deploymentId: string | null;

  constructor(message: string, deploymentId: string | null = null, options?: { cause?: unknown }) {
    super('ERR_HELD', message, options);
    this.name = 'HeldError';
    this.deploymentId = deploymentId;
  }
}

/** The message for a deployment held for approval. */
export function heldMessage(deploymentId: string): string {
  return `Deployment ${deploymentId} is held for approval. Approve it on your registered device.`;
}

/** The message when the approval server cannot take the proposal: held anyway, and why. */
export function unreachableMessage(reason: string): string {
  return `Deployment held: the approval server cannot be reached (${reason}), so it cannot be approved. Nothing changed; deploy again when the server is back.`;
}

/** True for a held deployment's error, whatever copy of this module made it. */
export function isHeldError(err: unknown): err is CountersignError {
  return isCountersignError(err) && err.code === 'ERR_HELD';
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML-escapes text: the editor shows a failed deploy's body as HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The response header naming a held deployment, for the editor plugin that made it. */
export const DEPLOYMENT_HEADER = 'X-Countersign-Deployment';

/** True for a request the gate refused before holding anything (its shape or its credentials). */
export function isRefusedFlows(err: unknown): err is CountersignError {
  return isCountersignError(err) && err.code === 'ERR_FLOWS_INVALID';
}

/**
 * Answers a held deployment (423) or a refused one (400, DESIGN 5.2: the message names the node and
 * the rule): text/plain, escaped, never cached; a held one's id in a header. Palette requests
 * (`/nodes`) get the same message as Node-RED's `{code, message}` JSON, which the Palette Manager
 * reads.
 */
export function answerHeld(res: HttpResponse, err: CountersignError, json = false): void {
  const id = (err as { deploymentId?: unknown }).deploymentId;
  res
    .status(err.code === 'ERR_HELD' ? 423 : 400)
    .set('Content-Type', `${json ? 'application/json' : 'text/plain'}; charset=utf-8`)
    .set('Cache-Control', 'no-store');
  if (typeof id === 'string' && /^[0-9a-f]{1,64}$/.test(id)) res.set(DEPLOYMENT_HEADER, id);
  res.send(
    json
      ? JSON.stringify({ code: err.code, message: escapeHtml(err.message) })
      : escapeHtml(err.message),
  );
}

/** True for a request to Node-RED's palette routes (`/nodes…` under the admin root). */
function isPaletteRequest(req: unknown): boolean {
  const path = (req as { path?: unknown } | null)?.path;
  return typeof path === 'string' && /^\/nodes(\/|$)/.test(path);
}

/** An error the gate raised (its messages may quote what the request sent, such as a node id). */
function isGateError(err: unknown): err is Error & { status?: unknown; code?: unknown } {
  return isCountersignError(err) || (err instanceof Error && err.name === 'FlowRequestError');
}

/** The error as Node-RED's handler reads it (`status`, `code`, `message`), the message escaped. */
function escapedCopy(err: Error & { status?: unknown; code?: unknown }): {
  status: unknown;
  code: unknown;
  message: string;
} {
  return { status: err.status, code: err.code, message: escapeHtml(err.message) };
}

/**
 * Wraps the editor API's `rejectHandler` (used by every admin route) so that a held deployment is
 * answered 423 text/plain; every other error goes to Node-RED's own handler, the gate's own errors
 * with their message HTML-escaped (the editor shows a failed deploy's body as HTML).
 */
export function heldAwareRejectHandler(
  original: EditorUtil['rejectHandler'],
): EditorUtil['rejectHandler'] {
  return function rejectHandler(req, res, err) {
    if (isHeldError(err) || isRefusedFlows(err)) {
      answerHeld(res, err, isPaletteRequest(req));
      return;
    }
    original(req, res, isGateError(err) ? escapedCopy(err) : err);
  };
}
