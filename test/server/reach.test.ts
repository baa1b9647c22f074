/**
 * Reaching the server from a phone: the client address behind a reverse proxy (DESIGN 5.5:
 * `X-Forwarded-For` counts only from a configured trusted proxy, and then only the hop that proxy
 * added), and which public URLs a phone can use.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustProxy } from '../../server/http/client-address.js';
import { certificateHost, defaultPublicUrl, reachOf } from '../../server/cli/reach.js';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function request(peer: string, forwarded?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientAddress(request('203.0.113.7', '198.51.100.1'), [])).toBe('203.0.113.7');
    expect(clientAddress(request('203.0.113.7', '198.51.100.1'), ['127.0.0.1'])).toBe(
      '203.0.113.7',
    );
  });
  it('takes the hop the trusted proxy added, not what the client wrote before it', () => {
    const trusted = ['127.0.0.1'];
    expect(clientAddress(request('127.0.0.1', '198.51.100.1'), trusted)).toBe('198.51.100.1');
    // The client sent its own X-Forwarded-For: the proxy appended the real address last.
    expect(clientAddress(request('::ffff:127.0.0.1', '10.0.0.1, 198.51.100.1'), trusted)).toBe(
      '198.51.100.1',
    );
    // Two trusted proxies in a row: the first untrusted hop from the right is the client.
    expect(
      clientAddress(request('127.0.0.1', ['1.2.3.4, 198.51.100.9', '10.0.0.5']), [
        '127.0.0.1',
        '10.0.0.5',
      ]),
    ).toBe('198.51.100.9');
  });
  it('falls back to the proxy itself when the header is missing or not an address', () => {
    expect(clientAddress(request('127.0.0.1'), ['127.0.0.1'])).toBe('127.0.0.1');
    expect(clientAddress(request('127.0.0.1', 'evil, <script>'), ['127.0.0.1'])).toBe('127.0.0.1');
  });
});

describe('parseTrustProxy', () => {
  it('takes a list or a comma-separated string of IP addresses', () => {
    expect(parseTrustProxy(['127.0.0.1', '::1'])).toEqual(['127.0.0.1', '::1']);
    expect(parseTrustProxy('127.0.0.1, ::ffff:10.0.0.2')).toEqual(['127.0.0.1', '10.0.0.2']);
    expect(parseTrustProxy(undefined)).toEqual([]);
  });
  it('refuses anything that is not an address', () => {
    expect(() => parseTrustProxy(['localhost'])).toThrow(/not an IP address/);
    expect(() => parseTrustProxy('10.0.0.0/8')).toThrow(/not an IP address/);
    expect(() => parseTrustProxy(true)).toThrow(/list of proxy IP addresses/);
  });
});

describe('reaching a phone', () => {
  const cert = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'tls/cert.pem'), 'utf8');
  it('tells https, this machine only, and plain http elsewhere apart', () => {
    expect(reachOf('https://approvals.example.com')).toBe('https');
    expect(reachOf('http://localhost:1881')).toBe('this-machine');
    expect(reachOf('http://127.0.0.1:1881')).toBe('this-machine');
    expect(reachOf('http://192.168.1.20:1881')).toBe('insecure');
  });
  it('takes the public URL from the certificate when listening beyond this machine', () => {
    // This certificate names only this machine (localhost, 127.0.0.1): the machine's name it is.
    expect(certificateHost(cert)).toBeNull();
    expect(defaultPublicUrl({ host: '0.0.0.0', port: 1881, certPem: cert })).toBe(
      `https://${hostname()}:1881`,
    );
    expect(defaultPublicUrl({ host: '127.0.0.1', port: 1881, certPem: cert })).toBe(
      'https://localhost:1881',
    );
    expect(defaultPublicUrl({ host: '0.0.0.0', port: 1881 })).toBe('http://localhost:1881');
  });
});
