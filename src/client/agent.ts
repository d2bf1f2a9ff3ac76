// Agent: node:http's Agent on Keel's connection pools, one pool per origin name (getName()).
// Options with Node's names and defaults; `createConnection` can be overridden as in Node.
// The globalAgent keeps connections alive (Node 19+: keepAlive true, timeout 5000 ms).

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { ConnectionPool, type Origin } from './pool.js';
import type { Exchange } from './exchange.js';

/** Options of new Agent(), as node:http's, plus Keel's `pipelining`. */
export interface AgentOptions {
  /** Keep connections open between requests (default false, as Node's Agent). */
  keepAlive?: boolean;
  /** Initial delay of TCP keep-alive probes with keepAlive, ms (default 1000). */
  keepAliveMsecs?: number;
  /** Most connections per origin (default Infinity). */
  maxSockets?: number;
  /** Most connections in all (default Infinity). Accepted; enforced per origin only. */
  maxTotalSockets?: number;
  /** Most idle connections kept per origin (default 256). */
  maxFreeSockets?: number;
  /** Which idle connection serves next: 'lifo' (default) or 'fifo'. */
  scheduling?: 'lifo' | 'fifo';
  /** Idle time before a kept connection is closed, ms (default: none; a server's Keep-Alive hint applies). */
  timeout?: number;
  /** Requests in flight per connection for idempotent requests (Keel; default 1: no pipelining). */
  pipelining?: number;
  /** TLS options for an https Agent (ca, cert, key, rejectUnauthorized, servername, ...). */
  [tlsOption: string]: unknown;
}

/** What ClientRequest gives the agent for one request: where to connect. */
export interface ConnectOptions {
  protocol: 'http:' | 'https:';
  host: string;
  port: number;
  localAddress?: string;
  family?: number;
  socketPath?: string;
  lookup?: net.LookupFunction;
  /** TLS options of the request (https). */
  tls?: tls.ConnectionOptions;
}

export class Agent extends EventEmitter {
  /** Default port of this agent's protocol (80; 443 for https). */
  defaultPort = 80;
  /** 'http:' (or 'https:' for https agents). */
  protocol: 'http:' | 'https:' = 'http:';
  readonly options: AgentOptions;
  readonly keepAlive: boolean;
  readonly keepAliveMsecs: number;
  maxSockets: number;
  maxFreeSockets: number;
  maxTotalSockets: number;
  readonly scheduling: 'lifo' | 'fifo';
  #pools = new Map<string, ConnectionPool>();

  constructor(options: AgentOptions = {}) {
    super();
    this.options = { ...options };
    this.keepAlive = options.keepAlive ?? false;
    this.keepAliveMsecs = options.keepAliveMsecs ?? 1000;
    this.maxSockets = options.maxSockets ?? Infinity;
    this.maxFreeSockets = options.maxFreeSockets ?? 256;
    this.maxTotalSockets = options.maxTotalSockets ?? Infinity;
    this.scheduling = options.scheduling ?? 'lifo';
  }

  /** Open sockets per origin name (busy and idle), as Node's agent.sockets. */
  get sockets(): Record<string, Socket[]> {
    return this.#collect((pool) => pool.sockets());
  }

  /** Idle sockets per origin name, as Node's agent.freeSockets. */
  get freeSockets(): Record<string, Socket[]> {
    return this.#collect((pool) => pool.idleSockets());
  }

