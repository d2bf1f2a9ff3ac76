// The options of createProxy(): their shapes, defaults and validation, resolved once into the
// ProxyContext that every request shares (upstreams, agents, path rewriting, error hook).

import type { Duplex } from 'node:stream';
import { Agent, keelError, request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from '../../keel.js';
import { Agent as HttpsAgent, request as httpsRequest } from '../../keel-https.js';
import type { ProxyError } from './errors.js';
import { UpstreamSet, type Upstream } from './upstreams.js';

/** Rewrites the request path (origin-form, with its query) before the upstream's path prefix is added. */
export type PathRewrite = ((path: string, req: IncomingMessage) => string) | Record<string, string>;

/**
 * Called instead of the default error reply when the proxy fails before the response started
 * (`res.headersSent` false): answer `res` yourself. For an upgrade, the third argument is the
 * client's socket. When the response had already started, the proxy has destroyed the client
 * connection itself and the hook is only told.
 */
export type ProxyErrorHandler = (error: ProxyError, req: IncomingMessage, res: ServerResponse | Duplex) => void;

/** Options of createProxy(). Times in ms. */
export interface ProxyOptions {
  /** Upstream base URLs (http: or https:), used round-robin. A path in a URL prefixes request paths. */
  upstreams?: readonly (string | URL)[];
  /** A single upstream: the same as `upstreams: [target]`. */
  target?: string | URL;
  /** Time for the upstream's response head, from the request's dispatch, ms (default 30000): 504 ERR_PROXY_TIMEOUT. 0 disables. */
  timeout?: number;
  /** Time an upstream that failed to connect or timed out is skipped, ms (default 10000). 0 disables. */
  healthCooldown?: number;
  /** Append X-Forwarded-For; set X-Forwarded-Proto and X-Forwarded-Host (default true). */
  xForwarded?: boolean;
  /** Append an RFC 7239 Forwarded element `for=...;host=...;proto=...` (default true). */
  forwarded?: boolean;
  /** Pseudonym appended to Via in both directions (RFC 9110 §7.6.3), e.g. "1.1 keel" (default 'keel'); false: no Via. */
  via?: string | false;
  /** Send the upstream's host as Host instead of the client's (default false: Host is preserved). */
  changeOrigin?: boolean;
  /** A function, or `{ '<regexp source>': 'replacement' }` where the first matching rule applies. */
  pathRewrite?: PathRewrite;
  /** Error hook, see ProxyErrorHandler (default: answer `error.status` with a short text body). */
  onError?: ProxyErrorHandler;
  /** Agent for http: upstreams (default: a keep-alive Agent owned by the proxy, closed by close()). */
  agent?: Agent;
  /** Agent from keel/https for https: upstreams, e.g. with `ca` (default: a keep-alive one owned by the proxy). */
  httpsAgent?: HttpsAgent;
}

/** What every request of one proxy shares. */
export interface ProxyContext {
  readonly upstreams: UpstreamSet;
  readonly timeout: number;
  readonly xForwarded: boolean;
  readonly forwarded: boolean;
  /** The Via pseudonym, or null. */
  readonly via: string | null;
  readonly changeOrigin: boolean;
  readonly onError: ProxyErrorHandler | null;
  /** The upstream path for `url` (the request-target): rewritten, then prefixed. */
  upstreamPath(upstream: Upstream, url: string, req: IncomingMessage): string;
  /** Start a request to `upstream` with the right function and agent for its protocol. */
  send(upstream: Upstream, method: string, path: string, headers: string[]): ClientRequest;
  /** Close the agents the proxy owns. */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_COOLDOWN_MS = 10_000;
/** Idle time of the proxy's own pooled upstream connections, ms (below Node's 5 s server default). */
const AGENT_IDLE_MS = 4_000;

function checkTime(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw keelError('ERR_INVALID_ARG_VALUE', `options.${name}`, String(value));
  return value;
}

function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw keelError('ERR_INVALID_ARG_TYPE', `options.${name}`, 'of type boolean', typeof value);
  return value;
}

function parseUpstream(value: unknown): URL {
  let url: URL;
  try {
    url = value instanceof URL ? new URL(value.href) : new URL(String(value));
  } catch {
    throw keelError('ERR_INVALID_ARG_VALUE', 'options.upstreams', String(value));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw keelError('ERR_INVALID_PROTOCOL', url.protocol, 'http:');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw keelError('ERR_INVALID_ARG_VALUE', 'options.upstreams', `${url.href} (only scheme, host, port and path)`);
  }
  return url;
}

function compileRewrite(rewrite: PathRewrite | undefined): (path: string, req: IncomingMessage) => string {
  if (rewrite === undefined) return (path) => path;
  if (typeof rewrite === 'function') return rewrite;
  if (typeof rewrite !== 'object' || rewrite === null) throw keelError('ERR_INVALID_ARG_TYPE', 'options.pathRewrite', 'a function or an object', typeof rewrite);
  const rules = Object.entries(rewrite).map(([source, replacement]) => [new RegExp(source), String(replacement)] as const);
  return (path) => {
    for (const [pattern, replacement] of rules) if (pattern.test(path)) return path.replace(pattern, replacement);
    return path;
  };
}

/** The request-target as an origin-form path: absolute-form is reduced to its path and query. */
function originForm(url: string): string {
  if (url.startsWith('/') || url === '*') return url;
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return `/${url}`;
  }
}

