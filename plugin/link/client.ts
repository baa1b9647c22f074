/**
 * The plugin's side of the approval server's HTTP API (DESIGN 5.7): an instance token as
 * `Authorization: Bearer`, JSON bodies, errors as `{code, message}`. Every answer goes through its
 * parser in `protocol/wire` before the gate uses it; one that does not parse is a `ServerError`
 * naming the request and the field, and nothing is decided from it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createAgents, requestWhole, type Agents, type Answer } from './http-request.js';
import {
  API_PREFIX,
  CountersignError,
  isErrorCode,
  parseConfigResponse,
  parseDeploymentDetail,
  parseErrorBody,
  parseJsonText,
  parseKeysResponse,
  parseOutcomeResponse,
  parseProposalResponse,
  parseRetryAfter,
  type ConfigResponse,
  type DeploymentDetail,
  type KeysResponse,
  type OutcomeRequest,
  type OutcomeResponse,
  type ProposalRequest,
  type ProposalResponse,
} from '../../protocol/index.js';

/** An error answered by the server (`code` from its body) or a failure to reach it. */
export class ServerError extends CountersignError {
  readonly httpStatus: number | null;
  readonly serverCode: string | null;

  constructor(
    message: string,
    httpStatus: number | null,
    serverCode: string | null,
    options?: { cause?: unknown; retryAfterS?: number },
  ) {
    super(
      httpStatus === null
        ? 'ERR_SERVER_UNREACHABLE'
        : isErrorCode(serverCode)
          ? serverCode
          : 'ERR_INTERNAL',
      message,
      options,
    );
    this.name = 'ServerError';
    this.httpStatus = httpStatus;
    this.serverCode = serverCode;
  }
}

/** Options of the client. */
export type ClientOptions = {
  /** The server's base URL (without `/api/v1`). */
  baseUrl: string;
  token: string;
  /** Per-request timeout; the event stream has none. */
  timeoutMs?: number;
};

/** An HTTP client for the plugin API of 5.7. */
export class ApprovalClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #agents: Agents = createAgents();

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Closes the kept-alive connections (idle ones close on their own after a few seconds). */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  /** `GET /config`: the server id approvals are addressed to. */
  config(): Promise<ConfigResponse> {
    return this.#parsed('GET', '/config', parseConfigResponse);
  }

  /** `PUT /blobs/:rev` with the snapshot bytes. */
  async uploadBlob(rev: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.#request('PUT', `/blobs/${rev}`, bytes, 'application/json');
  }

  /** `POST /deployments`. */
  propose(proposal: ProposalRequest): Promise<ProposalResponse> {
    return this.#parsed('POST', '/deployments', parseProposalResponse, proposal);
  }

  /** `GET /deployments/:id` (with `approvals[].jws` and their decision maps). */
  deployment(id: string): Promise<DeploymentDetail> {
    return this.#parsed('GET', `/deployments/${encodeURIComponent(id)}`, parseDeploymentDetail);
  }

  /** `POST /deployments/:id/outcome`. */
  outcome(id: string, outcome: OutcomeRequest): Promise<OutcomeResponse> {
    return this.#parsed(
      'POST',
      `/deployments/${encodeURIComponent(id)}/outcome`,
      parseOutcomeResponse,
      outcome,
    );
  }

  /** `GET /keys`: the JWKS of active devices, each with its owner. */
  keys(): Promise<KeysResponse> {
    return this.#parsed('GET', '/keys', parseKeysResponse);
  }

  /** `POST /instance/drift`: tells every device the flows on disk changed between starts. */
  async drift(rev: string, message: string): Promise<void> {
    await this.#request(
      'POST',
      '/instance/drift',
      JSON.stringify({ rev, message }),
      'application/json',
    );
  }

  /** `GET /instance/events`: the open event stream (the caller reads and closes it). */
  async events(signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const url = `${this.baseUrl}${API_PREFIX}/instance/events`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' },
        signal,
      });
    } catch (cause) {
      throw new ServerError(describeFetchError(this.baseUrl, cause), null, null, { cause });
    }
    if (!res.ok) {
      throw refusal({
        status: res.status,
        statusText: res.statusText,
        header: (name) => res.headers.get(name),
        text: await res.text().catch(() => ''),
      });
    }
    if (!res.body)
      throw new ServerError('the approval server sent no event stream', res.status, null);
    return res.body;
  }

  /** A JSON request whose answer is checked by `parse`; a malformed answer is a `ServerError`. */
  async #parsed<T>(
    method: string,
    path: string,
    parse: (input: unknown) => T,
    body?: unknown,
  ): Promise<T> {
    const res = await this.#request(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? undefined : 'application/json',
    );
    try {
      // A deployment's change list shows node properties as deeply nested as the flows hold them.
      return parse(parseJsonText(res.text, 'the answer', 1000));
    } catch (cause) {
      throw new ServerError(
        `the approval server sent a malformed answer to ${method} ${path}: ${(cause as Error).message}`.slice(
          0,
          300,
        ),
        res.status,
        null,
        { cause },
      );
    }
  }

  async #request(
    method: string,
    path: string,
    body?: string | Uint8Array<ArrayBuffer>,
    contentType?: string,
  ): Promise<Answer> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: 'application/json',
    };
    if (contentType) headers['content-type'] = contentType;
    let res: Answer;
    try {
      res = await requestWhole(
        `${this.baseUrl}${API_PREFIX}${path}`,
        {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(this.#timeoutMs),
        },
        this.#agents,
      );
    } catch (cause) {
      throw new ServerError(describeRequestError(this.baseUrl, cause), null, null, { cause });
    }
    if (res.status >= 200 && res.status < 300) return res;
    throw refusal(res);
  }
}

