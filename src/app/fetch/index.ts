// keel/fetch: fetch-style handlers on Keel's server. A WHATWG Request is built from each
// IncomingMessage (body streamed, `signal` aborted when the client goes away), the handler returns
// a Response, and its status, headers and streamed body are written back with backpressure.
// Hono apps (`app.fetch`) and other fetch-style code run unchanged.

import { Readable } from 'node:stream';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from '../../keel.js';

/** What a fetch-style handler receives besides the Request. */
export interface FetchInfo {
  /** The client's address and port (from the socket). */
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** The node-style request and response, for what the WHATWG objects cannot express. */
  req: IncomingMessage;
  res: ServerResponse;
}

/** A fetch-style handler: a Request in, a Response (or a promise of one) out. */
export type FetchHandler = (request: Request, info: FetchInfo) => Response | Promise<Response>;

/** Options of toNodeHandler() and serve(). */
export interface FetchOptions {
  /**
   * Turn a handler error into a Response (default: 500 text/plain, and the error logged with
   * console.error). Not called when the client had already gone away: that is not a server error.
   */
  onError?: (error: unknown, request: Request) => Response | Promise<Response>;
}

/** Options of serve(): the handler, where to listen, server options. */
export interface ServeOptions extends FetchOptions {
  fetch: FetchHandler;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Default: all interfaces. */
  hostname?: string;
  /** Keel server options (timeouts, limits). */
  server?: ServerOptions;
  /** Closing the server when this signal aborts. */
  signal?: AbortSignal;
}

const BODYLESS = new Set(['GET', 'HEAD']);

/** The error an aborted request's signal carries: the client went away. */
function clientGone(): Error {
  const error = new Error('The client closed the connection');
  (error as Error & { code: string }).code = 'ECONNRESET';
  return error;
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const raw = req.rawHeaders;
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const target = req.url;
  const url = target.startsWith('/') || target === '*'
    ? `${encrypted ? 'https' : 'http'}://${headers.get('host') ?? 'localhost'}${target === '*' ? '/' : target}`
    : target;
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (!BODYLESS.has(method)) {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/** Write a Response to `res`: status, headers (each Set-Cookie on its own line), streamed body. */
async function writeResponse(response: Response, res: ServerResponse, isHead: boolean): Promise<void> {
  const headers: [string, string][] = [];
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers.push([name, value]);
  const cookies = response.headers.getSetCookie();
  const flat: string[] = [];
  for (const [name, value] of headers) flat.push(name, value);
  for (const cookie of cookies) flat.push('set-cookie', cookie);
  res.writeHead(response.status, response.statusText || undefined, flat);
  const body = response.body;
  if (body === null || isHead) {
    if (body !== null) await body.cancel();
    res.end();
    return;
  }
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
    }
    res.end();
  } catch (error) {
    res.destroy(error as Error); // the body failed mid-way: never end it as if complete
  }
}

function defaultOnError(error: unknown): Response {
  console.error(error);
  return new Response('Internal Server Error', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

/**
 * Adapt a fetch-style handler to a `(req, res)` handler for Keel's (or node:http's) server.
 * `request.signal` aborts (reason: an Error with code ECONNRESET) when the client disconnects
 * before the response is complete; a handler that then fails is not reported as a 500.
 */
export function toNodeHandler(handler: FetchHandler, options: FetchOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const onError = options.onError ?? defaultOnError;
  return (req, res) => {
    // Keel's requests carry the signal (req.signal): the same one, with the engine's reasons.
    // node:http's do not: then the client going away is noticed here.
    let signal = (req as { signal?: AbortSignal }).signal;
    if (signal === undefined) {
      const own = new AbortController();
      signal = own.signal;
      res.once('close', () => {
        if (!res.writableFinished) own.abort(clientGone());
      });
    }
    const request = toRequest(req, signal);
    const info: FetchInfo = { remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, req, res };
    const isHead = req.method === 'HEAD';
    Promise.resolve()
      .then(() => handler(request, info))
      .then(
        (response) => writeResponse(response, res, isHead),
        async (error: unknown) => {
          if (signal.aborted || res.destroyed) return; // the client went away
          if (res.headersSent) {
            res.destroy(error as Error);
            return;
          }
          await writeResponse(await onError(error, request), res, isHead);
        },
      )
      .catch((error: unknown) => {
        if (!res.destroyed) res.destroy(error as Error);
      });
  };
}

/**
 * Start a Keel server for a fetch-style handler; resolves to the listening Server.
 *   const server = await serve({ fetch: (req) => new Response('hi'), port: 3000 });
 */
export function serve(options: ServeOptions): Promise<Server> {
  const server = createServer(options.server ?? {}, toNodeHandler(options.fetch, options));
  options.signal?.addEventListener('abort', () => server.close(), { once: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.hostname, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
