/** Hash routes: `#/enroll?code=…`, `#/inbox`, `#/review/<id>`, `#/devices`, `#/history[/<id>]`. */

/** Where the app is. */
export type Route =
  | { name: 'enroll'; code: string }
  | { name: 'inbox' }
  | { name: 'review'; id: string }
  | { name: 'devices' }
  | { name: 'history'; id?: string };

/** The route of a location hash; anything unknown is the inbox. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  const parts = path.split('/').filter((p) => p !== '');
  switch (parts[0]) {
    case 'enroll':
      return { name: 'enroll', code: new URLSearchParams(query).get('code') ?? '' };
    case 'review':
      return parts[1] !== undefined && parts[1] !== ''
        ? { name: 'review', id: decodeURIComponent(parts[1]) }
        : { name: 'inbox' };
    case 'devices':
      return { name: 'devices' };
    case 'history':
      return parts[1] !== undefined && parts[1] !== ''
        ? { name: 'history', id: decodeURIComponent(parts[1]) }
        : { name: 'history' };
    default:
      return { name: 'inbox' };
  }
}

/** The hash of a route. */
export function hrefOf(route: Route): string {
  switch (route.name) {
    case 'enroll':
      return `#/enroll?code=${encodeURIComponent(route.code)}`;
    case 'review':
      return `#/review/${encodeURIComponent(route.id)}`;
    case 'history':
      return route.id === undefined ? '#/history' : `#/history/${encodeURIComponent(route.id)}`;
    default:
      return `#/${route.name}`;
  }
}

/** Goes to a route. */
export function navigate(route: Route): void {
  const href = hrefOf(route);
  if (location.hash !== href) location.hash = href;
}
