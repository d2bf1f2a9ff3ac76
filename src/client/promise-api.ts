// The promise API of `keel/client`: Pool and Client for one origin, and request(url) over a shared
// set of pools. `await request(url, { method, headers, body })` resolves to
// { statusCode, headers, trailers, body } once the response head arrives; body is a Readable with
// text(), json(), arrayBuffer(). Redirects and decompression are opt-in.

import type tls from 'node:tls';
import zlib from 'node:zlib';
import { keelError } from '../common/errors.js';
import { BodyReadable } from './body-readable.js';
import { ConnectionPool, type Origin, type PoolOptions } from './pool.js';
import { RequestExchange, abortError, type RequestBody, type RequestHeaders, type ResponseData } from './request-exchange.js';

export type { RequestBody, RequestHeaders, ResponseData } from './request-exchange.js';

/** Options of one request. */
export interface RequestOptions {
  /** Default 'GET'. */
  method?: string;
  /** origin-form target, default '/'. (With request(url), taken from the URL.) */
  path?: string;
  headers?: RequestHeaders;
  /** string, Buffer, Uint8Array (Content-Length) or Readable / async iterable (chunked). */
  body?: RequestBody;
  /** Abort the request (rejects with an AbortError, code ABORT_ERR). */
  signal?: AbortSignal;
  /** Follow up to this many redirects (301, 302, 303, 307, 308); default 0: none. */
  maxRedirections?: number;
  /** Decode gzip, deflate and br response bodies, and send Accept-Encoding; default false. */
  decompress?: boolean;
  /** Called with each 1xx interim response. */
  onInformation?: (info: { statusCode: number; statusMessage: string; headers: Record<string, unknown> }) => void;
}

/** Pool options, plus TLS options for https: origins. */
export interface ClientPoolOptions extends Omit<PoolOptions, 'createConnection' | 'onSocket'> {
  /** For https: origins: ca, cert, key, rejectUnauthorized, servername, ... (node:tls). */
  tls?: tls.ConnectionOptions;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

function parseOrigin(input: string | URL, tlsOptions?: tls.ConnectionOptions): { origin: Origin; host: string; key: string } {
  const url = typeof input === 'string' ? new URL(input) : input;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw keelError('ERR_INVALID_PROTOCOL', url.protocol, 'http:" or "https:');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    origin: { protocol: url.protocol, hostname, port, tls: tlsOptions },
    host: url.host,
    key: `${url.protocol}//${url.host}`,
  };
}

/**
 * Connections to one origin (scheme, host, port) with `connections` and `pipelining` options
 * (see PoolOptions for every option and its default). Requests that cannot be sent at once wait
 * in order. Errors have stable codes: ERR_CLIENT_CONNECT_TIMEOUT, ERR_CLIENT_HEADERS_TIMEOUT,
 * ERR_CLIENT_BODY_TIMEOUT, ECONNRESET, HPE_* (a response that broke HTTP/1.1), ABORT_ERR.
 */
export class Pool {
  readonly origin: string;
  readonly #pool: ConnectionPool;
  readonly #host: string;
  readonly #keepAlive: boolean;
  readonly #tls: tls.ConnectionOptions | undefined;
  #inflight = 0;
  #closing: Promise<void> | null = null;
  #drained: (() => void) | null = null;

  constructor(origin: string | URL, options: ClientPoolOptions = {}) {
    const { origin: target, host, key } = parseOrigin(origin, options.tls);
    this.origin = key;
    this.#host = host;
    this.#keepAlive = options.keepAlive ?? true;
    this.#tls = options.tls;
    this.#pool = new ConnectionPool(target, { ...options, connectTimeout: options.connectTimeout ?? 10_000, headersTimeout: options.headersTimeout ?? 300_000, bodyTimeout: options.bodyTimeout ?? 300_000 });
  }

