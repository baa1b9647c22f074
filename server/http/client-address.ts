/**
 * The client address of a request (DESIGN 5.5: "the client address comes from `X-Forwarded-For`
 * only when the request arrives from a configured trusted proxy"). `trustProxy` is a list of proxy
 * addresses; anything else connecting directly is the client, whatever headers it sends.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** An address as compared here: IPv4-mapped IPv6 (`::ffff:127.0.0.1`) as plain IPv4, lowercase. */
function normalised(address: string): string {
  const trimmed = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(trimmed);
  return mapped ? mapped[1]! : trimmed;
}

/**
 * Checks a `trustProxy` setting: a list of IP addresses (an array, or one comma-separated string as
 * the command line and the environment give it). Throws a plain message naming the bad entry.
 */
export function parseTrustProxy(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list =
    typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (list === undefined) {
    throw new Error('trustProxy must be a list of proxy IP addresses such as ["127.0.0.1"]');
  }
  return list.map((entry: unknown) => {
    const address = typeof entry === 'string' ? normalised(entry) : '';
    if (isIP(address) === 0) {
      throw new Error(
        `trustProxy: ${JSON.stringify(entry)} is not an IP address (give the proxy's address, such as 127.0.0.1)`,
      );
    }
    return address;
  });
}

/**
 * The client's address: the socket peer, unless the peer is a trusted proxy; then the rightmost
 * `X-Forwarded-For` entry that is not itself a trusted proxy (entries to its left were written by
 * the client and prove nothing).
 */
export function clientAddress(req: IncomingMessage, trustProxy: readonly string[]): string {
  const peer = normalised(req.socket.remoteAddress ?? 'unknown');
  if (!trustProxy.includes(peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map(normalised)
    .filter((hop) => hop !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) return peer; // not an address: the proxy's own view is all we know
    if (!trustProxy.includes(hop)) return hop;
  }
  return peer;
}
