// ServerConnection: one socket's HTTP/1.1 life. It pulls events from the request parser, creates
// requests and responses, writes responses strictly in request order (pipelining), decides
// keep-alive, pauses reading when a body is not consumed or responses pile up, keeps the per-phase
// deadlines that the server's sweep checks, and is the only place that turns a ParseError into a
// 'clientError' event or a canned error response. It publishes the keel:server:* diagnostics
// channels (see diagnostics.ts), only to channels that have subscribers.

import type { Socket } from 'node:net';
import { ParseError, keelError } from '../common/errors.js';
import { SerialLoop } from '../common/serial-loop.js';
import { MAX_PIPELINE_DEPTH } from '../common/defaults.js';
import { STATUS_CODES } from '../common/status-codes.js';
import { ParserEvent, RequestParser, type RequestHead } from '../http1/request-parser.js';
import { BodyKind } from '../http1/framing.js';
import type { BodySource, IncomingMessage } from '../message/incoming-message.js';
import type { ResponseSink, ServerResponse } from './server-response.js';
import type { ConnectionHost } from './connection-host.js';
import {
  errorChannel,
  requestStartChannel,
  responseAbortChannel,
  responseFinishChannel,
  responseTimings,
  timeoutChannel,
  type TimeoutMessage,
  type TimeoutPhase,
} from './diagnostics.js';

type WriteCallback = (error?: Error | null) => void;

/** Output of a response that is waiting for the responses before it to finish. */
interface HeldOutput {
  chunks: Buffer[];
  callbacks: WriteCallback[];
  done: boolean;
}

/** A connection failure waiting for earlier responses to be written before it is acted on. */
interface Failure {
  error: Error;
  status: number;
  /** Close without a canned response (the request involved was already answered). */
  silent: boolean;
}

/** Time a closed connection keeps reading (and discarding) so that its last response is not reset. */
const LINGER_MS = 5_000;
/** After close(), how long a connection that has sent nothing yet may still send its request. */
const NEW_CONNECTION_GRACE_MS = 1_000;
/** Largest output (UTF-16 code units) joined into one socket write while a received chunk is parsed. */
const OUTPUT_BATCH_MAX = 64 * 1024;

// The keep-alive field lines for the last keepAliveTimeout seen (servers rarely differ).
let keepAliveFieldsFor = -1;
let keepAliveFieldsLines = '';

function isContinueExpectation(value: string): boolean {
  return value.length === 12 && value.toLowerCase() === '100-continue';
}

export class ServerConnection implements ResponseSink, BodySource {
  readonly socket: Socket;
  /** The server's `serverTiming` option (ResponseSink). */
  readonly serverTiming: boolean;
  readonly #host: ConnectionHost;
  readonly #parser: RequestParser;

