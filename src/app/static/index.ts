// keel/static: files from a directory, safely (no path leaves the root), with validators, ranges,
// precompressed siblings and an opt-in listing. The entry point only re-exports serve-static.ts.

export { serveStatic } from './serve-static.js';
export type { StaticHandler, StaticOptions } from './serve-static.js';
export type { StaticCacheOptions } from './file-cache.js';
export { parseByteRanges, MAX_BYTE_RANGES } from './byte-ranges.js';
export type { ByteRange } from './byte-ranges.js';
