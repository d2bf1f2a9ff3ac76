// IncomingMessage: a received HTTP message as a node:stream Readable, shaped like node:http's.
// The body is pushed by whoever owns the connection; `_read` asks it for more (that is the
// backpressure: no read, no parsing, socket paused). `headers` is built lazily from rawHeaders.

import { Readable, getDefaultHighWaterMark } from 'node:stream';
import type { Socket } from 'node:net';
import { keelError } from '../common/errors.js';
import { buildHeaders, buildHeadersDistinct, type IncomingHttpHeaders } from './headers.js';
import { defineLazyStreamState } from './lazy-stream-state.js';

/** The side that feeds a message body: resumes it on demand, tears the connection down on abort. */
export interface BodySource {
  /** The reader wants more body: parse and push again. */
  resumeBody(message: IncomingMessage): void;
  /** The message was destroyed before its body was complete (Node destroys the socket then). */
  abortBody(message: IncomingMessage, error: Error | null): void;
}

type ReadableStateClass = new (options: { highWaterMark?: number } | undefined, stream: Readable, isDuplex: boolean) => object;
const { ReadableState } = Readable as unknown as { ReadableState: ReadableStateClass };

/**
 * Readable's prototype chain without its constructor. A Readable sets up its stream state (and its
 * EventEmitter fields) when constructed; IncomingMessage creates that state on first use instead
 * (see `_readableState` below), so a body-less request that nobody reads as a stream costs no
 * stream machinery at all. EventEmitter methods accept the missing `_events` (they create it).
 */
const LazyReadable = function LazyReadable() {} as unknown as typeof Readable;
Object.setPrototypeOf(LazyReadable.prototype, Readable.prototype);
Object.setPrototypeOf(LazyReadable, Readable);

/**
 * A request (server side) or response (client side) with its body as a Readable stream.
 * Mirrors node:http's IncomingMessage: `method`, `url`, `statusCode`, `statusMessage`,
 * `httpVersion`, `headers` (Node's duplicate rules), `headersDistinct`, `rawHeaders`, `trailers`,
 * `rawTrailers`, `socket`, `complete`, `aborted`, and the events `data`, `end`, `aborted`, `close`,
 * `error` (emitted only when a listener exists, as Node does: ECONNRESET "aborted").
 */
export class IncomingMessage extends LazyReadable {
  /** The connection's socket (also `connection`, Node's deprecated alias). */
  socket: Socket;
  /** Request method (server side). */
  method: string | undefined = undefined;
  /** request-target exactly as received (server side). */
  url = '';
  /** Status code (client side). */
  statusCode: number | undefined = undefined;
  /** Reason phrase (client side). */
  statusMessage: string | undefined = undefined;
  httpVersion = '1.1';
  httpVersionMajor = 1;
  httpVersionMinor = 1;
  /** Field lines as received: [name, value, name, value, ...]. */
  rawHeaders: string[] = [];
  /** Trailer section field lines as received, filled once the body is complete. */
  rawTrailers: string[] = [];
  /** True once the whole message, body included, has been received. */
  complete = false;
  /** True when the message was aborted before it was complete (Node's deprecated flag). */
  aborted = false;
  /** @internal Whether duplicate fields are all joined (Node's joinDuplicateHeaders option). */
  joinDuplicateHeaders = false;
  /** @internal Set once the body should be discarded as it arrives (Node's _dump()). */
  _dumped = false;
  /** @internal Whether someone reads the body (Node's _consuming). */
  _consuming = false;

  #source: BodySource | null;
  #streamOptions: { highWaterMark: number } | undefined;
  /** Whether the Readable state exists (it is created on first use). */
  #hasStreamState = false;
  /** @internal The Readable state once created (read through `_readableState`). */
  _streamState: object | null = null;
  /** push(null) came before the stream state existed: every body byte is in #pending. */
  #endedBeforeState = false;
  /** Body chunks pushed before the stream state existed (replayed into it when it is created). */
  #pending: Buffer[] | null = null;
  #pendingBytes = 0;
  /** _takeBody() handed the body out. */
  #isBodyTaken = false;
  #controller: AbortController | null = null;
  #abortReason: Error | null = null;
  #headers: IncomingHttpHeaders | null = null;
  #trailers: IncomingHttpHeaders | null = null;

  constructor(socket: Socket, source: BodySource | null = null, highWaterMark?: number) {
    super();
    this.socket = socket;
    this.#source = source;
    this.#streamOptions = highWaterMark === undefined ? undefined : { highWaterMark };
  }

  /** @internal Create the Readable state (on the first access of `_readableState`). */
  _createStreamState(): object {
    const state = new ReadableState(this.#streamOptions, this, false);
    this._streamState = state;
    this.#hasStreamState = true;
    const pending = this.#takePending();
    if (pending !== null) for (const chunk of pending) super.push(chunk);
    if (this.#endedBeforeState) {
      this.#endedBeforeState = false;
      super.push(null);
    }
    if (this._dumped) this.resume(); // as _dump() would have: 'end' and 'close' follow
    return state;
  }

  /**
   * Readable.push. Before the stream is used, body chunks and the end (null) are only recorded, and
   * the return value follows Readable's rule (false once highWaterMark bytes are held): the chunks
   * go into the stream state when it is created, or to keel/body at once (_takeBody).
   */
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (!this.#hasStreamState) {
      if (chunk === null) {
        this.#endedBeforeState = true;
        return false;
      }
      if (encoding === undefined && Buffer.isBuffer(chunk) && !this.#endedBeforeState) {
        if (this._dumped) return true; // discarded, as a dumped stream would
        (this.#pending ??= []).push(chunk);
        this.#pendingBytes += chunk.length;
        return this.#pendingBytes < (this.#streamOptions?.highWaterMark ?? getDefaultHighWaterMark(false));
      }
    }
    return super.push(chunk, encoding);
  }

  /** The chunks held before the stream state existed (null: none); holds none afterwards. */
  #takePending(): Buffer[] | null {
    const pending = this.#pending;
    this.#pending = null;
    this.#pendingBytes = 0;
    return pending;
  }

