// Request paths in the form the route trees match: the path of a request-target (RFC 9112 §3.2)
// without its query or fragment, percent-decoded except for the escapes that would change its
// structure (%2F stays a byte of a segment, %25 stays a literal percent sign), and case-folded
// when the router is case-insensitive.

import { routerError } from './errors.js';

const PERCENT = 0x25;
const SLASH = 0x2f;

/** Hex digit values by char code (-1: not a hex digit). */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x41 + i] = HEX[0x61 + i] = 10 + i;

/** Where a request's path is held between parsing and matching (reused: matching is synchronous). */
export class RequestPath {
  /** What the trees match: decoded, case-folded when the router is case-insensitive. */
  path = '';
  /** The decoded path with the request's case: parameter values are sliced from it. */
  original = '';
  /** `original` kept %2F / %25 escapes: parameter values need decodeParam(). */
  encoded = false;
}

/**
 * Parse `url` (req.url: origin-form or absolute-form) into `out`. Returns false for a target that
 * has no path (asterisk-form `*`, authority-form). Throws ERR_ROUTE_INVALID_URL (status 400) for
 * a malformed percent-encoding in the path.
 */
export function parseRequestPath(url: string, caseSensitive: boolean, out: RequestPath): boolean {
  let start = 0;
  if (url.charCodeAt(0) !== SLASH) {
    // absolute-form (RFC 9112 §3.2.2): the path starts at the first "/" after "scheme://authority".
    const scheme = url.indexOf('://');
    if (scheme <= 0) return false;
    start = url.indexOf('/', scheme + 3);
    if (start === -1) {
      out.path = out.original = '/';
      out.encoded = false;
      return true;
    }
  }
  // Native scans beat a char loop on the fresh strings a parser hands over.
  const length = url.length;
  let end = url.indexOf('?', start);
  if (end === -1) end = length;
  const hash = url.indexOf('#', start);
  if (hash !== -1 && hash < end) end = hash;
  const percent = url.indexOf('%', start);
  let path = start === 0 && end === length ? url : url.slice(start, end);
  out.encoded = false;
  if (percent !== -1 && percent < end) {
    path = decodePath(path);
    out.encoded = path.indexOf('%') !== -1;
  }
  out.original = path;
  out.path = caseSensitive ? path : foldCase(path);
  return true;
}

/**
 * Percent-decode `path` (UTF-8, RFC 3986 §2.1) except %2F and %25, which stay escaped (upper-cased)
 * so that decoding never creates a segment boundary or a new escape. A parameter value holding one
 * of them is decoded once more by decodeParam(). Throws ERR_ROUTE_INVALID_URL (status 400).
 */
export function decodePath(path: string): string {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i + 3)) {
    const high = HEX[path.charCodeAt(i + 1)] ?? -1;
    const low = HEX[path.charCodeAt(i + 2)] ?? -1;
    if (high < 0 || low < 0) throw routerError('ERR_ROUTE_INVALID_URL');
    const byte = (high << 4) | low;
    if (byte === SLASH || byte === PERCENT) {
      out += decodeRun(path.slice(from, i)) + (byte === SLASH ? '%2F' : '%25');
      from = i + 3;
    }
  }
  return from === 0 ? decodeRun(path) : out + decodeRun(path.slice(from));
}

function decodeRun(run: string): string {
  try {
    return decodeURIComponent(run);
  } catch {
    throw routerError('ERR_ROUTE_INVALID_URL'); // bytes that are not UTF-8
  }
}

/** A parameter value sliced from a decoded path: turns the kept %2F / %25 into "/" and "%". */
export function decodeParam(value: string): string {
  return value.indexOf('%') === -1 ? value : decodeURIComponent(value);
}

/** Lower-case `s`; ASCII only when full lower-casing would change its length (the indexes must hold). */
export function foldCase(s: string): string {
  const lower = s.toLowerCase();
  if (lower.length === s.length) return lower;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c | 0x20) : s[i];
  }
  return out;
}
