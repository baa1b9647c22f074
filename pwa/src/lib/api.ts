/**
 * The device side of the HTTP API (DESIGN 5.7). Every request made as a device carries a fresh
 * `DPoP` proof (5.3) signed with the non-extractable key. Failures become `CountersignError`s with
 * the server's stable `code`, so the views switch on codes, never on messages.
 */
import {
  API_PREFIX,
  CountersignError,
  formatAuditQuery,
  formatDeploymentsQuery,
  parseAuditPageResponse,
  parseConfigResponse,
  parseDecisionResponse,
  parseDeploymentDetail,
  parseDeploymentListResponse,
  parseDeploymentPageResponse,
  parseDeviceListResponse,
  parseDeviceView,
  parseEnrollResponse,
  parseErrorBody,
  parseInvitationResponse,
  parseRevokeResponse,
  signProof,
  type AuditPageResponse,
  type AuditQuery,
  type ConfigResponse,
  type DecisionRequest,
  type DecisionResponse,
  type DeploymentDetail,
  type DeploymentListResponse,
  type DeploymentPageResponse,
  type DeviceKey,
  type DeviceListResponse,
  type DeviceView,
  type EnrollRequest,
  type EnrollResponse,
  type InvitationRequest,
  type InvitationResponse,
  type PushSubscriptionJson,
  type RevokeResponse,
} from './protocol.js';

/** Codes that mean this device can no longer act: it was revoked, or the server forgot it. */
export const DEVICE_GONE_CODES: ReadonlySet<string> = new Set([
  'ERR_DEVICE_REVOKED',
  'ERR_PROOF_DEVICE_UNKNOWN',
]);

type Listener = (error: CountersignError) => void;

/** A client for one server origin, acting as one device (or anonymously for enrolment). */
export class Api {
  readonly origin: string;
  private readonly key: DeviceKey | null;
  private readonly onDeviceGone: Listener | undefined;

  constructor(origin: string, key: DeviceKey | null = null, onDeviceGone?: Listener) {
    this.origin = origin;
    this.key = key;
    this.onDeviceGone = onDeviceGone;
  }

  /** `GET /config`: the server's id, name and VAPID key. */
  config(): Promise<ConfigResponse> {
    return this.parsed('GET', '/config', parseConfigResponse, undefined, false);
  }

  /** `POST /devices` with an invitation code (5.5). */
  enroll(request: EnrollRequest): Promise<EnrollResponse> {
    return this.parsed('POST', '/devices', parseEnrollResponse, request, false);
  }

  /** `GET /devices`. */
  devices(): Promise<DeviceListResponse> {
    return this.parsed('GET', '/devices', parseDeviceListResponse);
  }

  /** `POST /devices/:id/revoke`. */
  revoke(id: string): Promise<RevokeResponse> {
    return this.parsed('POST', `/devices/${encodeURIComponent(id)}/revoke`, parseRevokeResponse);
  }

  /** `POST /devices/:id/confirm`: a suspended device confirmed (5.5). */
  confirm(id: string): Promise<DeviceView> {
    return this.parsed('POST', `/devices/${encodeURIComponent(id)}/confirm`, (v) =>
      parseDeviceView(v),
    );
  }

  /** `PUT /devices/self/push`: this device's new subscription, or null. */
  async setPush(push: PushSubscriptionJson | null): Promise<void> {
    await this.send('PUT', '/devices/self/push', { push }, true);
  }

  /** `POST /invitations`: another device of this device's owner. */
  invite(request: InvitationRequest): Promise<InvitationResponse> {
    return this.parsed('POST', '/invitations', parseInvitationResponse, request);
  }

  /** `GET /deployments?status=…`: the live deployments in one state. */
  deployments(status: DeploymentDetail['status']): Promise<DeploymentListResponse> {
    return this.parsed(
      'GET',
      `/deployments${formatDeploymentsQuery({ status })}`,
      parseDeploymentListResponse,
    );
  }

  /** `GET /deployments`: every deployment, newest first, a page at a time. */
  history(limit: number, before: string | null): Promise<DeploymentPageResponse> {
    const query = formatDeploymentsQuery({ limit, ...(before ? { before } : {}) });
    return this.parsed('GET', `/deployments${query}`, parseDeploymentPageResponse);
  }

  /** `GET /deployments/:id`. */
  deployment(id: string): Promise<DeploymentDetail> {
    return this.parsed('GET', `/deployments/${encodeURIComponent(id)}`, (v) =>
      parseDeploymentDetail(v),
    );
  }

  /** `POST /deployments/:id/decision` (5.4). */
  decide(id: string, decision: DecisionRequest): Promise<DecisionResponse> {
    return this.parsed(
      'POST',
      `/deployments/${encodeURIComponent(id)}/decision`,
      parseDecisionResponse,
      decision,
    );
  }

  /** `GET /audit?…`: a page of the audit log (`before`, `after`, `limit`, or one `deployment`). */
  audit(query: AuditQuery): Promise<AuditPageResponse> {
    return this.parsed('GET', `/audit${formatAuditQuery(query)}`, parseAuditPageResponse);
  }

  /**
   * A JSON request whose answer `parse` checks: an answer that does not parse is an error that
   * names the field, and nothing is shown or signed from it.
   */
  private async parsed<T>(
    method: string,
    path: string,
    parse: (input: unknown) => T,
    body?: unknown,
    signed = true,
  ): Promise<T> {
    const response = await this.send(method, path, body, signed);
    try {
      return parse(await response.json());
    } catch (cause) {
      throw new CountersignError(
        'ERR_INTERNAL',
        `The server sent an answer this app cannot read (${(cause as Error).message}).`,
        { cause },
      );
    }
  }

  /** A request whose answer is raw bytes (a snapshot blob). */
  async bytes(path: string): Promise<Uint8Array<ArrayBuffer>> {
    const response = await this.send('GET', path, undefined, true);
    return new Uint8Array(await response.arrayBuffer());
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    signed: boolean,
  ): Promise<Response> {
    const url = `${this.origin}${API_PREFIX}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (signed) {
      if (this.key === null)
        throw new CountersignError('ERR_UNAUTHORIZED', 'This phone is not enrolled.');
      headers.DPoP = await signProof(this.key, { method, url });
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (cause) {
      throw new CountersignError(
        'ERR_SERVER_UNREACHABLE',
        'The approval server cannot be reached. Check the connection and try again.',
        { cause },
      );
    }
    if (response.ok) return response;
    const error = await errorOf(response);
    if (DEVICE_GONE_CODES.has(error.code)) this.onDeviceGone?.(error);
    throw error;
  }
}

async function errorOf(response: Response): Promise<CountersignError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not a JSON error body: a proxy or a broken server. The status names it.
  }
  const { code, message } = parseErrorBody(response.status, response.statusText, body);
  return new CountersignError(code, message);
}
