// Server: node:http's Server on net.Server. It validates options once, attaches a ServerConnection
// to every socket (including sockets handed to it with emit('connection')), and runs the one
// shared sweep that fires every connection's phase deadlines — no timer per request.

import net, { type Socket } from 'node:net';
import { keelError } from '../common/errors.js';
import {
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_HEADERS_COUNT,
  MAX_HEADER_SIZE_BYTES,
  MAX_REQUEST_TARGET_BYTES,
  MAX_REQUESTS_PER_SOCKET,
  REQUEST_TIMEOUT_MS,
  SOCKET_TIMEOUT_MS,
} from '../common/defaults.js';
import type { RequestParserOptions } from '../http1/request-parser.js';
import { IncomingMessage, type BodySource } from '../message/incoming-message.js';
import type { ConnectionHost } from './connection-host.js';
import { ServerConnection } from './server-connection.js';
import {
  ProxyHeaderReader,
  proxyProtocolVersions,
  type ProxyProtocolError,
  type ProxyProtocolOption,
  type ProxyProtocolVersions,
} from './proxy-protocol-socket.js';
import { ServerResponse, type ResponseSink } from './server-response.js';

/** A request listener, as passed to createServer(). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Options of createServer(), with node:http's names. Every limit and timeout is also a property of
 * the server (except the parser limits, fixed per connection when it opens).
 */
export interface ServerOptions {
  /** Header section limit in bytes, request-line included (default 16384): 431. Node's option. */
  maxHeaderSize?: number;
  /** request-target limit in bytes (default 8192): 414. Keel's option. */
  maxRequestTargetSize?: number;
  /** Time to receive a complete header section, ms (default 60000): 408. 0 disables. */
  headersTimeout?: number;
  /** Time to receive a whole request, ms (default 300000): 408. 0 disables. */
  requestTimeout?: number;
  /** Idle time between requests on a keep-alive connection, ms (default 65000). 0 disables. */
  keepAliveTimeout?: number;
  /** Sweep period for the deadlines, ms (default: a quarter of the smallest timeout, 10..1000). */
  connectionsCheckingInterval?: number;
  /** Join every repeated field with ", " in `req.headers` (default false). Node's option. */
  joinDuplicateHeaders?: boolean;
  /** Disable Nagle's algorithm on accepted sockets (default true, as Node). */
  noDelay?: boolean;
  /** Enable TCP keep-alive probes on accepted sockets (default false). */
  keepAlive?: boolean;
  /** Initial delay of TCP keep-alive probes, ms (default 0). */
  keepAliveInitialDelay?: number;
  /** highWaterMark of requests and responses, bytes (default: the stream default, 16384). */
  highWaterMark?: number;
  /** Request class to instantiate (a subclass of Keel's IncomingMessage). */
  IncomingMessage?: typeof IncomingMessage;
  /** Response class to instantiate (a subclass of Keel's ServerResponse). */
  ServerResponse?: typeof ServerResponse;
  /**
   * Node's lenient-parsing switch. Keel never parses leniently: the option is accepted for
   * compatibility and has no effect (documented deliberate difference).
   */
  insecureHTTPParser?: boolean;
  /**
   * Require a PROXY protocol header (HAProxy's spec, v1 text or v2 binary) at the start of every
   * connection: true (either version), 'v1' or 'v2'; default false. Its source address becomes
   * `socket.remoteAddress` / `remotePort` / `remoteFamily`, and `socket.proxyAddress` (null for
   * v1 UNKNOWN and v2 LOCAL). A connection without a valid header within `headersTimeout` is closed
   * with no response, after a 'proxyProtocolError' event (err.code ERR_PROXY_PROTOCOL). Keel's option.
   */
  proxyProtocol?: ProxyProtocolOption;
  /**
   * Add `Server-Timing: total;dur=<ms>` (W3C Server Timing; ms since the request head was parsed,
   * one decimal) to every response head Keel renders. Default false. Keel's option.
   */
  serverTiming?: boolean;
}

function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw keelError('ERR_INVALID_ARG_VALUE', `options.${name}`, String(value));
  }
  return value;
}

/**
 * An HTTP/1.1 server: node:http's Server API (`listen`, `close`, `address`, `setTimeout`,
 * `closeIdleConnections`, `closeAllConnections`; events `request`, `connection`, `clientError`,
 * `upgrade`, `connect`, `checkContinue`, `checkExpectation`, `timeout`, `close`, `error`,
 * `listening`), with every deadline enforced independently to within a second. With the
 * `proxyProtocol` option, Keel's event `proxyProtocolError` (err, socket) reports each connection
 * dropped for a missing, malformed or late PROXY header (err.code ERR_PROXY_PROTOCOL).
 */
