import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  API_PREFIX,
  CountersignError,
  parseErrorBody,
  parseJsonText,
} from '../../protocol/index.js';

/** Thrown when no server is running for the data directory. */
export class NoServerError extends Error {}

/** Longest answer the command line reads (a page of 1,000 audit entries fits). */
const MAX_ANSWER_CHARS = 32 * 1024 * 1024;

/**
 * Calls the running server's loopback admin API with `admin.token` (found through `server.json`).
 * The answer goes through `parse`, its protocol/wire parser: an answer that is not JSON or not of
 * its shape is a `CountersignError` saying which request and which field, never a value used as is.
 */
export async function adminCall<T>(
  dataDir: string,
  method: string,
  path: string,
  parse: (input: unknown) => T,
  body?: unknown,
): Promise<T> {
  let info: { adminUrl?: unknown };
  let token: string;
  try {
    info = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as { adminUrl?: unknown };
    token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  } catch {
    throw new NoServerError(
      `no Countersign server is running for ${dataDir} (start one with: countersign serve --data-dir ${dataDir})`,
    );
  }
  if (typeof info?.adminUrl !== 'string' || !info.adminUrl.startsWith('http://127.0.0.1:')) {
    throw new NoServerError(`${join(dataDir, 'server.json')} has no loopback admin address`);
  }
  let res: Response;
  try {
    res = await fetch(`${info.adminUrl}${API_PREFIX}/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new NoServerError(
      `no Countersign server is running for ${dataDir} (nothing answers at ${info.adminUrl})`,
    );
  }
  let answer: unknown;
  let unreadable: Error | null = null;
  try {
    const text = await res.text();
    if (text.length > MAX_ANSWER_CHARS) throw new Error('the answer is too long');
    answer = parseJsonText(text, 'the answer', 1000);
  } catch (err) {
    unreadable = err as Error;
  }
  if (!res.ok) {
    const { code, message } = parseErrorBody(res.status, res.statusText, answer);
    throw new CountersignError(code, message);
  }
  try {
    if (unreadable) throw unreadable;
    return parse(answer);
  } catch (cause) {
    throw new CountersignError(
      'ERR_INTERNAL',
      `the server at ${info.adminUrl} sent a malformed answer to ${method} ${path.split('?')[0]}: ${(cause as Error).message}`.slice(
        0,
        300,
      ),
      { cause },
    );
  }
}
