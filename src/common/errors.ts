// The error table: every error Keel throws or emits has a stable `code`, listed here once with its
// base class, its message and, for protocol errors, the status code a server answers it with.
// Codes mirror Node's where Node has one (ERR_* from lib/internal/errors.js, HPE_* from llhttp).

type Base = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

interface ErrorSpec {
  readonly base: Base;
  readonly message: (...args: string[]) => string;
}

/** Node-compatible (ERR_*) and socket (E*) errors: code → base class and message. */
const ERRORS = {
  ERR_HTTP_HEADERS_SENT: { base: Error, message: (action = 'set') => `Cannot ${action} headers after they are sent to the client` },
  ERR_STREAM_WRITE_AFTER_END: { base: Error, message: () => 'write after end' },
  ERR_STREAM_DESTROYED: { base: Error, message: (method = 'write') => `Cannot call ${method} after a stream was destroyed` },
  ERR_INVALID_ARG_TYPE: { base: TypeError, message: (name = 'argument', expected = 'a valid type', actual = '') => `The "${name}" argument must be ${expected}.${actual ? ` Received ${actual}` : ''}` },
  ERR_INVALID_ARG_VALUE: { base: TypeError, message: (name = 'argument', value = '') => `The argument '${name}' is invalid. Received ${value}` },
  ERR_OUT_OF_RANGE: { base: RangeError, message: (name = 'value', range = '', value = '') => `The value of "${name}" is out of range. It must be ${range}. Received ${value}` },
  ERR_INVALID_HTTP_TOKEN: { base: TypeError, message: (what = 'Header name', name = '') => `${what} must be a valid HTTP token ["${name}"]` },
  ERR_INVALID_CHAR: { base: TypeError, message: (name = 'header content', field = '') => `Invalid character in ${name}${field ? ` ["${field}"]` : ''}` },
  ERR_HTTP_INVALID_HEADER_VALUE: { base: TypeError, message: (value = 'undefined', name = '') => `Invalid value "${value}" for header "${name}"` },
  ERR_HTTP_INVALID_STATUS_CODE: { base: RangeError, message: (code = '') => `Invalid status code: ${code}` },
  ERR_HTTP_TRAILER_INVALID: { base: Error, message: () => 'Trailers are invalid with this transfer encoding' },
  ERR_HTTP_CONTENT_LENGTH_MISMATCH: { base: Error, message: (actual = '', expected = '') => `Response body's content-length of ${actual} byte(s) does not match the content-length of ${expected} byte(s) set in header` },
  ERR_HTTP_BODY_NOT_ALLOWED: { base: Error, message: () => 'Adding content for this request method or response status is not allowed.' },
  ERR_HTTP_REQUEST_TIMEOUT: { base: Error, message: (phase = 'request') => `Request timeout (${phase})` },
  ERR_SERVER_NOT_RUNNING: { base: Error, message: () => 'Server is not running.' },
  ERR_SERVER_CLOSED: { base: Error, message: () => 'The server closed the connection (shutdown)' },
  ERR_SERVER_ALREADY_LISTEN: { base: Error, message: () => 'Listen method has been called more than once without closing.' },
  ECONNRESET: { base: Error, message: (what = 'aborted') => what },
  ABORT_ERR: { base: Error, message: () => 'The operation was aborted' },
  ERR_INVALID_PROTOCOL: { base: TypeError, message: (protocol = '', expected = 'http:') => `Protocol "${protocol}" not supported. Expected "${expected}"` },
  ERR_INVALID_URL: { base: TypeError, message: (input = '') => `Invalid URL: ${input}` },
  ERR_UNESCAPED_CHARACTERS: { base: TypeError, message: (what = 'Request path') => `${what} contains unescaped characters` },
  ERR_CLIENT_CONNECT_TIMEOUT: { base: Error, message: (ms = '') => `Connect timeout: no connection within ${ms} ms` },
  ERR_CLIENT_HEADERS_TIMEOUT: { base: Error, message: (ms = '') => `Headers timeout: no response head within ${ms} ms of the request` },
  ERR_CLIENT_BODY_TIMEOUT: { base: Error, message: (ms = '') => `Body timeout: no response body bytes for ${ms} ms` },
  ERR_CLIENT_DESTROYED: { base: Error, message: (what = 'The pool') => `${what} was destroyed` },
  ERR_CLIENT_CLOSED: { base: Error, message: (what = 'The pool') => `${what} is closed` },
  ERR_CLIENT_MAX_REDIRECTIONS: { base: Error, message: (n = '') => `More than ${n} redirections` },
  ERR_CLIENT_SOCKET_CLOSED: { base: Error, message: () => 'The server closed the connection before the response was complete' },
} as const satisfies Record<string, ErrorSpec>;

