/**
 * The framing of server-sent events (the plugins' stream, 5.7 `GET /instance/events`), written in
 * one place: the server writes every event, heartbeat and reconnect delay through `formatSse`, and
 * the plugin reads them with a kept parser (eventsource-parser), then checks each event's `data`
 * with `parseDeploymentEvent`. The rules are the HTML standard's "event stream" format.
 */
import { ValidationError } from '../errors.js';

/** One block of an event stream: an event (`data`, with an optional `event` name and `id`), a comment, or a reconnect delay. */
export type SseBlock =
  { data: string; event?: string; id?: string } | { comment: string } | { retryMs: number };

/** A line break of any kind the format knows (CRLF, LF or CR). */
const LINE_BREAK = /\r\n|\r|\n/;

/** A field value that must stay on one line (an event name, an id, a comment). */
function oneLine(value: string, name: string): string {
  if (LINE_BREAK.test(value)) throw new ValidationError(`an event's ${name} must be one line`);
  return value;
}

/**
 * `block` as event-stream text, ending with the blank line that dispatches it. Data over several
 * lines becomes one `data:` line each (the reader joins them with LF); an id holding NUL is refused
 * (the reader would ignore it).
 */
export function formatSse(block: SseBlock): string {
  if ('comment' in block) return `: ${oneLine(block.comment, 'comment')}\n\n`;
  if ('retryMs' in block) {
    if (!Number.isSafeInteger(block.retryMs) || block.retryMs < 0) {
      throw new ValidationError('retry must be a whole number of milliseconds');
    }
    return `retry: ${block.retryMs}\n\n`;
  }
  let text = '';
  if (block.event !== undefined) text += `event: ${oneLine(block.event, 'event name')}\n`;
  if (block.id !== undefined) {
    if (block.id.includes('\0')) throw new ValidationError("an event's id must not hold NUL");
    text += `id: ${oneLine(block.id, 'id')}\n`;
  }
  for (const line of block.data.split(LINE_BREAK)) text += `data: ${line}\n`;
  return `${text}\n`;
}
