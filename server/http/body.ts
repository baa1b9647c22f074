/** Request bodies: JSON only, size-limited, parsed without prototype keys or deep nesting. */
import type { Request } from 'express';
import { CountersignError } from '../../protocol/index.js';

const MAX_DEPTH = 32;

/** Reads the raw body up to `limit` bytes; 413 past it, with `tooLarge` as the message when given. */
export function readRaw(req: Request, limit: number, tooLarge?: string): Promise<Buffer> {
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

/** True when the request says its body is JSON. */
export function isJsonType(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json';
}

/** Walks a parsed value iteratively: no `__proto__` key anywhere, nesting at most 32 deep. */
function checkShape(value: unknown): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_DEPTH)
      throw new CountersignError('ERR_BAD_REQUEST', 'the body is nested too deeply');
    if (Array.isArray(v)) {
      for (const item of v) stack.push([item, depth + 1]);
    } else {
      for (const key of Object.keys(v)) {
        if (key === '__proto__')
          throw new CountersignError('ERR_BAD_REQUEST', 'the body has a __proto__ key');
        stack.push([(v as Record<string, unknown>)[key], depth + 1]);
      }
    }
  }
}

/** Parses JSON text as a body: ERR_BAD_REQUEST when it is not JSON or is hostile. */
export function parseJsonText(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CountersignError('ERR_BAD_REQUEST', 'the body is not JSON');
  }
  checkShape(value);
  return value;
}

/**
 * The JSON body of `req`: 400 `ERR_BAD_REQUEST` when it is not `application/json` (5.7: "not JSON";
 * refusing other types also keeps cross-site form posts out), 413 past `limit`, 400 when not JSON.
 */
export async function readJson(req: Request, limit: number): Promise<unknown> {
  if (!isJsonType(req)) {
    req.resume();
    throw new CountersignError('ERR_BAD_REQUEST', 'the body must be application/json');
  }
  const raw = await readRaw(req, limit);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new CountersignError('ERR_BAD_REQUEST', 'the body is not UTF-8');
  }
  return parseJsonText(text);
}
