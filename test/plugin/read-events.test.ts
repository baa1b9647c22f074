/**
 * The plugin reads the server's event stream (5.7 `GET /instance/events`) with a kept SSE parser:
 * events split anywhere across chunks, CRLF or LF line ends, heartbeats and `retry:` lines, data
 * over several lines; a stream that never ends an event past the size limit is refused.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError, formatSse, type SseBlock } from '../../protocol/index.js';
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

describe('writing the event stream (protocol/wire/sse.ts), read back by the plugin', () => {
  it('frames data with colons, several lines and line breaks of every kind, between comments and retry lines', async () => {
    const blocks: SseBlock[] = [
      { retryMs: 3000 },
      { comment: 'heartbeat' },
      { data: '{"url":"http://host:1880/a: b","note":"x:y"}' },
      { data: 'first\nsecond\r\nthird\rfourth' },
      { data: ':not a comment' },
      { data: ' leading space' },
      { data: '' },
      { comment: 'heartbeat' },
      { data: '{"id":"last"}', event: 'deployment', id: '42' },
    ];
    const text = blocks.map(formatSse).join('');
    const expected = [
      '{"url":"http://host:1880/a: b","note":"x:y"}',
      'first\nsecond\nthird\nfourth',
      ':not a comment',
      ' leading space',
      '',
      '{"id":"last"}',
    ];
    expect(await all(streamOf([text]))).toEqual(expected);
    // Split at every byte, as a proxy or a slow link may deliver it: the same events.
    expect(await all(streamOf([...text]))).toEqual(expected);
  });

  it('refuses what would break the framing: line breaks in a name, id or comment, NUL in an id, a bad retry', () => {
    for (const bad of [
      { data: 'x', event: 'a\nb' },
      { data: 'x', id: '1\r2' },
      { data: 'x', id: 'a\0b' },
      { comment: 'one\ndata: forged' },
      { retryMs: -1 },
      { retryMs: 1.5 },
    ] as SseBlock[]) {
      expect(() => formatSse(bad)).toThrow(ValidationError);
    }
  });
});
