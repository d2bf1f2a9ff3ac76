// The defaults table: every limit and timeout Keel applies, with its unit and where the value comes
// from. The README's "Limits and defaults" table is this table; change one, change both.

/** Largest header section (request-line + field lines + CRLFs) accepted, in bytes: 431 above it (Node: http.maxHeaderSize). */
export const MAX_HEADER_SIZE_BYTES = 16 * 1024;
/** Largest request-target accepted, in bytes: 414 above it (RFC 9112 §3; Keel's own limit, inside the header section). */
export const MAX_REQUEST_TARGET_BYTES = 8 * 1024;
/** Most field lines in one header section: 431 above it (Node: server.maxHeadersCount = 2000, which drops instead). */
export const MAX_HEADERS_COUNT = 2000;
/** Largest chunk extension on one chunk line, in bytes: 413 above it (Node: 16 KiB, CVE-2024-22019). */
export const MAX_CHUNK_EXTENSIONS_BYTES = 16 * 1024;
/** Time allowed to receive a complete header section, in ms: 408 after it (Node: server.headersTimeout). */
export const HEADERS_TIMEOUT_MS = 60_000;
/** Time allowed to receive a whole request, head and body, in ms: 408 after it (Node: server.requestTimeout). */
export const REQUEST_TIMEOUT_MS = 300_000;
/**
 * Idle time allowed between requests on a keep-alive connection, in ms, advertised in
 * `Keep-Alive: timeout=65` (Node 26's default: longer than common load balancers' 60 s idle).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Socket inactivity timeout, in ms; 0 = none (Node: server.timeout). */
export const SOCKET_TIMEOUT_MS = 0;
/** Requests served on one connection before it is closed; 0 = unlimited (Node: server.maxRequestsPerSocket). */
export const MAX_REQUESTS_PER_SOCKET = 0;
/** Pipelined requests dispatched ahead of their responses on one connection before reading pauses. */
export const MAX_PIPELINE_DEPTH = 64;