// METHODS: the request methods Keel accepts, the same list as node:http (llhttp's HTTP methods).
// A request with another valid token as its method is answered 501 (RFC 9110 §9.1); junk is 400.

/** Methods Keel's request parser accepts, sorted, as node:http's METHODS. */
export const METHODS: readonly string[] = Object.freeze(["ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "M-SEARCH", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH", "PURGE", "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE"]);

/** Lookup set over METHODS, used by the request-line parser. */
export const METHOD_SET: ReadonlySet<string> = new Set(METHODS);
