import { setTimeout as delay } from 'node:timers/promises';
import pRetry from 'p-retry';
import {
  MAX_PUSH_PAYLOAD_BYTES,
  fingerprintOf,
  type PushKind,
  type PushPayload,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import { isActive } from '../store/device-rules.js';
import type { Store } from '../store/types.js';
import { PUSH_REFUSED } from './endpoint-policy.js';
import type { PushRequest, PushResult, PushSender } from './sender.js';

/** Longest wait between two tries of one push. */
const MAX_WAIT_MS = 60_000;

/** A push the service did not take: its status (0 for a network error) and any Retry-After. */
class PushFailure extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterS?: number,
  ) {
    super(`push service answered ${status || 'nothing'}`);
  }

  /** 5.6: 429, 5xx and network errors are retried; other answers are final. */
  get retriable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** What to tell the devices: the payload of 5.6 without `v`, plus delivery options. */
export type Notice = Omit<PushPayload, 'v'> & {
  /** Seconds the push service may keep it (capped at 24 h). */
  ttl: number;
  /** ≤ 32 base64url characters. */
  topic: string;
};

/** Retry and rate settings. */
export type NotifierOptions = {
  /** Retries after the first attempt for 429, 5xx and network errors (5.6: at most 3). */
  retries: number;
  /** First backoff; doubled each retry. */
  backoffMs: number;
  /** Pushes per device per window (T7); over it, only the newest waits for the window. */
  perDevice: { max: number; windowMs: number };
};

export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = {
  retries: 3,
  backoffMs: 500,
  perDevice: { max: 10, windowMs: 60_000 },
};

const DAY_S = 86_400;

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/** The payload text of 5.6: JSON, at most 1 KiB, no flow content. */
export function payloadOf(notice: Notice): string {
  const body: PushPayload = {
    v: 1,
    kind: notice.kind,
    id: clip(notice.id, 64),
    instance: clip(notice.instance, 100),
    changes: notice.changes,
    by: clip(notice.by, 100),
    expiresAt: notice.expiresAt,
  };
  const text = JSON.stringify(body);
  if (Buffer.byteLength(text) > MAX_PUSH_PAYLOAD_BYTES) throw new Error('push payload over 1 KiB');
  return text;
}

/**
 * Fans a notice out to devices, one independent delivery each, after the request that caused it:
 * `notify` only queues, and each device's encryption and send starts in its own turn of the event
 * loop, so neither the proposal's answer nor other requests wait for a fan-out to many devices.
 * 404/410 drop the subscription (the device stays); 429/5xx/network errors are retried with
 * doubling backoff; each device gets at most `perDevice.max` pushes per window.
 */
export class Notifier {
  readonly #store: Store;
  readonly #sender: PushSender;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #options: NotifierOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #sent = new Map<string, number[]>();
  readonly #deferred = new Map<string, { notice: Notice; timer: ReturnType<typeof setTimeout> }>();
  readonly #queued: Array<{ notice: Notice; except: string | undefined }> = [];
  #draining: Promise<void> | null = null;
  #closed = false;

  constructor(deps: {
    store: Store;
    sender: PushSender;
    clock: Clock;
    log: Log;
    options?: Partial<NotifierOptions>;
  }) {
    this.#store = deps.store;
    this.#sender = deps.sender;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#options = { ...DEFAULT_NOTIFIER_OPTIONS, ...deps.options };
  }