  /**
   * Send a request; resolves once the response head arrives. Throws synchronously (before anything
   * is sent) for an invalid path (ERR_UNESCAPED_CHARACTERS) or header (ERR_INVALID_HTTP_TOKEN,
   * ERR_INVALID_CHAR); rejects with ABORT_ERR when `signal` is already aborted.
   */
  request(options: RequestOptions = {}): Promise<ResponseData> {
    if (this.#closing !== null) return Promise.reject(keelError('ERR_CLIENT_CLOSED'));
    const first = this.#send(options);
    const redirections = options.maxRedirections ?? 0;
    return redirections > 0 ? first.then((res) => this.#followRedirects(options, res, redirections)) : first;
  }

  #send(options: RequestOptions): Promise<ResponseData> {
    const method = options.method ?? 'GET';
    const path = options.path ?? '/';
    if (/[\s\x00-\x1f\x7f]/.test(path) || (path[0] !== '/' && path !== '*')) throw keelError('ERR_UNESCAPED_CHARACTERS');
    let headers = options.headers;
    if (options.decompress && !hasHeader(headers, 'accept-encoding')) headers = addHeader(headers, 'accept-encoding', 'gzip, deflate, br');
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    let resolve!: (data: ResponseData) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<ResponseData>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const exchange = new RequestExchange(
      { method, path, host: this.#host, headers, body: options.body, keepAlive: this.#keepAlive, signal: options.signal, onInformation: options.onInformation },
      resolve,
      reject,
    ); // throws for invalid headers, before anything is counted or sent
    this.#inflight++;
    const done = () => {
      if (--this.#inflight === 0 && this.#drained) this.#drained();
    };
    this.#pool.dispatch(exchange);
    return promise.then(
      (res) => {
        res.body.once('close', done);
        return options.decompress ? decompress(res) : res;
      },
      (err: Error) => {
        done();
        throw err;
      },
    );
  }

  /**
   * Follow redirects (RFC 9110 §15.4) up to `max` hops: same-origin hops use this pool, others
   * the shared pools (with this pool's TLS options). ERR_CLIENT_MAX_REDIRECTIONS beyond `max`.
   */
  async #followRedirects(options: RequestOptions, first: ResponseData, max: number): Promise<ResponseData> {
    let res = first;
    let current: RequestOptions = options;
    let url = new URL(options.path ?? '/', this.origin);
    for (let hops = 0; ; hops++) {
      const location = res.headers.location;
      if (!REDIRECT.has(res.statusCode) || typeof location !== 'string') return res;
      let { method = 'GET', body, headers } = current;
      // 303 always, and 301/302 after POST, become GET without a body (as browsers and undici do).
      if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        headers = removeHeaders(headers, ['content-length', 'content-type', 'transfer-encoding']);
      } else if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
        return res; // a streamed body cannot be sent again: the caller gets the redirect
      }
      if (hops >= max) {
        await res.body.dump();
        throw keelError('ERR_CLIENT_MAX_REDIRECTIONS', String(max));
      }
      const next = new URL(location, url);
      const sameOrigin = `${next.protocol}//${next.host}` === this.origin;
      if (!sameOrigin) headers = removeHeaders(headers, ['authorization', 'cookie', 'proxy-authorization', 'host']);
      await res.body.dump();
      current = { ...current, method, body, headers, path: `${next.pathname}${next.search}`, maxRedirections: 0 };
      res = sameOrigin ? await this.#send(current) : await request(next, { ...current, tls: this.#tls });
      url = next;
    }
  }

  /** Stop taking requests, wait for those in flight, then close every connection. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const finish = () => {
        this.#pool.destroy();
        resolve();
      };
      if (this.#inflight === 0) finish();
      else this.#drained = finish;
    });
    return this.#closing;
  }

  /** Close every connection now; requests in flight fail with ERR_CLIENT_DESTROYED. */
  async destroy(): Promise<void> {
    this.#closing ??= Promise.resolve();
    this.#pool.destroy();
  }
}

/** A Pool of exactly one connection (undici's Client). */
export class Client extends Pool {
  constructor(origin: string | URL, options: Omit<ClientPoolOptions, 'connections'> = {}) {
    super(origin, { ...options, connections: 1 });
  }
}

const sharedPools = new Map<string, Pool>();
const tlsIds = new WeakMap<object, number>();
let nextTlsId = 1;

/**
 * Send one request to an absolute URL through the shared pools: one keep-alive Pool per origin
 * and TLS options object (so that TLS settings of one call never apply to another; pass the same
 * `tls` object to share connections). `options.path` is ignored: the URL gives it.
 */
export function request(url: string | URL, options: Omit<RequestOptions, 'path'> & { tls?: tls.ConnectionOptions } = {}): Promise<ResponseData> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const { key: origin } = parseOrigin(target);
  let key = origin;
  if (options.tls !== undefined) {
    let id = tlsIds.get(options.tls);
    if (id === undefined) tlsIds.set(options.tls, (id = nextTlsId++));
    key += `#tls${id}`;
  }
  let pool = sharedPools.get(key);
  if (pool === undefined) {
    pool = new Pool(target, { tls: options.tls });
    sharedPools.set(key, pool);
  }
  return pool.request({ ...options, path: `${target.pathname}${target.search}` });
}

function decompress(res: ResponseData): ResponseData {
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip()
    : encoding === 'deflate' ? zlib.createInflate()
    : encoding === 'br' ? zlib.createBrotliDecompress()
    : null;
  if (decoder === null) return res;
  const decoded = new BodyReadable(null);
  const source = res.body;
  source.pipe(decoder);
  decoder.on('data', (chunk: Buffer) => {
    if (!decoded.push(chunk)) decoder.pause();
  });
  decoded._read = () => decoder.resume();
  decoder.on('end', () => decoded.push(null));
  decoder.on('error', (err) => decoded.destroy(err));
  source.on('error', (err) => decoded.destroy(err));
  decoded.on('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  const headers = { ...res.headers };
  delete headers['content-encoding'];
  delete headers['content-length'];
  return { ...res, headers, body: decoded };
}

function hasHeader(headers: RequestHeaders | undefined, name: string): boolean {
  if (!headers) return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
    return false;
  }
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function addHeader(headers: RequestHeaders | undefined, name: string, value: string): RequestHeaders {
  if (Array.isArray(headers)) return [...headers, name, value];
  return { ...(headers as Record<string, string>), [name]: value };
}

function removeHeaders(headers: RequestHeaders | undefined, names: string[]): RequestHeaders | undefined {
  if (!headers) return headers;
  if (Array.isArray(headers)) {
    const out: string[] = [];
    for (let i = 0; i < headers.length; i += 2) if (!names.includes(String(headers[i]).toLowerCase())) out.push(headers[i], headers[i + 1]);
    return out;
  }
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k.toLowerCase()))) as RequestHeaders;
}

export { BodyReadable };
