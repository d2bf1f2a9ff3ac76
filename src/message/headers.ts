// Field sections as node:http exposes them: `headers` objects built from the flat rawHeaders list
// with Node's rules for repeated field names, and the validation of outgoing names and values.

import { keelError } from '../common/errors.js';
import { lowerCaseName } from '../http1/field-line.js';
import { TCHAR } from '../http1/tables.js';

import type { IncomingHttpHeaders as NodeIncomingHttpHeaders } from 'node:http';

/**
 * An incoming headers object: lower-cased names; `set-cookie` is always an array; the other
 * fields strings (Node's shape and Node's type, so code typed for node:http compiles unchanged).
 */
export type IncomingHttpHeaders = NodeIncomingHttpHeaders;

// Fields whose duplicates Node discards (the first value wins): lib/_http_incoming.js matchKnownFields.
const FIRST_WINS = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization',
  'proxy-authorization', 'if-modified-since', 'if-unmodified-since', 'from', 'location',
  'max-forwards', 'retry-after', 'etag', 'last-modified', 'server', 'age', 'expires',
]);

/**
 * Build a headers object from a flat [name, value, ...] list, as node:http does: names lower-cased;
 * `set-cookie` values collected in an array; `cookie` values joined with "; "; the fields in
 * FIRST_WINS keep their first value; every other repeated field is joined with ", " (RFC 9110 §5.3).
 * With `joinDuplicateHeaders` (Node's option) every repeated field is joined with ", ".
 */
export function buildHeaders(raw: readonly string[], joinDuplicateHeaders = false): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = lowerCaseName(raw[i]);
    const value = raw[i + 1];
    const existing = headers[name];
    if (existing === undefined) {
      headers[name] = name === 'set-cookie' ? [value] : value;
    } else if (name === 'set-cookie') {
      (existing as string[]).push(value);
    } else if (joinDuplicateHeaders) {
      headers[name] = `${existing}, ${value}`;
    } else if (name === 'cookie') {
      headers[name] = `${existing}; ${value}`;
    } else if (!FIRST_WINS.has(name)) {
      headers[name] = `${existing}, ${value}`;
    }
  }
  return headers;
}

/** Every value of every field, as arrays under lower-cased names (Node's headersDistinct). */
export function buildHeadersDistinct(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    (out[name] ??= []).push(raw[i + 1]);
  }
  return out;
}

/** True when `name` is a token (RFC 9110 §5.1 field-name = token). */
export function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff || TCHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * Throw ERR_INVALID_HTTP_TOKEN unless `name` is a token (as node:http's validateHeaderName).
 */
export function validateHeaderName(name: unknown, what = 'Header name'): asserts name is string {
  if (typeof name !== 'string' || !isToken(name)) throw keelError('ERR_INVALID_HTTP_TOKEN', what, String(name));
}

/**
 * Throw ERR_HTTP_INVALID_HEADER_VALUE for an undefined value and ERR_INVALID_CHAR for a value with a
 * byte outside HTAB / SP / VCHAR / obs-text — CR, LF and NUL above all: response splitting is
 * impossible (as node:http's validateHeaderValue). Arrays are checked element by element.
 * Returns true when every character is ASCII (then the head may be written as UTF-8 with the body).
 */
export function validateHeaderValue(name: string, value: unknown): boolean {
  if (value === undefined) throw keelError('ERR_HTTP_INVALID_HEADER_VALUE', String(value), name);
  if (Array.isArray(value)) {
    let ascii = true;
    for (const v of value) ascii = validateHeaderValue(name, v) && ascii;
    return ascii;
  }
  const s = typeof value === 'string' ? value : String(value);
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) continue;
    if (c === 0x09) continue;
    if (c >= 0x80 && c <= 0xff) {
      ascii = false;
      continue;
    }
    throw keelError('ERR_INVALID_CHAR', 'header content', name);
  }
  return ascii;
}
