/**
 * The plugin's requests to the approval server (node:http with kept-alive sockets): a socket the
 * server closed just as it was reused is replaced, a server that does not answer in time is named,
 * and an answer past the limit is refused rather than read into memory.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { ApprovalClient, ServerError } from '../../plugin/link/client.js';
import { createAgents, requestWhole, RequestFailure } from '../../plugin/link/http-request.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const get = (signalMs = 10_000) => ({
  method: 'GET',
  headers: {},
  signal: AbortSignal.timeout(signalMs),
});

it('sends a request again on a fresh connection when its kept-alive socket was closed under it', async () => {
  // A server that answers the first request of each connection and closes the connection, without
  // an answer, when a second one comes on it: what a server's keep-alive timeout does in a race.
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let requests = 0;
    socket.on('data', (chunk) => {
      if (!chunk.toString('latin1').includes('\r\n\r\n')) return;
      requests++;
      if (requests > 1) {
        socket.destroy();
        return;
      }
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
    });
  });
  const url = await listen(server);
  const agents = createAgents();
  closers.push(() => agents.http.destroy());
  expect((await requestWhole(url, get(), agents)).text).toBe('ok');
  expect((await requestWhole(url, get(), agents)).text).toBe('ok');
  expect(connections).toBe(2);
});

it('names a server that does not answer in time', async () => {
  const server = http.createServer(() => {
    // never answers
  });
  const url = await listen(server);
  closers.push(() => server.closeAllConnections());
  const client = new ApprovalClient({ baseUrl: url, token: 't', timeoutMs: 300 });
  closers.push(() => client.close());
  const err = await client.keys().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ServerError);
  expect((err as ServerError).code).toBe('ERR_SERVER_UNREACHABLE');
  expect((err as ServerError).message).toBe(`${url} did not answer in time`);
});

it('names a refused connection by its code', async () => {
  const server = net.createServer();
  const url = await listen(server);
  server.close();
  const client = new ApprovalClient({ baseUrl: url, token: 't' });
  closers.push(() => client.close());
  const err = await client.keys().catch((e: unknown) => e);
  expect((err as ServerError).code).toBe('ERR_SERVER_UNREACHABLE');
  expect((err as ServerError).message).toBe(`${url}: ECONNREFUSED`);
});

it('refuses an answer larger than its limit instead of reading it whole', async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('x'.repeat(64 * 1024));
  });
  const url = await listen(server);
  const agents = createAgents();
  closers.push(() => agents.http.destroy());
  const err = await requestWhole(url, { ...get(), maxBytes: 16 * 1024 }, agents).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RequestFailure);
  expect((err as Error).message).toMatch(/larger than 16384 bytes/);
  // Within the limit, the same answer is read whole.
  expect((await requestWhole(url, { ...get(), maxBytes: 64 * 1024 }, agents)).text).toHaveLength(
    64 * 1024,
  );
});
