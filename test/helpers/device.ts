/**
 * A phone, as far as the server can tell: a NON-extractable Web Crypto P-256 key (`generateDeviceKey`
 * from protocol/, like the PWA), DPoP proofs on every request, enrolment with a proof of possession,
 * and approvals signed with `signApproval`.
 *
 * ```ts
 * const alice = await TestDevice.create({ owner: 'alice' });
 * const { code } = await server.invite({ owner: 'alice', name: 'phone' });
 * await alice.enroll(server.url, code, receiver.createPushSubscription());
 * const res = await alice.decide(server.url, deploymentId);            // approve every change
 * const bad = await alice.decide(server.url, id, { overrides: { aud: 'x' } }); // a forged claim
 * const { jws, changes } = await alice.signedDecision(server.url, id);  // the body, to post later
 * ```
 */
import {
  API_PREFIX,
  decisionsDigest,
  generateDeviceKey,
  fingerprintOf,
  randomId,
  signApproval,
  signEnrollProof,
  signProof,
  type ApprovalClaims,
  type ConfigResponse,
  type DeploymentDetail,
  type DeviceKey,
  type EnrollResponse,
  type PushSubscriptionJson,
  type Verdict,
} from '../../protocol/index.js';

/** A clock in milliseconds (the server's test clock fits). */
export type DeviceClock = { now(): number };

/** Options of `decide`. */
export type DecideOptions = {
  /** Default: `approve` when every change is approved, else `reject`. */
  verdict?: Verdict;
  /**
   * The decision map, signed (as its `decisions` digest) and sent; default every change `approve`
   * (or `reject` for a reject verdict).
   */
  changes?: Record<string, Verdict>;
  note?: string;
  /** Claims to replace; a key set to `undefined` removes that claim. */
  overrides?: Partial<Record<keyof ApprovalClaims, unknown>> & Record<string, unknown>;
  /** The body's `changes` to send instead of the signed map (`undefined` sends none). */
  sentChanges?: unknown;
};

/** An approval before signing: its claims and the decision map they digest. */
export type UnsignedApproval = {
  claims: Record<string, unknown>;
  changes: Record<string, Verdict>;
};

/** A decision body as posted: `{jws, changes}` (5.4). */
export type SignedDecision = { jws: string; changes: unknown };

/** A simple answer: status and parsed JSON body (or text). */
export type DeviceAnswer<T = unknown> = { status: number; body: T; headers: Headers };

export class TestDevice {
  readonly key: DeviceKey;
  readonly owner: string;
  readonly name: string;
  readonly clock: DeviceClock;
  readonly #serverIds = new Map<string, string>();

  private constructor(key: DeviceKey, owner: string, name: string, clock: DeviceClock) {
    this.key = key;
    this.owner = owner;
    this.name = name;
    this.clock = clock;
  }

  /** A new device with a fresh non-extractable key. */
  static async create(
    options: { owner?: string; name?: string; clock?: DeviceClock } = {},
  ): Promise<TestDevice> {
    return new TestDevice(
      await generateDeviceKey(),
      options.owner ?? 'alice',
      options.name ?? `${options.owner ?? 'alice'}'s phone`,
      options.clock ?? { now: () => Date.now() },
    );
  }

  /** The device id (RFC 7638 thumbprint). */
  get id(): string {
    return this.key.id;
  }

  /** The fingerprint people compare (5.5). */
  get fingerprint(): string {
    return fingerprintOf(this.key.id);
  }

