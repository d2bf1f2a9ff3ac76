// raw(): a request body as one Buffer, exactly the bytes sent (after Content-Encoding decoding).
// `type` defaults to application/octet-stream, which is also what a request without a
// Content-Type is taken to be (RFC 9110 §8.3).

import type { IncomingMessage } from '../../keel.js';
import { parsedBody, readBody, readSettings, type BodyOptions } from './read-body.js';

/** Options of raw() and bodyParser.raw(). */
export type RawOptions = BodyOptions;

/** Compile the options once: a function from a request to its body Buffer (empty with no content). */
export function rawParser(options: RawOptions = {}): (req: IncomingMessage) => Promise<Buffer> {
  const settings = readSettings(options, 'application/octet-stream');
  return async (req) => {
    const existing = parsedBody(req);
    if (existing !== undefined) return existing as Buffer;
    const read = await readBody(req, settings);
    return read === null ? Buffer.alloc(0) : read.body;
  };
}

/** Read `req`'s body as a Buffer: `const bytes = await raw(req, { limit: '10mb' })`. */
export function raw(req: IncomingMessage, options?: RawOptions): Promise<Buffer> {
  return rawParser(options)(req);
}