  /** Number of requests waiting for a socket per origin name (Node keeps the requests themselves). */
  get requests(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pool] of this.#pools) if (pool.pendingCount > 0) out[name] = pool.pendingCount;
    return out;
  }

  #collect<T>(pick: (pool: ConnectionPool) => T[]): Record<string, T[]> {
    const out: Record<string, T[]> = {};
    for (const [name, pool] of this.#pools) {
      const list = pick(pool);
      if (list.length > 0) out[name] = list;
    }
    return out;
  }

  /** The pool key of an origin: `host:port:localAddress[:family]`, as Node's getName. */
  getName(options: { host?: string; port?: number; localAddress?: string; family?: number; socketPath?: string } = {}): string {
    // Node's exact shape: no default port is filled in.
    let name = `${options.host || 'localhost'}:${options.port || ''}:${options.localAddress || ''}`;
    if (options.family === 4 || options.family === 6) name += `:${options.family}`;
    if (options.socketPath) name += `:${options.socketPath}`;
    return name;
  }

  /** Open a connection (override to customise, as in Node). Returns a connecting socket. */
  createConnection(options: ConnectOptions): Socket {
    if (options.socketPath) return net.connect({ path: options.socketPath });
    if (options.protocol === 'https:') {
      const { tls: tlsOptions, ...rest } = options;
      return tls.connect({ ALPNProtocols: ['http/1.1'], ...tlsOptions, ...rest, servername: tlsOptions?.servername ?? (net.isIP(options.host) ? undefined : options.host) } as tls.ConnectionOptions);
    }
    return net.connect({ host: options.host, port: options.port, localAddress: options.localAddress, family: options.family, lookup: options.lookup });
  }

  /** @internal A one-off agent of the same kind, for `agent: false`: no keep-alive. */
  _oneOff(): Agent {
    const Kind = this.constructor as new (options: AgentOptions) => Agent;
    return new Kind({ ...this.options, keepAlive: false });
  }

  /** Close every connection; requests waiting for one fail (as Node's agent.destroy()). */
  destroy(): void {
    for (const pool of this.#pools.values()) pool.destroy();
    this.#pools.clear();
  }

  /** @internal Send an exchange to the pool of its origin. */
  _dispatch(exchange: Exchange, connect: ConnectOptions): void {
    const name = this.getName(connect);
    let pool = this.#pools.get(name);
    if (pool === undefined) {
      const origin: Origin = { protocol: connect.protocol, hostname: connect.host, port: connect.port, socketPath: connect.socketPath };
      pool = new ConnectionPool(origin, {
        connections: this.maxSockets,
        pipelining: typeof this.options.pipelining === 'number' ? this.options.pipelining : 1,
        keepAlive: this.keepAlive,
        keepAliveTimeout: typeof this.options.timeout === 'number' ? this.options.timeout : 0,
        maxFreeSockets: this.maxFreeSockets,
        scheduling: this.scheduling,
        connectTimeout: 0,
        createConnection: () => {
          const socket = this.createConnection(connect);
          if (this.keepAlive) socket.setKeepAlive(true, this.keepAliveMsecs);
          return socket;
        },
      });
      this.#pools.set(name, pool);
    }
    pool.dispatch(exchange);
  }
}

/** The agent request() and get() use when none is given (Node 19+: keep-alive). */
export const globalAgent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });

/**
 * An Agent for https: (node:https's Agent): port 443, TLS over node:tls with ALPN http/1.1 and SNI;
 * TLS options given to the agent (ca, cert, key, rejectUnauthorized, ...) apply to its connections,
 * and a request's own TLS options are part of its pool key.
 */
export class HttpsAgent extends Agent {
  constructor(options: AgentOptions = {}) {
    super(options);
    this.defaultPort = 443;
    this.protocol = 'https:';
  }

  override getName(options: Parameters<Agent['getName']>[0] & { tls?: tls.ConnectionOptions } = {}): string {
    // Every TLS setting that changes what a connection trusts or presents is part of the key, in
    // full (a digest of the whole CA/cert/key material): a request never reuses a connection that
    // was verified against other settings.
    const t = (options.tls ?? {}) as Record<string, unknown>;
    let name = super.getName(options);
    for (const key of TLS_KEY_FIELDS) name += `:${fingerprint(t[key])}`;
    return name;
  }

  override createConnection(options: ConnectOptions): Socket {
    const agentTls: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.options)) if (!AGENT_OPTION_KEYS.has(key)) agentTls[key] = value;
    return super.createConnection({ ...options, protocol: 'https:', tls: { ...agentTls, ...options.tls } });
  }
}

const TLS_KEY_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized', 'ciphers', 'minVersion', 'maxVersion', 'checkServerIdentity', 'secureContext'];
const fingerprints = new WeakMap<object, string>();

/** A stable identity for a TLS option value: the digest of its bytes, cached per object. */
function fingerprint(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
    return typeof value === 'string' && value.length > 64 ? createHash('sha256').update(value).digest('base64url') : String(value);
  }
  if (typeof value === 'function') return `fn:${fingerprintOfObject(value)}`;
  if (typeof value !== 'object') return String(value);
  const cached = fingerprints.get(value);
  if (cached !== undefined) return cached;
  let digest: string;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) digest = createHash('sha256').update(value).digest('base64url');
  else if (Array.isArray(value)) digest = createHash('sha256').update(value.map(fingerprint).join('|')).digest('base64url');
  else digest = `obj:${fingerprintOfObject(value)}`;
  fingerprints.set(value, digest);
  return digest;
}

let nextObjectId = 1;
const objectIds = new WeakMap<object, number>();
function fingerprintOfObject(value: object): number {
  let id = objectIds.get(value);
  if (id === undefined) objectIds.set(value, (id = nextObjectId++));
  return id;
}

const AGENT_OPTION_KEYS = new Set(['keepAlive', 'keepAliveMsecs', 'maxSockets', 'maxTotalSockets', 'maxFreeSockets', 'scheduling', 'timeout', 'pipelining']);

/** The agent https request() and get() use when none is given. */
export const httpsGlobalAgent = new HttpsAgent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });
