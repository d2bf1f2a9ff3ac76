// Sending a file as a response body: whole, one byte range, or several as multipart/byteranges
// (RFC 9110 §14.6). The source is an open file or, from keel/static's cache, its bytes in memory.
// Bytes are piped from an open file, so backpressure holds and, if the client goes away, the file
// stream is destroyed and the handle closed. The length sent is always the length announced: reads
// are bounded by the stat'ed size.

import { randomBytes } from 'node:crypto';
import { createReadStream, read } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import type { ServerResponse } from '../../keel.js';
import type { ByteRange } from './byte-ranges.js';

/**
 * Default read size of the file streams, bytes (keel/static's `highWaterMark` option): 4x fs
 * streams' default, a quarter of the read and write calls for large files (1 MiB: 1.2x the
 * throughput); at most about two reads are buffered per download.
 */
export const READ_CHUNK_BYTES = 256 * 1024;

function closeQuietly(handle: FileHandle): void {
  handle.close().catch(noop);
}

function noop(): void {}

/**
 * The `fs` of the file streams: node:fs's read, and a close that leaves the descriptor open. A
 * destroyed ReadStream closes its descriptor even with `autoClose: false`; the FileHandle is the
 * only owner here and closes it once. (Closed twice, the second close could hit a descriptor that
 * another request had just opened under the same number: that request then failed with EBADF.)
 */
const READ_ONLY_FS = {
  read,
  close(_fd: number, callback: (error: Error | null) => void): void {
    callback(null);
  },
};

/** pipeline()'s callback: an error (client gone, read failure) has already destroyed both ends. */
function onPipelineDone(): void {}

/** An open file (closed by whoever is handed it) or a file's bytes held in memory. */
export type FileSource = FileHandle | Buffer;

function closeSource(source: FileSource): void {
  if (!Buffer.isBuffer(source)) closeQuietly(source);
}

/**
 * Send `length` bytes of `source` from `start` as the body (head fields already set). A file is
 * read `readSize` bytes at a time and its handle closed when the stream ends or is destroyed; bytes
 * in memory are written in one call. A zero length ends the response at once.
 */
export function sendFileRange(res: ServerResponse, source: FileSource, start: number, length: number, readSize: number): void {
  if (res.destroyed) {
    // The client went away while the file was being opened: its 'close' has been emitted already,
    // so a stream piped now would wait forever and its handle would only be closed by the GC.
    closeSource(source);
    return;
  }
  if (length <= 0 || res.req.method === 'HEAD') {
    closeSource(source);
    res.end();
    return;
  }
  if (Buffer.isBuffer(source)) {
    res.end(source.subarray(start, start + length));
    return;
  }
  const handle = source;
  // A node:fs ReadStream on the handle's descriptor (callback reads: cheaper per chunk than the
  // FileHandle stream's promise reads), piped without pipeline()'s per-call AbortController. The
  // handle stays the owner: closed once the stream has ended, or has been destroyed (its read in
  // flight finished) after an error or the client going away; the stream itself never closes it.
  const stream = createReadStream('', { fd: handle.fd, fs: READ_ONLY_FS, start, end: start + length - 1, highWaterMark: readSize, autoClose: false });
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    closeQuietly(handle);
  };
  stream.once('end', release);
  stream.once('close', release);
  stream.once('error', (err) => res.destroy(err));
  res.once('close', () => {
    if (!stream.readableEnded) stream.destroy();
  });
  stream.pipe(res);
}

/** A multipart/byteranges body: its Content-Type value, exact length, and part heads. */
export interface MultipartPlan {
  readonly contentType: string;
  readonly length: number;
  readonly heads: readonly string[];
  readonly closing: string;
}

/**
 * Lay out a multipart/byteranges body for `ranges` of a `size`-byte representation of `type`:
 * each part is "--boundary", Content-Type and Content-Range fields, a blank line and the bytes;
 * parts are separated by CRLF and the body closes with "--boundary--" (RFC 9110 §14.6, RFC 2046).
 */
export function planMultipart(ranges: readonly ByteRange[], size: number, type: string): MultipartPlan {
  const boundary = randomBytes(12).toString('hex');
  const heads: string[] = [];
  let length = 0;
  for (let i = 0; i < ranges.length; i++) {
    const { start, end } = ranges[i];
    const head = `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${start}-${end}/${size}\r\n\r\n`;
    heads.push(head);
    length += Buffer.byteLength(head) + (end - start + 1);
  }
  const closing = `\r\n--${boundary}--\r\n`;
  length += closing.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, length, heads, closing };
}

async function* multipartParts(source: FileSource, ranges: readonly ByteRange[], plan: MultipartPlan, readSize: number): AsyncGenerator<Buffer> {
  try {
    for (let i = 0; i < ranges.length; i++) {
      yield Buffer.from(plan.heads[i], 'latin1');
      const { start, end } = ranges[i];
      if (Buffer.isBuffer(source)) {
        yield source.subarray(start, end + 1);
        continue;
      }
      const part = source.createReadStream({ start, end, autoClose: false, highWaterMark: readSize });
      for await (const chunk of part) yield chunk as Buffer;
    }
    yield Buffer.from(plan.closing, 'latin1');
  } finally {
    closeSource(source);
  }
}

/** Send the parts of `plan` (head fields, Content-Length included, already set), `readSize` bytes per file read; closes a file. */
export function sendMultipart(res: ServerResponse, source: FileSource, ranges: readonly ByteRange[], plan: MultipartPlan, readSize: number): void {
  if (res.destroyed) {
    closeSource(source); // the client went away while the file was being opened
    return;
  }
  if (res.req.method === 'HEAD') {
    closeSource(source);
    res.end();
    return;
  }
  pipeline(multipartParts(source, ranges, plan, readSize), res, onPipelineDone);
}
