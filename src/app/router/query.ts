// req.query: the request's query string as URLSearchParams. On Keel's IncomingMessage (and its
// subclasses) it is a getter defined once on the prototype, parsing on first read; a request from
// another server (node:http's) gets an own property, parsed when the router first sees it — the
// router never changes a prototype it does not own.

import { IncomingMessage } from '../../keel.js';

/** The query of `url` (after "?", up to a "#"). */
function parseQuery(url: string | undefined): URLSearchParams {
  const start = url === undefined ? -1 : url.indexOf('?');
  if (start === -1) return new URLSearchParams();
  const end = (url as string).indexOf('#', start);
  return new URLSearchParams(end === -1 ? (url as string).slice(start + 1) : (url as string).slice(start + 1, end));
}

/** Replace the getter by an own, writable property holding `value`. */
function setQuery(this: object, value: unknown): void {
  Object.defineProperty(this, 'query', { value, writable: true, enumerable: true, configurable: true });
}

function getQuery(this: { url?: string }): URLSearchParams {
  const query = parseQuery(this.url);
  setQuery.call(this, query);
  return query;
}

if (!('query' in IncomingMessage.prototype)) {
  Object.defineProperty(IncomingMessage.prototype, 'query', { get: getQuery, set: setQuery, enumerable: false, configurable: true });
}

/** Make `req.query` readable on `req`: a no-op for Keel's requests and requests that have one. */
export function ensureQuery(req: object): void {
  if (!('query' in req)) setQuery.call(req, parseQuery((req as { url?: string }).url));
}
