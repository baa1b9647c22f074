/**
 * Where the server may send pushes (DESIGN 5.6): a subscription endpoint is `https:` and its host
 * resolves only to public unicast addresses. It is checked when a device registers it, and again at
 * every send on the address actually connected to (`guardedLookup`), so a device cannot turn the
 * server against its own network, and a name that later resolves elsewhere gains nothing.
 * `COUNTERSIGN_TEST_PUSH_ORIGIN` exempts exactly one origin, for tests with a local receiver.
 */
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ValidationError } from '../../protocol/index.js';

/** The `code` of a send the policy refused (not retried: the answer would not change). */
export const PUSH_REFUSED = 'ERR_PUSH_ADDRESS';

function refusedSend(message: string): Error {
  return Object.assign(new Error(message), { code: PUSH_REFUSED });
}

/** An address a host name resolved to. */
export type ResolvedAddress = { address: string; family: number };

/** Resolves a host name to every address it has (the system resolver by default). */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

/** The push endpoint rules in force. */
export type PushPolicy = {
  /** The one origin exempted for tests, or null. */
  testOrigin: string | null;
  resolve: HostResolver;
};

/** The system's resolver (getaddrinfo, as connections use it). */
export const systemResolver: HostResolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses);
    });
  });

/** Ranges that are not public unicast: unspecified, loopback, private, shared (CGNAT), link-local, multicast, reserved, documentation. */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
}
/** IPv6 global unicast is 2000::/3; within it, these are not ordinary public addresses. */
const GLOBAL_V6 = new BlockList();
GLOBAL_V6.addSubnet('2000::', 3, 'ipv6');
const NOT_PUBLIC_V6 = new BlockList();
for (const [net, bits] of [
  ['2001::', 23], // IETF protocol assignments, Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: carries an IPv4 address of any kind
  ['3fff::', 20], // documentation
] as const) {
  NOT_PUBLIC_V6.addSubnet(net, bits, 'ipv6');
}

/** True for a public unicast address (an IPv4-mapped IPv6 address is judged as its IPv4 address). */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  const candidate = mapped ? mapped[1]! : bare;
  const family = isIP(candidate);
  if (family === 4) return !NOT_PUBLIC.check(candidate, 'ipv4');
  if (family === 6) {
    return GLOBAL_V6.check(candidate, 'ipv6') && !NOT_PUBLIC_V6.check(candidate, 'ipv6');
  }
  return false;
}

/** The exempted test origin from the environment (`COUNTERSIGN_TEST_PUSH_ORIGIN`), normalised. */
export function testOriginOf(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ValidationError(`COUNTERSIGN_TEST_PUSH_ORIGIN is not an origin: ${value}`, {
      code: 'ERR_CONFIG',
    });
  }
  if (url.origin === 'null' || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ValidationError(`COUNTERSIGN_TEST_PUSH_ORIGIN is not an http(s) origin: ${value}`, {
      code: 'ERR_CONFIG',
    });
  }
  return url.origin;
}

function refused(message: string): ValidationError {
  return new ValidationError(`push.endpoint ${message}`);
}

/** The host of a URL as a resolver or an address check takes it (IPv6 without brackets). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Checks a push endpoint as a device registers it: https, and every address its host resolves to
 * public unicast. Throws ERR_BAD_REQUEST with the reason.
 */
export async function checkPushEndpoint(endpoint: string, policy: PushPolicy): Promise<void> {
  const url = new URL(endpoint);
  if (policy.testOrigin !== null && url.origin === policy.testOrigin) return;
  if (url.protocol !== 'https:') throw refused('must be an https URL');
  const host = hostOf(url);
  let addresses: ResolvedAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await policy.resolve(host);
    } catch {
      throw refused(`host ${host} does not resolve`);
    }
  }
  if (addresses.length === 0) throw refused(`host ${host} does not resolve`);
  const inner = addresses.find((a) => !isPublicAddress(a.address));
  if (inner) {
    throw refused(
      `must be on the public internet (${host} is ${inner.address}: loopback, private, link-local, shared, multicast and reserved addresses are refused)`,
    );
  }
}

/**
 * A `lookup` for the push request's socket: resolves with `policy.resolve` and refuses unless every
 * address is public unicast, so the check holds on the address actually connected to.
 */
export function guardedLookup(policy: PushPolicy): LookupFunction {
  return (hostname, options, callback) => {
    policy.resolve(hostname).then(
      (addresses) => {
        const inner = addresses.find((a) => !isPublicAddress(a.address));
        if (addresses.length === 0 || inner) {
          const err = refusedSend(
            `push host ${hostname} resolves to ${inner?.address ?? 'nothing'}, not a public address`,
          );
          callback(err, '', 0);
          return;
        }
        const wanted = (options as { family?: number | string }).family;
        const family =
          wanted === 6 || wanted === 'IPv6' ? 6 : wanted === 4 || wanted === 'IPv4' ? 4 : 0;
        const pick = addresses.filter((a) => family === 0 || a.family === family);
        if ((options as { all?: boolean }).all) {
          (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, pick);
        } else if (pick[0]) {
          callback(null, pick[0].address, pick[0].family);
        } else {
          callback(
            Object.assign(new Error(`push host ${hostname}: no address`), { code: 'ENOTFOUND' }),
            '',
            0,
          );
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/**
 * Refuses to connect to `endpoint` unless it may be sent to: https and (for an address literal,
 * where no lookup runs) a public address. Host names are checked by `guardedLookup` on connect.
 */
export function checkSendTarget(endpoint: string, policy: PushPolicy): URL {
  const url = new URL(endpoint);
  if (policy.testOrigin !== null && url.origin === policy.testOrigin) return url;
  if (url.protocol !== 'https:') throw refusedSend('push endpoint is not https: not sent');
  const host = hostOf(url);
  if (isIP(host) !== 0 && !isPublicAddress(host)) {
    throw refusedSend(`push endpoint ${host} is not a public address: not sent`);
  }
  return url;
}
