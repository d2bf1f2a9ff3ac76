// compress() and withCompression(): the public face of keel/compress. They settle the options once
// (threshold, codings, compressibility rule, zlib options) and install a ResponseCompressor on each
// response; everything per request happens there.

import type { BrotliOptions, ZlibOptions } from 'node:zlib';
import { keelError, type IncomingMessage, type ServerResponse } from '../../keel.js';
import { CONTENT_CODINGS, EncodingNegotiator, checkCodings, type ContentCoding } from './accept-encoding.js';
import { isCompressibleType } from './compressible.js';
import { ResponseCompressor, type CompressionSettings } from './response-compressor.js';

/** Default smallest body compressed, in bytes (smaller bodies gain little and cost a zlib stream). */
export const COMPRESS_THRESHOLD_BYTES = 1024;

/** Options of compress() and withCompression(). */
export interface CompressOptions {
  /**
   * Smallest body compressed, in bytes (default 1024). The length is the Content-Length the handler
   * set, or the body given to `res.end(body)` when nothing was written before; a body whose length
   * is unknown at head time (written with `res.write()`) is compressed.
   */
  threshold?: number;
  /** Codings offered, in server preference order (default ['br', 'gzip']); ties of q go to the first. */
  encodings?: readonly ContentCoding[];
  /**
   * Whether a media type (lower-cased, parameters dropped: 'text/html') is worth compressing.
   * Default: text/*, JSON, JavaScript, XML and +json/+xml types, SVG, wasm, icons, ttf/otf.
   * `text/event-stream` is never compressed, whatever this says.
   */
  compressible?: (mediaType: string) => boolean;
  /** node:zlib options for gzip (default: zlib's, level 6). */
  gzip?: ZlibOptions;
  /** node:zlib options for brotli (default: quality 4, size hint when the length is known). */
  brotli?: BrotliOptions;
}

/** A request listener, as given to createServer(). */
export type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;
/** A connect/Express-style middleware: `next` is optional, so it also works as a plain handler. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

function settle(options: CompressOptions): CompressionSettings {
  if (options === null || typeof options !== 'object') throw keelError('ERR_INVALID_ARG_TYPE', 'options', 'of type object', typeof options);
  const threshold = options.threshold ?? COMPRESS_THRESHOLD_BYTES;
  if (typeof threshold !== 'number' || !(threshold >= 0)) throw keelError('ERR_INVALID_ARG_VALUE', 'options.threshold', String(threshold));
  if (options.compressible !== undefined && typeof options.compressible !== 'function') {
    throw keelError('ERR_INVALID_ARG_TYPE', 'options.compressible', 'of type function', typeof options.compressible);
  }
  return {
    threshold,
    negotiator: new EncodingNegotiator(checkCodings('options.encodings', options.encodings, CONTENT_CODINGS)),
    isCompressible: options.compressible ?? isCompressibleType,
    gzip: options.gzip ?? {},
    brotli: options.brotli ?? {},
  };
}

/**
 * Middleware compressing responses on the fly with brotli or gzip (node:zlib, streaming), chosen by
 * the request's Accept-Encoding with its q-values (RFC 9110 §12.5.3). A response is compressed when
 * its Content-Type is compressible and its length is at least `threshold`; it then gets
 * `Content-Encoding`, loses `Content-Length` (the body is chunked), and a strong ETag becomes weak.
 * `Vary: Accept-Encoding` is added to every compressible response (RFC 9110 §12.5.5).
 *
 * Never compressed: HEAD, 1xx/204/304, 206 or any Content-Range, a response that already has a
 * Content-Encoding, `Cache-Control: no-transform` (RFC 9110 §7.7), text/event-stream.
 *
 * How: the response's write/end/writeHead/flushHeaders are replaced for this response; writeHead is
 * held back until the first body bytes (headersSent still reads true) so the decision sees the final
 * headers. `res.flush()` pushes the compressed bytes produced so far. Throws ERR_INVALID_ARG_VALUE /
 * ERR_INVALID_ARG_TYPE for bad options.
 */
export function compress(options: CompressOptions = {}): Middleware {
  const settings = settle(options);
  return (req, res, next) => {
    ResponseCompressor.install(req, res, settings);
    if (next) next();
  };
}

/** Wrap a plain request listener so its responses are compressed (same options as compress()). */
export function withCompression<H extends Handler>(handler: H, options: CompressOptions = {}): (req: IncomingMessage, res: ServerResponse) => ReturnType<H> {
  if (typeof handler !== 'function') throw keelError('ERR_INVALID_ARG_TYPE', 'handler', 'of type function', typeof handler);
  const settings = settle(options);
  return (req, res) => {
    ResponseCompressor.install(req, res, settings);
    return handler(req, res) as ReturnType<H>;
  };
}
