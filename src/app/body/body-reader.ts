// BodyReader: reads one request body for a parser, decoding its Content-Encoding (gzip, deflate,
// br) with node:zlib and counting bytes before and after decoding, so that nothing past `limit` is
// ever buffered or inflated. When it gives up early (413, corrupt coding, a parser's error) it
// drains at most `drainLimit` more bytes so the connection can be reused, and otherwise leaves the
// body unread, paused, and asks for `Connection: close` on the answer (err.headers).

import zlib, { type Gunzip, type Inflate, type BrotliDecompress } from 'node:zlib';
import type { IncomingMessage } from '../../keel.js';
import { bodyError, HttpError } from './http-error.js';

/** Limits of one read, in bytes. */
export interface ReadLimits {
  /** Most body bytes, counted both as received and after decoding. */
  limit: number;
  /** Most bytes read and discarded after an early failure before the connection is given up. */
  drainLimit: number;
}

/** Takes a decoded chunk; returns false to pause the body until BodyReader.resume(). */
export type BodySink = (chunk: Buffer) => boolean | void;

type Decoder = Gunzip | Inflate | BrotliDecompress;

/** A request has content when it is framed by Transfer-Encoding or Content-Length (RFC 9112 §6.3). */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/** The declared Content-Length, or -1 when the body is chunked or has no length field. */
function declaredLength(req: IncomingMessage): number {
  if (req.headers['transfer-encoding'] !== undefined) return -1;
  const value = req.headers['content-length'];
  return value === undefined ? -1 : Number(value);
}

/**
 * The decoder for the request's Content-Encoding (RFC 9110 §8.4), or null for none/identity.
 * Throws 415 ERR_UNSUPPORTED_ENCODING for an unknown coding or for more than one coding.
 */
function createDecoder(req: IncomingMessage): Decoder | null {
  const value = req.headers['content-encoding'];
  if (value === undefined) return null;
  const codings = value.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length === 0) return null;
  if (codings.length > 1) throw bodyError('ERR_UNSUPPORTED_ENCODING', `Unsupported Content-Encoding "${value}": only one coding is decoded`);
  switch (codings[0]) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      throw bodyError('ERR_UNSUPPORTED_ENCODING', `Unsupported Content-Encoding "${value}"`);
  }
}

function tooLarge(limit: number, what: string): HttpError {
  return bodyError('ERR_BODY_TOO_LARGE', `Request body ${what} exceeds the limit of ${limit} bytes`);
}

/**
 * The whole body at once, when `req` (Keel's IncomingMessage) holds all of it and nobody used it as
 * a stream, and it has no Content-Encoding to decode: no listeners, promises or ticks. Null: read
 * it with a BodyReader. Throws 413 ERR_BODY_TOO_LARGE past `limit`, as BodyReader would (the body
 * is already in memory: nothing to drain, the connection stays usable).
 */
export function takeWholeBody(req: IncomingMessage, limits: ReadLimits): Buffer | null {
  if (typeof req._takeBody !== 'function' || req.headers['content-encoding'] !== undefined) return null;
  const body = req._takeBody();
  if (body === null) return null;
  if (body.length > limits.limit) {
    const length = declaredLength(req);
    throw tooLarge(limits.limit, length >= 0 ? `of ${length} bytes (Content-Length)` : 'received');
  }
  return body;
}

/**
 * One read of `req`'s body into a sink. `read()` resolves once every decoded byte was handed to the
 * sink; it rejects with an HttpError:
 * - 413 ERR_BODY_TOO_LARGE as soon as Content-Length, the received count or the decoded count
 *   exceeds `limit` (before reading, for Content-Length);
 * - 415 ERR_UNSUPPORTED_ENCODING, 400 ERR_INVALID_CONTENT_ENCODING (corrupt gzip/deflate/br);
 * - 400 ECONNRESET 'aborted' when the client goes away (then nothing is drained);
 * - the error given to abort(), when the parser fails first.
 * After a failure other than ECONNRESET, the rest of the body is drained while it fits within
 * `drainLimit` (or when the request is already complete: its rest is in memory); past it, reading
 * stops and the error gets `headers.connection = 'close'`.
 */
export class BodyReader {
  readonly #req: IncomingMessage;
  readonly #limit: number;
  readonly #drainLimit: number;
  #decoder: Decoder | null = null;
  #sink: BodySink | null = null;
  #receivedBytes = 0;
  #decodedBytes = 0;
  #drainedBytes = 0;
  #isReceived = false;
  #isPausedBySink = false;
  #isDraining = false;
  #isSettled = false;
  #failure: HttpError | null = null;
  #resolve: () => void = () => {};
  #reject: (err: HttpError) => void = () => {};

  constructor(req: IncomingMessage, limits: ReadLimits) {
    this.#req = req;
    this.#limit = limits.limit;
    this.#drainLimit = limits.drainLimit;
  }