/** The `ServerError` of an answer that is not a success: its `{code, message}` when it has one. */
function refusal(res: Answer): ServerError {
  let answer: unknown = null;
  try {
    answer = parseJsonText(res.text, 'the error');
  } catch {
    // Not a {code, message} body: the status says enough.
  }
  const { sent, message } = parseErrorBody(res.status, res.statusText, answer);
  const retryAfterS = parseRetryAfter(res.header('retry-after'), Date.now());
  return new ServerError(
    `the approval server answered ${res.status}${sent ? ` ${sent}` : ''}: ${message}`.slice(0, 300),
    res.status,
    sent,
    retryAfterS === undefined ? undefined : { retryAfterS },
  );
}

/** The longest wait a `Retry-After` is honoured for (a longer one is cut to this). */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/**
 * For p-retry's `onFailedAttempt`: after an answer that said `Retry-After` (a 429 from a rate
 * limit), waits that long before the retry's own backoff, so the next try is not refused again.
 */
export async function honourRetryAfter(error: unknown, signal?: AbortSignal): Promise<void> {
  const seconds = (error as { retryAfterS?: unknown } | null)?.retryAfterS;
  if (typeof seconds !== 'number' || seconds <= 0) return;
  await delay(Math.min(seconds * 1000, MAX_RETRY_AFTER_MS), undefined, {
    ref: false,
    ...(signal ? { signal } : {}),
  }).catch(() => undefined);
}

/** A short reason for a request that got no answer: refused, timed out, name not found... */
function describeRequestError(baseUrl: string, cause: unknown): string {
  const err = cause as { code?: string | null; message?: string } | null;
  if (err?.code === 'TIMEOUT') return `${baseUrl} did not answer in time`;
  if (err?.code) return `${baseUrl}: ${err.code}`;
  return `${baseUrl}: ${err?.message ?? 'network error'}`;
}

/** The same for the event stream's `fetch`, whose errors carry Node's code in their cause. */
function describeFetchError(baseUrl: string, cause: unknown): string {
  const err = cause as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (err?.name === 'TimeoutError') return `${baseUrl} did not answer in time`;
  const code = err?.cause?.code;
  if (code) return `${baseUrl}: ${code}`;
  return `${baseUrl}: ${err?.cause?.message ?? err?.message ?? 'network error'}`;
}
