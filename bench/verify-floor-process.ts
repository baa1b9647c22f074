/**
 * The floor of `approval-verify-http-per-s`: the least a decision endpoint on node:http can do, in
 * a process of its own (one core, measured from /proc like the server). It reads the body (size
 * limited), parses it as JSON, decodes the DPoP proof and the approval JWS (header and payload JSON)
 * and checks both ES256 signatures on node:crypto with the device's key imported once, then answers
 * JSON. Nothing else: no store, no claims, no replay check, no decision map. Whatever a real server
 * adds to 5.3 and 5.4 costs on top of this.
 */
import { fork } from 'node:child_process';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { DeviceJwk } from '../protocol/index.js';

/** The floor server, running. */
export type FloorServer = {
  url: string;
  /** The process's CPU seconds so far (user and system, all threads). */
  cpuSeconds(): number;
  close(): Promise<void>;
};

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`: 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU seconds (user and system, all threads) of process `pid` so far: fields 14 and 15 of
 * /proc/<pid>/stat, after the command name in parentheses.
 */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Starts the floor server for one device's key. */
export async function startVerifyFloor(jwk: DeviceJwk): Promise<FloorServer> {
  const child = fork(fileURLToPath(import.meta.url), ['--floor', JSON.stringify(jwk)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the floor server exited ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const MAX_BODY = 256 * 1024;

/** True when compact JWS `token` decodes to JSON objects and its ES256 signature verifies. */
function verifies(token: unknown, key: KeyObject): boolean {
  if (typeof token !== 'string') return false;
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  if (first < 1 || last === first) return false;
  try {
    JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString('utf8'));
    JSON.parse(Buffer.from(token.slice(first + 1, last), 'base64url').toString('utf8'));
    return verify(
      'sha256',
      Buffer.from(token.slice(0, last), 'latin1'),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(token.slice(last + 1), 'base64url'),
    );
  } catch {
    return false;
  }
}

function answer(res: ServerResponse, status: number, code: string): void {
  const body = JSON.stringify({ code, message: code });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

if (process.argv[2] === '--floor' && process.send) {
  const key = createPublicKey({ key: JSON.parse(process.argv[3]!) as DeviceJwk, format: 'jwk' });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return answer(res, 413, 'ERR_TOO_LARGE');
      let body: { jws?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { jws?: unknown };
      } catch {
        return answer(res, 400, 'ERR_JSON');
      }
      if (!verifies(req.headers.dpop, key) || !verifies(body.jws, key)) {
        return answer(res, 401, 'ERR_SIGNATURE');
      }
      answer(res, 409, 'ERR_APPROVAL_DUPLICATE');
    });
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => {
    process.send!({ port: (server.address() as AddressInfo).port });
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
