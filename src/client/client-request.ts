// ClientRequest: node:http's outgoing request, a Writable, and an Exchange of Keel's pools. Headers
// can change until the head is committed (first write, end or flushHeaders); bytes written before
// a connection is assigned wait, with their callbacks, so Writable backpressure holds. The
// response is an IncomingMessage whose reading drives the connection (backpressure).

import type { Socket } from 'node:net';
import type tls from 'node:tls';
import { keelError } from '../common/errors.js';
import type { ResponseHead } from '../http1/response-parser.js';
import { buildHeaders, validateHeaderName, validateHeaderValue } from '../message/headers.js';
import { IncomingMessage } from '../message/incoming-message.js';
import { OutgoingMessage, endArguments, type OutgoingHttpHeader, type OutgoingHttpHeaders } from '../message/outgoing-message.js';
import { Agent, globalAgent, type ConnectOptions } from './agent.js';
import type { ClientConnection } from './client-connection.js';
import { isIdempotentMethod, type Exchange } from './exchange.js';

type WriteCallback = (error?: Error | null) => void;
type Chunk = string | Buffer | Uint8Array;

/** Options of request() and get(), node:http's names. */
export interface RequestOptions {
  protocol?: string | null;
  host?: string | null;
  hostname?: string | null;
  port?: number | string | null;
  defaultPort?: number;
  family?: number;
  localAddress?: string;
  socketPath?: string;
  method?: string;
  path?: string | null;
  headers?: OutgoingHttpHeaders | readonly string[];
  auth?: string | null;
  /** An Agent, false for a one-off connection closed after the response, or undefined (globalAgent). */
  agent?: Agent | false;
  /** Socket timeout in ms: 'timeout' event (as req.setTimeout). */
  timeout?: number;
  setHost?: boolean;
  signal?: AbortSignal;
  lookup?: ConnectOptions['lookup'];
  /** Response header section limit in bytes (default 16384). */
  maxHeaderSize?: number;
  joinDuplicateHeaders?: boolean;
  /** TLS options (https): ca, cert, key, rejectUnauthorized, servername, ... */
  ca?: tls.ConnectionOptions['ca'];
  cert?: tls.ConnectionOptions['cert'];
  key?: tls.ConnectionOptions['key'];
  rejectUnauthorized?: boolean;
  servername?: string;
  [option: string]: unknown;
}

/** The client-side response: Node's IncomingMessage with `req`. */
export class ClientIncomingMessage extends IncomingMessage {
  req: ClientRequest | null = null;
}

const NO_BODY_BY_DEFAULT = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);
const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'ciphers', 'ecdhCurve', 'minVersion', 'maxVersion', 'secureContext', 'checkServerIdentity', 'ALPNProtocols'];

/**
 * An outgoing request (node:http's ClientRequest): `setHeader`, `getHeader`, `removeHeader`,
 * `write`, `end`, `flushHeaders`, `abort`, `destroy`, `setTimeout`, `setNoDelay`,
 * `setSocketKeepAlive`; events `socket`, `response`, `information`, `continue`, `upgrade`,
 * `connect`, `timeout`, `error`, `close`, `finish`. Errors: ECONNRESET ('socket hang up') when the
 * connection is lost before a response, ABORT_ERR when `signal` aborts, HPE_* when the response
 * breaks HTTP/1.1, ERR_INVALID_PROTOCOL, ERR_UNESCAPED_CHARACTERS, ERR_INVALID_HTTP_TOKEN (thrown).
 */
