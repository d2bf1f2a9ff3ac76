// The front every parser shares: an already parsed `req.body` wins, a body someone else is reading
// is refused at once (never a hang), a request without content skips the type check, and a wrong
// Content-Type or charset is refused before any byte is read. Then BodyReader buffers the body.

import type { TextDecoder } from 'node:util';
import type { IncomingMessage } from '../../keel.js';
import { BodyReader, hasBody, takeWholeBody, type ReadLimits } from './body-reader.js';
import { parseByteSize } from './byte-size.js';
import { charsetDecoder } from './charset.js';
import { bodyError, HttpError } from './http-error.js';
import { requestMediaType, typeMatcher, type MediaType, type TypeOption } from './media-type.js';

/** Default `limit`: 1 MiB (as Fastify's bodyLimit and nginx's client_max_body_size). */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Default `drainLimit`: 64 KiB read and discarded after an early 413/415/400 before closing instead. */
export const DRAIN_LIMIT_BYTES = 64 * 1024;

/** A request a parser may have set `body` on. */
export type BodyRequest = IncomingMessage & { body?: unknown };

/** Options every parser takes. */
export interface BodyOptions {
  /** Most body bytes, as received and after Content-Encoding decoding: a number or '1mb' (default 1 MiB). 413 ERR_BODY_TOO_LARGE. */
  limit?: number | string;
  /** Media types accepted: string, list or predicate; parameters and case are ignored (default per parser). 415 ERR_UNSUPPORTED_MEDIA_TYPE. */
  type?: TypeOption;
  /** Bytes read and discarded after an early error so the connection stays usable (default 64 KiB); past it the answer closes the connection. */
  drainLimit?: number | string;
}

/** BodyOptions checked once. */
export interface ReadSettings extends ReadLimits {
  matches: (req: IncomingMessage, mediaType: MediaType) => boolean;
}

/** Check the common options (TypeError ERR_INVALID_ARG_VALUE for a bad size, TypeError for an unknown type). */
export function readSettings(options: BodyOptions, defaultType: TypeOption): ReadSettings {
  return {
    limit: parseByteSize(options.limit ?? BODY_LIMIT_BYTES, 'limit'),
    drainLimit: parseByteSize(options.drainLimit ?? DRAIN_LIMIT_BYTES, 'drainLimit'),
    matches: typeMatcher(options.type ?? defaultType),
  };
}

/** Decode the body as text: `fatal` rejects invalid bytes; `defaultCharset` applies without a charset parameter (default utf-8). */
export interface CharsetOption {
  fatal: boolean;
  defaultCharset?: string;
}

/** A buffered body, its media type and (when asked for) its charset's decoder. */
export interface ReadResult {
  body: Buffer;
  mediaType: MediaType;
  decoder: TextDecoder | null;
}

/**
 * Whether someone other than a finished parser owns the body: a parser took it whole (Keel's
 * requests), or the stream ended, flows or has a reader. Keel's requests create their stream state
 * on first use (reading or destroying one does): without it nobody streamed the body, and asking
 * the stream getters would create it for nothing.
 */
function isBodyTaken(req: IncomingMessage): boolean {
  if (req._isBodyTaken === true) return true;
  if (req._isStreamUsed === false) return false;
  return req.readableEnded || req.readableFlowing === true || req.listenerCount('data') > 0 || req.listenerCount('readable') > 0;
}

/** What the checks found out about an acceptable body. */
interface Admitted {
  mediaType: MediaType;
  decoder: TextDecoder | null;
}

/**
 * The checks before any byte is read: throws 500 ERR_BODY_CONSUMED / 400 ECONNRESET; returns null
 * when the request has no content, the 415 to refuse the body with, or what was admitted.
 */
function admit(req: IncomingMessage, settings: ReadSettings, charset: CharsetOption | undefined): Admitted | HttpError | null {
  if (isBodyTaken(req)) throw bodyError('ERR_BODY_CONSUMED', 'The request body was already read (or is being read) by another consumer');
  if (req._isStreamUsed !== false && req.destroyed) throw bodyError('ECONNRESET', 'aborted'); // (destroying creates the state)
  if (!hasBody(req)) return null;
  const mediaType = requestMediaType(req);
  if (mediaType === null) return bodyError('ERR_UNSUPPORTED_MEDIA_TYPE', `Invalid Content-Type "${req.headers['content-type']}"`);
  if (!settings.matches(req, mediaType)) return bodyError('ERR_UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type "${mediaType.essence}"`);
  let decoder: TextDecoder | null = null;
  if (charset !== undefined) {
    try {
      decoder = charsetDecoder(mediaType.parameters['charset'] ?? charset.defaultCharset, charset.fatal);
    } catch (err) {
      return err as HttpError;
    }
  }
  return { mediaType, decoder };
}

/**
 * Check and accept a request body: resolves the media type and, with `charset`, its decoder; or
 * null when the request has no content (no Content-Length or Transfer-Encoding: RFC 9112 §6.3).
 * Rejects with HttpError 500 ERR_BODY_CONSUMED (someone else read it), 415
 * ERR_UNSUPPORTED_MEDIA_TYPE / ERR_UNSUPPORTED_CHARSET (after draining, see BodyReader), or the
 * returned reader's errors.
 */
export async function acceptBody(req: IncomingMessage, settings: ReadSettings, charset?: CharsetOption): Promise<{ reader: BodyReader; mediaType: MediaType; decoder: TextDecoder | null } | null> {
  const admitted = admit(req, settings, charset);
  if (admitted === null) return null;
  const reader = new BodyReader(req, settings);
  if (admitted instanceof HttpError) return reader.refuse(admitted);
  return { reader, mediaType: admitted.mediaType, decoder: admitted.decoder };
}

/**
 * acceptBody() then buffer the whole body (at most `limit` bytes). Null when there is no content.
 * A body that arrived with its head (Keel's requests) is taken at once, without stream machinery.
 */
export async function readBody(req: IncomingMessage, settings: ReadSettings, charset?: CharsetOption): Promise<ReadResult | null> {
  const admitted = admit(req, settings, charset);
  if (admitted === null) return null;
  if (admitted instanceof HttpError) return new BodyReader(req, settings).refuse(admitted);
  // The parse that dispatched the request pushes the body bytes it holds right after the handler
  // returns: one microtask later, a body that came with its head is complete.
  await undefined;
  const whole = takeWholeBody(req, settings);
  if (whole !== null) return { body: whole, mediaType: admitted.mediaType, decoder: admitted.decoder };
  const chunks: Buffer[] = [];
  let length = 0;
  await new BodyReader(req, settings).read((chunk) => {
    chunks.push(chunk);
    length += chunk.length;
  });
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
  return { body, mediaType: admitted.mediaType, decoder: admitted.decoder };
}

/** The body a parser already set on `req`, if any (the first parser wins). */
export function parsedBody(req: IncomingMessage): unknown {
  return (req as BodyRequest).body;
}
