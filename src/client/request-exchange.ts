// RequestExchange: the promise API's request. It renders the head once, writes head and a known
// body in one socket write (a streamed body with chunked framing and backpressure), and resolves
// with { statusCode, headers, trailers, body } as soon as the response head arrives.

import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { keelError } from '../common/errors.js';
import type { ResponseHead } from '../http1/response-parser.js';
import { buildHeaders, validateHeaderName, validateHeaderValue, type IncomingHttpHeaders } from '../message/headers.js';
import { BodyReadable } from './body-readable.js';
import type { ClientConnection } from './client-connection.js';
import { isIdempotentMethod, type Exchange } from './exchange.js';

/** A request body: sent with Content-Length when its size is known, chunked otherwise. */
export type RequestBody = string | Buffer | Uint8Array | Readable | AsyncIterable<Uint8Array | string> | null | undefined;

/** Headers as an object or a flat [name, value, ...] list. */
export type RequestHeaders = Record<string, string | number | readonly string[] | undefined> | readonly string[];

/** What the promise resolves to once the response head has arrived. */
export interface ResponseData {
  statusCode: number;
  statusMessage: string;
  /** Field names lower-cased; repeated fields combined as node:http does. */
  headers: IncomingHttpHeaders;
  /** Field lines as received. */
  rawHeaders: string[];
  /** The trailer section, filled when the body has ended. */
  trailers: IncomingHttpHeaders;
  body: BodyReadable;
}

export interface ExchangeRequest {
  method: string;
  /** origin-form request-target (path and query). */
  path: string;
  /** The Host field value. */
  host: string;
  headers?: RequestHeaders;
  body?: RequestBody;
  keepAlive: boolean;
  signal?: AbortSignal;
  /** Called with each 1xx interim response. */
  onInformation?: (info: { statusCode: number; statusMessage: string; headers: IncomingHttpHeaders }) => void;
}

/** One send and at most one retry (after the keep-alive race). */
const MAX_ATTEMPTS = 2;

function isKnownLength(body: RequestBody): body is string | Uint8Array {
  return typeof body === 'string' || body instanceof Uint8Array;
}

/** Render the request head (request-line and field section), validating every name and value. */
function renderHead(req: ExchangeRequest, bodyLength: number): string {
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  let hasHost = false;
  let hasConnection = false;
  let hasLength = false;
  let hasTransferEncoding = false;
  const add = (name: string, value: unknown) => {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    switch (name.length) {
      case 4: if (name.toLowerCase() === 'host') hasHost = true; break;
      case 10: if (name.toLowerCase() === 'connection') hasConnection = true; break;
      case 14: if (name.toLowerCase() === 'content-length') hasLength = true; break;
      case 17: if (name.toLowerCase() === 'transfer-encoding') hasTransferEncoding = true; break;
    }
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  };
  const headers = req.headers;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) add(headers[i], headers[i + 1]);
  } else if (headers) {
    for (const name of Object.keys(headers)) {
      const value = (headers as Record<string, unknown>)[name];
      if (value !== undefined) add(name, value);
    }
  }
  let prefix = hasHost ? '' : `host: ${req.host}\r\n`;
  if (!hasConnection) prefix += req.keepAlive ? 'connection: keep-alive\r\n' : 'connection: close\r\n';
  if (!hasLength && !hasTransferEncoding) {
    if (bodyLength >= 0) {
      if (bodyLength > 0 || !(req.method === 'GET' || req.method === 'HEAD')) head += `content-length: ${bodyLength}\r\n`;
    } else {
      head += 'transfer-encoding: chunked\r\n';
    }
  }
  const lineEnd = head.indexOf('\r\n') + 2;
  return `${head.slice(0, lineEnd)}${prefix}${head.slice(lineEnd)}\r\n`;
}

export class RequestExchange implements Exchange {
  readonly method: string;
  readonly isIdempotent: boolean;
  readonly #request: ExchangeRequest;
  readonly #resolve: (data: ResponseData) => void;
  readonly #reject: (error: Error) => void;
  #attempts = 0;
  #conn: ClientConnection | null = null;
  #response: ResponseData | null = null;
  #settled = false;
  #onAbort: (() => void) | null = null;
  /** The rendered head of a request without a body (rendered once, in the constructor). */
  #bodylessHead: string | null = null;

