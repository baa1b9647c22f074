import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import express, { type Request, type Response, type NextFunction } from 'express';

const HASHED = /[-.][A-Za-z0-9_-]{8,}\.(?:js|css|woff2?|png|svg|webp|jpg)$/;
const NO_CACHE = new Set(['sw.js', 'index.html', 'registerSW.js', 'manifest.webmanifest']);

/** How long a file of the PWA may be cached: the shell and the service worker never long. */
export function cacheControlOf(path: string): string {
  const name = basename(path);
  if (NO_CACHE.has(name)) return 'no-cache';
  if (path.includes(`${'/'}assets${'/'}`) && HASHED.test(name))
    return 'public, max-age=31536000, immutable';
  return 'no-cache';
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Countersign</title></head>
<body><h1>Countersign</h1><p>The approval server is running, but the phone app is not built.
Run <code>npm run build</code> in the Countersign package, then reload.</p></body></html>
`;

/** Serves the built PWA from `appDir` at `/`; a short page says so when it is not built. */
export function staticApp(appDir: string | null) {
  const serve =
    appDir === null
      ? null
      : express.static(appDir, {
          index: 'index.html',
          dotfiles: 'ignore',
          redirect: false,
          setHeaders: (res, path) => res.setHeader('Cache-Control', cacheControlOf(path)),
        });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const built = appDir !== null && existsSync(join(appDir, 'index.html'));
    if (!built) {
      if (req.path === '/' || req.path === '/index.html') {
        res.status(200).set('Cache-Control', 'no-cache').type('html').send(NOT_BUILT);
        return;
      }
      return next();
    }
    serve!(req, res, next);
  };
}