/** Validate `options` (TypeError ERR_INVALID_ARG_VALUE / ERR_INVALID_ARG_TYPE, ERR_INVALID_PROTOCOL) and resolve the defaults. */
export function resolveOptions(options: ProxyOptions): ProxyContext {
  if (typeof options !== 'object' || options === null) throw keelError('ERR_INVALID_ARG_TYPE', 'options', 'of type object', typeof options);
  const list = options.upstreams ?? (options.target !== undefined ? [options.target] : []);
  if (!Array.isArray(list) || list.length === 0) throw keelError('ERR_INVALID_ARG_VALUE', 'options.upstreams', 'none (give upstreams or target)');
  const urls = list.map(parseUpstream);
  const via = options.via ?? 'keel';
  if (via !== false && (typeof via !== 'string' || !/^[\x21-\x2b\x2d-\x7e]+$/.test(via))) throw keelError('ERR_INVALID_ARG_VALUE', 'options.via', String(via));
  if (options.onError !== undefined && typeof options.onError !== 'function') throw keelError('ERR_INVALID_ARG_TYPE', 'options.onError', 'a function', typeof options.onError);
  if (options.agent !== undefined && !(options.agent instanceof Agent)) throw keelError('ERR_INVALID_ARG_TYPE', 'options.agent', 'a Keel Agent', typeof options.agent);
  if (options.httpsAgent !== undefined && !(options.httpsAgent instanceof HttpsAgent)) throw keelError('ERR_INVALID_ARG_TYPE', 'options.httpsAgent', 'an Agent from keel/https', typeof options.httpsAgent);
  const rewrite = compileRewrite(options.pathRewrite);

  let ownHttp: Agent | null = null;
  let ownHttps: HttpsAgent | null = null;
  const httpAgent = (): Agent => options.agent ?? (ownHttp ??= new Agent({ keepAlive: true, timeout: AGENT_IDLE_MS }));
  const httpsAgent = (): HttpsAgent => options.httpsAgent ?? (ownHttps ??= new HttpsAgent({ keepAlive: true, timeout: AGENT_IDLE_MS }));

  return {
    upstreams: new UpstreamSet(urls, checkTime('healthCooldown', options.healthCooldown, DEFAULT_COOLDOWN_MS)),
    timeout: checkTime('timeout', options.timeout, DEFAULT_TIMEOUT_MS),
    xForwarded: checkBoolean('xForwarded', options.xForwarded, true),
    forwarded: checkBoolean('forwarded', options.forwarded, true),
    via: via === false ? null : via,
    changeOrigin: checkBoolean('changeOrigin', options.changeOrigin, false),
    onError: options.onError ?? null,
    upstreamPath(upstream, url, req) {
      let path = originForm(url);
      if (path === '*') return path;
      path = rewrite(path, req);
      if (!path.startsWith('/')) path = `/${path}`;
      const prefix = upstream.url.pathname.replace(/\/+$/, '');
      return prefix === '' ? path : path === '/' ? `${prefix}/` : `${prefix}${path}`;
    },
    send(upstream, method, path, headers) {
      const url = upstream.url;
      const isHttps = url.protocol === 'https:';
      const request = isHttps ? httpsRequest : httpRequest;
      return request({
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port === '' ? (isHttps ? 443 : 80) : Number(url.port),
        method,
        path,
        headers,
        agent: isHttps ? httpsAgent() : httpAgent(),
      });
    },
    close() {
      ownHttp?.destroy();
      ownHttps?.destroy();
      ownHttp = ownHttps = null;
    },
  };
}
