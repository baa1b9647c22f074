import type { ServerResponse } from 'node:http';
import { formatSse, type DeploymentEvent } from '../../protocol/index.js';

/** How long a plugin waits before it reconnects a stream that broke (the reader's `retry:`). */
const RECONNECT_MS = 3000;

/** A deployment event as one block of the stream: its JSON in `data`. */
function eventText(event: DeploymentEvent): string {
  return formatSse({ data: JSON.stringify(event) });
}

type Stream = { res: ServerResponse; heartbeat: ReturnType<typeof setInterval> };

/**
 * Server-sent events for plugins: one stream per connection, grouped by instance. Each event is a
 * deployment's JSON in `data`; a comment every `heartbeatMs` keeps proxies from closing the stream.
 * The framing is protocol/wire/sse.ts's.
 */
export class InstanceEvents {
  readonly #streams = new Map<string, Set<Stream>>();
  readonly #heartbeatMs: number;

  constructor(heartbeatMs: number) {
    this.#heartbeatMs = heartbeatMs;
  }

  /** Starts an event stream on `res` for `instanceId`; `initial` events are sent first. */
  open(instanceId: string, res: ServerResponse, initial: DeploymentEvent[]): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(formatSse({ retryMs: RECONNECT_MS }));
    for (const event of initial) res.write(eventText(event));
    const beat = formatSse({ comment: 'heartbeat' });
    const heartbeat = setInterval(() => res.write(beat), this.#heartbeatMs);
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
  publish(instanceId: string, event: DeploymentEvent): void {
    const line = eventText(event);
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
