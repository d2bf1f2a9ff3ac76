// One field line (RFC 9112 §5, RFC 9110 §5): validate it byte by byte against the tables and append
// its name and value, latin1-decoded, to a flat [name, value, ...] list. Also says whether the name
// is one of the fields that drive framing or connection handling, so callers need no second pass.

import { ParseError } from '../common/errors.js';
import { COLON, CR, FIELD_VALUE, HTAB, SP, TCHAR } from './tables.js';

/** Names the parsers act on, recognised case-insensitively while the line is parsed. */
export const FieldKind = {
  Other: 0,
  Host: 1,
  ContentLength: 2,
  TransferEncoding: 3,
  Connection: 4,
  Upgrade: 5,
  Expect: 6,
} as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/** Decode buf[start, end) as latin1 (one byte, one UTF-16 unit: what Node exposes for field lines). */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end);
}

/**
 * Field names seen in most messages, in the casings clients and servers send them. A name whose
 * bytes equal one of these exactly (case-sensitively: rawHeaders keep the received case) reuses the
 * string instead of decoding a new one.
 */
const COMMON_NAMES = [
  'Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Connection', 'Content-Type',
  'Content-Length', 'Transfer-Encoding', 'Cookie', 'Referer', 'Origin', 'Cache-Control', 'Pragma',
  'Authorization', 'If-None-Match', 'If-Modified-Since', 'Upgrade-Insecure-Requests', 'X-Forwarded-For',
  'X-Forwarded-Proto', 'X-Real-IP', 'Sec-Fetch-Site', 'Sec-Fetch-Mode', 'Sec-Fetch-Dest', 'Sec-Fetch-User',
  'Date', 'Server', 'Keep-Alive', 'Location', 'ETag', 'Last-Modified', 'Vary', 'Set-Cookie', 'Expect',
  'Upgrade', 'Range', 'Content-Encoding', 'Accept-Ranges', 'Expires', 'Age', 'Via', 'Trailer', 'TE',
];
const NAMES_BY_LENGTH: string[][] = [];
/** The lower-case spelling of each common name (either casing), as an internalized string. */
const LOWER_CASE = new Map<string, string>();
for (const name of COMMON_NAMES) {
  const lower = name.toLowerCase();
  for (const casing of [name, lower]) {
    const list = (NAMES_BY_LENGTH[casing.length] ??= []);
    if (!list.includes(casing)) list.push(casing);
    LOWER_CASE.set(casing, lower);
  }
}

/** `name` lower-cased; the common names come from a table instead of a new string. */
export function lowerCaseName(name: string): string {
  return LOWER_CASE.get(name) ?? name.toLowerCase();
}

/** The common name spelled exactly by buf[start, end), or undefined. */
function commonName(buf: Buffer, start: number, end: number): string | undefined {
  const list = NAMES_BY_LENGTH[end - start];
  if (list === undefined) return undefined;
  next: for (let n = 0; n < list.length; n++) {
    const name = list[n];
    for (let i = 0; i < name.length; i++) {
      if (buf[start + i] !== name.charCodeAt(i)) continue next;
    }
    return name;
  }
  return undefined;
}

