// urlencoded(): an application/x-www-form-urlencoded body as FormFields, split as the URL Standard's
// urlencoded parser (§5.1: '&' between pairs, the first '=' between name and value, '+' is a
// space), but strict where URLSearchParams is lenient: a malformed percent-escape or bytes invalid
// in the charset are 400, and more than `parameterLimit` pairs are 413 before any is decoded.

import type { IncomingMessage } from '../../keel.js';
import { addField, createFields, type FormFields } from './form-fields.js';
import { bodyError } from './http-error.js';
import { parsedBody, readBody, readSettings, type BodyOptions } from './read-body.js';

/** Options of urlencoded() and bodyParser.urlencoded(). */
export interface UrlencodedOptions extends BodyOptions {
  /** Most name=value pairs (default 1000, as body-parser): 413 ERR_TOO_MANY_PARAMETERS. */
  parameterLimit?: number;
}

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Percent-decode body[start, end) with '+' as space; or the offset of the first bad escape. */
function percentDecode(body: Buffer, start: number, end: number): Buffer | number {
  const out = Buffer.allocUnsafe(end - start);
  let length = 0;
  for (let i = start; i < end; i++) {
    const byte = body[i]!;
    if (byte === PLUS) {
      out[length++] = 0x20;
    } else if (byte === PERCENT) {
      const high = i + 2 < end ? hexValue(body[i + 1]!) : -1;
      const low = high === -1 ? -1 : hexValue(body[i + 2]!);
      if (low === -1) return i;
      out[length++] = high * 16 + low;
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

/**
 * Compile the options once: a function from a request to its FormFields (empty with no content).
 * Rejects with HttpError 400 ERR_INVALID_URLENCODED (bad percent-escape, with its byte offset, or
 * bytes invalid in the charset), 413 ERR_TOO_MANY_PARAMETERS, and the reading errors.
 */
export function urlencodedParser(options: UrlencodedOptions = {}): (req: IncomingMessage) => Promise<FormFields> {
  const settings = readSettings(options, 'application/x-www-form-urlencoded');
  const parameterLimit = options.parameterLimit ?? 1000;
  if (!(parameterLimit === Infinity || (Number.isInteger(parameterLimit) && parameterLimit > 0))) {
    throw Object.assign(new TypeError(`The option 'parameterLimit' must be a positive integer. Received ${String(parameterLimit)}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  return async (req) => {
    const existing = parsedBody(req);
    if (existing !== undefined) return existing as FormFields;
    const read = await readBody(req, settings, { fatal: true });
    const fields = createFields();
    if (read === null) return fields;
    const { body, decoder } = read;
    const pairs: Array<[number, number]> = [];
    for (let start = 0; start < body.length; ) {
      let end = body.indexOf(AMPERSAND, start);
      if (end === -1) end = body.length;
      if (end > start) {
        if (pairs.length === parameterLimit) throw bodyError('ERR_TOO_MANY_PARAMETERS', `More than ${parameterLimit} parameters`);
        pairs.push([start, end]);
      }
      start = end + 1;
    }
    for (const [start, end] of pairs) {
      const found = body.subarray(start, end).indexOf(EQUALS);
      const equals = found === -1 ? end : start + found;
      const name = percentDecode(body, start, equals);
      const value = equals === end ? Buffer.alloc(0) : percentDecode(body, equals + 1, end);
      if (typeof name === 'number' || typeof value === 'number') {
        const offset = typeof name === 'number' ? name : (value as number);
        throw bodyError('ERR_INVALID_URLENCODED', `Invalid urlencoded body: malformed percent-escape at byte ${offset}`);
      }
      try {
        addField(fields, decoder!.decode(name), decoder!.decode(value));
      } catch (cause) {
        throw bodyError('ERR_INVALID_URLENCODED', `Invalid urlencoded body: bytes ${start}..${end} are not valid ${decoder!.encoding}`, { cause });
      }
    }
    return fields;
  };
}

/** Parse `req`'s urlencoded body: `const form = await urlencoded(req)`; repeated names give arrays. */
export function urlencoded(req: IncomingMessage, options?: UrlencodedOptions): Promise<FormFields> {
  return urlencodedParser(options)(req);
}
