// text(): a text/plain request body as a string, decoded with the Content-Type's charset (utf-8
// when absent; latin1, utf-16le, ... through TextDecoder). Bytes invalid in the charset become
// U+FFFD, as a browser decodes text: the body is text, not a syntax to reject.

import { TextDecoder } from 'node:util';
import type { IncomingMessage } from '../../keel.js';
import { parsedBody, readBody, readSettings, type BodyOptions } from './read-body.js';

/** Options of text() and bodyParser.text(); `type` defaults to 'text/plain'. */
export interface TextOptions extends BodyOptions {
  /** Charset when the Content-Type names none (default 'utf-8'). */
  defaultCharset?: string;
}

/**
 * Compile the options once: a function from a request to its text ('' with no content). Rejects
 * with the reading errors (413, 415 ERR_UNSUPPORTED_CHARSET for a label TextDecoder does not know, ...).
 */
export function textParser(options: TextOptions = {}): (req: IncomingMessage) => Promise<string> {
  const settings = readSettings(options, 'text/plain');
  const defaultCharset = options.defaultCharset ?? 'utf-8';
  new TextDecoder(defaultCharset); // an unknown default: RangeError ERR_ENCODING_NOT_SUPPORTED now, not per request
  return async (req) => {
    const existing = parsedBody(req);
    if (existing !== undefined) return existing as string;
    const read = await readBody(req, settings, { fatal: false, defaultCharset });
    return read === null ? '' : read.decoder!.decode(read.body);
  };
}

/** Read `req`'s body as text: `const s = await text(req)`. See textParser(). */
export function text(req: IncomingMessage, options?: TextOptions): Promise<string> {
  return textParser(options)(req);
}