  constructor(request: ExchangeRequest, resolve: (data: ResponseData) => void, reject: (error: Error) => void) {
    this.method = request.method;
    this.isIdempotent = isIdempotentMethod(request.method);
    this.#request = request;
    this.#resolve = resolve;
    this.#reject = reject;
    // Validate before anything is sent: errors are thrown to the caller, never half-written. The
    // head of a request without a body is final already: start() writes it as rendered here.
    const head = renderHead(request, isKnownLength(request.body) ? 0 : request.body == null ? 0 : -1);
    if (request.body == null) this.#bodylessHead = head;
    const signal = request.signal;
    if (signal && !signal.aborted) {
      this.#onAbort = () => this.#abort(abortError(signal));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** request-target as written. */
  get path(): string {
    return this.#request.path;
  }

  get isCancelled(): boolean {
    return this.#settled && this.#response === null;
  }

  canRetry(): boolean {
    const body = this.#request.body;
    return this.isIdempotent && (body == null || isKnownLength(body)) && this.#attempts < MAX_ATTEMPTS;
  }

  start(conn: ClientConnection): void {
    this.#conn = conn;
    this.#attempts++;
    const req = this.#request;
    const body = req.body;
    if (body == null || isKnownLength(body)) {
      const length = body == null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      const head = this.#bodylessHead ?? renderHead(req, length);
      if (body == null || length === 0) conn.write(head);
      else if (typeof body === 'string') conn.write(head + body, 'utf8');
      else {
        conn.cork();
        conn.write(head);
        conn.write(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        conn.uncork();
      }
      conn.requestSent(this);
      return;
    }
    conn.write(renderHead(req, -1));
    void this.#stream(conn, body);
  }

  /** Send a streamed body with chunked framing, waiting for 'drain' when the socket is full. */
  async #stream(conn: ClientConnection, body: Readable | AsyncIterable<Uint8Array | string>): Promise<void> {
    try {
      for await (const piece of body as AsyncIterable<Uint8Array | string>) {
        if (this.#settled && this.#response === null) return;
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
        if (chunk.byteLength === 0) continue;
        conn.cork();
        conn.write(`${chunk.byteLength.toString(16)}\r\n`);
        conn.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        conn.uncork();
        if (!conn.write('\r\n')) await new Promise<void>((resolve) => conn.onDrain(resolve));
      }
      conn.write('0\r\n\r\n');
      conn.requestSent(this);
    } catch (err) {
      this.#abort(err as Error);
    }
  }

  onInformation(head: ResponseHead): void {
    this.#request.onInformation?.({ statusCode: head.statusCode, statusMessage: head.statusMessage, headers: buildHeaders(head.rawHeaders) });
  }

  onResponse(head: ResponseHead): void {
    const conn = this.#conn;
    const response: ResponseData = {
      statusCode: head.statusCode,
      statusMessage: head.statusMessage,
      headers: buildHeaders(head.rawHeaders),
      rawHeaders: head.rawHeaders,
      trailers: {},
      body: new BodyReadable(conn),
    };
    this.#response = response;
    this.#settled = true;
    response.body.on('close', this.#onBodyClose);
    this.#resolve(response);
  }

  onBody(chunk: Buffer): boolean {
    return this.#response!.body.push(chunk);
  }

  onEnd(trailers: string[]): void {
    const response = this.#response!;
    // Filled in place: callers may hold the object from the resolved value (as undici's).
    if (trailers.length > 0) Object.assign(response.trailers, buildHeaders(trailers));
    this.#release();
    response.body.push(null);
  }

  onUpgrade(_head: ResponseHead, socket: Socket): void {
    socket.destroy();
    this.onError(keelError('ERR_INVALID_ARG_VALUE', 'method', 'a protocol switch the promise API does not support'));
  }

  onError(error: Error): void {
    this.#release();
    if (!this.#settled) {
      this.#settled = true;
      this.#reject(error);
    } else if (this.#response !== null && !this.#response.body.readableEnded) {
      this.#response.body.destroy(error);
    }
  }

  /** The body was destroyed before its end: abandon the connection. */
  #onBodyClose = (): void => {
    const body = this.#response!.body;
    if (!body.readableEnded && this.#conn !== null) {
      const conn = this.#conn;
      this.#conn = null;
      conn.abort(this, null);
    }
  };

  #abort(error: Error): void {
    const conn = this.#conn;
    this.#conn = null;
    if (conn !== null) conn.abort(this, error);
    this.onError(error);
  }

  #release(): void {
    this.#conn = null;
    if (this.#onAbort !== null) {
      this.#request.signal!.removeEventListener('abort', this.#onAbort);
      this.#onAbort = null;
    }
  }
}

/** The AbortError a request rejects with when its signal aborts (code ABORT_ERR, cause: the reason). */
export function abortError(signal: AbortSignal): Error {
  const error = keelError('ABORT_ERR');
  error.name = 'AbortError';
  (error as Error & { cause?: unknown }).cause = signal.reason;
  return error;
}
