// HttpError: the one error class keel/body rejects with. It carries the status a server answers
// with, a stable `code`, whether its message may be shown to the client (`expose`), and the header
// fields the answer must carry (`Connection: close` when the rest of the body was left unread).

/** The codes keel/body rejects with, and the status each one answers (RFC 9110 §15.5). */
export const BODY_ERROR_STATUS = {
  /** 413: Content-Length, the streamed count or the decoded count is above `limit`. */
  ERR_BODY_TOO_LARGE: 413,
  /** 413: more urlencoded parameters than `parameterLimit`. */
  ERR_TOO_MANY_PARAMETERS: 413,
  /** 413: a multipart file is larger than `fileSize`. */
  ERR_FILE_TOO_LARGE: 413,
  /** 413: a multipart field value is larger than `fieldSize`. */
  ERR_FIELD_TOO_LARGE: 413,
  /** 413: more multipart files than `files`. */
  ERR_TOO_MANY_FILES: 413,
  /** 413: more multipart fields than `fields`. */
  ERR_TOO_MANY_FIELDS: 413,
  /** 415: the Content-Type is not one the parser accepts. */
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  /** 415: the Content-Type's charset is unknown to TextDecoder (or not allowed). */
  ERR_UNSUPPORTED_CHARSET: 415,
  /** 415: a Content-Encoding other than gzip, x-gzip, deflate, br or identity, or more than one. */
  ERR_UNSUPPORTED_ENCODING: 415,
  /** 400: the body is not JSON (the message gives the position), or not an object/array in strict mode. */
  ERR_INVALID_JSON: 400,
  /** 400: an empty body where JSON was expected (unless `allowEmpty`). */
  ERR_EMPTY_BODY: 400,
  /** 400: a malformed percent-escape or invalid bytes for the charset in a urlencoded body. */
  ERR_INVALID_URLENCODED: 400,
  /** 400: a malformed multipart/form-data body (no boundary, bad part header, unexpected end). */
  ERR_INVALID_MULTIPART: 400,
  /** 400: a JSON key `__proto__` / `constructor.prototype` with `protoAction: 'error'`. */
  ERR_FORBIDDEN_JSON_KEY: 400,
  /** 400: the gzip/deflate/br data is corrupt or truncated. */
  ERR_INVALID_CONTENT_ENCODING: 400,
  /** 400: the client aborted the request before the body was complete (Node's code and message). */
  ECONNRESET: 400,
  /** 500: the body stream was already read (or is being read) by someone else; nothing to parse. */
  ERR_BODY_CONSUMED: 500,
  /** 500: writing an uploaded file to disk failed. */
  ERR_UPLOAD_FAILED: 500,
} as const;

/** A code from the table above. */
export type BodyErrorCode = keyof typeof BODY_ERROR_STATUS;

/** Options of `new HttpError()`. */
export interface HttpErrorOptions {
  /** Header fields the error response must carry (lower-case names), e.g. `{ connection: 'close' }`. */
  headers?: Record<string, string>;
  /** Whether `message` may be sent to the client (default: status < 500). */
  expose?: boolean;
  /** The underlying error (a SyntaxError, a zlib or fs error). */
  cause?: unknown;
}

/**
 * An error with an HTTP status: `status` (also `statusCode`, 400..599), a stable `code`, `expose`
 * (true for 4xx: the message is meant for the client) and `headers` for the answer. keel/body
 * rejects only with HttpError; `sendError(res, err)` answers one.
 */
export class HttpError extends Error {
  /** The status a server answers with (400..599). */
  readonly status: number;
  /** A stable code (BODY_ERROR_STATUS lists keel/body's); the message text is not part of the API. */
  readonly code: string;
  /** True when `message` is safe to send to the client (4xx by default). */
  readonly expose: boolean;
  /** Header fields the answer must carry; `connection: close` when the body was left unread. */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`HttpError status must be 400..599, got ${status}`);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    this.headers = { ...options.headers };
  }

  /** Node's name for `status`. */
  get statusCode(): number {
    return this.status;
  }
}

/** The HttpError for one of keel/body's codes, with that code's status. */
export function bodyError(code: BodyErrorCode, message: string, options?: HttpErrorOptions): HttpError {
  return new HttpError(BODY_ERROR_STATUS[code], code, message, options);
}
