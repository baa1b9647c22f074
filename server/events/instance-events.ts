import type { ServerResponse } from 'node:http';

type Stream = { res: ServerResponse; heartbeat: ReturnType<typeof setInterval> };

/**
 * Server-sent events for plugins: one stream per connection, grouped by instance. Each event is a
 * `data:` line of JSON; a comment line every `heartbeatMs` keeps proxies from closing the stream.
 */
export class InstanceEvents {
  readonly #streams = new Map<string, Set<Stream>>();
  readonly #heartbeatMs: number;

  constructor(heartbeatMs: number) {
    this.#heartbeatMs = heartbeatMs;
  }

  /** Starts an event stream on `res` for `instanceId`; `initial` events are sent first. */
  open(instanceId: string, res: ServerResponse, initial: unknown[]): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    for (const event of initial) res.write(`data: ${JSON.stringify(event)}\n\n`);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.#heartbeatMs);
    heartbeat.unref?.();
    const stream: Stream = { res, heartbeat };
    let set = this.#streams.get(instanceId);
    if (!set) this.#streams.set(instanceId, (set = new Set()));
    set.add(stream);
    res.on('close', () => {
      clearInterval(heartbeat);
      set.delete(stream);
    });
  }

  /** Sends `event` to every stream of `instanceId`. */
  publish(instanceId: string, event: unknown): void {
    const line = `data: ${JSON.stringify(event)}\n\n`;
    for (const stream of this.#streams.get(instanceId) ?? []) stream.res.write(line);
  }

  /** Number of open streams (status). */
  get size(): number {
    let n = 0;
    for (const set of this.#streams.values()) n += set.size;
    return n;
  }

  /** Ends every stream. */
  closeAll(): void {
    for (const set of this.#streams.values()) {
      for (const stream of set) {
        clearInterval(stream.heartbeat);
        stream.res.end();
      }
      set.clear();
    }
  }
}
