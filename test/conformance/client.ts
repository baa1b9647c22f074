/**
 * An independent Countersign client, written from DESIGN.md 5.1–5.7 alone: Web Crypto P-256 keys
 * (non-extractable), `jose` for DPoP proofs (5.3), enrolment proofs (5.5) and approvals (5.4),
 * plain `fetch`. It deliberately shares no code with the server or the project's own signing
 * helpers, so a disagreement between the two shows up as a failing conformance test. Every knob an
 * attacker could turn (header fields, claims, the signing key) can be overridden per call.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { silentLog, startServer, type RunningServer } from '../../server/index.js';
import { testStoreFor } from '../helpers/test-store.js';

export const API = '/api/v1';

/** A parsed HTTP answer. `body` is the JSON body when there is one. */
export type Reply = {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a conformance client reads arbitrary JSON
  body: any;
};

/** Lowercase hex SHA-256 (5.1). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A snapshot's bytes and rev (5.1): the UTF-8 bytes of `JSON.stringify(flows)`. */
export function snapshot(flows: unknown[]): { bytes: Uint8Array; rev: string } {
  const bytes = new TextEncoder().encode(JSON.stringify(flows));
  return { bytes, rev: sha256Hex(bytes) };
}

export function randomJti(): string {
  return randomBytes(16).toString('base64url');
}

const b64uJson = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * The `decisions` claim (5.4): base64url SHA-256 of the RFC 8785 canonical JSON of the decision map.
 * For a flat object of strings, RFC 8785 is the keys sorted by UTF-16 code units and each key and
 * value serialised as ECMAScript's JSON.stringify does.
 */