  /** Now in Unix seconds, on this device's clock. */
  nowS(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** The server id from `GET /config` (cached). */
  async serverId(serverUrl: string): Promise<string> {
    let id = this.#serverIds.get(serverUrl);
    if (!id) {
      const res = await fetch(`${serverUrl}${API_PREFIX}/config`);
      id = ((await res.json()) as ConfigResponse).serverId;
      this.#serverIds.set(serverUrl, id);
    }
    return id;
  }

  /** The body of `POST /devices` for `code` (for building bad ones). */
  async enrollBody(
    serverUrl: string,
    code: string,
    push: PushSubscriptionJson | null = null,
  ): Promise<Record<string, unknown>> {
    const proof = await signEnrollProof(
      this.key,
      { aud: await this.serverId(serverUrl), code },
      { iat: this.nowS() },
    );
    return { code, name: this.name, publicJwk: this.key.publicJwk, push, proof };
  }

  /** Enrols with an invitation code; throws with the server's `{code, message}` when refused. */
  async enroll(
    serverUrl: string,
    code: string,
    push: PushSubscriptionJson | null = null,
  ): Promise<EnrollResponse> {
    const res = await fetch(`${serverUrl}${API_PREFIX}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await this.enrollBody(serverUrl, code, push)),
    });
    const body = (await res.json()) as EnrollResponse & { code?: string; message?: string };
    if (res.status !== 201)
      throw new Error(`enrol failed: ${res.status} ${body.code}: ${body.message}`);
    return body;
  }

  /** A DPoP proof for one request (options make bad ones). */
  proof(
    url: string,
    method: string,
    options: { iat?: number; jti?: string } = {},
  ): Promise<string> {
    return signProof(
      this.key,
      { method, url },
      { iat: options.iat ?? this.nowS(), ...(options.jti ? { jti: options.jti } : {}) },
    );
  }

  /** A request with this device's proof; `path` is under the server URL (e.g. `/api/v1/devices`). */
  async fetch(
    serverUrl: string,
    method: string,
    path: string,
    body?: unknown,
    options: { proof?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = `${serverUrl}${path}`;
    const proof = options.proof === undefined ? await this.proof(url, method) : options.proof;
    const headers: Record<string, string> = { ...options.headers };
    if (proof !== null) headers.DPoP = proof;
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    return fetch(url, {
      method,
      headers,
      ...(body !== undefined
        ? { body: typeof body === 'string' ? body : JSON.stringify(body) }
        : {}),
    });
  }

  /** `fetch`, then the status and parsed body. */
  async call<T = unknown>(
    serverUrl: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<DeviceAnswer<T>> {
    const res = await this.fetch(serverUrl, method, path, body);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /**
   * `POST /invitations` as this device (5.5: for its own owner, unless a test says otherwise); a
   * refusal answers `{code, message}`.
   */
  invite(
    serverUrl: string,
    request: { owner?: string; name: string },
  ): Promise<DeviceAnswer<{ code: string; url: string; expiresAt: string; message?: string }>> {
    return this.call(serverUrl, 'POST', `${API_PREFIX}/invitations`, {
      owner: request.owner ?? this.owner,
      name: request.name,
    });
  }

  /** `GET /deployments/:id`. */
  async deployment(serverUrl: string, id: string): Promise<DeploymentDetail> {
    const answer = await this.call<DeploymentDetail>(
      serverUrl,
      'GET',
      `${API_PREFIX}/deployments/${id}`,
    );
    if (answer.status !== 200)
      throw new Error(`GET deployment ${id}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /**
   * The claims and decision map deciding `deploymentId` as it is now on the server (for good and
   * bad approvals alike): `decisions` is the digest of the map unless overridden.
   */
  async approval(
    serverUrl: string,
    deploymentId: string,
    options: DecideOptions = {},
  ): Promise<UnsignedApproval> {
    const d = await this.deployment(serverUrl, deploymentId);
    const perChange: Verdict = options.verdict === 'reject' ? 'reject' : 'approve';
    const changes = options.changes ?? Object.fromEntries(d.changes.map((c) => [c.id, perChange]));
    const allApproved = Object.values(changes).every((v) => v === 'approve');
    const iat = this.nowS();
    const claims: Record<string, unknown> = {
      iss: this.id,
      aud: await this.serverId(serverUrl),
      sub: deploymentId,
      iat,
      exp: iat + 120,
      jti: randomId(),
      base: d.base,
      target: d.target,
      creds: d.creds,
      verdict: options.verdict ?? (allApproved ? 'approve' : 'reject'),
      decisions: await decisionsDigest(changes),
      ...(options.note !== undefined ? { note: options.note } : {}),
    };
    for (const [k, v] of Object.entries(options.overrides ?? {})) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    return { claims, changes };
  }

  /** The claims alone (see `approval`), for tokens that fail before the decision map is read. */
  async approvalClaims(
    serverUrl: string,
    deploymentId: string,
    options: DecideOptions = {},
  ): Promise<Record<string, unknown>> {
    return (await this.approval(serverUrl, deploymentId, options)).claims;
  }

  /** Signs an approval with this device's key (any claims, for building bad ones). */
  signApproval(claims: ApprovalClaims | Record<string, unknown>): Promise<string> {
    return signApproval(this.key, claims as ApprovalClaims);
  }

  /** Signs a decision of `deploymentId` as it is now: the body `{jws, changes}` to post. */
  async signedDecision(
    serverUrl: string,
    deploymentId: string,
    options: DecideOptions = {},
  ): Promise<SignedDecision> {
    const { claims, changes } = await this.approval(serverUrl, deploymentId, options);
    return {
      jws: await this.signApproval(claims),
      changes: 'sentChanges' in options ? options.sentChanges : changes,
    };
  }

  /** Posts `{jws, changes}` to the deployment's decision endpoint (`changes` left out when undefined). */
  postDecision(
    serverUrl: string,
    deploymentId: string,
    jws: unknown,
    changes?: unknown,
  ): Promise<DeviceAnswer> {
    return this.call(serverUrl, 'POST', `${API_PREFIX}/deployments/${deploymentId}/decision`, {
      jws,
      changes,
    });
  }

  /** Posts a signed decision body. */
  post(serverUrl: string, deploymentId: string, body: SignedDecision): Promise<DeviceAnswer> {
    return this.postDecision(serverUrl, deploymentId, body.jws, body.changes);
  }

  /** Fetches the deployment, signs a decision of every change id, and posts it. */
  async decide(
    serverUrl: string,
    deploymentId: string,
    options: DecideOptions = {},
  ): Promise<DeviceAnswer> {
    return this.post(
      serverUrl,
      deploymentId,
      await this.signedDecision(serverUrl, deploymentId, options),
    );
  }
}
