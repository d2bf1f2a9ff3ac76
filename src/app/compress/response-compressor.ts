// ResponseCompressor: makes one ServerResponse compress its body. It replaces the response's
// write / end / writeHead / flushHeaders (and adds flush) with shared functions that find their
// compressor in a WeakMap — no closure per request. writeHead() is held back until the first body
// bytes, so the decision sees the final status and headers and, for res.end(body), the exact length.

import type { BrotliOptions, ZlibOptions } from 'node:zlib';
import { keelError, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, type ServerResponse } from '../../keel.js';
import { hasListMember, varyOnAcceptEncoding, type EncodingNegotiator } from './accept-encoding.js';
import { CompressionPump, type RawEnd, type RawWrite } from './compression-pump.js';
import { mediaTypeOf } from './compressible.js';

type Chunk = string | Buffer | Uint8Array;
type WriteCallback = (error?: Error | null) => void;
type RawWriteHead = (this: ServerResponse, statusCode: number, statusMessage?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]) => ServerResponse;
type RawFlushHeaders = (this: ServerResponse) => void;
type RawEndFull = (this: ServerResponse, chunk?: Chunk | null, encoding?: BufferEncoding, callback?: () => void) => ServerResponse;

/** A response that went through compress(): it has `flush()`. */
export type FlushableResponse = ServerResponse & {
  /** Push the compressed bytes produced so far to the client now (no-op when not compressing). */
  flush(callback?: () => void): void;
};

/** The settled options of one compress() middleware. */
export interface CompressionSettings {
  /** Smallest body compressed, bytes. */
  readonly threshold: number;
  readonly negotiator: EncodingNegotiator;
  /** Decides on a media type (lower-cased, no parameters). */
  readonly isCompressible: (mediaType: string) => boolean;
  readonly gzip: ZlibOptions;
  readonly brotli: BrotliOptions;
}

const compressors = new WeakMap<ServerResponse, ResponseCompressor>();

function byteLengthOf(chunk: unknown, encoding: BufferEncoding | undefined): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, encoding ?? 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return -1;
}

function headerText(value: OutgoingHttpHeader | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'object' ? value.join(', ') : String(value);
}

/** Store writeHead()'s headers the way writeHead does: an object replaces, an array appends. */
function storeHeaders(res: ServerResponse, headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): void {
  if (!Array.isArray(headers)) {
    for (const name of Object.keys(headers)) {
      const value = (headers as OutgoingHttpHeaders)[name];
      if (value !== undefined) res.setHeader(name, value);
    }
    return;
  }
  if (headers.length > 0 && Array.isArray(headers[0])) {
    for (const pair of headers as unknown as [string, OutgoingHttpHeader][]) res.appendHeader(pair[0], pair[1]);
    return;
  }
  if (headers.length % 2 !== 0) throw keelError('ERR_INVALID_ARG_VALUE', 'headers', 'an array of odd length');
  for (let i = 0; i < headers.length; i += 2) res.appendHeader(String(headers[i]), headers[i + 1]);
}

export class ResponseCompressor {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #settings: CompressionSettings;
  readonly #write: RawWrite;
  readonly #end: RawEndFull;
  readonly #writeHead: RawWriteHead;
  readonly #flushHeaders: RawFlushHeaders;
  #isHeadHeld = false;
  #isDecided = false;
  #pump: CompressionPump | null = null;

  /**
   * Make `res` compress its body per `settings`. Does nothing when the response already has one
   * (compress() used twice) or when its head is already sent.
   */
  static install(req: IncomingMessage, res: ServerResponse, settings: CompressionSettings): void {
    if (compressors.has(res) || res.headersSent) return;
    compressors.set(res, new ResponseCompressor(req, res, settings));
    res.write = write as ServerResponse['write'];
    res.end = end as ServerResponse['end'];
    res.writeHead = writeHead as ServerResponse['writeHead'];
    res.flushHeaders = flushHeaders;
    (res as FlushableResponse).flush = flush;
    Object.defineProperty(res, 'headersSent', HEADERS_SENT);
  }

  private constructor(req: IncomingMessage, res: ServerResponse, settings: CompressionSettings) {
    this.#req = req;
    this.#res = res;
    this.#settings = settings;
    this.#write = res.write as RawWrite;
    this.#end = res.end as RawEndFull;
    this.#writeHead = res.writeHead as RawWriteHead;
    this.#flushHeaders = res.flushHeaders;
  }

  /** True between a held-back writeHead() and the first body bytes. */
  get isHeadHeld(): boolean {
    return this.#isHeadHeld;
  }