export class Server extends net.Server implements ConnectionHost {
  /** Time to receive a complete header section, ms (Node: server.headersTimeout). */
  headersTimeout: number;
  /** Time to receive a whole request, ms (Node: server.requestTimeout). */
  requestTimeout: number;
  /** Idle time allowed between requests, ms (Node: server.keepAliveTimeout). */
  keepAliveTimeout: number;
  /** Socket inactivity timeout, ms; 0 = none (Node: server.timeout). */
  timeout: number = SOCKET_TIMEOUT_MS;
  /** Most field lines per header section; null = the default (2000). Above it: 431. */
  maxHeadersCount: number | null = null;
  /** Requests per connection before it closes; 0 = unlimited (Node: server.maxRequestsPerSocket). */
  maxRequestsPerSocket: number = MAX_REQUESTS_PER_SOCKET;
  /** Header section limit in bytes. */
  readonly maxHeaderSize: number;
  /** Whether responses carry `Server-Timing: total;dur=<ms>` (option `serverTiming`, default false). */
  readonly serverTiming: boolean;

  readonly #maxRequestTargetSize: number;
  readonly #joinDuplicateHeaders: boolean;
  readonly #highWaterMark: number | undefined;
  readonly #checkingInterval: number | undefined;
  readonly #IncomingMessage: typeof IncomingMessage;
  readonly #ServerResponse: typeof ServerResponse;
  readonly #proxyProtocol: ProxyProtocolVersions | null;
  /** Connections still waiting for their PROXY header (no ServerConnection yet). */
  #proxyPending = new Map<Socket, ProxyHeaderReader>();
  #connections = new Set<ServerConnection>();
  #sweep: NodeJS.Timeout | null = null;
  #sweepPeriod = 0;
  #isClosed = false;

