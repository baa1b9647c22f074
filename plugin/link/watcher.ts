/**
 * Listens for decisions on held deployments: the server's event stream (`GET /instance/events`),
 * reconnecting with backoff, and polling `GET /deployments/:id` for each held deployment as a
 * fallback (often while the stream is down, now and then while it is up).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import pRetry from 'p-retry';
import { parseDeploymentEvent, parseJsonText, type DeploymentEvent } from '../../protocol/index.js';
import { honourRetryAfter, type ApprovalClient } from './client.js';

/** Options of the watcher. */
export type WatcherOptions = {
  client: ApprovalClient;
  /** Called for every deployment the server reports; must not throw. */
  onDeployment: (view: DeploymentEvent) => void;
  /** The ids to poll for. */
  heldIds: () => string[];
  /** Called each time the stream (re)connects. */
  onConnected?: () => void;
  log: { info(message: string): void; warn(message: string): void };
  /** Poll interval while the stream is down (default 5 s) and while it is up (default 60 s). */
  pollDownMs?: number;
  pollUpMs?: number;
};

/** Longest event the stream may carry (a deployment with its approvals); a longer one ends the stream. */
const MAX_EVENT_CHARS = 8 * 1024 * 1024;

/**
 * The `data` of each server-sent event, read with a kept parser (eventsource-parser). Comments
 * (heartbeats) and `retry:` lines carry nothing the gate needs.
 */
export async function* readEvents(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  // TextDecoderStream takes any BufferSource; the DOM types cannot say that it takes Uint8Array.
  const text = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
  const events = stream
    .pipeThrough(text)
    .pipeThrough(
      new EventSourceParserStream({ onError: 'terminate', maxBufferSize: MAX_EVENT_CHARS }),
    );
  const reader = events.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      yield next.value.data;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Reconnecting to the event stream: 1 s, doubling to 30 s, for as long as the watcher runs. */
const RECONNECT = {
  retries: Infinity,
  minTimeout: 1_000,
  maxTimeout: 30_000,
  unref: true,
} as const;

/** The stream-and-poll loop; `close()` ends it. */
export class Watcher {
  readonly #options: WatcherOptions;
  readonly #abort = new AbortController();
  #connected = false;
  #pollTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  #toldLost = false;
  #running: Promise<void> | null = null;

  constructor(options: WatcherOptions) {
    this.#options = options;
  }

  /** True while the event stream is open. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Starts listening. */
  start(): void {
    if (this.#running) return;
    this.#running = this.#streamLoop();
    this.#schedulePoll();
  }

  /** Polls every held deployment now. */
  async pollNow(): Promise<void> {
    for (const id of this.#options.heldIds()) {
      if (this.#closed) return;
      try {
        this.#options.onDeployment(await this.#options.client.deployment(id));
      } catch (err) {
        // Unreachable or a forgotten id: the next poll or the stream will tell. A malformed
        // answer is said: nothing is decided from it.
        const status = (err as { httpStatus?: number | null }).httpStatus;
        if (typeof status === 'number' && status < 300) {
          this.#options.log.warn(`Countersign: ${(err as Error).message}`);
        }
      }
    }
  }

  /** Stops listening and waits for the loop to end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    await this.#running?.catch(() => undefined);
  }

  #schedulePoll(): void {
    if (this.#closed) return;
    const wait = this.#connected
      ? (this.#options.pollUpMs ?? 60_000)
      : (this.#options.pollDownMs ?? 5_000);
    this.#pollTimer = setTimeout(() => {
      void this.pollNow().finally(() => this.#schedulePoll());
    }, wait);
    this.#pollTimer.unref?.();
  }

  /** Connects, retrying with backoff (1 s doubling to 30 s) while the server cannot be reached. */
  #connect(): Promise<ReadableStream<Uint8Array>> {
    return pRetry(() => this.#options.client.events(this.#abort.signal), {
      ...RECONNECT,
      signal: this.#abort.signal,
      onFailedAttempt: async ({ error }) => {
        this.#lost(error);
        await honourRetryAfter(error, this.#abort.signal);
      },
    });
  }

  /** Says once, until the stream is back, that it was lost. */
  #lost(error: Error): void {
    if (this.#toldLost || this.#closed) return;
    this.#toldLost = true;
    this.#options.log.warn(
      `Countersign: lost the approval server's event stream (${error.message}); polling meanwhile`,
    );
  }

  async #streamLoop(): Promise<void> {
    let reconnecting = false;
    while (!this.#closed) {
      try {
        const stream = await this.#connect();
        this.#connected = true;
        this.#toldLost = false;
        if (reconnecting) this.#options.log.info('Countersign: reconnected to the approval server');
        this.#options.onConnected?.();
        for await (const data of readEvents(stream)) this.#onEvent(data);
      } catch (err) {
        if (this.#closed) break;
        this.#lost(err as Error);
      } finally {
        this.#connected = false;
      }
      reconnecting = true;
      // The stream ended or broke: connect again after a moment (the retries then back off).
      await delay(RECONNECT.minTimeout, undefined, {
        signal: this.#abort.signal,
        ref: false,
      }).catch(() => undefined);
    }
  }

  #onEvent(data: string): void {
    let view: DeploymentEvent;
    try {
      view = parseDeploymentEvent(parseJsonText(data, 'the event', 64));
    } catch (err) {
      // Nothing is decided from an event that does not parse; polling asks again.
      this.#options.log.warn(
        `Countersign: ignored a malformed event from the approval server: ${(err as Error).message}`,
      );
      return;
    }
    this.#options.onDeployment(view);
  }
}
