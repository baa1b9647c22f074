/**
 * The plugin reads the server's event stream (5.7 `GET /instance/events`) with a kept SSE parser:
 * events split anywhere across chunks, CRLF or LF line ends, heartbeats and `retry:` lines, data
 * over several lines; a stream that never ends an event past the size limit is refused.
 */
import { describe, expect, it } from 'vitest';
import { readEvents } from '../../plugin/link/watcher.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const bytes = chunks.map((c) => new TextEncoder().encode(c));
  return new ReadableStream({
    start(controller) {
      for (const b of bytes) controller.enqueue(b);
      controller.close();
    },
  });
}

async function all(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const data of readEvents(stream)) out.push(data);
  return out;
}

describe('reading the event stream', () => {
  it("yields each event's data however the bytes are split, skipping comments and retry lines", async () => {
    const text =
      'retry: 3000\n\n: heartbeat\n\ndata: {"id":"a"}\n\ndata: {"id":\r\ndata: "b"}\r\n\r\n: heartbeat\n\n';
    const whole = await all(streamOf([text]));
    expect(whole).toEqual(['{"id":"a"}', '{"id":\n"b"}']);
    // Every split point, one byte at a time: the same events.
    expect(await all(streamOf([...text]))).toEqual(whole);
  });

  it('does not yield an event the stream never finished', async () => {
    expect(await all(streamOf(['data: {"id":"a"}\n\ndata: {"id":"cut']))).toEqual(['{"id":"a"}']);
  });

  it('refuses an event larger than any deployment report, instead of buffering it', async () => {
    const huge = streamOf(['data: ', 'x'.repeat(9 * 1024 * 1024)]);
    await expect(all(huge)).rejects.toThrow();
  });
});
