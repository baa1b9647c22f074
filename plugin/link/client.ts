/**
 * The plugin's side of the approval server's HTTP API (DESIGN 5.7), written from the contract: an
 * instance token as `Authorization: Bearer`, JSON bodies, errors as `{code, message}`. Responses
 * are checked at this boundary before the gate uses them.
 */
import {
  API_PREFIX,
  CountersignError,
  isErrorCode,
  isSha256Hex,
  type ConfigResponse,
  type DeploymentDetail,
  DEPLOYMENT_STATES,
  type DeploymentStatus,
  type OutcomeRequest,
  type ProposalRequest,
  type ProposalResponse,
} from '../../protocol/index.js';

/** A JWKS as `GET /keys` answers it. */
export type Jwks = { keys: Array<Record<string, unknown>> };

/** A deployment as the plugin sees it in events and `GET /deployments/:id`. */
export type DeploymentView = {
  id: string;
  status: DeploymentStatus;
  base?: string;
  target?: string;
  creds?: string | null;
  /** Accepted decisions; for the plugin each with its JWS and the decision map beside it. */
  approvals: Array<{ device: string; verdict: string; jws?: string; changes?: unknown }>;
};

/** An error answered by the server (`code` from its body) or a failure to reach it. */
export class ServerError extends CountersignError {
  readonly httpStatus: number | null;
  readonly serverCode: string | null;

  constructor(
    message: string,
    httpStatus: number | null,
    serverCode: string | null,
    options?: { cause?: unknown },
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

const STATES: readonly string[] = DEPLOYMENT_STATES;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a deployment summary or detail from the server. */
export function parseDeploymentView(input: unknown): DeploymentView {
  if (
    !isObject(input) ||
    typeof input.id !== 'string' ||
    !STATES.includes(input.status as string)
  ) {
    throw new ServerError('the approval server sent a malformed deployment', 200, null);
  }
  const approvals = Array.isArray(input.approvals)
    ? input.approvals.filter(isObject).map((a) => ({
        device: String(a.device ?? ''),
        verdict: String(a.verdict ?? ''),
        ...(typeof a.jws === 'string' ? { jws: a.jws } : {}),
        ...(a.changes !== undefined ? { changes: a.changes } : {}),
      }))
    : [];
  const view: DeploymentView = {
    id: input.id,
    status: input.status as DeploymentStatus,
    approvals,
  };
  if (isSha256Hex(input.base)) view.base = input.base;
  if (isSha256Hex(input.target)) view.target = input.target;
  if (input.creds === null || isSha256Hex(input.creds)) view.creds = input.creds;
  return view;
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

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** `GET /config`: the server id approvals are addressed to. */
  async config(): Promise<ConfigResponse> {
    const body = await this.#json('GET', '/config');
    if (!isObject(body) || typeof body.serverId !== 'string') {
      throw new ServerError('the approval server sent a malformed /config', 200, null);
    }
    return body as ConfigResponse;
  }

  /** `PUT /blobs/:rev` with the snapshot bytes. */
  async uploadBlob(rev: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.#request('PUT', `/blobs/${rev}`, bytes, 'application/json');
  }

  /** `POST /deployments`. */
  async propose(proposal: ProposalRequest): Promise<ProposalResponse> {
    const body = await this.#json('POST', '/deployments', proposal);
    if (!isObject(body) || typeof body.id !== 'string' || body.id === '') {
      throw new ServerError('the approval server sent a malformed proposal answer', 201, null);
    }
    return body as ProposalResponse;
  }

  /** `GET /deployments/:id` (with `approvals[].jws`). */
  async deployment(id: string): Promise<DeploymentView & Partial<DeploymentDetail>> {
    const body = await this.#json('GET', `/deployments/${encodeURIComponent(id)}`);
    return {
      ...(body as Partial<DeploymentDetail>),
      ...parseDeploymentView(body),
    } as DeploymentView & Partial<DeploymentDetail>;
  }

  /** `POST /deployments/:id/outcome`. */
  async outcome(id: string, outcome: OutcomeRequest): Promise<void> {
    await this.#json('POST', `/deployments/${encodeURIComponent(id)}/outcome`, outcome);
  }

  /** `GET /keys`: the JWKS of unrevoked devices. */
  async keys(): Promise<Jwks> {
    const body = await this.#json('GET', '/keys');
    if (!isObject(body) || !Array.isArray(body.keys)) {
      throw new ServerError('the approval server sent a malformed JWKS', 200, null);
    }
    return { keys: body.keys.filter(isObject) };
  }

  /** `POST /instance/drift`: tells every device the flows on disk changed between starts. */
  async drift(rev: string, message: string): Promise<void> {
    await this.#json('POST', '/instance/drift', { rev, message });
  }

  /** `GET /instance/events`: the open event stream (the caller reads and closes it). */
  async events(signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#fetch(
      'GET',
      '/instance/events',
      undefined,
      undefined,
      signal,
      'text/event-stream',
    );
    if (!res.body)
      throw new ServerError('the approval server sent no event stream', res.status, null);
    return res.body;
  }

  async #json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.#request(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? undefined : 'application/json',
    );
    const text = await res.text();
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new ServerError(
        `the approval server sent invalid JSON for ${method} ${path}`,
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
  ): Promise<Response> {
    const res = await this.#fetch(
      method,
      path,
      body,
      contentType,
      AbortSignal.timeout(this.#timeoutMs),
    );
    return res;
  }

  async #fetch(
    method: string,
    path: string,
    body: string | Uint8Array<ArrayBuffer> | undefined,
    contentType: string | undefined,
    signal: AbortSignal,
    accept = 'application/json',
  ): Promise<Response> {
    const url = `${this.baseUrl}${API_PREFIX}${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept };
    if (contentType) headers['content-type'] = contentType;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal });
    } catch (cause) {
      throw new ServerError(describeNetworkError(this.baseUrl, cause), null, null, { cause });
    }
    if (res.ok) return res;
    let code: string | null = null;
    let message = `${res.status} ${res.statusText}`.trim();
    try {
      const parsed = (await res.json()) as unknown;
      if (isObject(parsed)) {
        if (typeof parsed.code === 'string') code = parsed.code;
        if (typeof parsed.message === 'string') message = parsed.message;
      }
    } catch {
      // Not a {code, message} body; the status says enough.
    }
    throw new ServerError(
      `the approval server answered ${res.status}${code ? ` ${code}` : ''}: ${message}`.slice(
        0,
        300,
      ),
      res.status,
      code,
    );
  }
}

/** A short reason for a failed request: refused, timed out, name not found... */
function describeNetworkError(baseUrl: string, cause: unknown): string {
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
