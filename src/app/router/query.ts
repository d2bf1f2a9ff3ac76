// req.query: the request's query string as URLSearchParams, parsed on first read. The getter is
// defined once on the prototype of each request class the router meets (Keel's IncomingMessage or
// a subclass, node:http's), never per request; a request with its own `query` keeps it.

/** The query getter: parse url's query (up to a "#"), then keep the result as an own property. */
function getQuery(this: { url?: string }): URLSearchParams {
  const url = this.url ?? '';
  const start = url.indexOf('?');
  let query = new URLSearchParams();
  if (start !== -1) {
    const end = url.indexOf('#', start);
    query = new URLSearchParams(end === -1 ? url.slice(start + 1) : url.slice(start + 1, end));
  }
  setQuery.call(this, query);
  return query;
}

function setQuery(this: object, value: unknown): void {
  Object.defineProperty(this, 'query', { value, writable: true, enumerable: true, configurable: true });
}

/** Make `req.query` readable on `req` (a no-op when it already is, the usual case). */
export function ensureQuery(req: object): void {
  if ('query' in req) return;
  // A plain object's prototype is Object.prototype: the getter goes on the object itself then.
  const proto: object | null = Object.getPrototypeOf(req);
  const owner = proto === null || proto === Object.prototype ? req : proto;
  Object.defineProperty(owner, 'query', { get: getQuery, set: setQuery, enumerable: false, configurable: true });
}
