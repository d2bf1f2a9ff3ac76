// The chunk-size line of the chunked transfer coding (RFC 9112 §7.1, §7.1.1):
//   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-size = 1*HEXDIG
//   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-name = token ; chunk-ext-val = token / quoted-string
// Extensions are validated and ignored. Keel accepts no BWS (as llhttp): "5 ;a" is an error.

import { ParseError } from '../common/errors.js';
import { CR, HEX_VALUE, QDTEXT, SEMICOLON, TCHAR } from './tables.js';

const MAX_SAFE_HEX_DIGITS = 14; // 0x1FFFFFFFFFFFFF = Number.MAX_SAFE_INTEGER

/**
 * Parse the chunk-size line buf[start, end), `end` being the index of its CR, and return the size.
 * Throws ParseError HPE_INVALID_CHUNK_SIZE for an empty size, a non-HEXDIG, a sign, whitespace or a
 * size above Number.MAX_SAFE_INTEGER (RFC 9112 §7.1: MUST prevent overflow — never truncated);
 * HPE_STRICT for a malformed extension or a bare CR; HPE_CHUNK_EXTENSIONS_OVERFLOW (413) for
 * extensions longer than `maxExtensionSize` bytes.
 */
export function parseChunkSizeLine(buf: Buffer, start: number, end: number, base: number, maxExtensionSize: number): number {
  let i = start;
  let size = 0;
  let significant = 0;
  for (; i < end; i++) {
    const d = HEX_VALUE[buf[i]];
    if (d < 0) break;
    if (size !== 0 || d !== 0) significant++;
    size = size * 16 + d;
  }
  if (i === start) throw new ParseError('HPE_INVALID_CHUNK_SIZE', 'chunk-size is not 1*HEXDIG', base + i);
  if (significant > MAX_SAFE_HEX_DIGITS || size > Number.MAX_SAFE_INTEGER) {
    throw new ParseError('HPE_INVALID_CHUNK_SIZE', 'chunk-size above 2^53-1', base + start);
  }
  if (i === end) return size;
  if (buf[i] !== SEMICOLON) {
    if (buf[i] === CR) throw new ParseError('HPE_STRICT', 'bare CR in a chunk-size line', base + i);
    throw new ParseError('HPE_INVALID_CHUNK_SIZE', 'invalid character after chunk-size', base + i);
  }
  if (end - i > maxExtensionSize) throw new ParseError('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'chunk extensions longer than the limit', base + i);
  checkExtensions(buf, i, end, base);
  return size;
}

function checkExtensions(buf: Buffer, i: number, end: number, base: number): void {
  while (i < end) {
    if (buf[i] !== SEMICOLON) throw new ParseError('HPE_STRICT', 'invalid chunk extension', base + i);
    i++;
    const nameStart = i;
    while (i < end && TCHAR[buf[i]] === 1) i++;
    if (i === nameStart) throw new ParseError('HPE_STRICT', 'chunk extension without a name', base + i);
    if (i === end || buf[i] === SEMICOLON) continue;
    if (buf[i] !== 0x3d /* = */) throw new ParseError('HPE_STRICT', 'invalid character in chunk extension', base + i);
    i++;
    if (buf[i] === 0x22 /* " */) {
      i++;
      for (;;) {
        if (i >= end) throw new ParseError('HPE_STRICT', 'unterminated quoted-string in chunk extension', base + i);
        const b = buf[i];
        if (b === 0x22) { i++; break; }
        if (b === 0x5c /* \ */) {
          const q = buf[i + 1];
          if (i + 1 >= end || !(q === 0x09 || q === 0x20 || (q >= 0x21 && q !== 0x7f))) {
            throw new ParseError('HPE_STRICT', 'invalid quoted-pair in chunk extension', base + i);
          }
          i += 2;
          continue;
        }
        if (QDTEXT[b] !== 1) throw new ParseError('HPE_STRICT', 'invalid character in chunk extension', base + i);
        i++;
      }
    } else {
      const valueStart = i;
      while (i < end && TCHAR[buf[i]] === 1) i++;
      if (i === valueStart) throw new ParseError('HPE_STRICT', 'empty chunk extension value', base + i);
    }
  }
}
