/**
 * A local Web Push service for tests. It issues real subscriptions (a P-256 key pair and an auth
 * secret per subscription), checks each request's VAPID `Authorization: vapid t=…, k=…` JWT
 * (RFC 8292: ES256, aud = this origin, exp ≤ 24 h ahead, sub), decrypts the RFC 8291 `aes128gcm`
 * body with the subscription's private key (node:crypto here, independent of web-push), and keeps
 * every request with its TTL, Urgency and Topic. Tests can make it answer chosen statuses (201,
 * 404, 410, 429, 500, or 0 to drop the connection) to exercise pruning and retries.
 *
 * ```ts
 * const receiver = await startPushReceiver(); // sets COUNTERSIGN_TEST_PUSH_ORIGIN to its origin
 * const push = receiver.createPushSubscription(); // PushSubscription.toJSON() shape
 * await device.enroll(server.url, code, push);
 * const [msg] = await receiver.waitForMessages(1);
 * msg.payload; // {v: 1, kind: 'deployment', ...}
 * await receiver.close();
 * ```
 */
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  hkdfSync,
  randomBytes,
  verify as verifySignature,
  type ECDH,
} from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PushSubscriptionJson } from '../../protocol/index.js';

/** One request the receiver got. */
export type ReceivedPush = {
  /** The subscription endpoint it was sent to. */
  endpoint: string;
  /** The status the receiver answered (0 = connection dropped). */
  status: number;
  ttl: number | null;
  urgency: string | null;
  topic: string | null;
  /** The decrypted body as text, and parsed when it is JSON. */
  text: string;
  payload: unknown;
  vapid: { aud: string; exp: number; sub: string; k: string };
  at: number;
};

type Subscription = { id: string; ecdh: ECDH; publicKey: Buffer; auth: Buffer; endpoint: string };

/** The running receiver. */
export type PushReceiver = {
  origin: string;
  /** A new subscription pointing at this receiver, as `PushSubscription.toJSON()` returns it. */
  createPushSubscription(): PushSubscriptionJson;
  /** Queue statuses to answer, in order, for one endpoint (or for any when omitted); then 201. */
  respondWith(statuses: number[], endpoint?: string): void;
  /** Every request, whatever it was answered. */
  readonly attempts: ReceivedPush[];
  /** Requests answered 2xx: the delivered messages. */
  readonly messages: ReceivedPush[];
  /** Requests that failed the VAPID or encryption checks (a test expects none). */
  readonly errors: string[];
  /** Waits until at least `count` messages (for `endpoint`, when given) have been delivered. */
  waitForMessages(
    count: number,
    options?: { endpoint?: string; timeoutMs?: number },
  ): Promise<ReceivedPush[]>;
  /** Waits until at least `count` attempts were made. */
  waitForAttempts(
    count: number,
    options?: { endpoint?: string; timeoutMs?: number },
  ): Promise<ReceivedPush[]>;
  close(): Promise<void>;
};

const b64u = (b: Buffer): string => b.toString('base64url');

/** The claims of a VAPID `Authorization` header for `origin`; throws unless it is valid (RFC 8292). */
export function verifyVapid(header: string | undefined, origin: string): ReceivedPush['vapid'] {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) throw new Error(`Authorization is not "vapid t=…, k=…": ${header}`);
  const [, token, k] = match as unknown as [string, string, string];
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) throw new Error('the VAPID token is not a JWS');
  const jwtHeader = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  if (jwtHeader.alg !== 'ES256') throw new Error(`VAPID alg ${String(jwtHeader.alg)}`);
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Error('VAPID k is not a P-256 point');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) },
    format: 'jwk',
  });
  const ok = verifySignature(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new Error('the VAPID signature does not verify');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== origin) throw new Error(`VAPID aud ${String(claims.aud)} is not ${origin}`);
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 86_400) {
    throw new Error('VAPID exp must be in the future and at most 24 h ahead');
  }
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) {
    throw new Error('VAPID sub must be a mailto: or https: URL');
  }
  return { aud: claims.aud, exp: claims.exp, sub: claims.sub, k };
}

