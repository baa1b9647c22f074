/**
 * Reaching the approval server from a phone (`npm start`, `countersign serve`): the addresses this
 * machine has on its networks, the public URL to use with a certificate, and, when phones cannot use
 * the public URL, what to do about it. Browsers allow service workers, push and non-extractable keys
 * only on secure origins: `https://`, or `http://localhost` on the machine itself.
 */
import { X509Certificate } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';

/** How phones can use a public URL. */
export type Reach =
  /** `https://`: any phone that trusts the certificate. */
  | 'https'
  /** `http://localhost`: a browser on this machine only. */
  | 'this-machine'
  /** `http://` elsewhere: no browser allows what the app needs. */
  | 'insecure';

const LOOPBACK = /^(localhost|127(\.\d+){3}|\[?::1\]?)$/i;

/** True for a host name or address that means this machine only. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** True for a listen address that means every interface. */
export function isEveryInterface(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** How phones can use `publicUrl`. */
export function reachOf(publicUrl: string): Reach {
  const url = new URL(publicUrl);
  if (url.protocol === 'https:') return 'https';
  return isLoopback(url.hostname) ? 'this-machine' : 'insecure';
}

/** The addresses other machines can reach this one at: IPv4 first, then global IPv6. */
export function networkAddresses(): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4.push(a.address);
      else if (!/^fe80:/i.test(a.address)) v6.push(`[${a.address}]`);
    }
  }
  return [...v4, ...v6];
}

/**
 * The first name a certificate gives another machine (DNS before IP; wildcards and this machine's
 * own names such as localhost skipped), or null.
 */
export function certificateHost(certPem: string): string | null {
  let names: string[];
  try {
    names = (new X509Certificate(certPem).subjectAltName ?? '').split(/,\s*/);
  } catch {
    return null;
  }
  const hosts = [
    ...names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice('DNS:'.length)),
    ...names
      .filter((n) => n.startsWith('IP Address:'))
      .map((n) => n.slice('IP Address:'.length))
      .map((a) => (a.includes(':') ? `[${a}]` : a)),
  ];
  return hosts.find((h) => !h.includes('*') && !isLoopback(h)) ?? null;
}

/**
 * The public URL `npm start` uses when none is given: `http://localhost:<port>` without TLS; with
 * TLS, `https://localhost:<port>` on a loopback listener, else the certificate's host name (or this
 * machine's name when the certificate names none).
 */
export function defaultPublicUrl(options: {
  host: string;
  port: number;
  certPem?: string;
}): string {
  if (options.certPem === undefined) return `http://localhost:${options.port}`;
  const host = isLoopback(options.host)
    ? 'localhost'
    : (certificateHost(options.certPem) ??
      (isEveryInterface(options.host) ? hostname() : options.host));
  return `https://${host}:${options.port}`;
}

/** What to do when phones cannot use the public URL: plain lines for a terminal. */
export function httpsAdvice(port: number): string[] {
  return [
    'A phone cannot use Countersign over plain http: browsers allow service workers, push',
    'notifications and device keys only on https:// sites (and on localhost, which on a phone is',
    'the phone itself). Put HTTPS in front of the approval server, then start again with',
    '--public-url set to the https address phones open. Any one of these works:',
    `  - Tailscale:   tailscale serve --bg ${port}`,
    '                 npm start -- --public-url https://<this machine>.<tailnet>.ts.net',
    `  - Cloudflare:  cloudflared tunnel --url http://127.0.0.1:${port}`,
    '                 npm start -- --public-url https://<the name it prints>.trycloudflare.com',
    `  - Caddy:       caddy reverse-proxy --from approvals.example.com --to 127.0.0.1:${port}`,
    '                 npm start -- --public-url https://approvals.example.com --trust-proxy 127.0.0.1',
    '  - your own certificate (the phone must trust it):',
    '                 npm start -- --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem',
    'Step by step: README, "Reaching your phone".',
  ];
}
