/** Request bodies: JSON only, size-limited, parsed by protocol's `parseJsonText` (no prototype keys, no deep nesting). */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { CountersignError, parseJsonText } from '../../protocol/index.js';

/** Reads the raw body up to `limit` bytes; 413 past it, with `tooLarge` as the message when given. */
export function readRaw(req: IncomingMessage, limit: number, tooLarge?: string): Promise<Buffer> {
  const message = tooLarge ?? `the body is larger than ${limit} bytes`;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new CountersignError('ERR_BODY_TOO_LARGE', message));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.resume();
        reject(new CountersignError('ERR_BODY_TOO_LARGE', message));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('close', () => {
      // The client went away before the body ended: nothing to answer, but settle the handler.
      if (done) return;
      done = true;
      reject(new CountersignError('ERR_BAD_REQUEST', 'the body ended early'));
    });
    req.on('error', (err) => {
      if (!done)
        reject(
          new CountersignError('ERR_BAD_REQUEST', 'the body could not be read', { cause: err }),
        );
    });
  });
}

/**
 * The text of UTF-8 bytes, or null when they are not UTF-8. As `TextDecoder` with `fatal` decodes
 * it (a leading byte order mark dropped), on Node's native check and decoder.
 */
export function utf8Text(raw: Buffer): string | null {
  if (!isUtf8(raw)) return null;
  const text = raw.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** True when the request says its body is JSON. */
export function isJsonType(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json';
}

/**
 * The JSON body of `req`: 400 `ERR_BAD_REQUEST` when it is not `application/json` (5.7: "not JSON";
 * refusing other types also keeps cross-site form posts out), 413 past `limit`, 400 when not JSON.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!isJsonType(req)) {
    req.resume();
    throw new CountersignError('ERR_BAD_REQUEST', 'the body must be application/json');
  }
  const raw = await readRaw(req, limit);
  const text = utf8Text(raw);
  if (text === null) throw new CountersignError('ERR_BAD_REQUEST', 'the body is not UTF-8');
  return parseJsonText(text);
}
