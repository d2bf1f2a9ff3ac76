// Accept-Encoding negotiation (RFC 9110 §12.5.3): which of the server's content codings a request
// accepts, best first, and the `Vary: Accept-Encoding` that goes with it (§12.5.5). Shared by
// keel/compress (codings made on the fly) and keel/static (precompressed siblings). Parsed by hand,
// no regex; results are cached per field value.

import { keelError, type ServerResponse } from '../../keel.js';

/** A content coding Keel's batteries produce (RFC 9110 §8.4.1: gzip; RFC 7932: br). */
export type ContentCoding = 'br' | 'gzip';

/** The codings Keel knows, in its default order of preference. */
export const CONTENT_CODINGS: readonly ContentCoding[] = ['br', 'gzip'];

const NONE: readonly ContentCoding[] = Object.freeze([]);
/** Distinct Accept-Encoding values remembered per negotiator before the cache starts over. */
const CACHE_ENTRIES = 256;
/** Longest field value that is cached (longer ones are parsed each time). */
const CACHE_VALUE_CHARS = 256;

/**
 * Parse a qvalue (RFC 9110 §12.4.2: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]) into thousandths;
 * -1 when it is not one.
 */
function parseQValue(s: string, start: number, end: number): number {
  if (start >= end) return -1;
  const first = s.charCodeAt(start);
  if (first !== 0x30 && first !== 0x31) return -1;
  let thousandths = first === 0x31 ? 1000 : 0;
  if (end - start === 1) return thousandths;
  if (s.charCodeAt(start + 1) !== 0x2e || end - start > 5) return -1;
  let scale = 100;
  for (let i = start + 2; i < end; i++, scale /= 10) {
    const digit = s.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    thousandths += digit * scale;
  }
  return thousandths > 1000 ? -1 : thousandths;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Weights by coding name (lower-cased) in thousandths, from an Accept-Encoding value:
 *   Accept-Encoding = #( codings [ weight ] ); codings = content-coding / "identity" / "*";
 *   weight = OWS ";" OWS "q=" qvalue.
 * A member with a malformed weight is dropped; other parameters are ignored. `x-gzip` counts as
 * gzip (RFC 9110 §8.4.1.3). A repeated coding keeps its first weight.
 */
export function parseAcceptEncoding(value: string): Map<string, number> {
  const weights = new Map<string, number>();
  let i = 0;
  const n = value.length;
  while (i < n) {
    // one list member: [OWS] name [OWS] *( ";" OWS param ) up to "," or the end
    while (i < n && (isOws(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++;
    const nameStart = i;
    while (i < n && value.charCodeAt(i) !== 0x3b && value.charCodeAt(i) !== 0x2c && !isOws(value.charCodeAt(i))) i++;
    const name = value.slice(nameStart, i).toLowerCase();
    let weight = 1000;
    while (i < n && value.charCodeAt(i) !== 0x2c) {
      if (value.charCodeAt(i) !== 0x3b) { i++; continue; }
      i++;
      while (i < n && isOws(value.charCodeAt(i))) i++;
      const paramStart = i;
      while (i < n && value.charCodeAt(i) !== 0x3b && value.charCodeAt(i) !== 0x2c) i++;
      let paramEnd = i;
      while (paramEnd > paramStart && isOws(value.charCodeAt(paramEnd - 1))) paramEnd--;
      const c0 = value.charCodeAt(paramStart) | 0x20;
      if (c0 === 0x71 /* q */ && value.charCodeAt(paramStart + 1) === 0x3d /* = */) {
        weight = parseQValue(value, paramStart + 2, paramEnd);
      }
    }
    if (name === '' || weight < 0) continue;
    const key = name === 'x-gzip' ? 'gzip' : name;
    if (!weights.has(key)) weights.set(key, weight);
  }
  return weights;
}

/**
 * Rank `offered` codings (server preference order) for one request. A coding's weight is its own
 * entry, else the `*` entry, else 0 (not acceptable). Codings of weight 0 are dropped; the rest are
 * ordered by weight, ties kept in server order. Identity is implicitly acceptable and loses ties; it
 * wins only when listed explicitly with a higher weight than a coding (that coding is then dropped).
 * No field (or an empty one) accepts no coding: identity only.
 */
export function rankEncodings(value: string, offered: readonly ContentCoding[]): readonly ContentCoding[] {
  const weights = parseAcceptEncoding(value);
  if (weights.size === 0) return NONE;
  const any = weights.get('*');
  const identity = weights.get('identity');
  const ranked: { coding: ContentCoding; weight: number }[] = [];
  for (const coding of offered) {
    const weight = weights.get(coding) ?? any ?? 0;
    if (weight <= 0 || (identity !== undefined && identity > weight)) continue;
    ranked.push({ coding, weight });
  }
  if (ranked.length === 0) return NONE;
  ranked.sort((a, b) => b.weight - a.weight); // stable: ties stay in server order
  return Object.freeze(ranked.map((r) => r.coding));
}

/**
 * Negotiates content codings for one set of offered codings, caching the answer per distinct
 * Accept-Encoding value (browsers send a handful of values, so the parse is paid once each).
 */
export class EncodingNegotiator {
  readonly #offered: readonly ContentCoding[];
  readonly #cache = new Map<string, readonly ContentCoding[]>();

  /** `offered`: codings the server can produce, best first (e.g. ['br', 'gzip']). */
  constructor(offered: readonly ContentCoding[]) {
    this.#offered = Object.freeze([...offered]);
  }

  /** The codings offered, best first. */
  get offered(): readonly ContentCoding[] {
    return this.#offered;
  }

  /**
   * The acceptable codings for an Accept-Encoding field value (`req.headers['accept-encoding']`),
   * best first; empty when the response must be sent as is (identity).
   */
  rank(field: string | string[] | undefined): readonly ContentCoding[] {
    if (field === undefined || this.#offered.length === 0) return NONE;
    const value = typeof field === 'string' ? field : field.join(', ');
    if (value.length > CACHE_VALUE_CHARS) return rankEncodings(value, this.#offered);
    let ranked = this.#cache.get(value);
    if (ranked === undefined) {
      ranked = rankEncodings(value, this.#offered);
      if (this.#cache.size >= CACHE_ENTRIES) this.#cache.clear();
      this.#cache.set(value, ranked);
    }
    return ranked;
  }
}

/** Validate a list of codings given as an option; throws ERR_INVALID_ARG_VALUE. */
export function checkCodings(name: string, value: unknown, fallback: readonly ContentCoding[]): readonly ContentCoding[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value)) throw keelError('ERR_INVALID_ARG_VALUE', name, String(value));
  for (const coding of value) {
    if (coding !== 'br' && coding !== 'gzip') throw keelError('ERR_INVALID_ARG_VALUE', name, String(coding));
  }
  return value as ContentCoding[];
}

/** True when the comma-separated list `value` has the member `token` (case-insensitive). */
export function hasListMember(value: string, token: string): boolean {
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end === -1) end = value.length;
    let member = value.slice(start, end).trim();
    const equals = member.indexOf('=');
    if (equals !== -1) member = member.slice(0, equals).trimEnd();
    if (member.length === token.length && member.toLowerCase() === token) return true;
    start = end + 1;
  }
  return false;
}

/** Add Accept-Encoding to Vary unless it (or "*") is already there (RFC 9110 §12.5.5). */
export function varyOnAcceptEncoding(res: ServerResponse): void {
  const header = res.getHeader('vary');
  const vary = header === undefined ? undefined : typeof header === 'object' ? header.join(', ') : String(header);
  if (vary === undefined || vary.trim() === '') res.setHeader('Vary', 'Accept-Encoding');
  else if (!hasListMember(vary, 'accept-encoding') && !hasListMember(vary, '*')) res.setHeader('Vary', `${vary}, Accept-Encoding`);
}

