// ClientConnection: one socket to one origin. Exchanges write their requests in order (one at a
// time on the write side; several in flight when the pool pipelines), the response parser reads
// the responses in the same order, and the connection returns to its pool when idle. It handles
// the keep-alive race: when a reused connection dies before any byte of a response arrives, the
// idempotent requests on it are handed back to the pool for a fresh connection; nothing else is
// ever retried. It keeps the deadlines (connect, headers, body idle, keep-alive expiry) that the
// pool's sweep checks. It publishes the per-request keel:client:* diagnostics channels (see
// diagnostics.ts), only when they have subscribers.

import type { Socket } from 'node:net';
import { ParseError, keelError } from '../common/errors.js';
import { SerialLoop } from '../common/serial-loop.js';
import { ParserEvent, ResponseParser, type ResponseHead } from '../http1/response-parser.js';
import type { Exchange } from './exchange.js';
import { isObserved, requestFailed, requestStarted, responseEnded, responseHeaders } from './diagnostics.js';

/** What a connection needs from its pool. */
export interface ConnectionOwner {
  readonly connectTimeout: number;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly maxHeaderSize: number;
  /** `protocol//hostname:port`, for the diagnostics channels. */
  readonly originName: string;
  /** The connection has no exchange in flight and can be reused. */
  connectionIdle(conn: ClientConnection): void;
  /** The connection is closed or handed over: forget it. */
  connectionGone(conn: ClientConnection): void;
  /** Send these exchanges again, on another connection (the keep-alive race). */
  retry(exchanges: Exchange[]): void;
}

/** Margin taken off a server's `Keep-Alive: timeout=N` before a connection counts as expired. */
const KEEP_ALIVE_MARGIN_MS = 1000;

function keepAliveHintMs(raw: readonly string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'keep-alive') {
      const match = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(raw[i + 1]);
      if (match) return Number(match[1]) * 1000;
    }
  }
  return -1;
}

export class ClientConnection {
  readonly socket: Socket;
  readonly #owner: ConnectionOwner;
  readonly #parser: ResponseParser;
  /** Exchanges whose requests were (or are being) written, in order; [0] owns the next response. */
  #inflight: Exchange[] = [];
  /** Exchanges waiting for the write side (pipelining: behind the one writing). */
  #waiting: Exchange[] = [];
  #writer: Exchange | null = null;
  #drainCallback: (() => void) | null = null;
  #responding = false;
  #interim = false;
  #bodyPaused = false;
  /** Parse and dispatch until the parser needs data or something asks to wait; never re-entrant. */
  readonly #puller = new SerialLoop(() => this.#pullOnce());
  #served = 0;
  #isReusable = true;
  #isClosed = false;
  #peerEnded = false;
  #eofSeen = false;
  // Deadlines in ms since the epoch; 0 = not armed. Checked by the pool's sweep.
  #connectDeadline = 0;
  #headersDeadline = 0;
  #bodyDeadline = 0;
  #expiresAt = 0;

