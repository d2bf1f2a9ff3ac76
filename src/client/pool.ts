// ConnectionPool: the connections to one origin. It hands each exchange to an idle connection
// (LIFO or FIFO), to a pipelining connection when allowed, or to a new connection up to
// `connections`, and queues the rest. Retries from the keep-alive race come back here first in
// line. One sweep per pool checks every connection's deadlines.

import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { keelError } from '../common/errors.js';
import { MAX_HEADER_SIZE_BYTES } from '../common/defaults.js';
import { ClientConnection, failExchange, type ConnectionOwner } from './client-connection.js';
import { connectChannel, originName, watchConnect } from './diagnostics.js';
import type { Exchange } from './exchange.js';

/** Where a pool connects. */
export interface Origin {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** Unix domain socket path (instead of hostname/port). */
  socketPath?: string;
  localAddress?: string;
  family?: number;
  lookup?: net.LookupFunction;
  /** TLS options for https: (ca, cert, key, rejectUnauthorized, servername, ...). */
  tls?: tls.ConnectionOptions;
}

/** Pool options; every time is in ms, 0 disables. */
export interface PoolOptions {
  /** Most connections open at once (default Infinity). */
  connections?: number;
  /** Requests in flight per connection (default 1: no pipelining). */
  pipelining?: number;
  /** Keep connections open between requests (default true). */
  keepAlive?: boolean;
  /** Idle time before a kept connection is closed (default 4000; a shorter server hint wins). */
  keepAliveTimeout?: number;
  /** Most idle connections kept (default 256). */
  maxFreeSockets?: number;
  /** Which idle connection serves next: 'lifo' (default, as Node) or 'fifo'. */
  scheduling?: 'lifo' | 'fifo';
  /** Time to establish a connection (default 10000): ERR_CLIENT_CONNECT_TIMEOUT. */
  connectTimeout?: number;
  /** Time from a request sent to its response head (default 0 = none): ERR_CLIENT_HEADERS_TIMEOUT. */
  headersTimeout?: number;
  /** Longest silence inside a response body (default 0 = none): ERR_CLIENT_BODY_TIMEOUT. */
  bodyTimeout?: number;
  /** Response header section limit in bytes (default 16384). */
  maxHeaderSize?: number;
  /** Socket factory (Node's agent.createConnection); returns a connecting socket. */
  createConnection?: (origin: Origin) => Socket;
  /** Called with each new socket (for 'socket' bookkeeping: Agent.sockets). */
  onSocket?: (socket: Socket) => void;
}

export class ConnectionPool implements ConnectionOwner {
  readonly origin: Origin;
  readonly connectTimeout: number;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly maxHeaderSize: number;
  readonly #maxConnections: number;
  readonly #pipelining: number;
  readonly #keepAlive: boolean;
  readonly #keepAliveTimeout: number;
  readonly #maxFree: number;
  readonly #lifo: boolean;
  readonly #createConnection: ((origin: Origin) => Socket) | undefined;
  readonly #onSocket: ((socket: Socket) => void) | undefined;
  #connections = new Set<ClientConnection>();
  #idle: ClientConnection[] = [];
  #pending: Exchange[] = [];
  #sweep: NodeJS.Timeout | null = null;
  #isDestroyed = false;
  #originName: string | null = null;

  constructor(origin: Origin, options: PoolOptions = {}) {
    this.origin = origin;
    this.#maxConnections = options.connections ?? Infinity;
    this.#pipelining = Math.max(1, options.pipelining ?? 1);
    this.#keepAlive = options.keepAlive ?? true;
    this.#keepAliveTimeout = options.keepAliveTimeout ?? 4000;
    this.#maxFree = options.maxFreeSockets ?? 256;
    this.#lifo = (options.scheduling ?? 'lifo') === 'lifo';
    this.connectTimeout = options.connectTimeout ?? 10_000;
    this.headersTimeout = options.headersTimeout ?? 0;
    this.bodyTimeout = options.bodyTimeout ?? 0;
    this.maxHeaderSize = options.maxHeaderSize ?? MAX_HEADER_SIZE_BYTES;
    this.#createConnection = options.createConnection;
    this.#onSocket = options.onSocket;
  }

