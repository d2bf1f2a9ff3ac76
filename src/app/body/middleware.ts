// bodyParser: the parsers as router-style middleware `(req, res, next?)`. A request with content is
// parsed into `req.body`; one without (no Content-Length or Transfer-Encoding) passes untouched, so
// a parser can sit in front of every route. On an error, `Connection: close` is set when needed,
// then `next(err)` when there is a next, else the middleware answers with sendError().

import type { IncomingMessage, ServerResponse } from '../../keel.js';
import { hasBody } from './body-reader.js';
import { HttpError } from './http-error.js';
import { jsonParser, type JsonOptions } from './json.js';
import { multipartParser, type MultipartOptions } from './multipart.js';
import { removeUploads, type MultipartBody } from './multipart-upload.js';
import { rawParser, type RawOptions } from './raw.js';
import type { BodyRequest } from './read-body.js';
import { sendError, toHttpError } from './send-error.js';
import { textParser, type TextOptions } from './text.js';
import { urlencodedParser, type UrlencodedOptions } from './urlencoded.js';

/** The `next` of a router: no argument to go on, an error to hand it to the error handlers. */
export type Next = (err?: unknown) => void;

/**
 * A body middleware. With `next`: calls `next()` once req.body is set (or there is no content)
 * and `next(err)` (an HttpError) on failure, without answering. Without `next`: resolves true when
 * the handler may go on, false when it answered the error itself. Never rejects.
 */
export type BodyMiddleware = (req: IncomingMessage, res: ServerResponse, next?: Next) => Promise<boolean>;

function middleware(parse: (req: IncomingMessage) => Promise<unknown>, onParsed?: (body: unknown, res: ServerResponse) => void): BodyMiddleware {
  return async (req, res, next) => {
    const request = req as BodyRequest;
    if (request.body === undefined && hasBody(req)) {
      let failure: HttpError | null = null;
      try {
        const body = await parse(req);
        request.body = body;
        onParsed?.(body, res);
      } catch (err) {
        failure = toHttpError(err);
        if (failure.headers['connection'] === 'close' && !res.headersSent) res.setHeader('Connection', 'close');
      }
      if (failure !== null) {
        if (next !== undefined) next(failure);
        else sendError(res, failure);
        return false;
      }
    }
    next?.();
    return true;
  };
}

/** Remove a multipart body's temp files once the response is over (moved files are skipped). */
function removeWhenDone(body: unknown, res: ServerResponse): void {
  const files = (body as MultipartBody).files;
  if (!files.some((file) => file.path !== undefined)) return;
  if (res.closed) void removeUploads(files);
  else res.once('close', () => void removeUploads(files));
}

/**
 * Middleware factories; options are checked once, here (TypeError ERR_INVALID_ARG_VALUE):
 * - `json(options)`: req.body = the JSON value (see jsonParser);
 * - `urlencoded(options)`: req.body = FormFields;
 * - `text(options)`: req.body = string;
 * - `raw(options)`: req.body = Buffer;
 * - `multipart(options)`: req.body = { fields, files }; disk files are removed when the response
 *   closes, so a handler that keeps one moves (renames) it before answering.
 */
export const bodyParser = {
  json: (options?: JsonOptions): BodyMiddleware => middleware(jsonParser(options)),
  urlencoded: (options?: UrlencodedOptions): BodyMiddleware => middleware(urlencodedParser(options)),
  text: (options?: TextOptions): BodyMiddleware => middleware(textParser(options)),
  raw: (options?: RawOptions): BodyMiddleware => middleware(rawParser(options)),
  multipart: (options?: MultipartOptions): BodyMiddleware => middleware(multipartParser(options), removeWhenDone),
};