export function decisionsDigest(map: Record<string, string>): string {
  const text = `{${Object.keys(map)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(map[k])}`)
    .join(',')}}`;
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** A compact JWS with any header, signed with HMAC-SHA-256 (or unsigned for `alg: none`). */
export function unsafeJws(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  hmacKey?: Uint8Array,
): string {
  const input = `${b64uJson(header)}.${b64uJson(claims)}`;
  if (!hmacKey) return `${input}.`;
  return `${input}.${createHmac('sha256', hmacKey).update(input).digest('base64url')}`;
}

/** Sends a request and reads the whole answer. */
export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** Everything an attacker may change in a DPoP proof. */
export type ProofOverrides = {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  typ?: string;
  /** Replace the header's `jwk` (e.g. another device's key, or one with a private part). */
  jwk?: Record<string, unknown>;
  /** Sign with this device's key while the header still names the caller's. */
  signWith?: Device;
  /** The whole proof, verbatim. */
  raw?: string;
  /** Leave the `DPoP` header off. */
  omit?: boolean;
};

/** Claims of an approval (5.4); a test may add, remove or change any of them. */
export type ApprovalClaims = Record<string, unknown>;

/** A server under test, with its data directory. */
export type Target = {
  server: RunningServer;
  /** The URL requests go to (and `htu` is computed against). */
  url: string;
  serverId: string;
  dataDir: string;
};

/** A device: a non-extractable P-256 key, its public JWK and RFC 7638 thumbprint. */
export class Device {
  private constructor(
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly id: string,
    private readonly now: () => number,
  ) {}

  /** Makes a new key the way the PWA does (5.3). `now` gives Unix seconds. */
  static async create(now: () => number = () => Math.floor(Date.now() / 1000)): Promise<Device> {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const full = await exportJWK(pair.publicKey);
    const publicJwk: JWK = { kty: full.kty, crv: full.crv, x: full.x, y: full.y };
    const id = await calculateJwkThumbprint(publicJwk, 'sha256');
    return new Device(pair.privateKey, publicJwk, id, now);
  }

  /** Unix seconds on this device's clock. */
  seconds(): number {
    return this.now();
  }

  /** The first 16 characters of the id, in groups of 4 (5.5). */
  get fingerprintChars(): string {
    return this.id.slice(0, 16);
  }

  /** A DPoP proof (5.3) for `method url`; `htu` is the URL without query or fragment. */
  async proof(method: string, url: string, over: ProofOverrides = {}): Promise<string> {
    if (over.raw !== undefined) return over.raw;
    const u = new URL(url);
    const claims = {
      jti: over.jti ?? randomJti(),
      htm: over.htm ?? method,
      htu: over.htu ?? `${u.protocol}//${u.host}${u.pathname}`,
      iat: over.iat ?? this.now(),
    };
    const signer = over.signWith ?? this;
    return new SignJWT(claims)
      .setProtectedHeader({
        typ: over.typ ?? 'dpop+jwt',
        alg: 'ES256',
        jwk: (over.jwk as JWK | undefined) ?? this.publicJwk,
      })
      .sign(signer.privateKey);
  }

  /** A request as this device: JSON body (unless a string is given) and a DPoP proof. */
  async request(
    target: Target,
    method: string,
    pathAndQuery: string,
    body?: unknown,
    over: ProofOverrides = {},
  ): Promise<Reply> {
    const url = `${target.url}${API}${pathAndQuery}`;
    const headers: Record<string, string> = {};
    // 5.7: htu names the public URL (which differs from the listen URL behind a proxy).
    const publicUrl = `${target.server.publicUrl.replace(/\/+$/, '')}${API}${pathAndQuery}`;
    if (!over.omit) headers.dpop = await this.proof(method, publicUrl, over);
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    return call(url, { method, headers, body: payload });
  }

  /** The enrolment proof (5.5): `{aud, iat, jti, code: sha256(code)}`, header names this key. */
  async enrollProof(
    code: string,
    aud: string,
    over: {
      signWith?: Device;
      jwk?: JWK;
      typ?: string;
      claims?: Record<string, unknown>;
    } = {},
  ): Promise<string> {
    const claims = {
      aud,
      iat: this.now(),
      jti: randomJti(),
      code: sha256Hex(code),
      ...over.claims,
    };
    return new SignJWT(claims)
      .setProtectedHeader({
        alg: 'ES256',
        typ: over.typ ?? 'countersign-enroll+jwt',
        jwk: over.jwk ?? this.publicJwk,
      })
      .sign((over.signWith ?? this).privateKey);
  }

  /** `POST /devices` with an invitation code (5.5). */
  async enroll(
    target: Target,
    code: string,
    options: {
      name?: string;
      push?: unknown;
      proof?: string;
      publicJwk?: JWK;
    } = {},
  ): Promise<Reply> {
    const proof = options.proof ?? (await this.enrollProof(code, target.serverId));
    return call(`${target.url}${API}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        code,
        name: options.name ?? 'phone',
        publicJwk: options.publicJwk ?? this.publicJwk,
        push: options.push ?? null,
        proof,
      }),
    });
  }

  /** The claims of an honest approval of `detail` (every change decided `verdict`, 5.4). */
  approvalClaims(
    target: Target,
    detail: {
      id: string;
      base: string;
      target: string;
      creds: string | null;
      changes: { id: string }[];
    },
    verdict: 'approve' | 'reject' = 'approve',
  ): ApprovalClaims {
    const iat = this.now();
    return {
      iss: this.id,
      aud: target.serverId,
      sub: detail.id,
      iat,
      exp: iat + 120,
      jti: randomJti(),
      base: detail.base,
      target: detail.target,
      creds: detail.creds,
      verdict,
      decisions: decisionsDigest(decisionMap(detail, verdict)),
    };
  }

  /** An approval JWS (5.4); `header` overrides fields, `signWith` signs with another key. */
  async sign(
    claims: ApprovalClaims,
    options: { header?: Record<string, unknown>; signWith?: Device } = {},
  ): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'countersign-approval+jwt',
        kid: this.id,
        ...options.header,
      } as { alg: string })
      .sign((options.signWith ?? this).privateKey);
  }

  /** A compact ES256 JWS with any header at all, signed directly with Web Crypto. */
  async signRaw(header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
    const input = `${b64uJson(header)}.${b64uJson(claims)}`;
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      this.privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  }

  /**
   * `POST /deployments/:id/decision {jws, changes}`. Without `changes`, sends what an honest phone
   * sends beside this JWS: every change of the deployment decided as the JWS's verdict.
   */
  async decide(target: Target, id: string, jws: string, changes?: unknown): Promise<Reply> {
    let map = changes;
    if (map === undefined) {
      const detail = await this.request(target, 'GET', `/deployments/${id}`);
      map = detail.status === 200 ? decisionMap(detail.body, verdictOf(jws)) : {};
    }
    return this.request(target, 'POST', `/deployments/${id}/decision`, { jws, changes: map });
  }

  /** Fetches the deployment and signs an honest decision of it. */
  async review(
    target: Target,
    id: string,
    verdict: 'approve' | 'reject' = 'approve',
  ): Promise<{ jws: string; reply: Reply }> {
    const detail = await this.request(target, 'GET', `/deployments/${id}`);
    if (detail.status !== 200)
      throw new Error(`GET deployment ${id}: ${detail.status} ${detail.text}`);
    const jws = await this.sign(this.approvalClaims(target, detail.body, verdict));
    return { jws, reply: await this.decide(target, id, jws) };
  }
}

/** The decision map (5.4) deciding every change of `detail` as `verdict`. */
export function decisionMap(
  detail: { changes: { id: string }[] },
  verdict: 'approve' | 'reject',
): Record<string, string> {
  return Object.fromEntries(detail.changes.map((c) => [c.id, verdict]));
}

/** The `verdict` claim of a compact JWS, read without verifying (`approve` when unreadable). */
function verdictOf(jws: string): 'approve' | 'reject' {
  try {
    const claims = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return claims?.verdict === 'reject' ? 'reject' : 'approve';
  } catch {
    return 'approve';
  }
}

/** A Node-RED instance as the server sees it: a bearer token (5.7 plugin rows). */
export class Plugin {
  constructor(
    readonly target: Target,
    readonly token: string,
  ) {}

  request(
    method: string,
    pathAndQuery: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const h: Record<string, string> = { authorization: `Bearer ${this.token}`, ...headers };
    let payload: string | Uint8Array | undefined;
    if (body !== undefined) {
      h['content-type'] ??= 'application/json';
      payload =
        typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    }
    return call(`${this.target.url}${API}${pathAndQuery}`, {
      method,
      headers: h,
      body: payload as BodyInit | undefined,
    });
  }

  /** `PUT /blobs/:rev` with the snapshot's bytes; returns the rev. */
  async upload(flows: unknown[]): Promise<string> {
    const { bytes, rev } = snapshot(flows);
    const reply = await this.request('PUT', `/blobs/${rev}`, bytes);
    if (reply.status !== 201) throw new Error(`PUT blob: ${reply.status} ${reply.text}`);
    return rev;
  }

  /** Uploads both snapshots and posts a proposal; returns the 201 body (or throws). */
  async propose(
    base: unknown[],
    target: unknown[],
    extra: { creds?: string | null; credentials?: Record<string, string[]>; user?: string } = {},
  ): Promise<{ id: string; status: string; expiresAt: string; reviewUrl: string }> {
    const reply = await this.proposeReply(base, target, extra);
    if (reply.status !== 201) throw new Error(`POST deployments: ${reply.status} ${reply.text}`);
    return reply.body;
  }

  async proposeReply(
    base: unknown[],
    target: unknown[],
    extra: { creds?: string | null; credentials?: Record<string, string[]>; user?: string } = {},
  ): Promise<Reply> {
    const baseRev = await this.upload(base);
    const targetRev = await this.upload(target);
    return this.request('POST', '/deployments', {
      base: baseRev,
      target: targetRev,
      creds: extra.creds ?? null,
      credentials: extra.credentials ?? {},
      type: 'full',
      source: { user: extra.user ?? 'nobody', via: 'editor' },
    });
  }
}

/** Starts the real server on port 0 in a temp dir (or `dataDir`, for a restart). */
export async function startTarget(
  options: {
    dataDir?: string;
    policy?: { requiredApprovals?: number; forbidSelfApproval?: boolean; expiresIn?: string };
    clock?: { now(): number };
    port?: number;
    publicUrl?: string;
    notifier?: { backoffMs?: number };
  } = {},
): Promise<Target> {
  const dataDir =
    options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-conformance-'));
  const store = await testStoreFor(dataDir);
  const server = await startServer({
    dataDir,
    ...(store ? { store } : {}),
    port: options.port ?? 0,
    appDir: null,
    log: silentLog,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.notifier ? { notifier: options.notifier } : {}),
  });
  return { server, url: server.url, serverId: server.serverId, dataDir };
}

/** Stops a target started by `startTarget` (if it started) and removes its data directory. */
export async function stopTarget(target: Target | undefined): Promise<void> {
  if (!target) return;
  await target.server.close();
  removeDir(target.dataDir);
}

/** Invites and enrols a new device (the command line's `enroll`, then the PWA's `POST /devices`). */
export async function enrolled(
  target: Target,
  options: { owner?: string; push?: unknown; now?: () => number } = {},
): Promise<Device> {
  const device = await Device.create(options.now);
  const { code } = await target.server.invite({ owner: options.owner ?? 'alice', name: 'phone' });
  const reply = await device.enroll(target, code, { push: options.push ?? null });
  if (reply.status !== 201) throw new Error(`enrol: ${reply.status} ${reply.text}`);
  return device;
}

/** A new instance and its plugin token (the command line's `instances add`). */
export async function instance(
  target: Target,
  name: string,
  policy?: { requiredApprovals?: number; forbidSelfApproval?: boolean; expiresIn?: string },
): Promise<Plugin> {
  const { token } = await target.server.ensureInstance(name, policy);
  return new Plugin(target, token);
}

/** Small flows: one tab with `count` inject nodes; `variant` changes their names. */
export function flows(variant: string, count = 2): Record<string, unknown>[] {
  const tab = { id: 'tab1', type: 'tab', label: 'Flow 1', disabled: false, info: '' };
  const nodes = Array.from({ length: count }, (_, i) => ({
    id: `n${i}`,
    type: 'inject',
    z: 'tab1',
    name: `${variant}-${i}`,
    x: 100,
    y: 40 * (i + 1),
    wires: [[]],
  }));
  return [tab, ...nodes];
}

/** A copy of `claims` without `key` (a claim left out entirely). */
export function without(claims: ApprovalClaims, key: string): ApprovalClaims {
  const copy = { ...claims };
  delete copy[key];
  return copy;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
