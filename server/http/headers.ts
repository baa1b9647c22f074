import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/** The Content-Security-Policy of every response; the PWA is built to it. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Sets the security headers of every response; HSTS when served over TLS. CORS stays closed: no
 * ACAO header. The one list, used by the express middleware below and by the decision route's
 * direct path (`decision-route.ts`).
 */
export function securityHeaderSetter(options: { hsts: boolean }): (res: ServerResponse) => void {
  // Fixed values, set as they are on every request (no per-request parsing or copying).
  const headers: [string, string][] = [
    ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ['X-Frame-Options', 'DENY'],
    ['Permissions-Policy', 'camera=(self), microphone=(), geolocation=(), payment=(), usb=()'],
    ...(options.hsts
      ? [['Strict-Transport-Security', 'max-age=31536000'] as [string, string]]
      : []),
  ];
  return (res) => {
    for (const [name, value] of headers) res.setHeader(name, value);
  };
}

/** Express middleware setting the security headers of `securityHeaderSetter`. */
export function securityHeaders(options: { hsts: boolean }) {
  const set = securityHeaderSetter(options);
  return (_req: Request, res: Response, next: NextFunction): void => {
    set(res);
    next();
  };
}