  /** @internal Whether the message was used as a stream (its Readable state exists). */
  get _isStreamUsed(): boolean {
    return this.#hasStreamState;
  }

  /** @internal Whether _takeBody() handed the body out. */
  get _isBodyTaken(): boolean {
    return this.#isBodyTaken;
  }

  /**
   * @internal The whole body in one Buffer when it is complete and was never used as a stream (nor
   * dumped), else null. keel/body's fast path: no stream state, listeners or ticks for a body that
   * arrived with its head. Afterwards the message reads as consumed (`_isBodyTaken`, `_consuming`)
   * and, used as a stream, as an ended empty one.
   */
  _takeBody(): Buffer | null {
    if (this.#hasStreamState || !this.#endedBeforeState || this._dumped) return null;
    const length = this.#pendingBytes;
    const pending = this.#takePending();
    this.#isBodyTaken = true;
    this._consuming = true;
    if (pending === null) return Buffer.alloc(0);
    return pending.length === 1 ? pending[0]! : Buffer.concat(pending, length);
  }

  /** Node's deprecated alias of `socket`. */
  get connection(): Socket {
    return this.socket;
  }

  /** Field names lower-cased, repeated fields combined as node:http does. Built on first access. */
  get headers(): IncomingHttpHeaders {
    return (this.#headers ??= buildHeaders(this.rawHeaders, this.joinDuplicateHeaders));
  }
  set headers(value: IncomingHttpHeaders) {
    this.#headers = value;
  }

  /** Every value of every field as an array (Node's headersDistinct). */
  get headersDistinct(): Record<string, string[]> {
    return buildHeadersDistinct(this.rawHeaders);
  }

  /** The trailer section as an object (empty until the body is complete). */
  get trailers(): IncomingHttpHeaders {
    if (!this.complete) return {};
    return (this.#trailers ??= buildHeaders(this.rawTrailers, this.joinDuplicateHeaders));
  }
  set trailers(value: IncomingHttpHeaders) {
    this.#trailers = value;
  }

  get trailersDistinct(): Record<string, string[]> {
    return buildHeadersDistinct(this.rawTrailers);
  }

  /**
   * Aborted when the exchange is cut short (Keel's extension; the same signal keel/fetch hands to
   * fetch-style handlers as `request.signal`). The reason is an Error with a `code`: ECONNRESET
   * when the client went away, ERR_HTTP_REQUEST_TIMEOUT when a deadline fired, ERR_SERVER_CLOSED
   * when the server closed the connection (closeAllConnections). Never aborted once the exchange
   * completed normally. Created on first access: a request that never reads it pays nothing.
   */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#abortReason !== null) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** @internal Abort `signal` (once) with `reason`. */
  _abortSignal(reason: Error): void {
    if (this.#abortReason !== null) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** Calls `socket.setTimeout(msecs)` and adds `callback` as a 'timeout' listener. */
  setTimeout(msecs: number, callback?: () => void): this {
    if (callback) this.on('timeout', callback);
    this.socket.setTimeout(msecs);
    return this;
  }

  override _read(): void {
    this._consuming = true;
    this.#source?.resumeBody(this);
  }

  /** @internal Discard the rest of the body (after the response finished without reading it). */
  _dump(): void {
    if (this._dumped) return;
    this._dumped = true;
    if (!this.#hasStreamState) {
      this.#takePending(); // never used as a stream: drop what was held; nobody is told
      return;
    }
    this.removeAllListeners('data');
    // A body that has already ended (all a body-less request ever has): read() schedules 'end'
    // at once, without resume()'s extra tick and flow loop. Nothing more can arrive.
    if (this.complete && this.readableLength === 0 && !this.readableEnded && this.readableFlowing !== false) {
      this.read();
      return;
    }
    this.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error !== null) this._abortSignal(error);
    if (!this.readableEnded || !this.complete) {
      this.aborted = true;
      this.emit('aborted');
    }
    if (!this.complete) this.#source?.abortBody(this, error);
    if (error === null) {
      callback(null);
      return;
    }
    // As Node: an 'error' event only when someone listens for it (by the next tick).
    process.nextTick(() => callback(this.listenerCount('error') > 0 ? error : null));
  }

  /** @internal After the response: discard a body nobody reads (as Node), so the next request can be parsed. */
  _dumpIfUnread(): void {
    if (!this.#hasStreamState && this.complete) {
      this._dumped = true; // a body that already ended, never read: drop what was held
      this.#takePending();
      return;
    }
    // As Node (at the response's 'finish'): a handler that starts reading right after end() keeps its body.
    process.nextTick(dumpIfStillUnread, this);
  }

  /** @internal The connection went away before the exchange finished. */
  _abort(reason: Error = keelError('ECONNRESET')): void {
    this._abortSignal(reason);
    if (this.destroyed) return;
    this.destroy(reason);
  }
}

function dumpIfStillUnread(message: IncomingMessage): void {
  if (!message._consuming && message.readableFlowing !== true && message.listenerCount('readable') === 0) message._dump();
}

// The stream state, created on first access by any Readable method or getter.
defineLazyStreamState(IncomingMessage.prototype, '_readableState', '_streamState');
