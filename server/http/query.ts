import type { Request } from 'express';

/**
 * The request's query string as the client sent it, for the route's parser in protocol/wire
 * (express's own `req.query` folds `a[]=` and repeated keys into arrays and objects).
 */
export function searchOf(req: Request): URLSearchParams {
  const at = req.originalUrl.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : req.originalUrl.slice(at + 1));
}