  write(chunk: Chunk, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (!this.#isDecided) this.#decide(-1);
    if (this.#pump === null) return this.#write.call(this.#res, chunk, encoding, callback);
    return this.#pump.write(chunk, encoding ?? 'utf8', callback);
  }

  end(chunk?: Chunk | null | (() => void), encoding?: BufferEncoding | (() => void), callback?: () => void): ServerResponse {
    let body: Chunk | null | undefined;
    let bodyEncoding: BufferEncoding | undefined;
    if (typeof chunk === 'function') callback = chunk;
    else if (typeof encoding === 'function') {
      body = chunk;
      callback = encoding;
    } else {
      body = chunk;
      bodyEncoding = encoding;
    }
    if (!this.#isDecided) this.#decide(body === undefined || body === null ? 0 : byteLengthOf(body, bodyEncoding));
    if (this.#pump === null) return this.#end.call(this.#res, body, bodyEncoding, callback);
    this.#pump.end(body, bodyEncoding ?? 'utf8', callback);
    return this.#res;
  }

  writeHead(statusCode: number, statusMessage?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): ServerResponse {
    const res = this.#res;
    if (this.#isDecided) return this.#writeHead.call(res, statusCode, statusMessage, headers);
    if (this.#isHeadHeld) throw keelError('ERR_HTTP_HEADERS_SENT', 'write');
    if (typeof statusMessage !== 'string') {
      headers = statusMessage;
      statusMessage = undefined;
    }
    const status = statusCode | 0;
    const isNeverCompressed = status < 200 || status > 999 || status === 204 || status === 206 || status === 304;
    const isBadMessage = statusMessage !== undefined && (statusMessage.includes('\r') || statusMessage.includes('\n'));
    if (isNeverCompressed || isBadMessage) {
      // Nothing to decide (or the original throws ERR_HTTP_INVALID_STATUS_CODE / ERR_INVALID_CHAR).
      this.#isDecided = true;
      return this.#writeHead.call(res, statusCode, statusMessage, headers);
    }
    if (headers !== undefined && headers !== null) storeHeaders(res, headers);
    res.statusCode = status;
    if (statusMessage !== undefined) res.statusMessage = statusMessage;
    this.#isHeadHeld = true;
    return res;
  }

  flushHeaders(): void {
    if (!this.#isDecided) this.#decide(-1);
    this.#flushHeaders.call(this.#res);
  }

  flush(callback?: () => void): void {
    if (this.#pump !== null) this.#pump.flush(callback);
    else if (callback) process.nextTick(callback);
  }

  /** Decide once, at head time; `knownLength` is the whole body's length in bytes, or -1. */
  #decide(knownLength: number): void {
    this.#isDecided = true;
    const coding = this.#choose(knownLength);
    if (coding !== null) {
      const settings = this.#settings;
      this.#pump = new CompressionPump(this.#res, coding, this.#write, this.#end as unknown as RawEnd, settings.gzip, settings.brotli, knownLength);
    }
    if (this.#isHeadHeld) {
      this.#isHeadHeld = false;
      this.#writeHead.call(this.#res, this.#res.statusCode);
    }
  }

  /** The coding to apply, or null; sets Content-Encoding / Vary and drops Content-Length. */
  #choose(knownLength: number): 'br' | 'gzip' | null {
    const res = this.#res;
    if (!this.#isHeadHeld && res.headersSent) return null;
    const status = res.statusCode;
    // A 304 carries the Vary its 200 would (RFC 9110 §15.4.5); it has no Content-Type to judge
    // by, so it always gets Vary: Accept-Encoding — harmless for a representation that never varies.
    if (status === 304) varyOnAcceptEncoding(res);
    if (status < 200 || status === 204 || status === 206 || status === 304) return null;
    if (res.hasHeader('content-range')) return null;
    const contentEncoding = headerText(res.getHeader('content-encoding'));
    if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity') return null;
    const contentType = headerText(res.getHeader('content-type'));
    if (contentType === undefined) return null;
    const mediaType = mediaTypeOf(contentType);
    if (mediaType === 'text/event-stream' || !this.#settings.isCompressible(mediaType)) return null;
    // From here the response depends on Accept-Encoding, whatever this request gets.
    varyOnAcceptEncoding(res);
    const cacheControl = headerText(res.getHeader('cache-control'));
    if (cacheControl !== undefined && hasListMember(cacheControl, 'no-transform')) return null;
    if (this.#req.method === 'HEAD') return null;
    const declared = headerText(res.getHeader('content-length'));
    const length = declared !== undefined ? Number(declared) : knownLength;
    if (length === 0 || (length > 0 && length < this.#settings.threshold)) return null; // an empty body stays empty
    const coding = this.#settings.negotiator.rank(this.#req.headers['accept-encoding'])[0];
    if (coding === undefined) return null;
    res.removeHeader('content-length');
    res.setHeader('Content-Encoding', coding);
    // A strong validator names exact bytes; the compressed bytes differ (RFC 9110 §8.8.1).
    const etag = res.getHeader('etag');
    if (typeof etag === 'string' && etag.startsWith('"')) res.setHeader('ETag', `W/${etag}`);
    return coding;
  }
}

// The replacements installed on each response: one function each, shared by all responses.

function write(this: ServerResponse, chunk: Chunk, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
  return compressors.get(this)!.write(chunk, encoding, callback);
}

function end(this: ServerResponse, chunk?: Chunk | null | (() => void), encoding?: BufferEncoding | (() => void), callback?: () => void): ServerResponse {
  return compressors.get(this)!.end(chunk, encoding, callback);
}

function writeHead(this: ServerResponse, statusCode: number, statusMessage?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): ServerResponse {
  return compressors.get(this)!.writeHead(statusCode, statusMessage, headers);
}

function flushHeaders(this: ServerResponse): void {
  compressors.get(this)!.flushHeaders();
}

function flush(this: ServerResponse, callback?: () => void): void {
  compressors.get(this)!.flush(callback);
}

/** headersSent stays true from a held-back writeHead() on, as node:http reports it. */
const HEADERS_SENT: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: ServerResponse): boolean {
    return compressors.get(this)?.isHeadHeld === true || (Reflect.get(Object.getPrototypeOf(this), 'headersSent', this) as boolean);
  },
};
