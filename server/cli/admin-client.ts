import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_PREFIX, CountersignError } from '../../protocol/index.js';

/** Thrown when no server is running for the data directory. */
export class NoServerError extends Error {}

/** Calls the running server's loopback admin API with `admin.token` (found through `server.json`). */
export async function adminCall<T>(
  dataDir: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  let info: { adminUrl?: string };
  let token: string;
  try {
    info = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as { adminUrl?: string };
    token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  } catch {
    throw new NoServerError(
      `no Countersign server is running for ${dataDir} (start one with: countersign serve --data-dir ${dataDir})`,
    );
  }
  if (typeof info.adminUrl !== 'string' || !info.adminUrl.startsWith('http://127.0.0.1:')) {
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
  const answer = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
  if (!res.ok) {
    const code = answer.code && /^ERR_/.test(answer.code) ? answer.code : 'ERR_INTERNAL';
    throw new CountersignError(
      code as 'ERR_INTERNAL',
      answer.message ?? `the server answered ${res.status}`,
    );
  }
  return answer as T;
}