  constructor(options?: ServerOptions | RequestListener, requestListener?: RequestListener) {
    if (typeof options === 'function') {
      requestListener = options;
      options = {};
    }
    const opts: ServerOptions = options ?? {};
    if (typeof opts !== 'object') throw keelError('ERR_INVALID_ARG_TYPE', 'options', 'of type object', typeof opts);
    super({
      allowHalfOpen: true,
      noDelay: opts.noDelay ?? true,
      keepAlive: opts.keepAlive ?? false,
      keepAliveInitialDelay: opts.keepAliveInitialDelay ?? 0,
    });
    this.maxHeaderSize = checkTimeout('maxHeaderSize', opts.maxHeaderSize, MAX_HEADER_SIZE_BYTES);
    this.#maxRequestTargetSize = checkTimeout('maxRequestTargetSize', opts.maxRequestTargetSize, MAX_REQUEST_TARGET_BYTES);
    this.headersTimeout = checkTimeout('headersTimeout', opts.headersTimeout, HEADERS_TIMEOUT_MS);
    this.requestTimeout = checkTimeout('requestTimeout', opts.requestTimeout, REQUEST_TIMEOUT_MS);
    this.keepAliveTimeout = checkTimeout('keepAliveTimeout', opts.keepAliveTimeout, KEEP_ALIVE_TIMEOUT_MS);
    this.#checkingInterval = opts.connectionsCheckingInterval === undefined ? undefined : checkTimeout('connectionsCheckingInterval', opts.connectionsCheckingInterval, 1000);
    this.#joinDuplicateHeaders = opts.joinDuplicateHeaders === true;
    this.#highWaterMark = opts.highWaterMark;
    this.#IncomingMessage = opts.IncomingMessage ?? IncomingMessage;
    this.#ServerResponse = opts.ServerResponse ?? ServerResponse;
    this.#proxyProtocol = proxyProtocolVersions(opts.proxyProtocol);
    this.serverTiming = opts.serverTiming === true;
    this.on('connection', this.#onConnection);
    if (requestListener) this.on('request', requestListener);
  }

  /** Set the socket inactivity timeout (ms) and optionally a 'timeout' listener (Node's API). */
  setTimeout(msecs = 0, callback?: (socket: Socket) => void): this {
    this.timeout = msecs;
    if (callback) this.on('timeout', callback);
    return this;
  }

  /**
   * Stop accepting connections (net.Server.close) and, as Node 19+ does, close idle keep-alive
   * connections at once; busy ones close after their current response. `callback` runs on 'close'.
   */
  override close(callback?: (err?: Error) => void): this {
    this.#isClosed = true;
    super.close(callback);
    for (const reader of this.#proxyPending.values()) reader.abort();
    for (const connection of this.#connections) connection.beginClose();
    return this;
  }

  /** Close every connection that has no request in flight (after flushing what it still writes). */
  closeIdleConnections(): void {
    for (const reader of this.#proxyPending.values()) reader.abort();
    // Gracefully: an idle connection may still be flushing its last response.
    for (const connection of this.#connections) {
      if (connection.isIdle) connection.beginClose();
    }
  }

  /** Destroy every connection; requests in flight see `req.signal` aborted with ERR_SERVER_CLOSED. */
  closeAllConnections(): void {
    for (const reader of this.#proxyPending.values()) reader.abort();
    for (const connection of this.#connections) connection.destroyWith(keelError('ERR_SERVER_CLOSED'));
  }

  // ---- ConnectionHost ------------------------------------------------------------------------

  get isAcceptingRequests(): boolean {
    return !this.#isClosed;
  }

  parserOptions(): RequestParserOptions {
    return {
      maxHeaderSize: this.maxHeaderSize,
      maxRequestTargetSize: this.#maxRequestTargetSize,
      maxHeadersCount: this.maxHeadersCount ?? MAX_HEADERS_COUNT,
    };
  }

  createRequest(socket: Socket, source: BodySource): IncomingMessage {
    const req = new this.#IncomingMessage(socket, source, this.#highWaterMark);
    if (this.#joinDuplicateHeaders) req.joinDuplicateHeaders = true;
    return req;
  }

  createResponse(req: IncomingMessage, sink: ResponseSink, keepAlive: boolean): ServerResponse {
    return new this.#ServerResponse(req, sink, keepAlive, this.#highWaterMark);
  }

  connectionClosed(connection: unknown): void {
    this.#connections.delete(connection as ServerConnection);
    if (this.#connections.size === 0 && this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  #onConnection = (socket: Socket): void => {
    if (this.#proxyProtocol === null) this.acceptConnection(socket);
    else if (this.#isClosed) socket.destroy();
    else this.#proxyPending.set(socket, new ProxyHeaderReader(socket, this.#proxyProtocol, this.headersTimeout, this.#proxyHeaderDone));
  };

  /** After the PROXY header: served as any connection, the bytes after the header first. */
  #proxyHeaderDone = {
    onHeader: (socket: Socket): void => {
      this.#proxyPending.delete(socket);
      this.acceptConnection(socket);
    },
    onDropped: (socket: Socket, error: ProxyProtocolError | null): void => {
      this.#proxyPending.delete(socket);
      if (error !== null) this.emit('proxyProtocolError', error, socket);
    },
  };

  /**
   * Serve HTTP/1.1 on an accepted socket. Subclasses that must first do something with the raw
   * socket (a TLS handshake) override this and call it with the socket to serve.
   */
  protected acceptConnection(socket: Socket): void {
    if (this.timeout > 0) socket.setTimeout(this.timeout);
    const connection = new ServerConnection(socket, this);
    this.#connections.add(connection);
    if (this.#isClosed) connection.beginClose();
    this.#armSweep();
  }

  /** One interval for all connections, unref'd, re-armed when the timeouts change. */
  #armSweep(): void {
    const period = this.#periodMs();
    if (this.#sweep !== null && period === this.#sweepPeriod) return;
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweepPeriod = period;
    this.#sweep = setInterval(this.#onSweep, period);
    this.#sweep.unref();
  }

  #periodMs(): number {
    if (this.#checkingInterval !== undefined) return Math.max(1, this.#checkingInterval);
    let smallest = 4000;
    for (const t of [this.headersTimeout, this.requestTimeout, this.keepAliveTimeout]) {
      if (t > 0 && t < smallest) smallest = t;
    }
    return Math.max(10, Math.min(1000, Math.floor(smallest / 4)));
  }

  #onSweep = (): void => {
    const now = Date.now();
    for (const connection of this.#connections) connection.checkDeadlines(now);
    if (this.#sweep !== null && this.#periodMs() !== this.#sweepPeriod) this.#armSweep();
  };
}

/** Create a Server (node:http's createServer). */
export function createServer(options?: ServerOptions | RequestListener, requestListener?: RequestListener): Server {
  return new Server(options, requestListener);
}
