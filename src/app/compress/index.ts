// keel/compress: on-the-fly gzip / brotli for Keel (or node:http-shaped) responses, negotiated by
// Accept-Encoding. The entry point only re-exports; compress.ts has the options and the middleware.

export { compress, withCompression, COMPRESS_THRESHOLD_BYTES } from './compress.js';
export type { CompressOptions, Handler, Middleware } from './compress.js';
export type { FlushableResponse } from './response-compressor.js';
export type { ContentCoding } from './accept-encoding.js';
export { isCompressibleType } from './compressible.js';
