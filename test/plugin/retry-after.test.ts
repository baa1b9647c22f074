/**
 * A 429 says when to come back (`Retry-After`): the plugin's client reads it, and its retries wait
 * that long before trying again instead of being refused again (or giving up, for an outcome).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../protocol/index.js';
import { ApprovalClient, ServerError } from '../../plugin/link/client.js';
import { reportOutcome } from '../../plugin/link/outcome.js';

let server: Server | null = null;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = null;
});

/** A server answering each request with the next of `answers` (the last one repeats); logs arrival times. */
async function serve(
  answers: Array<{ status: number; headers?: Record<string, string>; body: unknown }>,
): Promise<{ url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  server = createServer((req, res) => {
    req.resume();
    const answer = answers[Math.min(arrivals.length, answers.length - 1)]!;
    arrivals.push(Date.now());
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, arrivals };
}

const LIMITED = {
  status: 429,
  headers: { 'retry-after': '2' },
  body: { code: 'ERR_RATE_LIMITED', message: 'slow down' },
};

describe('Retry-After on the plugin side', () => {
  it('reads delay-seconds and HTTP-dates, and nothing else', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(' 7 ', now)).toBe(7);
    expect(parseRetryAfter('Sun, 29 Nov 2026 12:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Sun, 29 Nov 2026 11:00:00 GMT', now)).toBe(0);
    for (const bad of [null, undefined, '', '-5', '1.5', '1e3', 'soon', '99999999999']) {
      expect(parseRetryAfter(bad, now)).toBeUndefined();
    }
  });

  it("keeps a 429's Retry-After on the client's error", async () => {
    const { url } = await serve([LIMITED]);
    const client = new ApprovalClient({ baseUrl: url, token: 't' });
    const err = await client.keys().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ httpStatus: 429, code: 'ERR_RATE_LIMITED', retryAfterS: 2 });
  });

  it('reports an outcome after waiting out a 429 instead of giving it up', async () => {
    const { url, arrivals } = await serve([LIMITED, { status: 200, body: { status: 'applied' } }]);
    const client = new ApprovalClient({ baseUrl: url, token: 't' });
    const warnings: string[] = [];
    const result = await reportOutcome(
      client,
      { warn: (m) => warnings.push(m) },
      'a'.repeat(32),
      'applied',
      'b'.repeat(64),
    );
    expect(result).toBe('taken');
    expect(warnings).toEqual([]);
    expect(arrivals).toHaveLength(2);
    // The second try came no sooner than the server asked (2 s).
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(2000 - 50);
  });
});