  constructor(socket: Socket, owner: ConnectionOwner, isConnecting: boolean) {
    this.socket = socket;
    this.#owner = owner;
    this.#parser = new ResponseParser({ maxHeaderSize: owner.maxHeaderSize });
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
    socket.on('drain', this.#onDrain);
    if (isConnecting && owner.connectTimeout > 0) {
      this.#connectDeadline = Date.now() + owner.connectTimeout;
      socket.once('connect', this.#onConnect);
      socket.once('secureConnect', this.#onConnect);
    }
  }

  /** Exchanges written or waiting on this connection. */
  get load(): number {
    return this.#inflight.length + this.#waiting.length;
  }

  /** Whether the connection can take `exchange` now (pipelining depth `pipelining`). */
  canTake(exchange: Exchange, pipelining: number): boolean {
    if (!this.#isReusable || this.#isClosed) return false;
    const load = this.load;
    if (load === 0) return true;
    if (load >= pipelining || !exchange.isIdempotent) return false;
    // Nothing is pipelined behind a non-idempotent request.
    for (const ex of this.#inflight) if (!ex.isIdempotent) return false;
    for (const ex of this.#waiting) if (!ex.isIdempotent) return false;
    return true;
  }

  /** Idle, open, and not past the server's keep-alive hint. */
  isUsable(now: number): boolean {
    return this.#isReusable && !this.#isClosed && !this.socket.destroyed && (this.#expiresAt === 0 || now < this.#expiresAt);
  }

  /** Queue an exchange; it starts writing when the write side is free. */
  dispatch(exchange: Exchange): void {
    if (this.#inflight.length === 0 && this.#waiting.length === 0) {
      this.#parser.requestMethod = exchange.method;
      this.socket.ref(); // idle connections are unref'd (see ConnectionPool.connectionIdle)
    }
    this.#expiresAt = 0;
    this.#waiting.push(exchange);
    if (this.#writer === null) this.#startNextWriter();
  }

  #startNextWriter(): void {
    let next = this.#waiting.shift();
    while (next !== undefined && next.isCancelled) next = this.#waiting.shift();
    if (next === undefined) {
      if (this.load === 0 && !this.#isClosed && this.#isReusable) this.#owner.connectionIdle(this);
      return;
    }
    this.#writer = next;
    this.#inflight.push(next);
    if (isObserved()) requestStarted(next, this.#owner.originName);
    next.start(this, this.#served > 0);
  }

  // ---- the write side, used by the exchange that owns it ----------------------------------------

  /** Write request bytes; false means wait for onDrain before writing more. */
  write(data: string | Buffer, encoding: BufferEncoding = 'latin1'): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(data, encoding);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Call `callback` once the socket drains (one waiter: the current writer). */
  onDrain(callback: () => void): void {
    this.#drainCallback = callback;
  }

  /** The exchange wrote its whole request: the response deadline starts, the next may write. */
  requestSent(exchange: Exchange): void {
    if (exchange !== this.#writer) return;
    this.#writer = null;
    const timeout = this.#owner.headersTimeout;
    if (timeout > 0 && this.#headersDeadline === 0 && !this.#responding) this.#headersDeadline = Date.now() + timeout;
    this.#startNextWriter();
  }

  /** The reader wants more of the response body. */
  resume(): void {
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    if (!this.socket.destroyed) this.socket.resume();
    this.#puller.run();
  }

  /**
   * Abandon `exchange` (the caller destroyed its request or response): the connection's state is
   * no longer known, so it is destroyed; the other exchanges on it are retried or failed.
   */
  abort(exchange: Exchange, error: Error | null): void {
    const index = this.#inflight.indexOf(exchange);
    if (index !== -1) this.#inflight.splice(index, 1);
    const waiting = this.#waiting.indexOf(exchange);
    if (waiting !== -1) {
      this.#waiting.splice(waiting, 1);
      return; // never written: the connection is untouched
    }
    if (index === -1) return;
    this.#close(error ?? keelError('ECONNRESET', 'socket hang up'), true);
  }

  /**
   * Close the connection now (pool shutdown, idle timeout, expired keep-alive). Exchanges on it
   * fail with `error` and are never retried.
   */
  destroy(error: Error = keelError('ERR_CLIENT_DESTROYED')): void {
    this.#isReusable = false;
    this.#close(error, false);
  }

  /** Called by the pool's sweep. */
  checkDeadlines(now: number): void {
    if (this.#connectDeadline !== 0 && now >= this.#connectDeadline) {
      this.#close(keelError('ERR_CLIENT_CONNECT_TIMEOUT', String(this.#owner.connectTimeout)), false);
    } else if (this.#headersDeadline !== 0 && now >= this.#headersDeadline) {
      this.#close(keelError('ERR_CLIENT_HEADERS_TIMEOUT', String(this.#owner.headersTimeout)), false);
    } else if (this.#bodyDeadline !== 0 && now >= this.#bodyDeadline && !this.#bodyPaused) {
      this.#close(keelError('ERR_CLIENT_BODY_TIMEOUT', String(this.#owner.bodyTimeout)), false);
    } else if (this.load === 0 && this.#expiresAt !== 0 && now >= this.#expiresAt) {
      this.destroy();
    }
  }

  /** Expire an idle connection `ms` from now (the pool's idle timeout), unless the server's hint is sooner. */
  expireIn(ms: number, now: number): void {
    const at = now + ms;
    if (this.#expiresAt === 0 || at < this.#expiresAt) this.#expiresAt = at;
  }

  // ---- the read side ------------------------------------------------------------------------------

  #onConnect = (): void => {
    this.#connectDeadline = 0;
  };

  #onData = (chunk: Buffer): void => {
    this.#parser.push(chunk);
    this.#puller.run();
  };


  #pullOnce(): void {
    const parser = this.#parser;
    while (!this.#bodyPaused && !this.#isClosed) {
      let event: ParserEvent;
      try {
        event = parser.next();
      } catch (err) {
        this.#close(err as ParseError, false);
        return;
      }
      if (event === ParserEvent.NeedData) {
        if (!this.#peerEnded) return;
        // The server closed its side and every byte it sent is parsed: a body delimited by the
        // close ends here; anything else was cut short.
        if (!this.#eofSeen) {
          this.#eofSeen = true;
          try {
            parser.finish();
          } catch (err) {
            this.#close(err as ParseError, false);
            return;
          }
          continue;
        }
        this.#close(keelError('ECONNRESET', 'socket hang up'), true);
        return;
      }
      const exchange = this.#inflight[0];
      if (exchange === undefined) {
        this.#close(keelError('ECONNRESET', 'unexpected data from the server'), false);
        return;
      }
      if (event === ParserEvent.Head) {
        if (!this.#onHead(exchange, parser.head!)) return;
      } else if (event === ParserEvent.Body) {
        if (this.#owner.bodyTimeout > 0) this.#bodyDeadline = Date.now() + this.#owner.bodyTimeout;
        if (!exchange.onBody(parser.body)) {
          this.#bodyPaused = true;
          this.socket.pause();
        }
      } else {
        this.#onMessageEnd(exchange, parser.trailers);
      }
    }
  }

  /** Returns false when the socket was handed over (upgrade). */
  #onHead(exchange: Exchange, head: ResponseHead): boolean {
    const status = head.statusCode;
    if (status < 200 && status !== 101) {
      this.#interim = true;
      exchange.onInformation(head);
      return true;
    }
    this.#interim = false;
    this.#headersDeadline = 0;
    if (head.upgrade) {
      const rest = this.#parser.detach();
      this.#inflight.shift();
      this.#detach();
      this.#isClosed = true;
      this.#owner.connectionGone(this);
      this.socket.setTimeout(0);
      // As Node: the new owner decides when reading starts (attaching 'data' resumes the socket).
      (this.socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
      exchange.onUpgrade(head, this.socket, rest);
      return false;
    }
    this.#responding = true;
    if (this.#owner.bodyTimeout > 0) this.#bodyDeadline = Date.now() + this.#owner.bodyTimeout;
    if (isObserved()) responseHeaders(exchange, status);
    exchange.onResponse(head);
    return true;
  }

  #onMessageEnd(exchange: Exchange, trailers: string[]): void {
    if (this.#interim) {
      this.#interim = false; // the final response to the same request follows
      return;
    }
    const head = this.#parser.head!;
    this.#inflight.shift();
    this.#responding = false;
    this.#bodyDeadline = 0;
    this.#served++;
    const next = this.#inflight[0];
    this.#parser.requestMethod = next !== undefined ? next.method : this.#waiting[0]?.method ?? 'GET';
    if (next !== undefined && this.#owner.headersTimeout > 0 && next !== this.#writer) {
      this.#headersDeadline = Date.now() + this.#owner.headersTimeout;
    }
    if (!head.keepAlive) this.#isReusable = false;
    else {
      const hint = keepAliveHintMs(head.rawHeaders);
      if (hint >= 0) this.#expiresAt = Date.now() + hint - KEEP_ALIVE_MARGIN_MS;
    }
    if (isObserved()) responseEnded(exchange);
    exchange.onEnd(trailers);
    if (!this.#isReusable) {
      // The server ends the connection after this response: whatever was pipelined behind it goes elsewhere.
      this.#close(keelError('ERR_CLIENT_SOCKET_CLOSED'), true);
      return;
    }
    if (this.load === 0 && !this.#isClosed) this.#owner.connectionIdle(this);
  }

  #onEnd = (): void => {
    this.#peerEnded = true;
    this.#puller.run();
  };

  #onError = (error: Error): void => {
    this.#close(error, true);
  };

  #onClose = (): void => {
    this.#close(keelError('ECONNRESET', 'socket hang up'), true);
  };

  #onDrain = (): void => {
    const callback = this.#drainCallback;
    this.#drainCallback = null;
    if (callback !== null) callback();
  };

  /**
   * The connection is finished. When `mayRetry` (the peer closed or reset it), exchanges whose
   * response had not started are retried if the connection had served a response before (the
   * keep-alive race) and they may be retried; never-written exchanges always go elsewhere. The
   * others fail with `error`. Protocol errors, timeouts and destroy() never retry.
   */
  #close(error: Error, mayRetry: boolean): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#isReusable = false;
    this.#connectDeadline = this.#headersDeadline = this.#bodyDeadline = 0;
    this.#owner.connectionGone(this);
    const sent = this.#inflight;
    const unsent = this.#waiting;
    this.#inflight = [];
    this.#waiting = [];
    this.#writer = null;
    const retry: Exchange[] = [];
    sent.forEach((exchange, i) => {
      const responseStarted = i === 0 && this.#responding;
      if (mayRetry && !responseStarted && this.#served > 0 && exchange.canRetry()) retry.push(exchange);
      else failExchange(exchange, error);
    });
    // Never written: these can go to another connection whatever their method.
    if (mayRetry) retry.push(...unsent);
    else for (const exchange of unsent) failExchange(exchange, error);
    if (!this.socket.destroyed) this.socket.destroy();
    if (retry.length > 0) this.#owner.retry(retry);
  }

  #detach(): void {
    const socket = this.socket;
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('close', this.#onClose);
    socket.removeListener('error', this.#onError);
    socket.removeListener('drain', this.#onDrain);
  }
}

/** Fail `exchange` with `error`, publishing keel:client:error when it has subscribers. */
export function failExchange(exchange: Exchange, error: Error): void {
  if (isObserved()) requestFailed(exchange, error);
  exchange.onError(error);
}
