// Message framing and persistence for requests: RFC 9112 §6.3 (how long is the body?) and §9.3
// (does the connection persist?), decided once per message from the framing fields collected while
// the head was parsed. This is where request smuggling is won or lost: every ambiguous combination
// is an error, and no verdict depends on the order of field lines.

import { ParseError } from '../common/errors.js';
import { COMMA, HTAB, SP, TCHAR } from './tables.js';

/** How a message body is delimited. */
export const BodyKind = {
  /** No message body. */
  None: 0,
  /** Exactly `contentLength` bytes (Content-Length). */
  Length: 1,
  /** The chunked transfer coding, ended by the last-chunk and trailer section. */
  Chunked: 2,
  /** Until the connection closes (responses only). */
  UntilClose: 3,
} as const;
export type BodyKind = (typeof BodyKind)[keyof typeof BodyKind];

/** Framing fields seen in one header section, filled in while it is parsed. */
export interface FramingFields {
  /** The Content-Length value agreed by every Content-Length field line, or -1 when absent. */
  contentLength: number;
  /** The Transfer-Encoding field lines joined with ", " (RFC 9110 §5.3), or undefined when absent. */
  transferEncoding: string | undefined;
}

/**
 * Fold one Content-Length field value into `fields`.
 *   Content-Length = 1*DIGIT     (RFC 9110 §8.6)
 * A list of identical values ("5, 5") and repeated identical lines are accepted as one value
 * (RFC 9112 §6.3 item 5 allows it); Keel is stricter than it could be in nothing else.
 * Throws HPE_INVALID_CONTENT_LENGTH for an empty, signed, non-decimal value or one above
 * Number.MAX_SAFE_INTEGER (never rounded or wrapped), HPE_UNEXPECTED_CONTENT_LENGTH for values that
 * differ.
 */
