// Helpers for the keel/compress tests (deliberately not named *.test.js).
//
// - TEXT: a compressible text body well above the default threshold (about 6 KiB).
// - decoded(res): a parsed response's body (test/server/raw.js shape) decoded per its
//   Content-Encoding (gzip, br or none) with node:zlib.

import zlib from 'node:zlib';

export const TEXT = Array.from({ length: 120 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join('');

export function decoded(res) {
  const coding = res.headers['content-encoding'];
  if (coding === 'gzip') return zlib.gunzipSync(res.body);
  if (coding === 'br') return zlib.brotliDecompressSync(res.body);
  if (coding === undefined) return res.body;
  throw new Error(`unexpected Content-Encoding: ${coding}`);
}
