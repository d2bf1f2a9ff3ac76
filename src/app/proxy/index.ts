// keel/proxy: a reverse proxy on Keel's own client. createProxy() returns a request handler
// (usable as middleware) with an `upgrade` method for the server's 'upgrade' event (WebSocket
// tunnelling). Bodies stream both ways with backpressure; upstreams are used round-robin with
// passive health checks.
//   const proxy = createProxy({ upstreams: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'] });
//   const server = createServer(proxy); server.on('upgrade', proxy.upgrade);

import type { Duplex } from 'node:stream';
import type { IncomingMessage, ServerResponse } from '../../keel.js';
import { forward } from './forward.js';
import { resolveOptions, type ProxyOptions } from './options.js';
import { tunnel } from './tunnel.js';

export { ProxyError, type ProxyErrorCode } from './errors.js';
export type { PathRewrite, ProxyErrorHandler, ProxyOptions } from './options.js';

/** The state of one upstream, as `proxy.upstreams` reports it. */
export interface UpstreamStatus {
  /** The upstream's URL, as configured. */
  readonly url: string;
  /** False while the upstream is skipped after a connect failure or a timeout. */
  readonly healthy: boolean;
}

/** What createProxy() returns: a `(req, res, next?)` handler with an upgrade handler and close(). */
export interface Proxy {
  /** Proxy one request; `next` is accepted so the proxy mounts as middleware, and never called. */
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Listener for the server's 'upgrade' event: `server.on('upgrade', proxy.upgrade)`. */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** The upstreams with their passive health, in configuration order. */
  readonly upstreams: readonly UpstreamStatus[];
  /** Close the idle pooled upstream connections of the agents the proxy created. */
  close(): void;
}

/**
 * Create a reverse proxy (see ProxyOptions for every option and default):
 * - requests are sent to the next upstream in turn over a keep-alive Agent, the body piped as it
 *   arrives (or, when a body parser ran first, `req.body` serialised again), the response streamed
 *   back with backpressure;
 * - hop-by-hop fields are removed both ways (RFC 9110 §7.6.1, and every field named in
 *   Connection); X-Forwarded-For/-Proto/-Host, Forwarded (RFC 7239) and Via (RFC 9110 §7.6.3,
 *   "1.1 keel") are added; Host is preserved unless `changeOrigin`;
 * - an upstream that cannot be reached gives 502 (ProxyError ERR_PROXY_UPSTREAM); no response
 *   head within `timeout` ms gives 504 (ERR_PROXY_TIMEOUT); a failure after the response started
 *   destroys the client connection; a client that goes away aborts the upstream request;
 * - an upstream that failed to connect or timed out is skipped for `healthCooldown` ms; an
 *   idempotent request without a streamed body that could not connect is retried on the next one.
 * Throws TypeError ERR_INVALID_ARG_VALUE / ERR_INVALID_ARG_TYPE / ERR_INVALID_PROTOCOL for bad options.
 */
export function createProxy(options: ProxyOptions): Proxy {
  const ctx = resolveOptions(options);
  const proxy = ((req: IncomingMessage, res: ServerResponse) => forward(ctx, req, res)) as Proxy;
  Object.defineProperties(proxy, {
    upgrade: { value: (req: IncomingMessage, socket: Duplex, head: Buffer) => tunnel(ctx, req, socket, head), enumerable: true },
    upstreams: {
      get: (): UpstreamStatus[] => {
        const now = Date.now();
        return ctx.upstreams.all.map((u) => ({ url: u.url.href, healthy: u.downUntil === 0 || now >= u.downUntil }));
      },
      enumerable: true,
    },
    close: { value: () => ctx.close(), enumerable: true },
  });
  return proxy;
}

export default createProxy;
