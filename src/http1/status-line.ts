// The status-line (RFC 9112 §4): HTTP-version SP status-code SP [ reason-phrase ].
// A missing SP and reason phrase is accepted (the reason is ignorable, as llhttp does).

import { ParseError } from '../common/errors.js';
import { latin1 } from './field-line.js';
import { FIELD_VALUE, SP } from './tables.js';

/** What the status-line says. */
export interface StatusLine {
  versionMajor: number;
  versionMinor: number;
  statusCode: number;
  statusMessage: string;
}

/**
 * Parse the status-line buf[start, end), `end` being the index of its CR, into `out`.
 * Throws ParseError HPE_INVALID_CONSTANT / HPE_INVALID_VERSION for a malformed HTTP-version or a
 * major version other than 1, HPE_INVALID_STATUS unless the status code is three digits from
 * 100 to 999, HPE_STRICT for a CTL in the reason phrase.
 */
export function parseStatusLine(buf: Buffer, start: number, end: number, base: number, out: StatusLine): void {
  let i = start;
  if (end - i < 8 || buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 || buf[i + 4] !== 0x2f) {
    throw new ParseError('HPE_INVALID_CONSTANT', 'expected "HTTP/" at the start of the status-line', base + i);
  }
  const major = buf[i + 5] - 0x30;
  const minor = buf[i + 7] - 0x30;
  if (!(major >= 0 && major <= 9) || buf[i + 6] !== 0x2e || !(minor >= 0 && minor <= 9)) {
    throw new ParseError('HPE_INVALID_VERSION', 'HTTP-version must be "HTTP/" DIGIT "." DIGIT', base + i);
  }
  if (major !== 1) throw new ParseError('HPE_INVALID_VERSION', `HTTP/${major}.${minor} is not supported`, base + i);
  i += 8;
  if (buf[i] !== SP) throw new ParseError('HPE_INVALID_VERSION', 'expected SP after the HTTP-version', base + i);
  i++;
  const d0 = buf[i] - 0x30;
  const d1 = buf[i + 1] - 0x30;
  const d2 = buf[i + 2] - 0x30;
  if (end - i < 3 || !(d0 >= 1 && d0 <= 9) || !(d1 >= 0 && d1 <= 9) || !(d2 >= 0 && d2 <= 9) || (i + 3 < end && buf[i + 3] !== SP)) {
    throw new ParseError('HPE_INVALID_STATUS', 'status-code must be 3DIGIT (100-999)', base + i);
  }
  i += 3;
  let reason = '';
  if (i < end) {
    const reasonStart = ++i;
    for (; i < end; i++) {
      if (FIELD_VALUE[buf[i]] !== 1) throw new ParseError('HPE_STRICT', 'invalid character in reason-phrase', base + i);
    }
    reason = latin1(buf, reasonStart, end);
  }
  out.versionMajor = major;
  out.versionMinor = minor;
  out.statusCode = d0 * 100 + d1 * 10 + d2;
  out.statusMessage = reason;
}
