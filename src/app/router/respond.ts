// The router's own answers: 404 and 405 (text/plain reason phrases), 204 for an OPTIONS nobody
// routed, and the error path — the status taken from the error, the error reported through
// onError, then the answer sent, or the connection destroyed when a response had already started.

import { STATUS_CODES, type ServerResponse } from '../../keel.js';
import type { ErrorHandler, MethodNotAllowedHandler, NotFoundHandler, RouterRequest } from './types.js';

/** Answer `status` with its reason phrase as a text/plain body. */
export function sendStatus(res: ServerResponse, status: number): void {
  const body = STATUS_CODES[status] ?? String(status);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The default 404 (RFC 9110 §15.5.5). */
export const notFound: NotFoundHandler = (_req, res) => sendStatus(res, 404);

/** The default 405 (RFC 9110 §15.5.6); `Allow` is already set. */
export const methodNotAllowed: MethodNotAllowedHandler = (_req, res) => sendStatus(res, 405);

/** The automatic OPTIONS answer: 204 with `Allow` (RFC 9110 §9.3.7). */
export function sendOptions(res: ServerResponse, allow: string): void {
  res.writeHead(204, { Allow: allow });
  res.end();
}

/**
 * The status an error is answered with: its own `status` or `statusCode` when that is an integer
 * in 400..599 (http-errors' and body parsers' convention), else 500.
 */
export function statusOf(err: unknown): number {
  if (typeof err === 'object' && err !== null) {
    const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
    const value = status ?? statusCode;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599) return value;
  }
  return 500;
}

/** The default reporter: server faults (5xx) go to console.error; client errors (4xx) are not logged. */
export const reportError: ErrorHandler = (err) => {
  if (statusOf(err) >= 500) console.error(err);
};

/**
 * The error path: report `err` through `onError` (awaited when it returns a promise; its own
 * errors go to console.error), then answer it unless a response has started — a started,
 * unfinished response is destroyed instead (its connection cannot carry a complete answer).
 */
export function answerError(err: unknown, req: RouterRequest, res: ServerResponse, onError: ErrorHandler): void {
  let reported: unknown;
  try {
    reported = onError(err, req, res);
  } catch (reportFailure) {
    console.error(reportFailure);
  }
  if (isThenable(reported)) {
    reported.then(
      () => respond(err, res),
      (reportFailure: unknown) => {
        console.error(reportFailure);
        respond(err, res);
      },
    );
  } else {
    respond(err, res);
  }
}

function respond(err: unknown, res: ServerResponse): void {
  if (res.headersSent) {
    if (!res.writableEnded && !res.destroyed) res.destroy();
    return;
  }
  if (res.destroyed || res.writableEnded) return;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const status = statusOf(err);
  // http-errors' `headers` (e.g. WWW-Authenticate on a 401) are kept on client errors only.
  const headers = status < 500 ? (err as { headers?: unknown }).headers : undefined;
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      try {
        res.setHeader(name, value as string);
      } catch {
        // an invalid field is dropped, not turned into a second error
      }
    }
  }
  sendStatus(res, status);
}

/** A promise-like result (an async function's). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
