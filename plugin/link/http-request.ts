/**
 * One HTTP request whose answer is read whole, on node:http(s) with kept-alive connections. The
 * plugin's requests to the approval server go this way rather than through `fetch`: on a deploy of
 * 1,000-node flows, `fetch` took about 3 ms to upload the snapshot over loopback and about 1 ms for
 * a small request, node:http with a kept-alive socket 0.7 and 0.4 ms, and a deploy waits for two.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** An answer, read whole. */
export type Answer = {
  status: number;
  statusText: string;
  /** A header's value (the first, when repeated), or null. */
  header(name: string): string | null;
  text: string;
};

/** What a request carries. */
export type RequestOptions = {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal: AbortSignal;
  /** The largest answer read (default `MAX_ANSWER_BYTES`). */
  maxBytes?: number;
};

/** The largest answer read: far above any answer of 5.7, far below what would hurt Node-RED. */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/**
 * Kept-alive connections per client. An idle socket is closed after 4 s, before any Node server
 * closes it (5 s by default; the approval server keeps them longer), and a server's `Keep-Alive:
 * timeout` hint shortens it further. It does not keep Node-RED's process alive.
 */
export type Agents = { http: HttpAgent; https: HttpsAgent };

export function createAgents(): Agents {
  const options = { keepAlive: true, timeout: 4000 };
  return { http: new HttpAgent(options), https: new HttpsAgent(options) };
}

/** A request failed before an answer came: `code` as Node gives it, or `TIMEOUT`. */
export class RequestFailure extends Error {
  readonly code: string | null;

  constructor(message: string, code: string | null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RequestFailure';
    this.code = code;
  }
}

function failure(err: unknown, signal: AbortSignal): RequestFailure {
  if (signal.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    if (reason?.name === 'TimeoutError') return new RequestFailure('timed out', 'TIMEOUT');
    return new RequestFailure('aborted', 'ABORTED', { cause: err });
  }
  const e = err as NodeJS.ErrnoException;
  return new RequestFailure(e?.message ?? 'network error', e?.code ?? null, { cause: err });
}

function readWhole(res: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        res.destroy(new Error(`the answer is larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the answer was cut off')));
  });
}

function once(url: URL, options: RequestOptions, agents: Agents): Promise<Answer> {
  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  return new Promise<Answer>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    const body =
      typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
    if (body !== undefined) headers['content-length'] = body.byteLength;
    const req = send(
      url,
      {
        method: options.method,
        headers,
        agent: https ? agents.https : agents.http,
        signal: options.signal,
      },
      (res) => {
        readWhole(res, options.maxBytes ?? MAX_ANSWER_BYTES).then(
          (text) =>
            resolve({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? '',
              header: (name) => {
                const value = res.headers[name.toLowerCase()];
                return value === undefined ? null : Array.isArray(value) ? value[0]! : value;
              },
              text,
            }),
          (err: unknown) => reject(failure(err, options.signal)),
        );
      },
    );
    req.on('error', (err) => {
      // A kept-alive socket the server closed just as this request went out: nothing reached
      // the server, so the request is sent once more on a fresh connection.
      if (req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
        reject(Object.assign(failure(err, options.signal), { retry: true }));
      } else reject(failure(err, options.signal));
    });
    req.end(body);
  });
}

/** Sends `options` to `url` and reads the answer whole; throws `RequestFailure` when none came. */
export async function requestWhole(
  url: string,
  options: RequestOptions,
  agents: Agents,
): Promise<Answer> {
  const target = new URL(url);
  try {
    return await once(target, options, agents);
  } catch (err) {
    if ((err as { retry?: boolean }).retry !== true) throw err;
    return once(target, options, agents);
  }
}