/** A code from the table above. */
export type KeelErrorCode = keyof typeof ERRORS;

/** An error with a stable `code`, created by `keelError(code, ...args)`. */
export interface KeelError extends Error {
  code: KeelErrorCode;
}

/**
 * Create the error for `code` with the table's base class and message. The message text is not part
 * of the API; the `code` is.
 */
export function keelError(code: KeelErrorCode, ...args: string[]): KeelError {
  const spec: ErrorSpec = ERRORS[code];
  const err = new spec.base(spec.message(...args)) as KeelError;
  err.code = code;
  return err;
}

/** Protocol (parse) error codes: llhttp's HPE_* names, plus Keel's own where llhttp has none. */
const PARSE_ERRORS = {
  HPE_INVALID_METHOD: 400,
  HPE_INVALID_URL: 400,
  HPE_URI_TOO_LONG: 414,
  HPE_INVALID_CONSTANT: 400,
  HPE_INVALID_VERSION: 400,
  HPE_UNEXPECTED_SPACE: 400,
  HPE_INVALID_HEADER_TOKEN: 400,
  HPE_LF_EXPECTED: 400,
  HPE_CR_EXPECTED: 400,
  HPE_STRICT: 400,
  HPE_INVALID_HOST: 400,
  HPE_UNEXPECTED_CONTENT_LENGTH: 400,
  HPE_INVALID_CONTENT_LENGTH: 400,
  HPE_INVALID_TRANSFER_ENCODING: 400,
  HPE_INVALID_CHUNK_SIZE: 400,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  HPE_HEADER_OVERFLOW: 431,
  HPE_INVALID_EOF_STATE: 400,
  HPE_INVALID_STATUS: 502,
} as const;

/** A parse error code (HPE_*). */
export type ParseErrorCode = keyof typeof PARSE_ERRORS;

/**
 * The only error `src/http1/` throws: the peer broke HTTP/1.1 syntax or framing.
 * - `code`: stable HPE_* code (llhttp's names, which Node surfaces as `err.code`);
 * - `reason`: the rule broken, in words (message text is not part of the API);
 * - `offset` / `bytesParsed`: byte offset in the connection's stream where the error was found;
 * - `status`: the status code a server answers with (400, 413, 414, 431, 501 or 505).
 * After a ParseError the connection can no longer be trusted: answer `status`, then close.
 */
export class ParseError extends Error {
  readonly code: ParseErrorCode;
  readonly reason: string;
  readonly offset: number;
  readonly status: number;
  /** Node's name for `offset` on HPE_* errors. */
  get bytesParsed(): number {
    return this.offset;
  }
  /** Set by the server: the bytes of the connection that failed to parse (as Node's `err.rawPacket`). */
  rawPacket?: Buffer;

  constructor(code: ParseErrorCode, reason: string, offset: number, status: number = PARSE_ERRORS[code]) {
    super(`Parse Error: ${reason}`);
    this.name = 'ParseError';
    this.code = code;
    this.reason = reason;
    this.offset = offset;
    this.status = status;
  }
}

/** Every parse error code with its default status, for docs and tests. */
export const PARSE_ERROR_STATUS: Readonly<Record<ParseErrorCode, number>> = PARSE_ERRORS;
