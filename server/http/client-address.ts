/**
 * The client address of a request (DESIGN 5.5: "the client address comes from `X-Forwarded-For`
 * only when the request arrives from a configured trusted proxy"). `trustProxy` lists the proxies'
 * addresses (or CIDR ranges); express (proxy-addr) then takes the rightmost `X-Forwarded-For` entry
 * that is not a trusted proxy as `req.ip`. A request from anywhere else is its own client, whatever
 * headers it sends.
 */
import { isIP } from 'node:net';

/** An address, or an address and a prefix length. */
function isAddressOrRange(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  if (extra !== undefined || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
  return n >= 0 && n <= (family === 4 ? 32 : 128);
}

/**
 * Checks a `trustProxy` setting: a list of proxy addresses or CIDR ranges (an array, or one
 * comma-separated string as the command line and the environment give it). The message names the
 * bad entry.
 */
export function parseTrustProxy(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list =
    typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (list === undefined) {
    throw new Error('trustProxy must be a list of proxy addresses such as ["127.0.0.1"]');
  }
  return list.map((entry: unknown) => {
    const text = typeof entry === 'string' ? entry.trim() : '';
    if (!isAddressOrRange(text)) {
      throw new Error(
        `trustProxy: ${JSON.stringify(entry)} is not an IP address or CIDR range (give the proxy's address, such as 127.0.0.1)`,
      );
    }
    return text;
  });
}

/** express's `trust proxy` value for a `trustProxy` setting: nothing is trusted when it is empty. */
export function trustProxySetting(trustProxy: readonly string[]): string[] | false {
  return trustProxy.length > 0 ? [...trustProxy] : false;
}