/** RFC 8291 / RFC 8188 aes128gcm, one record, decrypted with the subscription's private key. */
export function decryptAes128gcm(
  body: Buffer,
  sub: { ecdh: ECDH; publicKey: Buffer; auth: Buffer },
): Buffer {
  if (body.length < 21 + 65 + 17) throw new Error('the body is too short for aes128gcm');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (idlen !== 65) throw new Error(`keyid length ${idlen}, expected the 65-byte sender key`);
  const senderKey = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  if (record.length > rs) throw new Error('more than one record');
  const ecdhSecret = sub.ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(
    hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16),
  );
  const nonce = Buffer.from(
    hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12),
  );
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([
    decipher.update(record.subarray(0, record.length - 16)),
    decipher.final(),
  ]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2) throw new Error('no last-record padding delimiter');
  return padded.subarray(0, end);
}

/**
 * Starts a push receiver on 127.0.0.1, port 0. A server refuses push endpoints that are not https
 * on a public address (5.6); this receiver is neither, so its origin becomes the one exempted
 * origin, `COUNTERSIGN_TEST_PUSH_ORIGIN`, for servers started in this process from now on (and
 * for child processes given this environment).
 */
export async function startPushReceiver(): Promise<PushReceiver> {
  const subs = new Map<string, Subscription>();
  const queues = new Map<string, number[]>();
  const attempts: ReceivedPush[] = [];
  const errors: string[] = [];
  let origin = '';
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of waiters) w();
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
      const sub = id ? subs.get(id) : undefined;
      if (req.method !== 'POST' || !sub) {
        res.writeHead(404).end();
        return;
      }
      let record: ReceivedPush;
      try {
        const vapid = verifyVapid(req.headers.authorization, origin);
        if (req.headers['content-encoding'] !== 'aes128gcm')
          throw new Error('Content-Encoding is not aes128gcm');
        const text = decryptAes128gcm(Buffer.concat(chunks), sub).toString('utf8');
        let payload: unknown = text;
        try {
          payload = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        const ttl = req.headers.ttl === undefined ? null : Number(req.headers.ttl);
        record = {
          endpoint: sub.endpoint,
          status: 201,
          ttl,
          urgency: (req.headers.urgency as string | undefined) ?? null,
          topic: (req.headers.topic as string | undefined) ?? null,
          text,
          payload,
          vapid,
          at: Date.now(),
        };
      } catch (err) {
        errors.push((err as Error).message);
        res.writeHead(400).end((err as Error).message);
        wake();
        return;
      }
      const queue = queues.get(sub.endpoint)?.length ? queues.get(sub.endpoint)! : queues.get('*');
      const status = queue?.shift() ?? 201;
      record.status = status;
      attempts.push(record);
      wake();
      if (status === 0) {
        req.socket.destroy();
        return;
      }
      res
        .writeHead(status, status === 201 ? { Location: `${origin}/msg/${attempts.length}` } : {})
        .end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.COUNTERSIGN_TEST_PUSH_ORIGIN = origin;

  const waitFor = (
    pick: () => ReceivedPush[],
    count: number,
    timeoutMs: number,
  ): Promise<ReceivedPush[]> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = pick();
        if (found.length >= count) {
          cleanup();
          resolve(found);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `push receiver: expected ${count}, got ${pick().length} (errors: ${errors.join('; ')})`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(onWake);
      };
      const onWake = (): void => void check();
      if (!check()) waiters.add(onWake);
    });

  return {
    origin,
    attempts,
    get messages() {
      return attempts.filter((a) => a.status >= 200 && a.status < 300);
    },
    errors,
    createPushSubscription() {
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const id = randomBytes(12).toString('base64url');
      const endpoint = `${origin}/push/${id}`;
      const auth = randomBytes(16);
      subs.set(id, { id, ecdh, publicKey, auth, endpoint });
      return {
        endpoint,
        expirationTime: null,
        keys: { p256dh: b64u(publicKey), auth: b64u(auth) },
      };
    },
    respondWith(statuses, endpoint) {
      queues.set(endpoint ?? '*', [...statuses]);
    },
    waitForMessages(count, options = {}) {
      return waitFor(
        () =>
          attempts.filter(
            (a) =>
              a.status >= 200 &&
              a.status < 300 &&
              (!options.endpoint || a.endpoint === options.endpoint),
          ),
        count,
        options.timeoutMs ?? 10_000,
      );
    },
    waitForAttempts(count, options = {}) {
      return waitFor(
        () => attempts.filter((a) => !options.endpoint || a.endpoint === options.endpoint),
        count,
        options.timeoutMs ?? 10_000,
      );
    },
    close() {
      return new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
