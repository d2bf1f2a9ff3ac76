// The router's error table: every error keel/router throws at registration or hands to the error
// path has a stable `code`, listed here once with its base class and message. Errors caused by the
// request carry the HTTP `status` the router answers them with.

type Base = ErrorConstructor | TypeErrorConstructor;

interface ErrorSpec {
  readonly base: Base;
  /** The response status for request errors; absent for registration errors. */
  readonly status?: number;
  readonly message: (...args: string[]) => string;
}

const ERRORS = {
  ERR_ROUTE_DUPLICATE: { base: Error, message: (method = '', path = '') => `Route already registered: ${method} ${path}` },
  ERR_ROUTE_INVALID_PATH: { base: TypeError, message: (path = '', why = '') => `Invalid route path "${path}": ${why}` },
  ERR_ROUTE_INVALID_METHOD: { base: TypeError, message: (method = '') => `Invalid route method "${method}": must be an HTTP token (RFC 9110 §9.1)` },
  ERR_ROUTE_INVALID_URL: { base: Error, status: 400, message: () => 'Malformed percent-encoding in the request path (RFC 3986 §2.1)' },
} as const satisfies Record<string, ErrorSpec>;

/** A code from the table above. */
export type RouterErrorCode = keyof typeof ERRORS;

/** An error with a stable `code`; request errors also carry `status` (4xx). */
export interface RouterError extends Error {
  code: RouterErrorCode;
  status?: number;
}

/** Create the error for `code`. The message text is not part of the API; the `code` is. */
export function routerError(code: RouterErrorCode, ...args: string[]): RouterError {
  const spec: ErrorSpec = ERRORS[code];
  const err = new spec.base(spec.message(...args)) as RouterError;
  err.code = code;
  if (spec.status !== undefined) err.status = spec.status;
  return err;
}