  /** `protocol//hostname:port` of the origin (diagnostics channels). */
  get originName(): string {
    return (this.#originName ??= originName(this.origin));
  }

  /** Whether connections are kept open between requests. */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Open connections, busy ones and idle ones. */
  get size(): number {
    return this.#connections.size;
  }

  /** Idle connections. */
  get idleCount(): number {
    return this.#idle.length;
  }

  /** Sockets of every open connection. */
  sockets(): Socket[] {
    return [...this.#connections].map((conn) => conn.socket);
  }

  /** Sockets of the idle connections. */
  idleSockets(): Socket[] {
    return this.#idle.map((conn) => conn.socket);
  }

  /** Exchanges waiting for a connection. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Send an exchange on the best connection available now, or queue it. */
  dispatch(exchange: Exchange): void {
    if (exchange.isCancelled) return;
    if (this.#isDestroyed) {
      failExchange(exchange, keelError('ERR_CLIENT_DESTROYED'));
      return;
    }
    const conn = this.#pick(exchange);
    if (conn !== null) conn.dispatch(exchange);
    else this.#pending.push(exchange);
  }

  /** Close idle connections now and the others when they become idle; fail what is queued. */
  destroy(error: Error = keelError('ERR_CLIENT_DESTROYED')): void {
    this.#isDestroyed = true;
    const pending = this.#pending;
    this.#pending = [];
    for (const ex of pending) failExchange(ex, error);
    for (const conn of [...this.#connections]) conn.destroy(error);
    this.#stopSweep();
  }

  /** Close the idle connections (Agent#destroy of free sockets, server shutdown of a pool). */
  closeIdle(): void {
    for (const conn of this.#idle.splice(0)) conn.destroy();
  }

  #pick(exchange: Exchange): ClientConnection | null {
    const now = Date.now();
    while (this.#idle.length > 0) {
      const conn = this.#lifo ? this.#idle.pop()! : this.#idle.shift()!;
      if (conn.isUsable(now)) return conn;
      conn.destroy(); // closed by the server while idle, or past its keep-alive hint
    }
    // Pipeline only when nothing waits: a queued request is never overtaken (in order, as undici).
    if (this.#pipelining > 1 && this.#pending.length === 0) {
      for (const conn of this.#connections) if (conn.canTake(exchange, this.#pipelining)) return conn;
    }
    if (this.#connections.size < this.#maxConnections) return this.#connect();
    return null;
  }

  #connect(): ClientConnection {
    const origin = this.origin;
    let socket: Socket;
    if (this.#createConnection) {
      socket = this.#createConnection(origin);
    } else if (origin.protocol === 'https:') {
      const servername = origin.tls?.servername ?? (net.isIP(origin.hostname) ? undefined : origin.hostname);
      const options: tls.ConnectionOptions = {
        ALPNProtocols: ['http/1.1'],
        ...origin.tls,
        host: origin.hostname,
        port: origin.port,
        servername,
      };
      if (origin.localAddress !== undefined) (options as net.TcpNetConnectOpts).localAddress = origin.localAddress;
      if (origin.family !== undefined) (options as net.TcpNetConnectOpts).family = origin.family;
      if (origin.lookup !== undefined) (options as net.TcpNetConnectOpts).lookup = origin.lookup;
      socket = tls.connect(options);
    } else if (origin.socketPath) {
      socket = net.connect({ path: origin.socketPath });
    } else {
      socket = net.connect({ host: origin.hostname, port: origin.port, localAddress: origin.localAddress, family: origin.family, lookup: origin.lookup });
    }
    socket.setNoDelay(true);
    if (connectChannel.hasSubscribers) watchConnect(this.originName, socket);
    const conn = new ClientConnection(socket, this, socket.connecting);
    this.#connections.add(conn);
    this.#onSocket?.(socket);
    this.#armSweep();
    return conn;
  }

  // ---- ConnectionOwner -------------------------------------------------------------------------

  connectionIdle(conn: ClientConnection): void {
    if (this.#isDestroyed || !this.#keepAlive) {
      conn.destroy();
      return;
    }
    let next = this.#pending.shift();
    while (next !== undefined && next.isCancelled) next = this.#pending.shift();
    if (next !== undefined) {
      conn.dispatch(next);
      return;
    }
    if (this.#idle.length >= this.#maxFree) {
      conn.destroy();
      return;
    }
    if (this.#keepAliveTimeout > 0) conn.expireIn(this.#keepAliveTimeout, Date.now());
    // As Node's Agent: an idle kept connection does not keep the process alive.
    conn.socket.unref();
    this.#idle.push(conn);
  }

  connectionGone(conn: ClientConnection): void {
    this.#connections.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    if (this.#connections.size === 0) this.#stopSweep();
    // A slot opened: start a connection for what is queued.
    if (this.#pending.length > 0 && !this.#isDestroyed) {
      const next = this.#pending.shift()!;
      this.dispatch(next);
    }
  }

  retry(exchanges: Exchange[]): void {
    if (this.#isDestroyed) {
      for (const ex of exchanges) failExchange(ex, keelError('ERR_CLIENT_DESTROYED'));
      return;
    }
    // A retry goes to a fresh connection: the idle ones are likely as dead as the one that failed
    // (a restarted server). What cannot get one now waits first in line.
    const waiting: Exchange[] = [];
    for (const exchange of exchanges) {
      if (exchange.isCancelled) continue;
      if (this.#connections.size < this.#maxConnections) this.#connect().dispatch(exchange);
      else waiting.push(exchange);
    }
    this.#pending.unshift(...waiting);
  }

  #armSweep(): void {
    if (this.#sweep !== null) return;
    const smallest = Math.min(...[this.connectTimeout, this.headersTimeout, this.bodyTimeout, this.#keepAliveTimeout, 4000].filter((t) => t > 0));
    this.#sweep = setInterval(this.#onSweep, Math.max(10, Math.min(1000, Math.floor(smallest / 4))));
    this.#sweep.unref();
  }

  #stopSweep(): void {
    if (this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  #onSweep = (): void => {
    const now = Date.now();
    for (const conn of [...this.#connections]) conn.checkDeadlines(now);
  };
}
