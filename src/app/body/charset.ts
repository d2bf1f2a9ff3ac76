// Text decoding by the Content-Type's charset parameter, through the WHATWG TextDecoder (Node's
// full ICU): utf-8 by default, utf-16le/be, latin1 (which the Encoding Standard maps to
// windows-1252), shift_jis, ... An unknown label is 415 ERR_UNSUPPORTED_CHARSET (RFC 9110 §8.3.2).

import { TextDecoder } from 'node:util';
import { bodyError } from './http-error.js';

/**
 * A TextDecoder for `charset` (default 'utf-8'); a leading BOM is dropped. With `fatal`, invalid
 * bytes make decode() throw a TypeError (code ERR_ENCODING_INVALID_ENCODED_DATA) instead of
 * becoming U+FFFD. Throws HttpError 415 ERR_UNSUPPORTED_CHARSET for a label TextDecoder does not know.
 */
export function charsetDecoder(charset: string | undefined, fatal: boolean): TextDecoder {
  const label = charset === undefined || charset === '' ? 'utf-8' : charset;
  try {
    return new TextDecoder(label, { fatal });
  } catch (cause) {
    throw bodyError('ERR_UNSUPPORTED_CHARSET', `Unsupported charset "${label}"`, { cause });
  }
}
