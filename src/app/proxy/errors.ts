// ProxyError: the one error class of keel/proxy. Its `code` says what failed and its `status` is
// the status code the proxy answers with when nothing of the response was sent yet.

/** Codes of keel/proxy's errors. */
export type ProxyErrorCode =
  /** The upstream refused or dropped the connection, or sent a broken response: 502. */
  | 'ERR_PROXY_UPSTREAM'
  /** The upstream sent no response head within `timeout` ms: 504. */
  | 'ERR_PROXY_TIMEOUT'
  /** The request body was read by someone else (a body parser) and `req.body` is not set: 500. */
  | 'ERR_PROXY_BODY_CONSUMED';

const STATUS: Record<ProxyErrorCode, number> = {
  ERR_PROXY_UPSTREAM: 502,
  ERR_PROXY_TIMEOUT: 504,
  ERR_PROXY_BODY_CONSUMED: 500,
};

/**
 * An error of the proxy: `code` (stable), `status` (502, 504 or 500), `upstream` (the upstream's
 * origin, e.g. "http://127.0.0.1:3001", when one was chosen) and `cause` (the client's error, e.g.
 * ECONNREFUSED). The message text is not part of the API.
 */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly status: number;
  readonly upstream: string | undefined;

  constructor(code: ProxyErrorCode, message: string, upstream?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ProxyError';
    this.code = code;
    this.status = STATUS[code];
    this.upstream = upstream;
  }
}
