/**
 * The device side of the HTTP API (DESIGN 5.7). Every request made as a device carries a fresh
 * `DPoP` proof (5.3) signed with the non-extractable key. Failures become `CountersignError`s with
 * the server's stable `code`, so the views switch on codes, never on messages.
 */
import {
  API_PREFIX,
  CountersignError,
  isErrorCode,
  signProof,
  type ConfigResponse,
  type DeviceKey,
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
    return this.json<ConfigResponse>('GET', '/config', undefined, false);
  }

  /** A JSON request; `signed` adds the device proof. */
  async json<T>(method: string, path: string, body?: unknown, signed = true): Promise<T> {
    const response = await this.send(method, path, body, signed);
    return (await response.json()) as T;
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
  let code: unknown;
  let message: unknown;
  try {
    ({ code, message } = (await response.json()) as { code?: unknown; message?: unknown });
  } catch {
    // Not a JSON error body: a proxy or a broken server. Name the status.
  }
  const text =
    typeof message === 'string' && message !== ''
      ? message
      : `The server answered ${response.status} ${response.statusText}.`.trim();
  return new CountersignError(isErrorCode(code) ? code : fallbackCode(response.status), text);
}

function fallbackCode(status: number): CountersignError['code'] {
  if (status === 401) return 'ERR_UNAUTHORIZED';
  if (status === 403) return 'ERR_FORBIDDEN';
  if (status === 404) return 'ERR_NOT_FOUND';
  if (status === 413) return 'ERR_BODY_TOO_LARGE';
  if (status === 429) return 'ERR_RATE_LIMITED';
  if (status >= 400 && status < 500) return 'ERR_BAD_REQUEST';
  return 'ERR_INTERNAL';
}
