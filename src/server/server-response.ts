// ServerResponse: the response to one request, a Writable shaped like node:http's. It chooses the
// framing (Content-Length, chunked, or until close), renders the head once, and hands bytes to its
// connection, which writes them in request order. res.end(body) before anything else was written
// is the fast path: head and body leave in one socket write.

import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { keelError } from '../common/errors.js';
import { STATUS_CODES } from '../common/status-codes.js';
import { validateHeaderName, validateHeaderValue } from '../message/headers.js';
import type { IncomingMessage } from '../message/incoming-message.js';
import { OutgoingMessage, endArguments, type OutgoingHttpHeader, type OutgoingHttpHeaders } from '../message/outgoing-message.js';
import { ConnectionOption, connectionOptions } from '../http1/framing.js';
import { httpDateLine } from './date-cache.js';
import type { RequestMarks } from './diagnostics.js';

type WriteCallback = (error?: Error | null) => void;
type Chunk = string | Buffer | Uint8Array;

/** What a response needs from its connection. */
export interface ResponseSink {
  /** Write `data` for `res` in request order; `callback` runs when the caller may write again. */
  write(res: ServerResponse, data: string | Buffer, encoding: BufferEncoding, callback: WriteCallback | null): void;
  /** Batch the writes of one response into one socket write. */
  cork(): void;
  uncork(): void;
  /** The response's last byte has been handed over. */
  responseDone(res: ServerResponse): void;
  /** The response was destroyed before it was complete: the connection cannot be reused. */
  abortResponse(res: ServerResponse, error: Error | null): void;
  /**
   * The field lines of a persistent response: `Connection: keep-alive` and, unless the idle timeout
   * is disabled (as Node: no Keep-Alive field then), `Keep-Alive: timeout=<seconds>`; CRLFs included.
   */
  readonly keepAliveFields: string;
  /** False once the server is closing (server.close()): the response then ends the connection. */
  readonly isAcceptingRequests: boolean;
  /** The server's `serverTiming` option: heads rendered here carry `Server-Timing: total;dur=<ms>`. */
  readonly serverTiming: boolean;
}

const CRLF = '\r\n';

/** The Writable options of a response without a highWaterMark option (shared: Writable never changes them). */
const STREAM_OPTIONS = Object.freeze({ decodeStrings: false });

// `errored`: the error given to destroy() (Node's OutgoingMessage.errored), else Writable's.
const writableErrored = Object.getOwnPropertyDescriptor(Writable.prototype, 'errored')!.get!;

/** `HTTP/1.1 <status> <reason>\r\n` for every status code with a default reason phrase, by code. */
const STATUS_LINES: string[] = new Array<string>(1000).fill('');
for (const code of Object.keys(STATUS_CODES)) STATUS_LINES[Number(code)] = `HTTP/1.1 ${code} ${STATUS_CODES[Number(code)]}\r\n`;

