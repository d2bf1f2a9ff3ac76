// EventStream: one client's server-sent events response. It writes the head at once, sends events,
// comments and retry hints, sends heartbeat comments, drops a client that falls more than
// `maxBufferedBytes` behind, and tells the handler when the stream ends (a 'close' event and an
// AbortSignal), clearing its timer and listeners. Built on the public response API only.

import { EventEmitter } from 'node:events';
import { keelError, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from '../../keel.js';
import { formatComment, formatEvent, formatRetry, type SseEvent } from './format.js';

/** Default time between heartbeat comments, ms. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Default most bytes a client may fall behind before it is dropped (1 MiB). */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

/** Options of sse() / createEventStream(). */
export interface EventStreamOptions {
  /** Time between heartbeat comments (`: heartbeat`), ms (default 15000); 0 disables them. */
  heartbeat?: number;
  /**
   * Most bytes written but not yet taken by the client (the response's writableLength, see
   * `bufferedBytes`) before the client is dropped, bytes (default 1048576 = 1 MiB). Checked each
   * time a write finds the client behind (res.write() returned false); then the response is
   * destroyed and the stream closes with an ERR_SSE_CLIENT_TOO_SLOW reason. One event larger than
   * the limit drops a client that cannot take it at once: raise the limit for big events.
   */
  maxBufferedBytes?: number;
  /** Send a `retry:` hint (ms) right after the head (default: none; clients then pick ~3 s). */
  retry?: number;
  /**
   * More response headers (CORS, ...). They override the defaults, except Content-Type, which is
   * always `text/event-stream`.
   */
  headers?: OutgoingHttpHeaders;
}

/** An error with the `code` the stream reports its end with. */
export interface EventStreamError extends Error {
  code: string;
}

function tooSlowError(pending: number, limit: number): EventStreamError {
  const err = new Error(`The client fell ${pending} bytes behind (limit ${limit}): dropped`) as EventStreamError;
  err.code = 'ERR_SSE_CLIENT_TOO_SLOW';
  return err;
}

function checkNonNegative(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw keelError('ERR_INVALID_ARG_TYPE', `options.${name}`, 'of type number', typeof value);
  if (!Number.isFinite(value) || value < 0) throw keelError('ERR_OUT_OF_RANGE', `options.${name}`, '>= 0', String(value));
  return value;
}

/**
 * A server-sent events stream on one response (WHATWG HTML §9.2, "Server-sent events").
 *
 * - `send(event)`, `comment(text)`, `retry(ms)`, `write(text)` return res.write()'s answer:
 *   false when the client is behind (wait for `res`'s 'drain' if the producer can) or when the
 *   stream is closed (then nothing is written). Malformed input throws before anything is written
 *   (codes in formatEvent()).
 * - `close()` ends the response; the stream is closed at once.
 * - Event 'close' `(reason: Error | null)`, once, whatever ended the stream: `null` after close()
 *   or the response ending normally; code `ECONNRESET` when the client went away; code
 *   `ERR_SSE_CLIENT_TOO_SLOW` when it was dropped. `signal` aborts at the same moment, with the
 *   same reason (an AbortError DOMException after close()).
 */
export class EventStream extends EventEmitter {
  /** The request: EventSource's GET. */
  readonly req: IncomingMessage;
  /** The response the events are written to. */
  readonly res: ServerResponse;
  /**
   * The `Last-Event-ID` request header: the id of the last event a reconnecting client saw, to
   * resume after it; undefined on a first connection.
   */
  readonly lastEventId: string | undefined;
  /** Most bytes the client may fall behind, bytes. */
  readonly maxBufferedBytes: number;

  readonly #controller = new AbortController();
  #heartbeat: NodeJS.Timeout | null = null;
  #closed = false;
  #reason: Error | null = null;

  constructor(req: IncomingMessage, res: ServerResponse, options: EventStreamOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') throw keelError('ERR_INVALID_ARG_TYPE', 'options', 'of type object', typeof options);
    const heartbeat = checkNonNegative('heartbeat', options.heartbeat, DEFAULT_HEARTBEAT_MS);
    this.maxBufferedBytes = checkNonNegative('maxBufferedBytes', options.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES);
    const retryText = options.retry === undefined ? '' : formatRetry(options.retry);
    if (res.headersSent) throw keelError('ERR_HTTP_HEADERS_SENT', 'write');
    this.req = req;
    this.res = res;
    const lastEventId = req.headers['last-event-id'];
    this.lastEventId = typeof lastEventId === 'string' ? lastEventId : undefined;

    if (!res.hasHeader('cache-control')) res.setHeader('Cache-Control', 'no-cache');
    // HTTP/1.0 has no chunked coding: the body then runs until close, and keep-alive would lie.
    if (!res.hasHeader('connection') && req.httpVersion === '1.1') res.setHeader('Connection', 'keep-alive');
    if (!res.hasHeader('x-accel-buffering')) res.setHeader('X-Accel-Buffering', 'no'); // nginx: do not buffer
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) res.setHeader(name, value);
    res.setHeader('Content-Type', 'text/event-stream');
    res.writeHead(200);
    res.flushHeaders();

    res.on('close', this.#onResponseClose);
    res.on('error', this.#onResponseError);
    if (res.destroyed) {
      // The client was already gone: report it the way a later disconnect is reported.
      process.nextTick(this.#onResponseClose);
      return;
    }
    if (retryText !== '') this.write(retryText);
    if (heartbeat > 0) {
      this.#heartbeat = setInterval(() => this.comment('heartbeat'), heartbeat);
      this.#heartbeat.unref();
    }
  }

  /** Aborted when the stream closes, with the 'close' reason. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once the stream is closed: nothing more is written. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the stream closed (see the 'close' event); null while open or after a normal close. */
  get reason(): Error | null {
    return this.#reason;
  }

  /**
   * Bytes written but not yet taken by the client's connection: the response's writableLength
   * (what waits in the response, plus the chunk its socket has not accepted yet), bytes.
   */
  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  /** Send one event (see formatEvent()); a string is shorthand for `{ data: string }`. */
  send(event: SseEvent | string): boolean {
    return this.write(formatEvent(typeof event === 'string' ? { data: event } : event));
  }

  /** Send a comment (`: text`), which clients ignore (see formatComment()). */
  comment(text?: string): boolean {
    return this.write(formatComment(text));
  }

  /** Send a reconnection-delay hint, ms (`retry: ms`). */
  retry(ms: number): boolean {
    return this.write(formatRetry(ms));
  }

  /**
   * Write already-formatted event-stream text (from formatEvent(), as a Channel does to format
   * once for many clients). Drops the client (ERR_SSE_CLIENT_TOO_SLOW) when this write finds it
   * more than `maxBufferedBytes` behind while the response still waits to drain; the write that
   * fills the buffer only returns false, so a producer that waits for 'drain' keeps its stream.
   */
  write(text: string): boolean {
    const res = this.res;
    if (this.#closed || res.destroyed || res.writableEnded) return false;
    // A producer that waits for 'drain' after a false return is never dropped for the write that
    // filled the buffer, even when the response's highWaterMark is above maxBufferedBytes (64 KiB
    // on Node 22); one that goes on writing while the buffer waits to drain is.
    const isIgnoringBackpressure = res.writableNeedDrain;
    if (res.write(text)) return true;
    const pending = this.bufferedBytes;
    if (pending > this.maxBufferedBytes && isIgnoringBackpressure) {
      this.#reason = tooSlowError(pending, this.maxBufferedBytes);
      res.destroy(); // the connection goes with it; 'close' finishes the stream
    }
    return false;
  }

  /** End the response (bytes already written still reach a client that reads) and close the stream. */
  close(): void {
    if (this.#closed) return;
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end();
    this.#finish(null);
  }

  #onResponseError = (error: Error): void => {
    if (this.#reason === null) this.#reason = error;
  };

  #onResponseClose = (): void => {
    if (this.#closed) return;
    if (this.#reason === null && !this.res.writableFinished) this.#reason = keelError('ECONNRESET', 'The client closed the event stream');
    this.#finish(this.#reason);
  };

  #finish(reason: Error | null): void {
    this.#closed = true;
    this.#reason = reason;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    this.res.removeListener('close', this.#onResponseClose);
    this.res.removeListener('error', this.#onResponseError);
    if (reason === null) this.#controller.abort();
    else this.#controller.abort(reason);
    this.emit('close', reason);
  }
}

/**
 * Start a server-sent events response on `res` and return its EventStream. The head leaves at
 * once: `200`, `Content-Type: text/event-stream`, `Cache-Control: no-cache`,
 * `Connection: keep-alive` (HTTP/1.1 requests), `X-Accel-Buffering: no`, then
 * `options.headers`. Keel keeps a response in flight open however long it lasts: no keep-alive,
 * headers or request timeout applies to it (a `server.timeout` does, unless heartbeats are more
 * frequent).
 *
 * Throws ERR_HTTP_HEADERS_SENT when the head was already sent, ERR_INVALID_ARG_TYPE /
 * ERR_OUT_OF_RANGE for bad options.
 *
 * @example
 * const stream = sse(req, res, { heartbeat: 15_000 });
 * stream.send({ event: 'tick', id: String(n), data: { n } });
 * stream.signal.addEventListener('abort', () => clearInterval(timer));
 */
export function sse(req: IncomingMessage, res: ServerResponse, options?: EventStreamOptions): EventStream {
  return new EventStream(req, res, options);
}

/** The same as sse(). */
export const createEventStream = sse;
