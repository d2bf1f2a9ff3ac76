// The request-line (RFC 9112 §3): method SP request-target SP HTTP-version, validated in one pass.
// Methods are tokens from node:http's list (other tokens: 501); the target is checked for its four
// forms (§3.2); the version must be HTTP/1.x (other majors: 505).

import { ParseError } from '../common/errors.js';
import { METHOD_SET } from '../common/methods.js';
import { latin1 } from './field-line.js';
import { CR, HEX_VALUE, HTAB, IP_LITERAL_CHAR, REG_NAME_CHAR, SCHEME_CHAR, SP, TARGET_CHAR, TCHAR } from './tables.js';

/** What the request-line says. */
export interface RequestLine {
  method: string;
  target: string;
  versionMajor: number;
  versionMinor: number;
}

// Constant strings for the common methods, so that parsing them allocates nothing.
function commonMethod(buf: Buffer, start: number, length: number): string | undefined {
  const b0 = buf[start];
  if (length === 3) {
    if (b0 === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return 'GET';
    if (b0 === 0x50 && buf[start + 1] === 0x55 && buf[start + 2] === 0x54) return 'PUT';
  } else if (length === 4) {
    if (b0 === 0x50 && buf[start + 1] === 0x4f && buf[start + 2] === 0x53 && buf[start + 3] === 0x54) return 'POST';
    if (b0 === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44) return 'HEAD';
  }
  return undefined;
}

/**
 * Parse the request-line buf[start, end), `end` being the index of its CR, into `out`.
 * Throws ParseError:
 * - HPE_INVALID_METHOD (400) for a method that is not a token; (501) for a token that is not one
 *   of METHODS (RFC 9110 §9.1), checked after the HTTP-version so that a bad line is still a 400/505;
 * - HPE_INVALID_URL (400) for an empty target, a byte outside VCHAR in it (RFC 9112 §3.2), or a
 *   target form the method may not use (asterisk-form only for OPTIONS, authority-form only and
 *   always for CONNECT, RFC 9112 §3.2.3–3.2.4);
 * - HPE_URI_TOO_LONG (414) for a target longer than `maxTargetSize` bytes (RFC 9112 §3);
 * - HPE_INVALID_CONSTANT / HPE_INVALID_VERSION (400) for a malformed HTTP-version (RFC 9112 §2.3),
 *   HPE_INVALID_VERSION (505) for a major version other than 1 (RFC 9110 §15.6.6).
 */
export function parseRequestLine(buf: Buffer, start: number, end: number, base: number, maxTargetSize: number, out: RequestLine): void {
  // method = token
  let i = start;
  while (i < end && TCHAR[buf[i]] === 1) i++;
  if (i === start || i === end || buf[i] !== SP) {
    const b = buf[i];
    throw new ParseError('HPE_INVALID_METHOD', b === HTAB || b === CR ? 'method not followed by a single SP' : 'invalid method', base + i);
  }
  const methodLength = i - start;
  let method = commonMethod(buf, start, methodLength);
  let implemented = true;
  if (method === undefined) {
    method = latin1(buf, start, i);
    implemented = METHOD_SET.has(method);
  }
  // request-target
  const targetStart = ++i;
  while (i < end && TARGET_CHAR[buf[i]] === 1) i++;
  const targetEnd = i;
  if (targetEnd - targetStart > maxTargetSize) throw new ParseError('HPE_URI_TOO_LONG', 'request-target longer than the limit', base + targetStart);
  if (targetEnd === targetStart) throw new ParseError('HPE_INVALID_URL', 'empty request-target', base + i);
  if (i === end) throw new ParseError('HPE_INVALID_VERSION', 'missing HTTP-version (HTTP/0.9 is not supported)', base + i);
  if (buf[i] !== SP) throw new ParseError('HPE_INVALID_URL', 'invalid character in request-target', base + i);
  // HTTP-version = "HTTP/" DIGIT "." DIGIT, then the line ends.
  i++;
  if (end - i < 5 || buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 || buf[i + 4] !== 0x2f) {
    throw new ParseError('HPE_INVALID_CONSTANT', 'expected "HTTP/" after the request-target', base + i);
  }
  const major = buf[i + 5] - 0x30;
  const minor = buf[i + 7] - 0x30;
  if (end - i !== 8 || !(major >= 0 && major <= 9) || buf[i + 6] !== 0x2e || !(minor >= 0 && minor <= 9)) {
    throw new ParseError('HPE_INVALID_VERSION', 'HTTP-version must be "HTTP/" DIGIT "." DIGIT', base + i);
  }
  if (major !== 1) throw new ParseError('HPE_INVALID_VERSION', `HTTP/${major}.${minor} is not supported`, base + i, 505);
  // 501 only once the rest of the line is valid HTTP/1.x: "PRI * HTTP/2.0" (the HTTP/2 preface) is a 505.
  if (!implemented) throw new ParseError('HPE_INVALID_METHOD', `method not implemented: ${method.slice(0, 32)}`, base + start, 501);

  const target = targetEnd - targetStart === 1 && buf[targetStart] === 0x2f ? '/' : latin1(buf, targetStart, targetEnd);
  checkTargetForm(method, target, buf, targetStart, base);
  out.method = method;
  out.target = target;
  out.versionMajor = major;
  out.versionMinor = minor;
}

/** RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT only), asterisk-form (OPTIONS only). */
function checkTargetForm(method: string, target: string, buf: Buffer, start: number, base: number): void {
  const first = target.charCodeAt(0);
  if (method === 'CONNECT') {
    if (!isAuthorityForm(target)) throw new ParseError('HPE_INVALID_URL', 'CONNECT needs an authority-form target (host:port)', base + start);
    return;
  }
  if (first === 0x2f /* / */) return;
  if (first === 0x2a /* * */ && target.length === 1) {
    if (method !== 'OPTIONS') throw new ParseError('HPE_INVALID_URL', 'asterisk-form is only for OPTIONS', base + start);
    return;
  }
  // absolute-form: scheme "://" ... (an http(s) URI; authority-form is not allowed here)
  let i = 0;
  while (i < target.length && SCHEME_CHAR[buf[start + i]] === 1) i++;
  const isAlphaFirst = (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7a;
  if (i === 0 || !isAlphaFirst || !target.startsWith('://', i)) {
    throw new ParseError('HPE_INVALID_URL', 'request-target is not origin-form, absolute-form or asterisk-form', base + start);
  }
}

/** authority-form = uri-host ":" port (RFC 9112 §3.2.3), with a non-empty port. */
function isAuthorityForm(target: string): boolean {
  const colon = target.lastIndexOf(':');
  if (colon <= 0 || colon === target.length - 1) return false;
  for (let i = colon + 1; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return isHost(target, 0, colon);
}

/**
 * RFC 9110 §7.2 / RFC 3986 §3.2.2: uri-host = IP-literal / IPv4address / reg-name, checked on
 * s[start, end). Used for authority-form targets and the Host field.
 */
export function isHost(s: string, start: number, end: number): boolean {
  if (start === end) return true; // empty reg-name is grammatical
  if (s.charCodeAt(start) === 0x5b /* [ */) {
    if (s.charCodeAt(end - 1) !== 0x5d /* ] */ || end - start < 3) return false;
    for (let i = start + 1; i < end - 1; i++) {
      if (IP_LITERAL_CHAR[s.charCodeAt(i)] !== 1) return false;
    }
    return true;
  }
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      if (i + 2 >= end || !isHexDigit(s.charCodeAt(i + 1)) || !isHexDigit(s.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (c > 0xff || REG_NAME_CHAR[c] !== 1) return false;
  }
  return true;
}

function isHexDigit(c: number): boolean {
  return c <= 0xff && HEX_VALUE[c] >= 0;
}

/** Host field value = uri-host [ ":" port ], port = *DIGIT (RFC 9110 §7.2). */
export function isHostFieldValue(value: string): boolean {
  let hostEnd = value.length;
  const bracket = value.lastIndexOf(']');
  const colon = value.lastIndexOf(':');
  if (colon > bracket) {
    for (let i = colon + 1; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return false;
    }
    hostEnd = colon;
  }
  return isHost(value, 0, hostEnd);
}
