// CompressionPump: one response body through one zlib stream (gzip or brotli). The handler's bytes
// go in through write()/end(); what zlib produces goes out through the response's own write(), and
// zlib is paused while the response is full, so backpressure holds end to end. flush() pushes out
// what zlib holds (a sync flush); the zlib stream is destroyed if the response closes first.

import zlib, { type BrotliOptions, type ZlibOptions } from 'node:zlib';
import { keelError, type ServerResponse } from '../../keel.js';
import type { ContentCoding } from './accept-encoding.js';

type Chunk = string | Buffer | Uint8Array;
type WriteCallback = (error?: Error | null) => void;
/** The response's own write(), as it was before it was replaced. */
export type RawWrite = (this: ServerResponse, chunk: Chunk, encoding?: BufferEncoding, callback?: WriteCallback) => boolean;
/** The response's own end(), as it was before it was replaced. */
export type RawEnd = (this: ServerResponse, callback?: () => void) => ServerResponse;

/** Brotli quality used on the fly unless the options say otherwise (0..11; 11 is far too slow live). */
const BROTLI_QUALITY = 4;

function writeAfterEnd(res: ServerResponse, error: Error, callback: WriteCallback | undefined): void {
  if (callback) callback(error);
  res.emit('error', error);
}

/** zlib options for one response: the user's, plus Keel's brotli defaults and the size hint. */
function zlibStream(coding: ContentCoding, gzip: ZlibOptions, brotli: BrotliOptions, sizeHint: number): zlib.Gzip | zlib.BrotliCompress {
  if (coding === 'gzip') return zlib.createGzip(gzip);
  const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY };
  if (sizeHint > 0) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = sizeHint;
  return zlib.createBrotliCompress({ ...brotli, params: { ...params, ...brotli.params } });
}

export class CompressionPump {
  /** The coding this pump produces. */
  readonly coding: ContentCoding;
  readonly #res: ServerResponse;
  readonly #stream: zlib.Gzip | zlib.BrotliCompress;
  readonly #write: RawWrite;
  readonly #end: RawEnd;
  #isEnded = false;
  #isDone = false;
  #owesDrain = false;
  #endCallback: (() => void) | undefined = undefined;

  /**
   * Start compressing `res`'s body with `coding`. `write` / `end` are the response's own methods;
   * `sizeHint` is the body's length in bytes when known, else -1.
   */
  constructor(res: ServerResponse, coding: ContentCoding, write: RawWrite, end: RawEnd, gzip: ZlibOptions, brotli: BrotliOptions, sizeHint: number) {
    this.coding = coding;
    this.#res = res;
    this.#write = write;
    this.#end = end;
    this.#stream = zlibStream(coding, gzip, brotli, sizeHint);
    this.#stream.on('data', this.#onData);
    this.#stream.on('end', this.#onEnd);
    this.#stream.on('drain', this.#onDrain);
    this.#stream.on('error', this.#onError);
    res.on('drain', this.#onResponseDrain);
    res.on('close', this.#onResponseClose);
  }

  /** Compress a chunk; false when zlib is full ('drain' is then emitted on the response). */
  write(chunk: Chunk, encoding: BufferEncoding, callback: WriteCallback | undefined): boolean {
    if (this.#isEnded) {
      // As node:http: ERR_STREAM_WRITE_AFTER_END is passed to the callback and emitted as 'error'.
      process.nextTick(writeAfterEnd, this.#res, keelError('ERR_STREAM_WRITE_AFTER_END'), callback);
      return false;
    }
    const isRoomLeft = this.#stream.write(chunk, encoding, callback);
    if (!isRoomLeft) this.#owesDrain = true;
    return isRoomLeft;
  }

  /** End the body: zlib finishes, then the response's own end() runs with `callback`. */
  end(chunk: Chunk | null | undefined, encoding: BufferEncoding, callback: (() => void) | undefined): void {
    if (this.#isEnded) {
      if (callback) this.#res.once('finish', callback);
      return;
    }
    this.#isEnded = true;
    this.#endCallback = callback;
    if (chunk === null || chunk === undefined) this.#stream.end();
    else this.#stream.end(chunk, encoding);
  }

  /** Send what zlib holds now (Z_SYNC_FLUSH / BROTLI_OPERATION_FLUSH); `callback` once flushed. */
  flush(callback?: () => void): void {
    if (this.#isEnded || this.#stream.destroyed) {
      if (callback) process.nextTick(callback);
      return;
    }
    const kind = this.coding === 'br' ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH;
    this.#stream.flush(kind, callback ?? noop);
  }

  #onData = (chunk: Buffer): void => {
    if (this.#write.call(this.#res, chunk) === false) this.#stream.pause();
  };

  #onResponseDrain = (): void => {
    if (this.#stream.isPaused()) this.#stream.resume();
  };

  #onDrain = (): void => {
    if (!this.#owesDrain) return;
    this.#owesDrain = false;
    this.#res.emit('drain');
  };

  #onEnd = (): void => {
    this.#isDone = true;
    this.#detach();
    if (!this.#res.destroyed) this.#end.call(this.#res, this.#endCallback);
  };

  #onError = (): void => {
    // zlib failed (it cannot, on valid input): the body is lost, so the response is aborted.
    this.#detach();
    this.#res.destroy();
  };

  #onResponseClose = (): void => {
    // The client went away (or the response was destroyed): stop compressing, free zlib's memory.
    if (this.#isDone) return;
    this.#detach();
    this.#stream.destroy();
  };

  #detach(): void {
    this.#res.removeListener('drain', this.#onResponseDrain);
    this.#res.removeListener('close', this.#onResponseClose);
  }
}

function noop(): void {}
