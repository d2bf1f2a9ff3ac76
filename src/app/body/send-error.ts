// sendError(): answer a request with an error as JSON, the way the body middleware does. It keeps
// the error's header fields (Connection: close after a body left unread), shows the message only
// when `expose` is true, and never leaves a response half-done: after the head, it destroys it.

import { STATUS_CODES, type ServerResponse } from '../../keel.js';
import { HttpError } from './http-error.js';

/** The HttpError for any thrown value: itself, or a 500 ERR_INTERNAL that hides its message. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  return new HttpError(500, 'ERR_INTERNAL', err instanceof Error ? err.message : String(err), { expose: false, cause: err });
}

/**
 * Answer `res` with `err`: status `err.status`, `err.headers`, and a JSON body
 * `{ "error": { "status", "code", "message" } }` (message: STATUS_CODES[status] unless `expose`).
 * A non-HttpError is a 500 ERR_INTERNAL. Does nothing on a finished response; destroys a response
 * whose head was already sent (the status can no longer change).
 */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const error = toHttpError(err);
  const body = JSON.stringify({
    error: { status: error.status, code: error.code, message: error.expose ? error.message : STATUS_CODES[error.status] ?? 'Error' },
  });
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