  /** Responses in request order; queue[0] writes to the socket, the others hold their output. */
  #queue: ServerResponse[] = [];
  /** Held output of responses behind queue[0] (created on first use: pipelining only). */
  #held: Map<ServerResponse, HeldOutput> | null = null;
  /** The request whose body is being received, and its response. */
  #reading: IncomingMessage | null = null;
  #readingResponse: ServerResponse | null = null;
  #bodyPaused = false;
  #readRequested = false;
  /** Parse and dispatch until the parser needs data or something asks to wait; never re-entrant. */
  readonly #puller = new SerialLoop(() => this.#pullOnce());
  #socketPaused = false;
  #drainCallbacks: WriteCallback[] = [];
  /**
   * Output batching: while a received chunk is parsed and dispatched (#onData, #onDrain), the
   * string output of the responses completed meanwhile (pipelined requests, synchronous handlers)
   * is joined here and leaves in one socket write when the batch ends. Bytes that cannot be joined
   * (Buffers, another encoding) flush it first, so the order on the wire never changes.
   */
  #batching = false;
  /**
   * Date.now() when the chunk being parsed started a request (0 otherwise): a response that ends
   * within that batch stamps its idle time (or its lingering close) with it instead of reading the
   * clock again.
   */
  #batchAt = 0;
  #batchCorked = false;
  #output = '';
  #outputEncoding: BufferEncoding = 'utf8';
  /** No request is dispatched any more: a non-persistent message, a failure, or shutdown. */
  #closing = false;
  /** The server is closing: the request in progress (if any) is the last one dispatched. */
  #shuttingDown = false;
  #peerEnded = false;
  /** The last request dispatched asked to close (Connection: close, or HTTP/1.0 without keep-alive). */
  #clientCloses = false;
  #failure: Failure | null = null;
  #upgrade: { req: IncomingMessage; event: 'upgrade' | 'connect'; head: Buffer } | null = null;
  #requests = 0;
  #requestStarted = false;
  /** The last bytes received: a ParseError's `rawPacket`, as in Node. */
  #lastChunk: Buffer | null = null;
  // Deadlines in ms since the epoch; 0 = not armed. Checked by the server's shared sweep.
  #headersDeadline = 0;
  #requestDeadline = 0;
  #idleDeadline = 0;
  #lingerDeadline = 0;
  // When the current phase began (ms since the epoch): keel:server:timeout's afterMs.
  #requestClockAt = 0;
  #idleSince = 0;
  /** performance.now() of the current request's first byte; 0 = none, or nobody needs timings. */
  #firstByteAt = 0;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.serverTiming = host.serverTiming;
    this.#host = host;
    this.#parser = new RequestParser(host.parserOptions());
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
    socket.on('drain', this.#onDrain);
    socket.on('timeout', this.#onSocketTimeout);
    this.#startRequestClock(Date.now());
  }

  /** False once the server is closing: responses then end the connection. */
  get isAcceptingRequests(): boolean {
    return this.#host.isAcceptingRequests;
  }

  /** `Connection: keep-alive` and `Keep-Alive: timeout=N` lines (ResponseSink), cached per timeout value. */
  get keepAliveFields(): string {
    const ms = this.#host.keepAliveTimeout;
    if (ms !== keepAliveFieldsFor) {
      keepAliveFieldsFor = ms;
      keepAliveFieldsLines = ms > 0 ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(ms / 1000)}\r\n` : 'Connection: keep-alive\r\n';
    }
    return keepAliveFieldsLines;
  }

  /** Between requests: nothing in flight and nothing of the next request received. */
  get isIdle(): boolean {
    return this.#queue.length === 0 && this.#reading === null && !this.#requestStarted && this.#upgrade === null;
  }

  /** Stop dispatching: the current responses finish with `Connection: close`, then the socket closes. */
  beginClose(): void {
    // A request whose head is partly received is still parsed and answered (with Connection:
    // close, since the server no longer accepts requests); nothing after it is dispatched.
    this.#shuttingDown = true;
    if (this.#hasReceivedNothing()) {
      // Accepted just before close(): its first request may be on the way. It is answered (with
      // Connection: close) if it arrives within NEW_CONNECTION_GRACE_MS; else the connection closes.
      const graceEnd = Date.now() + NEW_CONNECTION_GRACE_MS;
      if (this.#headersDeadline === 0 || this.#headersDeadline > graceEnd) this.#headersDeadline = graceEnd;
      return;
    }
    if (this.#parser.isIdle) this.#closing = true;
    if (this.isIdle) this.#endSocket();
  }

  #hasReceivedNothing(): boolean {
    return this.#requests === 0 && this.#lastChunk === null;
  }

  /** Abort every request in flight (their `signal`) with `reason`, then destroy the socket. */
  destroyWith(reason: Error): void {
    if (this.#reading !== null) this.#reading._abortSignal(reason);
    for (const res of this.#queue) res.req._abortSignal(reason);
    this.socket.destroy();
  }

  /** Called by the server's sweep: fire whichever phase deadline has passed. */
  checkDeadlines(now: number): void {
    if (this.#headersDeadline !== 0 && now >= this.#headersDeadline) this.#onRequestTimeout('headers', now);
    else if (this.#requestDeadline !== 0 && now >= this.#requestDeadline) this.#onRequestTimeout('request', now);
    else if (this.#idleDeadline !== 0 && now >= this.#idleDeadline) {
      if (timeoutChannel.hasSubscribers) this.#publishTimeout('idle', now - this.#idleSince);
      this.socket.destroy();
    }
    else if (this.#lingerDeadline !== 0 && now >= this.#lingerDeadline) this.socket.destroy();
  }

  // ---- reading -------------------------------------------------------------------------------

  #onData = (chunk: Buffer): void => {
    if (this.#upgrade !== null) {
      this.#upgrade.head = Buffer.concat([this.#upgrade.head, chunk]);
      return;
    }
    if (this.#lingerDeadline !== 0) return; // closing: discard what the peer still sends
    let now = 0;
    if (!this.#requestStarted) this.#startRequestClock((now = Date.now()));
    if (this.#firstByteAt === 0 && (this.serverTiming || responseFinishChannel.hasSubscribers || responseAbortChannel.hasSubscribers)) this.#firstByteAt = performance.now();
    this.#lastChunk = chunk;
    this.#parser.push(chunk);
    this.#runBatched(now);
  };

  /**
   * Parse and dispatch with output batching: everything written meanwhile leaves together. `now` is
   * Date.now() if the caller read it (else 0).
   */
  #runBatched(now = 0): void {
    if (this.#batching) {
      this.#puller.run();
      return;
    }
    this.#batching = true;
    this.#batchAt = now;
    try {
      this.#puller.run();
    } finally {
      this.#batching = false;
      this.#batchAt = 0;
      this.#flushOutput();
      if (this.#batchCorked) {
        this.#batchCorked = false;
        this.socket.uncork();
      }
    }
  }

  /** Write the batched output now (before any write that bypasses the batch). */
  #flushOutput(): void {
    const output = this.#output;
    if (output === '') return;
    this.#output = '';
    if (!this.socket.destroyed) this.socket.write(output, this.#outputEncoding);
  }

  #onEnd = (): void => {
    this.#peerEnded = true;
    if (this.#lingerDeadline !== 0 || this.#upgrade !== null) {
      if (this.#lingerDeadline !== 0) this.socket.destroy();
      return;
    }
    // No request will be parsed any more (the last one asked to close): the FIN cannot wait for the
    // parser to run dry — act on it now, or a response in flight would never hear the client left.
    if (this.#closing && this.#reading === null) {
      this.#onPeerEnded();
      return;
    }
    this.#puller.run();
  };


  #pullOnce(): void {
    const parser = this.#parser;
    let needData = false;
    for (;;) {
      if (this.#failure !== null || this.#upgrade !== null || this.#bodyPaused || this.#lingerDeadline !== 0 || this.socket.destroyed) break;
      if (this.#reading === null && (this.#closing || (this.#shuttingDown && this.#parser.isIdle) || this.#queue.length >= MAX_PIPELINE_DEPTH || this.socket.writableNeedDrain)) break;
      let event: ParserEvent;
      try {
        event = parser.next();
      } catch (err) {
        this.#onParseError(err as ParseError);
        return;
      }
      if (event === ParserEvent.NeedData) {
        needData = true;
        break;
      }
      if (event === ParserEvent.Head) this.#onHead(parser.head!);
      else if (event === ParserEvent.Body) this.#onBody(parser.body);
      else this.#onMessageEnd(parser.trailers);
    }
    if (this.#upgrade !== null) return; // the socket is (or will be) the upgrade listener's
    if (needData && this.#peerEnded) {
      this.#onPeerEnded();
      return;
    }
    // Read from the socket only while parsing can go on: TCP backpressure for everything else.
    if (needData === this.#socketPaused && !this.socket.destroyed) {
      this.#socketPaused = !needData;
      if (needData) this.socket.resume();
      else this.socket.pause();
    }
  }

  #onPeerEnded(): void {
    try {
      this.#parser.finish();
    } catch (err) {
      this.#onParseError(err as ParseError);
      return;
    }
    // As Node (httpAllowHalfOpen false): the client's FIN aborts the requests still in flight.
    for (const res of this.#queue) res.req._abort();
    this.#endSocket();
  }

  #onHead(head: RequestHead): void {
    this.#headersDeadline = 0;
    this.#requests++;
    const host = this.#host;
    const req = host.createRequest(this.socket, this);
    req.method = head.method;
    req.url = head.target;
    req.httpVersionMajor = head.versionMajor;
    req.httpVersionMinor = head.versionMinor;
    req.httpVersion = head.versionMinor === 1 ? '1.1' : head.versionMinor === 0 ? '1.0' : `1.${head.versionMinor}`;
    req.rawHeaders = head.rawHeaders;

    let keepAlive = head.keepAlive && !this.#closing && host.isAcceptingRequests;
    const maxRequests = host.maxRequestsPerSocket;
    if (maxRequests > 0 && this.#requests >= maxRequests) keepAlive = false;
    if (!keepAlive) this.#closing = true;
    this.#clientCloses = !head.keepAlive;

    if (head.upgrade) {
      const event = head.method === 'CONNECT' ? 'connect' : 'upgrade';
      if (host.listenerCount(event) > 0) {
        this.#startUpgrade(req, event);
        return;
      }
      if (event === 'connect') {
        this.socket.destroy(); // as Node: CONNECT without a 'connect' listener closes the connection
        return;
      }
    }

    const res = host.createResponse(req, this, keepAlive);
    if (this.serverTiming || responseFinishChannel.hasSubscribers || responseAbortChannel.hasSubscribers) {
      const now = performance.now();
      res._marks = { firstByteAt: this.#firstByteAt || now, headAt: now, dispatchedAt: 0, endAt: 0 };
    }
    this.#queue.push(res);
    this.#reading = req;
    this.#readingResponse = res;
    if (head.bodyKind === BodyKind.None || (head.bodyKind === BodyKind.Length && head.contentLength === 0)) {
      // Complete before the handler runs, as in Node (llhttp reports headers and message together).
      this.#parser.next();
      this.#onMessageEnd(this.#parser.trailers);
    }

    if (res._marks !== null) res._marks.dispatchedAt = performance.now();
    if (requestStartChannel.hasSubscribers) requestStartChannel.publish({ request: req, response: res, socket: this.socket });
    const expect = head.expect;
    if (expect !== undefined && head.versionMinor >= 1) {
      if (isContinueExpectation(expect)) {
        res._expectContinue = true;
        if (host.listenerCount('checkContinue') > 0) {
          host.emit('checkContinue', req, res);
          return;
        }
        if (!req.complete) res.writeContinue();
      } else {
        if (host.listenerCount('checkExpectation') > 0) {
          host.emit('checkExpectation', req, res);
          return;
        }
        res.writeHead(417);
        res.end();
        return;
      }
    }
    host.emit('request', req, res);
  }

  #onBody(chunk: Buffer): void {
    const req = this.#reading!;
    if (req._dumped || (req._isStreamUsed && req.destroyed)) return; // (no stream state: not destroyed)
    this.#readRequested = false;
    if (!req.push(chunk) && !this.#readRequested) this.#bodyPaused = true;
  }

  #onMessageEnd(trailers: string[]): void {
    const req = this.#reading;
    if (req === null) return;
    this.#reading = null;
    this.#readingResponse = null;
    this.#bodyPaused = false;
    req.rawTrailers = trailers;
    req.complete = true;
    req.push(null);
    this.#requestDeadline = 0;
    this.#requestStarted = false;
    // Pipelined: the next request's first bytes are already buffered (its timings start now).
    if (this.#parser.bufferedBytes > 0) {
      this.#firstByteAt = this.#firstByteAt !== 0 ? performance.now() : 0;
      if (!this.#closing) this.#startRequestClock(Date.now());
    } else {
      // Nothing of the next request yet: keep no buffer alive while the connection idles.
      this.#firstByteAt = 0;
      this.#lastChunk = null;
      this.#parser.release();
    }
  }

  /** IncomingMessage._read: the reader wants more of the body. */
  resumeBody(message: IncomingMessage): void {
    if (message !== this.#reading) return;
    this.#readRequested = true;
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    this.#puller.run();
  }

  /** ServerResponse destroyed before its last byte (res.destroy(), a failed pipeline): as Node, the connection goes too. */
  abortResponse(res: ServerResponse, error: Error | null): void {
    if (this.#queue.includes(res) && !this.socket.destroyed) this.socket.destroy(error ?? undefined);
  }

  /** IncomingMessage._destroy before the body was complete: as Node, the connection goes too. */
  abortBody(message: IncomingMessage, error: Error | null): void {
    if (message === this.#reading && !this.socket.destroyed) this.socket.destroy(error ?? undefined);
  }

  #startRequestClock(now: number): void {
    const host = this.#host;
    this.#requestStarted = true;
    this.#requestClockAt = now;
    this.#idleDeadline = 0;
    this.#headersDeadline = host.headersTimeout > 0 ? now + host.headersTimeout : 0;
    this.#requestDeadline = host.requestTimeout > 0 ? now + host.requestTimeout : 0;
  }

  // ---- writing -------------------------------------------------------------------------------

  write(res: ServerResponse, data: string | Buffer, encoding: BufferEncoding, callback: WriteCallback | null): void {
    if (res !== this.#queue[0]) {
      if (res.destroyed || !this.#queue.includes(res)) {
        if (callback) callback();
        return;
      }
      const held = this.#heldOutput(res);
      held.chunks.push(typeof data === 'string' ? Buffer.from(data, encoding) : data);
      if (callback) held.callbacks.push(callback);
      return;
    }
    const socket = this.socket;
    if (socket.destroyed) {
      if (callback) callback();
      return;
    }
    if (this.#batching) {
      if (typeof data === 'string' && (this.#output === '' || encoding === this.#outputEncoding) && this.#output.length + data.length <= OUTPUT_BATCH_MAX) {
        this.#output += data;
        this.#outputEncoding = encoding;
        if (callback) {
          // The writer may go on only while the socket is not over its high-water mark.
          if (socket.writableNeedDrain) this.#drainCallbacks.push(callback);
          else callback();
        }
        return;
      }
      this.#flushOutput();
      if (!this.#batchCorked) {
        this.#batchCorked = true;
        socket.cork();
      }
    }
    const ok = socket.write(data, encoding);
    if (callback) {
      if (ok) callback();
      else this.#drainCallbacks.push(callback);
    }
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  #heldOutput(res: ServerResponse): HeldOutput {
    const map = (this.#held ??= new Map());
    let held = map.get(res);
    if (held === undefined) {
      held = { chunks: [], callbacks: [], done: false };
      map.set(res, held);
    }
    return held;
  }

  #onDrain = (): void => {
    const callbacks = this.#drainCallbacks;
    if (callbacks.length > 0) {
      this.#drainCallbacks = [];
      for (const cb of callbacks) cb();
    }
    if (this.#reading === null) this.#runBatched();
  };

  /** A response handed over its last byte: advance the queue, flushing held output in order. */
  responseDone(res: ServerResponse): void {
    if (res !== this.#queue[0]) {
      if (this.#queue.includes(res)) this.#heldOutput(res).done = true;
      return;
    }
    this.#queue.shift();
    let closes = this.#afterResponse(res);
    while (!closes && this.#queue.length > 0) {
      const next = this.#queue[0];
      const held = this.#held?.get(next);
      if (held === undefined) break;
      this.#held!.delete(next);
      const socket = this.socket;
      this.#flushOutput();
      socket.cork();
      for (const chunk of held.chunks) socket.write(chunk);
      socket.uncork();
      for (const cb of held.callbacks) cb();
      if (!held.done) break;
      this.#queue.shift();
      closes = this.#afterResponse(next);
    }
    if (closes) return;
    if (this.#queue.length === 0) {
      if (this.#failure !== null) {
        this.#fail();
        return;
      }
      if (this.#upgrade !== null) {
        this.#finishUpgrade();
        return;
      }
      if (this.#reading === null && (this.#closing || this.#peerEnded) && !this.#requestStarted) {
        this.#endSocket();
        return;
      }
      if (this.isIdle) {
        const timeout = this.#host.keepAliveTimeout;
        if (timeout > 0) {
          this.#idleSince = this.#batchAt !== 0 ? this.#batchAt : Date.now();
          this.#idleDeadline = this.#idleSince + timeout;
        } else {
          this.#idleDeadline = 0;
        }
      }
    }
    this.#puller.run();
  }

  /** Bookkeeping after a response; returns true when the connection closes after it. */
  #afterResponse(res: ServerResponse): boolean {
    const req = res.req;
    if (res._marks !== null && responseFinishChannel.hasSubscribers) {
      responseFinishChannel.publish({ request: req, response: res, timings: responseTimings(res._marks, performance.now()), bytes: res._bodyBytes });
    }
    // As Node: a body nobody reads is discarded so that the next request can be parsed.
    req._dumpIfUnread();
    if (res.shouldKeepAlive) return false;
    // This response closes the connection: nothing queued after it will ever be written.
    this.#closing = true;
    for (const later of this.#queue) {
      later.req._abort();
      later._abort();
    }
    this.#queue = [];
    this.#held = null;
    this.#endSocket();
    return true;
  }

  /**
   * Close after the pending writes. When the peer sent bytes we did not read (after a closing
   * message, or a failure), closing at once would make the kernel reset the connection and could
   * destroy the last response in flight: then half-close and linger, discarding input, until the
   * peer closes or LINGER_MS pass (as nginx's lingering close).
   */
  #endSocket(): void {
    const socket = this.socket;
    this.#closing = true;
    this.#headersDeadline = 0;
    this.#requestDeadline = 0;
    this.#idleDeadline = 0;
    this.#lingerDeadline = (this.#batchAt !== 0 ? this.#batchAt : Date.now()) + LINGER_MS;
    if (socket.destroyed) return;
    this.#flushOutput();
    const hasUnreadInput = this.#failure !== null || this.#parser.bufferedBytes > 0 || this.#parser.discardedBytes > 0;
    if (hasUnreadInput && !this.#peerEnded) socket.end();
    else if (this.#canCloseAtOnce()) socket.destroy();
    else socket.destroySoon();
    if (this.#socketPaused) {
      this.#socketPaused = false;
      socket.resume();
    }
  }

  /**
   * Whether closing needs no FIN-then-wait: the kernel already holds every byte written (close(2)
   * then sends them and its FIN, as shutdown(2) would), and the client will send nothing more — it
   * asked to close (RFC 9112 §9.6: it sends no further requests) or already sent its FIN, and its
   * last message was read whole. Skipping shutdown(2) and the wait for 'finish' saves a syscall and
   * a loop turn per connection. Not for TLS: its close_notify alert goes out through end().
   */
  #canCloseAtOnce(): boolean {
    const socket = this.socket;
    return (this.#clientCloses || this.#peerEnded) && this.#reading === null && socket.writableLength === 0 &&
      (socket as Socket & { encrypted?: boolean }).encrypted !== true;
  }

  // ---- errors, timeouts, upgrade, close ------------------------------------------------------

  #onParseError(error: ParseError): void {
    error.rawPacket = this.#lastChunk ?? undefined;
    if (errorChannel.hasSubscribers) errorChannel.publish({ error, socket: this.socket });
    let silent = false;
    const req = this.#reading;
    if (req !== null) {
      // The framing failed inside this request's body: it can never complete.
      const res = this.#readingResponse!;
      this.#reading = null;
      this.#readingResponse = null;
      silent = res.headersSent || res.writableEnded;
      if (!silent) {
        this.#queue.splice(this.#queue.indexOf(res), 1);
        this.#held?.delete(res);
        res._abort();
      }
      // As Node, the request sees the connection reset ('aborted'); the ParseError is its cause.
      if (!req.destroyed) req.destroy(Object.assign(keelError('ECONNRESET'), { cause: error }));
    }
    this.#setFailure({ error, status: error.status, silent });
  }

  #onRequestTimeout(phase: 'headers' | 'request', now: number): void {
    if (this.#shuttingDown && this.#hasReceivedNothing()) {
      this.#endSocket(); // the shutdown grace of a connection that never sent anything: no 408
      return;
    }
    if (timeoutChannel.hasSubscribers) this.#publishTimeout(phase, now - this.#requestClockAt);
    this.#headersDeadline = 0;
    this.#requestDeadline = 0;
    const error = keelError('ERR_HTTP_REQUEST_TIMEOUT', phase);
    const res = this.#readingResponse;
    const silent = res !== null && (res.headersSent || res.writableEnded);
    if (this.#reading !== null) {
      const req = this.#reading;
      this.#reading = null;
      this.#readingResponse = null;
      if (!silent && res !== null) {
        this.#queue.splice(this.#queue.indexOf(res), 1);
        res._abort();
      }
      req.destroy(error);
    }
    this.#setFailure({ error, status: 408, silent });
  }

  #publishTimeout(phase: TimeoutPhase, afterMs: number): void {
    const message: TimeoutMessage = { phase, afterMs, socket: this.socket };
    timeoutChannel.publish(message);
  }

  #setFailure(failure: Failure): void {
    if (this.#failure !== null) return;
    this.#failure = failure;
    this.#closing = true;
    if (this.#queue.length === 0) this.#fail();
  }

  /** Act on the failure once every earlier response is out: 'clientError', or the canned response. */
  #fail(): void {
    const { error, status, silent } = this.#failure!;
    const socket = this.socket;
    if (socket.destroyed) return;
    this.#flushOutput();
    if (this.#host.listenerCount('clientError') > 0) {
      // The socket is the listener's now; only 'close' is still ours (the server forgets us then).
      this.#detachListeners();
      socket.on('close', this.#onClose);
      socket.on('error', noop);
      this.#host.emit('clientError', error, socket);
      return;
    }
    if (!silent && socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nConnection: close\r\n\r\n`);
    }
    this.#endSocket();
  }

  #onSocketTimeout = (): void => {
    const req = this.#reading;
    const res = this.#queue[0];
    const reqHandled = req !== null && req.emit('timeout', this.socket);
    const resHandled = res !== undefined && res.emit('timeout', this.socket);
    const serverHandled = this.#host.emit('timeout', this.socket);
    if (!reqHandled && !resHandled && !serverHandled) this.socket.destroy();
  };

  #onError = (error: Error): void => {
    // As Node: socket errors go to 'clientError' when someone listens, else the socket is destroyed.
    this.socket.removeListener('error', this.#onError);
    this.socket.on('error', noop);
    if (errorChannel.hasSubscribers) errorChannel.publish({ error, socket: this.socket });
    if (this.#host.listenerCount('clientError') > 0) this.#host.emit('clientError', error, this.socket);
    else this.socket.destroy();
  };

  #onClose = (): void => {
    // (The listeners stay: a closed socket emits nothing more, and both become garbage together.)
    this.#host.connectionClosed(this);
    const req = this.#reading;
    this.#reading = null;
    if (req !== null) req._abort();
    for (const res of this.#queue) {
      if (res._marks !== null && responseAbortChannel.hasSubscribers) {
        responseAbortChannel.publish({ request: res.req, response: res, timings: responseTimings(res._marks, performance.now()), bytes: res._bodyBytes });
      }
      res.req._abort();
      res._abort();
    }
    this.#queue = [];
    this.#held = null;
    const callbacks = this.#drainCallbacks;
    this.#drainCallbacks = [];
    for (const cb of callbacks) cb();
  };

  #startUpgrade(req: IncomingMessage, event: 'upgrade' | 'connect'): void {
    req.complete = true;
    req.push(null);
    this.#upgrade = { req, event, head: this.#parser.detach() };
    this.#headersDeadline = 0;
    this.#requestDeadline = 0;
    if (this.#queue.length === 0) this.#finishUpgrade();
  }

  /** Hand the socket to the 'upgrade' / 'connect' listener, with the bytes read past the head. */
  #finishUpgrade(): void {
    const { req, event, head } = this.#upgrade!;
    const socket = this.socket;
    this.#flushOutput();
    this.#detachListeners();
    this.#host.connectionClosed(this);
    socket.setTimeout(0);
    // The parse loop corks the socket: hand it over uncorked, as Node does (a listener that writes
    // then destroys must not lose its bytes). Earlier responses are flushed first, in order.
    while (socket.writableCorked > 0) socket.uncork();
    // As Node: the listener decides when reading starts (attaching 'data' resumes the socket).
    (socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
    this.#host.emit(event, req, socket, head);
  }

  #detachListeners(): void {
    const socket = this.socket;
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('close', this.#onClose);
    socket.removeListener('error', this.#onError);
    socket.removeListener('drain', this.#onDrain);
    socket.removeListener('timeout', this.#onSocketTimeout);
  }
}

function noop(): void {}