  /**
   * Sends `notice` to every active device with a subscription, except `except`. Returns at once:
   * nothing is encrypted or sent before the caller's current turn of the event loop ends.
   */
  notify(notice: Notice, except?: string): void {
    if (this.#closed) return;
    this.#queued.push({ notice, except });
    this.#draining ??= this.#drain().finally(() => (this.#draining = null));
  }

  async #drain(): Promise<void> {
    for (let next = this.#queued.shift(); next; next = this.#queued.shift()) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      let devices;
      try {
        devices = await this.#store.devices();
      } catch (err) {
        this.#log.warn(`push ${next.notice.kind} not sent: ${(err as Error).message}`);
        continue;
      }
      for (const device of devices) {
        if (this.#closed) return;
        if (!isActive(device) || device.push === null || device.id === next.except) continue;
        this.#toDevice(device.id, next.notice);
        // One device's encryption per turn: requests waiting meanwhile are answered in between.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Resolves when every delivery queued or started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#draining || this.#inFlight.size > 0) {
      await this.#draining;
      await Promise.allSettled([...this.#inFlight]);
    }
  }

  /** Stops: deferred pushes are dropped; deliveries in flight get up to `waitMs` to finish. */
  async close(waitMs = 2000): Promise<void> {
    this.#closed = true;
    this.#queued.length = 0;
    for (const { timer } of this.#deferred.values()) clearTimeout(timer);
    this.#deferred.clear();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.idle(),
      new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
  }

  #toDevice(deviceId: string, notice: Notice): void {
    const now = this.#clock.now();
    const { max, windowMs } = this.#options.perDevice;
    const recent = (this.#sent.get(deviceId) ?? []).filter((t) => t > now - windowMs);
    if (recent.length >= max) {
      // T7: over the limit, keep only the newest notice and send it when the window allows.
      const waiting = this.#deferred.get(deviceId);
      if (waiting) {
        waiting.notice = notice;
        return;
      }
      const delay = Math.max(recent[0]! + windowMs - now, 10);
      const entry = {
        notice,
        timer: setTimeout(() => {
          this.#deferred.delete(deviceId);
          this.#toDevice(deviceId, entry.notice);
        }, delay),
      };
      entry.timer.unref?.();
      this.#deferred.set(deviceId, entry);
      this.#log.info(`push to ${fingerprintOf(deviceId)} deferred: rate limit`);
      return;
    }
    recent.push(now);
    this.#sent.set(deviceId, recent);
    const run = this.#deliver(deviceId, notice).catch((err: unknown) => {
      this.#log.warn(`push to ${fingerprintOf(deviceId)} failed: ${(err as Error).message}`);
    });
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  async #deliver(deviceId: string, notice: Notice): Promise<void> {
    const payload = payloadOf(notice);
    const ttl = Math.max(0, Math.min(DAY_S, Math.floor(notice.ttl)));
    const { retries, backoffMs } = this.#options;
    const attempt = async (): Promise<void> => {
      const device = await this.#store.device(deviceId);
      if (!device || device.push === null || !isActive(device)) return;
      const request: PushRequest = {
        subscription: device.push,
        payload,
        ttl,
        urgency: 'high',
        topic: notice.topic,
      };
      let result: PushResult;
      try {
        result = await this.#sender.send(request);
      } catch (err) {
        this.#log.warn(`push to ${fingerprintOf(deviceId)}: ${(err as Error).message}`);
        // 5.6: an endpoint that is not https on a public address is never sent to, nor retried.
        if ((err as NodeJS.ErrnoException).code === PUSH_REFUSED) return;
        throw new PushFailure(0);
      }
      const { status } = result;
      if (status >= 200 && status < 300) return;
      if (status === 404 || status === 410) {
        await this.#drop(deviceId, device.push.endpoint, status);
        return;
      }
      throw new PushFailure(status, result.retryAfterS);
    };
    try {
      // 5.6: 429, 5xx and network errors again after `backoffMs`, doubling, at most `retries` times.
      await pRetry(attempt, {
        retries,
        minTimeout: backoffMs,
        maxTimeout: MAX_WAIT_MS,
        shouldRetry: async ({ error, attemptNumber }) => {
          if (this.#closed || !(error instanceof PushFailure) || !error.retriable) return false;
          // A Retry-After longer than the backoff is honoured (up to a minute).
          const backoff = Math.min(backoffMs * 2 ** (attemptNumber - 1), MAX_WAIT_MS);
          const asked = Math.min((error.retryAfterS ?? 0) * 1000, MAX_WAIT_MS);
          if (asked > backoff) await delay(asked - backoff);
          return !this.#closed;
        },
      });
    } catch (err) {
      const status = err instanceof PushFailure ? err.status : 0;
      this.#log.warn(
        `push ${notice.kind} to ${fingerprintOf(deviceId)} gave up (status ${status})`,
      );
    }
  }

  async #drop(deviceId: string, endpoint: string, status: number): Promise<void> {
    const dropped = await this.#store.dropPush(deviceId, endpoint, [
      { type: 'push-dropped', data: { device: deviceId, status } },
    ]);
    if (dropped)
      this.#log.info(`push subscription of ${fingerprintOf(deviceId)} dropped (${status})`);
  }
}

/** The kinds of 5.6, for callers building notices. */
export type { PushKind };