export class ClientRequest extends OutgoingMessage implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly protocol: string;
  readonly agent: Agent;
  readonly isIdempotent: boolean;
  /** Whether the connection had served a request before (Node's reusedSocket). */
  reusedSocket = false;
  /** The response, once its head arrived. */
  res: ClientIncomingMessage | null = null;
  /** True after abort(). */
  aborted = false;
  /** Whether the request asks to keep the connection (the agent's keepAlive). */
  shouldKeepAlive: boolean;
  maxHeadersCount: number | null = null;
  /** Whether chunked framing is used for a body of unknown length (false for GET, HEAD, ...). */
  useChunkedEncodingByDefault: boolean;

  readonly #connect: ConnectOptions;
  readonly #joinDuplicateHeaders: boolean;
  #conn: ClientConnection | null = null;
  #socket: Socket | null = null;
  #headWritten = false;
  #chunked = false;
  #heldWrite: [Chunk, BufferEncoding, WriteCallback] | null = null;
  #heldFinal: WriteCallback | null = null;
  #flushOnStart = false;
  #attempts = 0;
  #cancelled = false;
  #closed = false;
  #errored = false;
  #timeoutMs = 0;
  #noDelay: boolean | null = null;
  #signal: AbortSignal | null = null;
  #onAbort: (() => void) | null = null;
  /** Length of the whole body when end(body) gave it before anything was written; else -1. */
  #knownLength = -1;
  /** That whole body, kept so that a retry can send it again. */
  #retained: [Chunk, BufferEncoding] | null = null;
  /** Field lines given as a flat array: sent as given, in order (Node's raw headers). */
  #rawHeaderList: string[] | null = null;
  #trailers = '';

  constructor(input: string | URL | RequestOptions, options?: RequestOptions | ((res: ClientIncomingMessage) => void), callback?: (res: ClientIncomingMessage) => void) {
    super({ decodeStrings: false, emitClose: false, autoDestroy: false });
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    let opts: RequestOptions;
    if (typeof input === 'string' || input instanceof URL) {
      const url = typeof input === 'string' ? new URL(input) : input;
      opts = options === undefined ? urlToOptions(url) : Object.assign(urlToOptions(url), options);
    } else {
      opts = options === undefined ? input : Object.assign({}, input, options);
    }

    const defaultAgent = (opts._defaultAgent as Agent | undefined) ?? globalAgent;
    const agent = opts.agent === false ? defaultAgent._oneOff() : opts.agent ?? defaultAgent;
    if (!(agent instanceof Agent)) throw keelError('ERR_INVALID_ARG_TYPE', 'options.agent', 'an instance of Keel\'s Agent, false or undefined', typeof agent);
    this.agent = agent;
    const protocol = opts.protocol ?? agent.protocol;
    if (protocol !== agent.protocol) throw keelError('ERR_INVALID_PROTOCOL', String(protocol), agent.protocol);
    this.protocol = protocol;
    const defaultPort = opts.defaultPort ?? agent.defaultPort;
    const port = Number(opts.port ?? defaultPort) || defaultPort;
    const host = opts.hostname ?? opts.host ?? 'localhost';
    this.host = host;
    const method = (opts.method ?? 'GET').toUpperCase();
    validateHeaderName(method, 'Method');
    this.method = method;
    const path = opts.path ?? '/';
    if (/[\u0000-\u0020\u007f-\uffff]/.test(path)) throw keelError('ERR_UNESCAPED_CHARACTERS', 'Request path');
    this.path = path;
    this.isIdempotent = isIdempotentMethod(method);
    this.useChunkedEncodingByDefault = !NO_BODY_BY_DEFAULT.has(method);
    this.shouldKeepAlive = agent.keepAlive;
    this.#joinDuplicateHeaders = opts.joinDuplicateHeaders === true;

    const headers = opts.headers;
    if (Array.isArray(headers)) {
      if (headers.length % 2 !== 0) throw keelError('ERR_INVALID_ARG_VALUE', 'options.headers', 'an array of odd length');
      for (let i = 0; i < headers.length; i += 2) {
        validateHeaderName(headers[i]);
        validateHeaderValue(headers[i], headers[i + 1]);
      }
      this.#rawHeaderList = headers.map(String);
    } else if (headers) {
      for (const name of Object.keys(headers)) {
        const value = (headers as OutgoingHttpHeaders)[name];
        if (value !== undefined) this.setHeader(name, value);
      }
    }
    if ((opts.setHost ?? true) && !this.hasHeader('host') && !this.#rawHasHost() && !opts.socketPath) {
      const hostHeader = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
      this.setHeader('Host', port === defaultPort ? hostHeader : `${hostHeader}:${port}`);
    }
    if (opts.auth && !this.hasHeader('authorization')) this.setHeader('Authorization', `Basic ${Buffer.from(opts.auth).toString('base64')}`);

    let tlsOptions: Record<string, unknown> | undefined;
    if (protocol === 'https:') {
      tlsOptions = {};
      for (const key of TLS_KEYS) if (opts[key] !== undefined) tlsOptions[key] = opts[key];
    }
    this.#connect = {
      protocol: protocol as 'http:' | 'https:',
      host: host.startsWith('[') ? host.slice(1, -1) : host,
      port,
      localAddress: opts.localAddress,
      family: opts.family,
      socketPath: opts.socketPath,
      lookup: opts.lookup,
      tls: tlsOptions as tls.ConnectionOptions | undefined,
    };
    if (callback) this.once('response', callback);
    if (opts.timeout !== undefined) this.setTimeout(opts.timeout);
    const signal = opts.signal;
    if (signal) {
      if (signal.aborted) process.nextTick(() => this.destroy(abortError(signal)));
      else {
        this.#signal = signal;
        this.#onAbort = () => this.destroy(abortError(signal));
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    }
    if (this.getHeader('expect') !== undefined) this.#flushOnStart = true;
    process.nextTick(() => {
      if (!this.#cancelled) this.agent._dispatch(this, this.#connect);
    });
  }

  /** The socket, once assigned. */
  get socket(): Socket | null {
    return this.#socket;
  }
  /** Node's deprecated alias of `socket`. */
  get connection(): Socket | null {
    return this.#socket;
  }
  get finished(): boolean {
    return this.writableEnded;
  }
  get isCancelled(): boolean {
    return this.#cancelled;
  }

  #rawHasHost(): boolean {
    const raw = this.#rawHeaderList;
    if (raw === null) return false;
    for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') return true;
    return false;
  }

  /** Add trailer fields, sent after a chunked body (ignored for other framings, as in Node). */
  addTrailers(headers: OutgoingHttpHeaders | [string, string][]): void {
    const entries = Array.isArray(headers) ? headers : Object.entries(headers);
    for (const [name, value] of entries) {
      validateHeaderName(name, 'Trailer name');
      validateHeaderValue(name, value);
      for (const v of Array.isArray(value) ? value : [value]) this.#trailers += `${name}: ${v}\r\n`;
    }
  }

  /** Send the head now (Node's flushHeaders); the body, if any, follows chunked. */
  flushHeaders(): void {
    if (this.#conn === null) {
      this.#flushOnStart = true;
      return;
    }
    if (!this.#headWritten) this.#conn.write(this.#renderHead(-1, this.useChunkedEncodingByDefault));
  }

  /** Calls socket.setTimeout(msecs) once the socket is assigned; 'timeout' is emitted on the request. */
  setTimeout(msecs: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    this.#timeoutMs = msecs;
    if (this.#socket !== null) this.#applyTimeout(this.#socket);
    return this;
  }

  setNoDelay(noDelay = true): void {
    this.#noDelay = noDelay;
    this.#socket?.setNoDelay(noDelay);
  }

  setSocketKeepAlive(enable = false, initialDelay = 0): void {
    const apply = (socket: Socket) => socket.setKeepAlive(enable, initialDelay);
    if (this.#socket !== null) apply(this.#socket);
    else this.once('socket', apply);
  }

  /** Deprecated in Node: destroy() and emit 'abort'. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    process.nextTick(() => this.emit('abort'));
    this.destroy();
  }

  // ---- Writable ----------------------------------------------------------------------------------

  override _write(chunk: Chunk, encoding: BufferEncoding, callback: WriteCallback): void {
    if (this.#conn === null) {
      this.#heldWrite = [chunk, encoding, callback];
      return;
    }
    this.#send(chunk, encoding, false, callback);
  }

  override _final(callback: WriteCallback): void {
    if (this.#conn === null) {
      this.#heldFinal = callback;
      return;
    }
    this.#finishOutput();
    callback();
  }

  override end(chunk?: Chunk | (() => void) | null, encoding?: BufferEncoding | (() => void), callback?: () => void): this {
    [chunk, encoding, callback] = endArguments(chunk, encoding, callback);
    // end(body) before anything was written: the whole body is known, so it goes with Content-Length.
    if (chunk !== undefined && chunk !== null && !this.#headWritten && !this.writableEnded && this.writableLength === 0 && this.#heldWrite === null) {
      this.#knownLength = typeof chunk === 'string' ? Buffer.byteLength(chunk, (encoding as BufferEncoding) ?? 'utf8') : chunk.byteLength;
      this.#retained = [chunk, (encoding as BufferEncoding) ?? 'utf8'];
    } else if ((chunk === undefined || chunk === null) && !this.#headWritten && this.writableLength === 0 && this.#heldWrite === null) {
      this.#knownLength = 0;
    }
    super.end(chunk as Chunk, encoding as BufferEncoding, callback);
    return this;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelled = true;
    this.#releaseSignal();
    const conn = this.#conn;
    this.#conn = null;
    if (conn !== null) conn.abort(this, error);
    if (this.res !== null && !this.res.complete) {
      this.res.destroy(error ?? keelError('ECONNRESET', 'aborted'));
    } else if (this.res === null) {
      this.#fail(error ?? keelError('ECONNRESET', 'socket hang up'));
    }
    this.#emitClose();
    callback(null);
  }

  // ---- Exchange ----------------------------------------------------------------------------------

  canRetry(): boolean {
    // Retried once, and only with a body Keel still holds whole: never one that was streamed.
    const hasWholeBody = this.#knownLength === 0 || this.#retained !== null;
    return this.isIdempotent && hasWholeBody && this.#attempts < 2 && !this.#cancelled;
  }

  start(conn: ClientConnection, reusedSocket: boolean): void {
    if (this.#cancelled) {
      conn.requestSent(this);
      return;
    }
    this.#attempts++;
    this.#conn = conn;
    this.reusedSocket = reusedSocket;
    const socket = conn.socket;
    const firstSocket = this.#socket !== socket;
    this.#socket = socket;
    if (this.#noDelay !== null) socket.setNoDelay(this.#noDelay);
    if (this.#timeoutMs > 0) this.#applyTimeout(socket);
    if (firstSocket) process.nextTick(() => this.emit('socket', socket));
    if (this.#headWritten) {
      // A retry on a fresh connection: the head and the whole body (canRetry() made sure Keel has it) go again.
      this.#headWritten = false;
      this.#chunked = false;
      const retained = this.#retained;
      this.#send(retained !== null ? retained[0] : '', retained !== null ? retained[1] : 'latin1', true, null);
      this.#finishOutput();
      return;
    }
    if (this.#flushOnStart) this.flushHeaders();
    const held = this.#heldWrite;
    this.#heldWrite = null;
    if (held !== null) this.#send(held[0], held[1], false, held[2]);
    const final = this.#heldFinal;
    this.#heldFinal = null;
    if (final !== null) {
      this.#finishOutput();
      final();
    }
  }

  onInformation(head: ResponseHead): void {
    const info = {
      statusCode: head.statusCode,
      statusMessage: head.statusMessage,
      httpVersion: `${head.versionMajor}.${head.versionMinor}`,
      httpVersionMajor: head.versionMajor,
      httpVersionMinor: head.versionMinor,
      headers: buildHeaders(head.rawHeaders),
      rawHeaders: head.rawHeaders,
    };
    if (head.statusCode === 100) this.emit('continue');
    this.emit('information', info);
  }

  onResponse(head: ResponseHead): void {
    const conn = this.#conn;
    const res = this.#response(head, conn);
    this.res = res;
    res.once('end', this.#onResponseEnd);
    res.once('close', this.#onResponseClose);
    if (!this.emit('response', res)) res._dump();
  }

  onBody(chunk: Buffer): boolean {
    const res = this.res!;
    if (res._dumped || (res._isStreamUsed && res.destroyed)) return true; // (no stream state: not destroyed)
    return res.push(chunk);
  }

  onEnd(trailers: string[]): void {
    const res = this.res!;
    this.#conn = null;
    this.#clearTimeout();
    res.rawTrailers = trailers;
    res.complete = true;
    res.push(null);
  }

  onUpgrade(head: ResponseHead, socket: Socket, rest: Buffer): void {
    this.#conn = null;
    this.#clearTimeout();
    const res = this.#response(head, null);
    res.complete = true;
    res.push(null);
    this.res = res;
    const event = this.method === 'CONNECT' ? 'connect' : 'upgrade';
    if (this.listenerCount(event) > 0) this.emit(event, res, socket, rest);
    else socket.destroy(); // as Node: a protocol switch nobody asked to handle
    this.#emitClose();
  }

  onError(error: Error): void {
    this.#conn = null;
    this.#clearTimeout();
    if (this.res !== null) {
      if (!this.res.complete) this.res._abort();
      return;
    }
    this.#fail(error);
    this.#emitClose();
  }

  // ---- internals ---------------------------------------------------------------------------------

  #response(head: ResponseHead, conn: ClientConnection | null): ClientIncomingMessage {
    const source = conn === null ? null : {
      resumeBody: () => conn.resume(),
      abortBody: (_message: IncomingMessage, error: Error | null) => {
        if (this.#conn === conn) {
          this.#conn = null;
          conn.abort(this, error);
        }
      },
    };
    const res = new ClientIncomingMessage(conn?.socket ?? this.#socket!, source);
    res.statusCode = head.statusCode;
    res.statusMessage = head.statusMessage;
    res.httpVersionMajor = head.versionMajor;
    res.httpVersionMinor = head.versionMinor;
    res.httpVersion = `${head.versionMajor}.${head.versionMinor}`;
    res.rawHeaders = head.rawHeaders;
    res.joinDuplicateHeaders = this.#joinDuplicateHeaders;
    res.req = this;
    return res;
  }

  #onResponseEnd = (): void => {
    this.#emitClose();
  };

  #onResponseClose = (): void => {
    this.#emitClose();
  };

  #fail(error: Error): void {
    if (this.#errored) return;
    this.#errored = true;
    process.nextTick(() => this.emit('error', error));
  }

  #emitClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#releaseSignal();
    process.nextTick(() => this.emit('close'));
  }

  #releaseSignal(): void {
    if (this.#onAbort !== null) {
      this.#signal!.removeEventListener('abort', this.#onAbort);
      this.#onAbort = null;
    }
  }

  #onSocketTimeout = (): void => {
    this.emit('timeout');
  };

  #applyTimeout(socket: Socket): void {
    socket.setTimeout(this.#timeoutMs);
    socket.removeListener('timeout', this.#onSocketTimeout);
    if (this.#timeoutMs > 0) socket.on('timeout', this.#onSocketTimeout);
  }

  #clearTimeout(): void {
    const socket = this.#socket;
    if (socket !== null && this.#timeoutMs > 0) {
      socket.removeListener('timeout', this.#onSocketTimeout);
      socket.setTimeout(0);
    }
  }

  /**
   * Render the head: request-line, the fields in the order set, Connection, then the framing field:
   * Content-Length when the whole body is known, chunked for a body of unknown length, nothing
   * for a GET-like request without a body (Content-Length: 0 for POST-like ones, as Node).
   */
  #renderHead(bodyLength: number, bodyFollows: boolean): string {
    this.#headWritten = true;
    this._headerCommitted = true;
    let head = `${this.method} ${this.path} HTTP/1.1\r\n`;
    let hasConnection = false;
    let hasFraming = false;
    const raw = this.#rawHeaderList;
    if (raw !== null) {
      for (let i = 0; i < raw.length; i += 2) {
        const key = raw[i].toLowerCase();
        if (key === 'connection') hasConnection = true;
        else if (key === 'content-length' || key === 'transfer-encoding') {
          hasFraming = true;
          if (key === 'transfer-encoding' && /chunked\s*$/i.test(raw[i + 1])) this.#chunked = true;
        }
        head += `${raw[i]}: ${raw[i + 1]}\r\n`;
      }
    }
    const fields = this._headerFields;
    for (let i = 0; i < fields.length; i += 3) {
      const key = fields[i] as string;
      const name = fields[i + 1] as string;
      const value = fields[i + 2] as OutgoingHttpHeader;
      if (key === 'connection') hasConnection = true;
      else if (key === 'content-length' || key === 'transfer-encoding') {
        hasFraming = true;
        if (key === 'transfer-encoding' && /chunked\s*$/i.test(String(value))) this.#chunked = true;
      }
      if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
      else head += `${name}: ${value as OutgoingHttpHeader}\r\n`;
    }
    if (!hasConnection) head += this.shouldKeepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n';
    if (!hasFraming) {
      if (bodyLength > 0 || (bodyLength === 0 && this.useChunkedEncodingByDefault)) head += `Content-Length: ${bodyLength}\r\n`;
      else if (bodyLength < 0 && bodyFollows) {
        head += 'Transfer-Encoding: chunked\r\n';
        this.#chunked = true;
      }
    }
    return `${head}\r\n`;
  }

  #send(chunk: Chunk, encoding: BufferEncoding, isLast: boolean, callback: WriteCallback | null): void {
    const conn = this.#conn;
    if (conn === null) {
      callback?.(keelError('ERR_STREAM_DESTROYED', 'write'));
      return;
    }
    const isString = typeof chunk === 'string';
    const length = isString ? Buffer.byteLength(chunk, encoding) : chunk.byteLength;
    const head = this.#headWritten ? '' : this.#renderHead(isLast ? length : this.#knownLength, length > 0);
    if (length === 0) {
      if (head !== '') conn.write(head);
      callback?.();
      return;
    }
    const prefix = this.#chunked ? `${head}${length.toString(16)}\r\n` : head;
    const suffix = this.#chunked ? '\r\n' : '';
    let ok: boolean;
    if (isString && !this._hasNonAsciiHeader && (encoding === 'utf8' || encoding === 'utf-8' || encoding === 'latin1' || encoding === 'ascii')) {
      ok = conn.write(prefix + chunk + suffix, encoding);
    } else {
      const body = isString ? Buffer.from(chunk, encoding) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      conn.cork();
      if (prefix !== '') conn.write(prefix);
      ok = conn.write(body);
      if (suffix !== '') ok = conn.write(suffix);
      conn.uncork();
    }
    if (callback === null) return;
    if (ok) callback();
    else conn.onDrain(() => callback());
  }

  #finishOutput(): void {
    const conn = this.#conn;
    if (conn === null) return;
    let tail = this.#headWritten ? '' : this.#renderHead(0, false);
    if (this.#chunked) tail += `0\r\n${this.#trailers}\r\n`;
    if (tail !== '') conn.write(tail);
    conn.requestSent(this);
  }
}

function urlToOptions(url: URL): RequestOptions {
  const options: RequestOptions = {
    protocol: url.protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    path: `${url.pathname || '/'}${url.search}`,
  };
  if (url.port !== '') options.port = Number(url.port);
  if (url.username || url.password) options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return options;
}

function abortError(signal: AbortSignal): Error {
  const error = keelError('ABORT_ERR');
  error.name = 'AbortError';
  (error as Error & { cause?: unknown }).cause = signal.reason;
  return error;
}

/** node:http's request(): a ClientRequest; call end() to send it. */
export function request(input: string | URL | RequestOptions, options?: RequestOptions | ((res: ClientIncomingMessage) => void), callback?: (res: ClientIncomingMessage) => void): ClientRequest {
  return new ClientRequest(input, options, callback);
}

/** node:http's get(): request() with method GET, ended at once. */
export function get(input: string | URL | RequestOptions, options?: RequestOptions | ((res: ClientIncomingMessage) => void), callback?: (res: ClientIncomingMessage) => void): ClientRequest {
  const req = new ClientRequest(input, options, callback);
  req.end();
  return req;
}
