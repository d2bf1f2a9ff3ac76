// json(): a JSON request body (RFC 8259) as a value. Strict by default: only an object or an array
// at the top (body-parser's `strict`), keys that could poison prototypes refused (as Fastify's
// `onProtoPoisoning: 'error'`), an empty body refused unless `allowEmpty`, and every syntax error
// reported with its position, line and column.

import { isUtf8 } from 'node:buffer';
import type { TextDecoder } from 'node:util';
import type { IncomingMessage } from '../../keel.js';
import { bodyError } from './http-error.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { parsedBody, readBody, readSettings, type BodyOptions } from './read-body.js';

/** Options of json() and bodyParser.json(). */
export interface JsonOptions extends BodyOptions {
  /** Accept only an object or array at the top (default true); false accepts any JSON value. */
  strict?: boolean;
  /** JSON.parse's reviver. */
  reviver?: (this: unknown, key: string, value: unknown) => unknown;
  /** An empty body (no content, or 0 bytes) gives `{}` instead of 400 ERR_EMPTY_BODY (default false). */
  allowEmpty?: boolean;
  /** A `__proto__` key or a `constructor.prototype` object: 'error' (default, 400 ERR_FORBIDDEN_JSON_KEY), 'remove' the key, or 'ignore'. */
  protoAction?: 'error' | 'remove' | 'ignore';
}

/**
 * The body as text. UTF-8 without a BOM (nearly every JSON body) is checked with buffer.isUtf8 and
 * decoded by Buffer#toString, several times cheaper than a fatal TextDecoder for the same result;
 * anything else goes through the decoder (which throws on invalid bytes and strips a BOM).
 */
function decodeText(body: Buffer, decoder: TextDecoder): string {
  if (decoder.encoding === 'utf-8' && !(body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) && isUtf8(body)) {
    return body.toString('utf8');
  }
  return decoder.decode(body);
}

/** The default `type`: application/json and any +json type (RFC 6839 §3.1). */
export const JSON_TYPES: readonly string[] = ['application/json', 'application/*+json'];

/** Whether the text may hold a poisoning key (a `\\u` escape may spell one); three scans beat one regex. */
function mightPoison(text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
}

/** Find `__proto__` keys and `constructor: { prototype }` in a parsed value; throw or delete them. */
function guardPrototypes(value: unknown, action: 'error' | 'remove'): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null) continue;
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      const poisons =
        key === '__proto__' ||
        (key === 'constructor' && typeof child === 'object' && child !== null && Object.prototype.hasOwnProperty.call(child, 'prototype'));
      if (poisons) {
        if (action === 'error') throw bodyError('ERR_FORBIDDEN_JSON_KEY', `Forbidden JSON key "${key === '__proto__' ? '__proto__' : 'constructor.prototype'}"`);
        delete record[key];
        continue;
      }
      pending.push(child);
    }
  }
}

/**
 * Compile the options once: a function from a request to its JSON value. It resolves `req.body`
 * when a parser already set it. Rejects with HttpError: 400 ERR_INVALID_JSON (message: reason,
 * position, line and column; or not an object/array in strict mode; or bytes invalid in the
 * charset), 400 ERR_EMPTY_BODY, 400 ERR_FORBIDDEN_JSON_KEY, and the reading errors (413
 * ERR_BODY_TOO_LARGE, 415 ERR_UNSUPPORTED_MEDIA_TYPE / _CHARSET / _ENCODING, 400 ECONNRESET, ...).
 * Throws TypeError ERR_INVALID_ARG_VALUE for bad options.
 */
export function jsonParser(options: JsonOptions = {}): (req: IncomingMessage) => Promise<unknown> {
  const settings = readSettings(options, JSON_TYPES);
  const isStrict = options.strict !== false;
  const allowEmpty = options.allowEmpty === true;
  const protoAction = options.protoAction ?? 'error';
  const reviver = options.reviver;
  return async (req) => {
    const existing = parsedBody(req);
    if (existing !== undefined) return existing;
    const read = await readBody(req, settings, { fatal: true });
    if (read === null || read.body.length === 0) {
      if (allowEmpty) return {};
      throw bodyError('ERR_EMPTY_BODY', 'Request body is empty; expected JSON');
    }
    let text: string;
    try {
      text = decodeText(read.body, read.decoder!);
    } catch (cause) {
      throw bodyError('ERR_INVALID_JSON', `Invalid JSON: the body is not valid ${read.decoder!.encoding}`, { cause });
    }
    let value: unknown;
    try {
      value = JSON.parse(text, reviver);
    } catch (cause) {
      if (!(cause instanceof SyntaxError)) throw cause;
      const where = findJsonSyntaxError(text);
      const message = where === null ? `Invalid JSON: ${cause.message}` : `Invalid JSON at position ${where.position} (line ${where.line}, column ${where.column}): ${where.reason}`;
      throw bodyError('ERR_INVALID_JSON', message, { cause });
    }
    if (isStrict && (typeof value !== 'object' || value === null)) {
      throw bodyError('ERR_INVALID_JSON', `Invalid JSON: expected an object or an array at the top (strict mode), got ${value === null ? 'null' : typeof value}`);
    }
    if (protoAction !== 'ignore' && mightPoison(text)) guardPrototypes(value, protoAction);
    return value;
  };
}

/** Parse `req`'s JSON body: `const data = await json(req, { limit: '100kb' })`. See jsonParser(). */
export function json(req: IncomingMessage, options?: JsonOptions): Promise<unknown> {
  return jsonParser(options)(req);
}