export function addContentLength(fields: FramingFields, value: string, offset: number): void {
  let n = -1;
  let i = 0;
  const length = value.length;
  for (;;) {
    while (i < length && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++;
    const start = i;
    let v = 0;
    for (; i < length; i++) {
      const d = value.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === start) throw new ParseError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length is not 1*DIGIT', offset);
    if (v > Number.MAX_SAFE_INTEGER) throw new ParseError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length above 2^53-1', offset);
    while (i < length && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++;
    if (n !== -1 && v !== n) throw new ParseError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length list with different values', offset);
    n = v;
    if (i === length) break;
    if (value.charCodeAt(i) !== COMMA) throw new ParseError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length is not 1*DIGIT', offset);
    i++;
  }
  if (fields.contentLength !== -1 && fields.contentLength !== n) {
    throw new ParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length field lines with different values', offset);
  }
  fields.contentLength = n;
}

/**
 * Decide how a request body is framed (RFC 9112 §6.3, steps for a request):
 *  1. Transfer-Encoding in an HTTP/1.0 request: faulty framing (§6.1) → 400.
 *  2. Transfer-Encoding with Content-Length: smuggling vector (§6.1, §6.3 item 3) → 400.
 *  3. Transfer-Encoding: the list (empty elements ignored, RFC 9110 §5.6.1) must end in exactly one
 *     `chunked` without parameters (§7, §6.3 item 4) → else 400; any other coding before it is one
 *     Keel does not implement → 501 (§6.1).
 *  4. Content-Length → that many bytes.
 *  5. Otherwise no body (a request is never read until close, §6.3 item 7).
 * Returns the BodyKind; throws ParseError HPE_INVALID_TRANSFER_ENCODING (400 or 501).
 */
export function requestBodyKind(fields: FramingFields, versionMinor: number, offset: number): BodyKind {
  const te = fields.transferEncoding;
  if (te === undefined) return fields.contentLength === -1 ? BodyKind.None : BodyKind.Length;
  if (versionMinor === 0) throw new ParseError('HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 request', offset);
  if (fields.contentLength !== -1) throw new ParseError('HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding together with Content-Length', offset);
  const codings = transferCodings(te, offset);
  const last = codings.length - 1;
  if (last < 0 || codings[last] !== 'chunked') throw new ParseError('HPE_INVALID_TRANSFER_ENCODING', 'the final transfer coding is not chunked', offset);
  for (let i = 0; i < last; i++) {
    if (codings[i] === 'chunked') throw new ParseError('HPE_INVALID_TRANSFER_ENCODING', 'chunked applied more than once', offset);
  }
  if (last > 0) throw new ParseError('HPE_INVALID_TRANSFER_ENCODING', `transfer coding not implemented: ${codings[0]}`, offset, 501);
  return BodyKind.Chunked;
}

/**
 * Decide how a response body is framed (RFC 9112 §6.3, steps for a response), given the method of
 * the request it answers:
 *  1. Responses to HEAD, and 1xx, 204 and 304 responses, have no body whatever their fields say.
 *  2. A 2xx response to CONNECT, and 101, switch protocols: no body (the caller tunnels).
 *  3. Transfer-Encoding with Content-Length → error: a sender may not send both, and accepting it
 *     is a desync vector (node:http's client rejects it too).
 *  4. Transfer-Encoding whose final coding is chunked (once, without parameters) → chunked; any
 *     other Transfer-Encoding → the body runs until the connection closes (§6.3 item 4).
 *  5. Content-Length → that many bytes. 6. Otherwise until close.
 * Throws ParseError HPE_INVALID_TRANSFER_ENCODING.
 */
export function responseBodyKind(fields: FramingFields, statusCode: number, method: string, offset: number): BodyKind {
  if (method === 'HEAD' || statusCode < 200 || statusCode === 204 || statusCode === 304) return BodyKind.None;
  if (method === 'CONNECT' && statusCode < 300) return BodyKind.None;
  const te = fields.transferEncoding;
  if (te === undefined) return fields.contentLength === -1 ? BodyKind.UntilClose : BodyKind.Length;
  if (fields.contentLength !== -1) throw new ParseError('HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding together with Content-Length', offset);
  const codings = transferCodings(te, offset);
  const last = codings.length - 1;
  if (last < 0 || codings[last] !== 'chunked') return BodyKind.UntilClose;
  for (let i = 0; i < last; i++) {
    if (codings[i] === 'chunked') throw new ParseError('HPE_INVALID_TRANSFER_ENCODING', 'chunked applied more than once', offset);
  }
  return BodyKind.Chunked;
}

/**
 * Split a Transfer-Encoding value into lower-cased coding names (RFC 9112 §7: transfer-coding =
 * token *( OWS ";" OWS transfer-parameter )). A coding with parameters is kept with them
 * ("chunked;a=b" is then not "chunked"). Throws HPE_INVALID_TRANSFER_ENCODING on a non-token.
 */
export function transferCodings(value: string, offset: number): string[] {
  const codings: string[] = [];
  for (const element of value.split(',')) {
    // Only OWS (SP, HTAB) is trimmed: String#trim() would also strip U+00A0 (obs-text 0xA0).
    const coding = trimOWS(element).toLowerCase();
    if (coding === '') continue;
    const nameEnd = coding.indexOf(';') === -1 ? coding.length : coding.indexOf(';');
    for (let i = 0; i < nameEnd; i++) {
      const c = coding.charCodeAt(i);
      if (c > 0xff || TCHAR[c] !== 1) throw new ParseError('HPE_INVALID_TRANSFER_ENCODING', 'invalid transfer coding', offset);
    }
    codings.push(coding);
  }
  return codings;
}

/** `s` without leading and trailing SP / HTAB (RFC 9110 §5.6.3 OWS). */
function trimOWS(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === SP || s.charCodeAt(start) === HTAB)) start++;
  while (end > start && (s.charCodeAt(end - 1) === SP || s.charCodeAt(end - 1) === HTAB)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Connection options a message carries (RFC 9110 §7.6.1: case-insensitive tokens). */
export const ConnectionOption = { Close: 1, KeepAlive: 2, Upgrade: 4 } as const;

/** Bit set of ConnectionOption for one Connection field value (OWS around each token ignored). */
export function connectionOptions(value: string): number {
  let options = 0;
  let start = 0;
  const length = value.length;
  while (start <= length) {
    let end = value.indexOf(',', start);
    if (end === -1) end = length;
    let s = start;
    let e = end;
    while (s < e && (value.charCodeAt(s) === SP || value.charCodeAt(s) === HTAB)) s++;
    while (e > s && (value.charCodeAt(e - 1) === SP || value.charCodeAt(e - 1) === HTAB)) e--;
    const n = e - s;
    if (n === 5 && tokenIs(value, s, 'close')) options |= ConnectionOption.Close;
    else if (n === 10 && tokenIs(value, s, 'keep-alive')) options |= ConnectionOption.KeepAlive;
    else if (n === 7 && tokenIs(value, s, 'upgrade')) options |= ConnectionOption.Upgrade;
    start = end + 1;
  }
  return options;
}

function tokenIs(value: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((value.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Persistence (RFC 9112 §9.3): HTTP/1.1 persists unless "close" is an option; HTTP/1.0 persists only
 * with "keep-alive" and without "close".
 */
export function isPersistent(versionMinor: number, options: number): boolean {
  if (options & ConnectionOption.Close) return false;
  return versionMinor >= 1 || (options & ConnectionOption.KeepAlive) !== 0;
}