  /** Read the body into `sink`. Call once. */
  read(sink: BodySink): Promise<void> {
    this.#sink = sink;
    return new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#start();
    });
  }

  /** The sink can take more after returning false. */
  resume(): void {
    if (!this.#isPausedBySink || this.#failure !== null) return;
    this.#isPausedBySink = false;
    (this.#decoder ?? this.#req).resume();
  }

  /** Stop reading because the parser failed: read() rejects with `err` (see the drain rule above). */
  abort(err: HttpError): void {
    this.#fail(err);
  }

  /**
   * Refuse the body without reading it (a 415 found in the headers): rejects with `err` once the
   * rest is drained or given up, by the same rule as a failed read. Call instead of read().
   */
  refuse(err: HttpError): Promise<never> {
    return new Promise<never>((_resolve, reject) => {
      this.#reject = reject;
      if (this.#attach()) this.#fail(err);
    });
  }

  /** Listen to the request; false (and settled) when there is nothing to listen to. */
  #attach(): boolean {
    const req = this.#req;
    if (req.readableEnded) {
      this.#settle(bodyError('ERR_BODY_CONSUMED', 'The request body was already read'));
      return false;
    }
    if (req.destroyed) {
      this.#settle(bodyError('ECONNRESET', 'aborted'));
      return false;
    }
    req.on('data', this.#onData);
    req.on('end', this.#onEnd);
    req.on('error', this.#onAbort);
    req.on('aborted', this.#onAbort);
    req.on('close', this.#onClose);
    return true;
  }

  #start(): void {
    const req = this.#req;
    if (!this.#attach()) return;
    try {
      this.#decoder = createDecoder(req);
    } catch (err) {
      return this.#fail(err as HttpError);
    }
    const length = declaredLength(req);
    if (length > this.#limit) return this.#fail(tooLarge(this.#limit, `of ${length} bytes (Content-Length)`));
    const decoder = this.#decoder;
    if (decoder !== null) {
      decoder.on('data', this.#onDecoded);
      decoder.on('end', this.#onDecodedEnd);
      decoder.on('error', this.#onDecoderError);
      decoder.on('drain', this.#onDecoderDrain);
    }
    req.resume();
  }

  #onData = (chunk: Buffer): void => {
    if (this.#isDraining) {
      this.#drainedBytes += chunk.length;
      // Past drainLimit (a Content-Length that lied): stop reading; the connection cannot be reused.
      if (this.#drainedBytes > this.#drainLimit && !this.#req.complete) this.#req.destroy();
      return;
    }
    if (this.#failure !== null) return;
    this.#receivedBytes += chunk.length;
    if (this.#receivedBytes > this.#limit) return this.#fail(tooLarge(this.#limit, 'received'));
    const decoder = this.#decoder;
    if (decoder === null) this.#deliver(chunk);
    else if (!decoder.write(chunk)) this.#req.pause();
  };

  #onDecoded = (chunk: Buffer): void => {
    if (this.#failure !== null) return;
    this.#deliver(chunk);
  };

  #deliver(chunk: Buffer): void {
    this.#decodedBytes += chunk.length;
    if (this.#decodedBytes > this.#limit) return this.#fail(tooLarge(this.#limit, 'decoded'));
    if (this.#sink!(chunk) === false && this.#failure === null) {
      this.#isPausedBySink = true;
      (this.#decoder ?? this.#req).pause();
    }
  }

  #onDecoderDrain = (): void => {
    if (this.#failure === null) this.#req.resume();
  };

  #onEnd = (): void => {
    this.#isReceived = true;
    if (this.#failure !== null) return this.#settle(this.#failure);
    if (this.#decoder === null) this.#settle(null);
    else this.#decoder.end();
  };

  #onDecodedEnd = (): void => {
    if (this.#failure === null) this.#settle(null);
  };

  #onDecoderError = (cause: Error): void => {
    this.#fail(bodyError('ERR_INVALID_CONTENT_ENCODING', `Invalid ${this.#req.headers['content-encoding']} data: ${cause.message}`, { cause }));
  };

  #onAbort = (): void => {
    if (this.#isReceived) return;
    this.#isDraining = false;
    this.#stopDecoder();
    // A parser's own error stays the reason, but nothing more will arrive: settle now.
    this.#failure ??= bodyError('ECONNRESET', 'aborted');
    this.#settle(this.#failure);
  };

  #onClose = (): void => {
    if (!this.#isReceived) this.#onAbort();
  };

  /** Stop decoding; drain or give up on the rest of the body; reject once that is decided. */
  #fail(err: HttpError): void {
    if (this.#failure !== null || this.#isSettled) return;
    this.#failure = err;
    this.#stopDecoder();
    const req = this.#req;
    if (this.#isReceived || req.readableEnded) return this.#settle(err);
    if (req.destroyed) return this.#settle(err);
    // The answer never waits for the rest of the body. When that rest is known to fit in
    // drainLimit it is discarded in the background (the connection stays usable); when it is
    // larger, or of unknown length (chunked), reading stops and the answer closes the connection.
    const length = declaredLength(req);
    const remaining = req.complete ? 0 : length >= 0 ? length - this.#receivedBytes : Infinity;
    if (remaining > this.#drainLimit) return this.#giveUp();
    this.#isDraining = true;
    req.resume();
    this.#settle(err);
  }

  /** The rest of the body is too long to drain: stop reading it; the answer must close the connection. */
  #giveUp(): void {
    const req = this.#req;
    this.#isDraining = false;
    this.#failure!.headers.connection = 'close';
    req.pause();
    // Take ownership of the body even when nothing was read, so that the server does not discard
    // (read) the rest after the answer: reading stops here, and the connection closes instead.
    req.read(0);
    this.#settle(this.#failure!);
  }

  #stopDecoder(): void {
    const decoder = this.#decoder;
    if (decoder === null) return;
    this.#decoder = null;
    decoder.removeAllListeners();
    decoder.on('error', () => {});
    decoder.destroy();
  }

  #settle(err: HttpError | null): void {
    if (this.#isSettled) return;
    this.#isSettled = true;
    const req = this.#req;
    req.removeListener('end', this.#onEnd);
    req.removeListener('aborted', this.#onAbort);
    req.removeListener('close', this.#onClose);
    // The data and error listeners stay: an ended body has no more data, a given-up one stays
    // paused, and a late 'error' must not become an uncaught exception.
    if (err === null) this.#resolve();
    else this.#reject(err);
  }
}