/** True when the last transfer coding of a Transfer-Encoding value the handler set is chunked. */
function isChunkedLast(value: string): boolean {
  const last = value.slice(value.lastIndexOf(',') + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  return last.toLowerCase() === 'chunked';
}
const LAST_CHUNK = '0\r\n';

/**
 * The server's response to `req` (node:http's ServerResponse): `statusCode`, `statusMessage`,
 * header methods, `writeHead`, `write`, `end`, `flushHeaders`, `addTrailers`, `writeContinue`,
 * `writeProcessing`, `writeEarlyHints`, `headersSent`, `writableEnded`, `writableFinished`, `req`.
 *
 * Framing (RFC 9112 §6.3), as node:http chooses it: none for HEAD, 1xx, 204 and 304; the
 * Content-Length the handler set; else Content-Length when the whole body is given to end() before
 * anything was written — even after writeHead(), where Node would pick chunked (a deliberate
 * difference: same bytes, no chunk framing); else chunked for HTTP/1.1 requests; else the body runs
 * until the connection closes (HTTP/1.0).
 *
 * Errors thrown: ERR_HTTP_HEADERS_SENT (writeHead/setHeader after the head is committed),
 * ERR_HTTP_INVALID_STATUS_CODE, ERR_INVALID_CHAR, ERR_INVALID_HTTP_TOKEN,
 * ERR_HTTP_INVALID_HEADER_VALUE, ERR_INVALID_ARG_TYPE; write after end gives
 * ERR_STREAM_WRITE_AFTER_END (as Node: emitted as 'error' and passed to the callback).
 */
export class ServerResponse extends OutgoingMessage {
  /** Status code sent with the head (default 200). */
  statusCode = 200;
  /** Reason phrase; defaults to the STATUS_CODES entry for statusCode. */
  statusMessage: string | undefined = undefined;
  /** The request this answers. */
  readonly req: IncomingMessage;
  /** Whether the connection may persist after this response (decided when the head is written). */
  shouldKeepAlive: boolean;
  /** Whether chunked framing may be used (the request is HTTP/1.1). */
  useChunkedEncodingByDefault: boolean;
  /** True when the body is being sent with the chunked transfer coding. */
  chunkedEncoding = false;
  /** Node's option: throw when the body length differs from Content-Length. Default false. */
  strictContentLength = false;
  /** @internal Set by the connection for `Expect: 100-continue` requests. */
  _expectContinue = false;
  /** @internal Whether this response may carry a body (false for HEAD, 1xx, 204, 304). */
  _hasBody: boolean;
  /** @internal performance.now() marks, set by the connection only when diagnostics or Server-Timing need them. */
  _marks: RequestMarks | null = null;

  #sink: ResponseSink;
  #socket: Socket | null;
  #headWritten = false;
  #outputDone = false;
  #continueSent = false;
  #declaredLength = -1;
  #bodyBytes = 0;
  #trailers = '';
  /** @internal The error destroy() was given while the response was being written (not emitted, as in Node). */
  _destroyError: Error | null = null;

  constructor(req: IncomingMessage, sink: ResponseSink, shouldKeepAlive: boolean, highWaterMark?: number) {
    super(highWaterMark === undefined ? STREAM_OPTIONS : { decodeStrings: false, highWaterMark });
    this.req = req;
    this.#sink = sink;
    this.#socket = req.socket;
    this.shouldKeepAlive = shouldKeepAlive;
    this.useChunkedEncodingByDefault = req.httpVersionMinor >= 1;
    this._hasBody = req.method !== 'HEAD';
  }

  /** The connection's socket (null once detached). */
  get socket(): Socket | null {
    return this.#socket;
  }
  /** Node's deprecated alias of `socket`. */
  get connection(): Socket | null {
    return this.#socket;
  }
  /** Node's deprecated alias of `writableEnded`. */
  get finished(): boolean {
    return this.writableEnded;
  }

  /**
   * Commit the status and headers (sent with the first body bytes or at end()). `headers` is an
   * object or a flat/paired array; it is merged over headers set with setHeader().
   */
  writeHead(statusCode: number, statusMessage?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    if (this._headerCommitted) throw keelError('ERR_HTTP_HEADERS_SENT', 'write');
    if (typeof statusMessage !== 'string') {
      headers ??= statusMessage; // as Node: writeHead(status, undefined, headers) keeps the headers
      statusMessage = undefined;
    }
    statusCode |= 0;
    if (statusCode < 100 || statusCode > 999) throw keelError('ERR_HTTP_INVALID_STATUS_CODE', String(statusCode));
    this.statusCode = statusCode;
    if (statusMessage !== undefined) this.statusMessage = statusMessage;
    if (this.statusMessage !== undefined && /[\r\n]/.test(this.statusMessage)) throw keelError('ERR_INVALID_CHAR', 'statusMessage');
    if (headers !== undefined && headers !== null) this.#storeHeaders(headers);
    this._headerCommitted = true;
    if (statusCode === 204 || statusCode === 304 || (statusCode >= 100 && statusCode <= 199)) this._hasBody = false;
    return this;
  }

  #storeHeaders(headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): void {
    if (Array.isArray(headers)) {
      if (headers.length > 0 && Array.isArray(headers[0])) {
        for (const pair of headers as unknown as [string, OutgoingHttpHeader][]) this.#appendStored(pair[0], pair[1]);
      } else {
        if (headers.length % 2 !== 0) throw keelError('ERR_INVALID_ARG_VALUE', 'headers', 'an array of odd length');
        for (let i = 0; i < headers.length; i += 2) this.#appendStored(String(headers[i]), headers[i + 1]);
      }
      return;
    }
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value !== undefined) this._storeHeader(name, value);
    }
  }

  #appendStored(name: string, value: OutgoingHttpHeader): void {
    if (this.hasHeader(name)) {
      const existing = this.getHeader(name)!;
      const before = Array.isArray(existing) ? existing : [String(existing)];
      this._storeHeader(name, before.concat(Array.isArray(value) ? value : [String(value)]));
    } else {
      this._storeHeader(name, value);
    }
  }

  /** Send the head now, before any body (Node's flushHeaders): the body will be chunked or until close. */
  flushHeaders(): void {
    if (this.#headWritten) return;
    if (!this._headerCommitted) this.writeHead(this.statusCode);
    this.#sink.write(this, this.#renderHead(-1), this.#headEncoding(), null);
  }

  /** Send `HTTP/1.1 100 Continue` (RFC 9110 §15.2.1), e.g. from a 'checkContinue' listener. */
  writeContinue(callback?: () => void): void {
    this.#continueSent = true;
    this.#sink.write(this, 'HTTP/1.1 100 Continue\r\n\r\n', 'latin1', callback ? () => callback() : null);
  }

  /** Send `HTTP/1.1 102 Processing`. */
  writeProcessing(callback?: () => void): void {
    this.#sink.write(this, 'HTTP/1.1 102 Processing\r\n\r\n', 'latin1', callback ? () => callback() : null);
  }

  /** Send `HTTP/1.1 103 Early Hints` with the given fields (`link` is required, as in Node). */
  writeEarlyHints(hints: Record<string, OutgoingHttpHeader>, callback?: () => void): void {
    let head = 'HTTP/1.1 103 Early Hints\r\n';
    for (const name of Object.keys(hints)) {
      validateHeaderName(name);
      validateHeaderValue(name, hints[name]);
      const value = hints[name];
      for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`;
    }
    this.#sink.write(this, `${head}\r\n`, 'latin1', callback ? () => callback() : null);
  }

  /** Add trailer fields, sent after a chunked body (ignored for other framings, as in Node). */
  addTrailers(headers: OutgoingHttpHeaders | [string, string][]): void {
    const entries = Array.isArray(headers) ? headers : Object.entries(headers);
    for (const [name, value] of entries) {
      validateHeaderName(name, 'Trailer name');
      validateHeaderValue(name, value);
      for (const v of Array.isArray(value) ? value : [value]) this.#trailers += `${name}: ${v}\r\n`;
    }
  }

  /** Calls `socket.setTimeout(msecs)` and adds `callback` as a 'timeout' listener. */
  setTimeout(msecs: number, callback?: () => void): this {
    if (callback) this.on('timeout', callback);
    this.#socket?.setTimeout(msecs);
    return this;
  }

  /** @internal Body bytes handed to the connection so far (after any compression layer). */
  get _bodyBytes(): number {
    return this.#bodyBytes;
  }

  override _write(chunk: Chunk, encoding: BufferEncoding, callback: WriteCallback): void {
    this.#send(chunk, encoding, false, callback);
  }

  override _final(callback: WriteCallback): void {
    if (!this.#outputDone) this.#finishOutput();
    callback();
  }

  override end(chunk?: Chunk | (() => void) | null, encoding?: BufferEncoding | (() => void), callback?: () => void): this {
    [chunk, encoding, callback] = endArguments(chunk, encoding, callback);
    const marks = this._marks;
    if (marks !== null && marks.endAt === 0) marks.endAt = performance.now();
    // Fast path: nothing is queued in the Writable, so the whole response can leave now, in order.
    // (Without a stream state nothing was ever written through it, nor was it ended or destroyed.)
    if (!this.#outputDone && (!this._hasStreamState || (!this.writableEnded && !this.destroyed && this.writableLength === 0))) {
      if (chunk !== undefined && chunk !== null) {
        if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
          throw keelError('ERR_INVALID_ARG_TYPE', 'chunk', 'of type string or an instance of Buffer or Uint8Array', typeof chunk);
        }
        this.#send(chunk, (encoding as BufferEncoding | undefined) ?? 'utf8', true, null);
      }
      this.#finishOutput();
      if (!this._hasStreamState && callback === undefined && !this.#hasStreamListeners()) {
        // Nobody listens and the stream was never used: the Writable catches up only if it ever is.
        this._endedBeforeState = true;
        return this;
      }
      super.end(callback);
      return this;
    }
    super.end(chunk as Chunk, encoding as BufferEncoding, callback);
    return this;
  }

  #hasStreamListeners(): boolean {
    return this.listenerCount('finish') > 0 || this.listenerCount('close') > 0 || this.listenerCount('prefinish') > 0 || this.listenerCount('error') > 0;
  }

  /**
   * Render the head: status-line, the handler's fields, Date, Connection / Keep-Alive and the
   * framing field. `bodyLength` is the whole body's length when known, else -1.
   */
  #renderHead(bodyLength: number): string {
    this.#headWritten = true;
    const status = this.statusCode;
    const statusLine = this.statusMessage === undefined ? STATUS_LINES[status] : '';
    let head = statusLine !== '' ? statusLine : `HTTP/1.1 ${status} ${this.statusMessage ?? STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let hasDate = false;
    let hasConnection = false;
    let hasLength = false;
    let hasTransferEncoding = false;
    let keepAlive = this.shouldKeepAlive && this.#sink.isAcceptingRequests;
    const stripFraming = status === 204 || (status >= 100 && status <= 199); // RFC 9110 §8.6
    const fields = this._headerFields;
    for (let i = 0; i < fields.length; i += 3) {
      const key = fields[i] as string;
      const name = fields[i + 1] as string;
      const value = fields[i + 2] as OutgoingHttpHeader;
      switch (key) {
        case 'date': hasDate = true; break;
        case 'connection':
          hasConnection = true;
          if (connectionOptions(String(value)) & ConnectionOption.Close) keepAlive = false;
          break;
        case 'content-length':
          if (stripFraming) continue;
          hasLength = true;
          this.#declaredLength = Number(value);
          break;
        case 'transfer-encoding':
          if (stripFraming) continue;
          hasTransferEncoding = true;
          if (isChunkedLast(String(value))) this.chunkedEncoding = true;
          else keepAlive = false; // a coding we do not frame: the body ends at close
          break;
      }
      if (Array.isArray(value)) {
        for (let j = 0; j < value.length; j++) head += `${name}: ${value[j]}\r\n`;
      } else {
        head += `${name}: ${value}\r\n`;
      }
    }
    if (this.sendDate && !hasDate) head += httpDateLine();
    // W3C Server Timing: ms since the request head was parsed, added after the handler's own fields.
    if (this.#sink.serverTiming && this._marks !== null) head += `Server-Timing: total;dur=${(performance.now() - this._marks.headAt).toFixed(1)}\r\n`;
    let framing = '';
    if (this._hasBody && !hasLength && !hasTransferEncoding) {
      if (bodyLength >= 0) {
        framing = `Content-Length: ${bodyLength}\r\n`;
      } else if (this.useChunkedEncodingByDefault) {
        framing = 'Transfer-Encoding: chunked\r\n';
        this.chunkedEncoding = true;
      } else {
        keepAlive = false; // HTTP/1.0 without a length: the body is delimited by closing
      }
    }
    if (!this._hasBody) this.chunkedEncoding = false;
    if (this._expectContinue && !this.#continueSent && !this.req.complete) keepAlive = false;
    if (!hasConnection) {
      if (!keepAlive) head += 'Connection: close\r\n';
      else {
        head += this.#sink.keepAliveFields;
      }
    }
    this.shouldKeepAlive = keepAlive;
    return head + framing + CRLF;
  }

  #headEncoding(): BufferEncoding {
    return this._hasNonAsciiHeader ? 'latin1' : 'utf8';
  }

  /** Hand one body chunk (and the head, if not yet sent) to the connection. */
  #send(chunk: Chunk, encoding: BufferEncoding, isLast: boolean, callback: WriteCallback | null): void {
    if (!this._headerCommitted) this.writeHead(this.statusCode);
    const isString = typeof chunk === 'string';
    const length = isString ? Buffer.byteLength(chunk, encoding) : chunk.byteLength;
    const head = this.#headWritten ? '' : this.#renderHead(isLast ? length : -1);
    if (!this._hasBody || length === 0) {
      // HEAD / 204 / 304: the body is dropped, as Node does. An empty chunk frames nothing.
      if (head !== '') this.#sink.write(this, head, this.#headEncoding(), callback);
      else if (callback) callback();
      return;
    }
    this.#bodyBytes += length;
    if (this.strictContentLength && this.#declaredLength >= 0 && this.#bodyBytes > this.#declaredLength) {
      throw keelError('ERR_HTTP_CONTENT_LENGTH_MISMATCH', String(this.#bodyBytes), String(this.#declaredLength));
    }
    const prefix = this.chunkedEncoding ? `${head}${length.toString(16)}\r\n` : head;
    const suffix = this.chunkedEncoding ? CRLF : '';
    if (isString && !this._hasNonAsciiHeader && (encoding === 'utf8' || encoding === 'utf-8' || encoding === 'latin1' || encoding === 'ascii')) {
      this.#sink.write(this, prefix + chunk + suffix, encoding, callback);
      return;
    }
    const body = isString ? Buffer.from(chunk, encoding) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#sink.cork();
    if (prefix !== '') this.#sink.write(this, prefix, this.#headEncoding(), null);
    this.#sink.write(this, body, encoding, suffix === '' ? callback : null);
    if (suffix !== '') this.#sink.write(this, suffix, 'latin1', callback);
    this.#sink.uncork();
  }

  /** Write what ends the message (head if none yet, last-chunk and trailers) and release the connection. */
  #finishOutput(): void {
    this.#outputDone = true;
    if (!this._headerCommitted) this.writeHead(this.statusCode);
    if (!this._hasStreamState || !this.destroyed) {
      let tail = this.#headWritten ? '' : this.#renderHead(0);
      if (this.chunkedEncoding) tail += `${LAST_CHUNK}${this.#trailers}${CRLF}`;
      if (tail !== '') this.#sink.write(this, tail, this.#headEncoding(), null);
    }
    this.#sink.responseDone(this);
  }

  /**
   * Destroy the response: the connection is destroyed with `error` (Node's OutgoingMessage.destroy).
   * As in Node, an error given while the response is still being written is not emitted as 'error'
   * on the response ('close' follows), so `res.destroy(err)` without an 'error' listener cannot
   * crash the process; `errored` returns it. (Once the response has ended, Writable's own errors,
   * such as ERR_STREAM_WRITE_AFTER_END, are still emitted, as Node emits them.)
   */
  override destroy(error?: Error | null): this {
    if (error !== undefined && error !== null && !this.destroyed && !this.writableEnded) {
      this._destroyError = error;
      super.destroy();
      return this;
    }
    super.destroy(error ?? undefined);
    return this;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#outputDone) this.#sink.abortResponse(this, error ?? this._destroyError);
    callback(error);
  }

  /** @internal The connection is gone: drop the socket reference and end the stream without error. */
  _abort(): void {
    this.#socket = null;
    if (!this.destroyed) this.destroy();
  }
}

Object.defineProperty(ServerResponse.prototype, 'errored', {
  get(this: ServerResponse): Error | null {
    return this._destroyError ?? (writableErrored.call(this) as Error | null);
  },
  configurable: true,
});
