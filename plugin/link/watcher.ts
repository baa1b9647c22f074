/**
 * Listens for decisions on held deployments: the server's event stream (`GET /instance/events`),
 * reconnecting with backoff, and polling `GET /deployments/:id` for each held deployment as a
 * fallback (often while the stream is down, now and then while it is up).
 */
import { parseDeploymentEvent, parseJsonText, type DeploymentEvent } from '../../protocol/index.js';
import type { ApprovalClient } from './client.js';

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

/** Reads server-sent events: returns each complete event's `data` (joined lines). */
export async function* readEvents(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let buffer = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer[newline] === '\r' ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
        // Comments (heartbeats), `event:`, `id:` and `retry:` lines carry nothing the gate needs.
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** The stream-and-poll loop; `close()` ends it. */
export class Watcher {
  readonly #options: WatcherOptions;
  readonly #abort = new AbortController();
  #connected = false;
  #pollTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
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
    const delay = this.#connected
      ? (this.#options.pollUpMs ?? 60_000)
      : (this.#options.pollDownMs ?? 5_000);
    this.#pollTimer = setTimeout(() => {
      void this.pollNow().finally(() => this.#schedulePoll());
    }, delay);
    this.#pollTimer.unref?.();
  }

  async #streamLoop(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      try {
        const stream = await this.#options.client.events(this.#abort.signal);
        this.#connected = true;
        if (failures > 0) this.#options.log.info('Countersign: reconnected to the approval server');
        failures = 0;
        this.#options.onConnected?.();
        for await (const data of readEvents(stream)) {
          let view: DeploymentEvent;
          try {
            view = parseDeploymentEvent(parseJsonText(data, 'the event', 64));
          } catch (err) {
            // Nothing is decided from an event that does not parse; polling asks again.
            this.#options.log.warn(
              `Countersign: ignored a malformed event from the approval server: ${(err as Error).message}`,
            );
            continue;
          }
          this.#options.onDeployment(view);
        }
      } catch (err) {
        if (this.#closed) break;
        if (failures === 0) {
          this.#options.log.warn(
            `Countersign: lost the approval server's event stream (${(err as Error).message}); polling meanwhile`,
          );
        }
      } finally {
        this.#connected = false;
      }
      if (this.#closed) break;
      failures += 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        timer.unref?.();
        this.#abort.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