/** True when buf[start, start + name.length) equals `name` (lower-case ASCII) case-insensitively. */
function nameIs(buf: Buffer, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    if ((buf[start + i] | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

function kindOf(buf: Buffer, start: number, length: number): FieldKind {
  switch (length) {
    case 4: return nameIs(buf, start, 'host') ? FieldKind.Host : FieldKind.Other;
    case 6: return nameIs(buf, start, 'expect') ? FieldKind.Expect : FieldKind.Other;
    case 7: return nameIs(buf, start, 'upgrade') ? FieldKind.Upgrade : FieldKind.Other;
    case 10: return nameIs(buf, start, 'connection') ? FieldKind.Connection : FieldKind.Other;
    case 14: return nameIs(buf, start, 'content-length') ? FieldKind.ContentLength : FieldKind.Other;
    case 17: return nameIs(buf, start, 'transfer-encoding') ? FieldKind.TransferEncoding : FieldKind.Other;
    default: return FieldKind.Other;
  }
}

/**
 * Parse the field line buf[start, end) — `end` is the index of the CR of its CRLF — and push its
 * name and OWS-trimmed value onto `fields`. `previous`, the field lines of the connection's previous
 * message, lets an identical line reuse its strings.
 *
 *   field-line = field-name ":" OWS field-value OWS     (RFC 9112 §5)
 *
 * Throws ParseError HPE_INVALID_HEADER_TOKEN for an empty name, a non-tchar in the name (which
 * covers whitespace before the colon, RFC 9112 §5.1), a missing colon, obs-fold (a line that starts
 * with SP or HTAB, RFC 9112 §5.2) and a NUL, CTL or DEL in the value (RFC 9110 §5.5);
 * HPE_LF_EXPECTED for a bare CR in the value (RFC 9112 §2.2). `base` turns indexes into stream offsets.
 */
export function parseFieldLine(buf: Buffer, start: number, end: number, base: number, fields: string[], previous: string[] | null = null): FieldKind {
  // The same field line as at this position of the previous message (a peer repeats most of its
  // fields on every message of a connection): bytes equal to a line already validated need no
  // second validation, and reuse its strings.
  const index = fields.length;
  if (previous !== null && index + 1 < previous.length) {
    const name = previous[index];
    const value = previous[index + 1];
    if (isRepeatedLine(buf, start, end, name, value)) {
      fields.push(name, value);
      return kindOf(buf, start, name.length);
    }
  }
  let i = start;
  while (i < end && TCHAR[buf[i]] === 1) i++;
  if (i === end || buf[i] !== COLON) {
    const b = buf[i];
    const reason = i === start && (b === SP || b === HTAB)
      ? 'obs-fold (a field line starting with whitespace) is not accepted'
      : b === SP || b === HTAB
        ? 'whitespace between field name and colon'
        : i === end ? 'field line without a colon' : 'invalid character in field name';
    throw new ParseError('HPE_INVALID_HEADER_TOKEN', reason, base + i);
  }
  if (i === start) throw new ParseError('HPE_INVALID_HEADER_TOKEN', 'empty field name', base + i);
  const nameEnd = i;
  i++;
  // OWS before the value.
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  const valueStart = i;
  while (i < end && FIELD_VALUE[buf[i]] === 1) i++;
  if (i < end) {
    if (buf[i] === CR) throw new ParseError('HPE_LF_EXPECTED', 'bare CR in a field value', base + i);
    throw new ParseError('HPE_INVALID_HEADER_TOKEN', 'invalid character in field value', base + i);
  }
  // OWS after the value.
  let valueEnd = end;
  while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
  const name = commonName(buf, start, nameEnd) ?? latin1(buf, start, nameEnd);
  // Only the value differs from the previous message's line (or nothing was before): keep its name.
  const before = previous !== null && index + 1 < previous.length && previous[index] === name ? previous[index + 1] : undefined;
  fields.push(name, before !== undefined && sameBytes(buf, valueStart, valueEnd, before) ? before : latin1(buf, valueStart, valueEnd));
  return kindOf(buf, start, nameEnd - start);
}

/**
 * True when the field line buf[start, end) is `name` ":" OWS `value` OWS byte for byte: the line
 * (`name` and `value` from an earlier message, already validated and OWS-trimmed) seen again.
 */
function isRepeatedLine(buf: Buffer, start: number, end: number, name: string, value: string): boolean {
  const colon = start + name.length;
  if (colon >= end || buf[colon] !== COLON || !sameBytes(buf, start, colon, name)) return false;
  let i = colon + 1;
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  const valueEnd = i + value.length;
  if (valueEnd > end || !sameBytes(buf, i, valueEnd, value)) return false;
  for (let j = valueEnd; j < end; j++) if (buf[j] !== SP && buf[j] !== HTAB) return false;
  return true;
}

/** True when buf[start, end) spells `text` (latin1). */
function sameBytes(buf: Buffer, start: number, end: number, text: string): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) {
    if (buf[start + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}
