// The access log: one line per response, written when the response finishes ('finish') or its
// connection closes first ('close', recorded as aborted). It counts the body bytes by wrapping the
// response's write/end before any other layer (so keel/compress hands it the compressed bytes).

import type { IncomingMessage, ServerResponse } from '../keel.js';
import { formatCombined, formatJson, type AccessRecord } from './log-format.js';
import type { LogFormat } from './args.js';
import type { LogSink } from './log-sink.js';

type Chunk = string | Uint8Array;

function sizeOf(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

export class AccessLog {
  readonly #render: (record: AccessRecord) => string;
  readonly #sink: LogSink;

  /** A log in `format` ('combined' or 'json') written to `sink`. */
  constructor(format: Exclude<LogFormat, 'off'>, sink: LogSink) {
    this.#render = format === 'json' ? formatJson : formatCombined;
    this.#sink = sink;
  }

  /** Start observing one exchange; call first, before anything wraps or writes to `res`. */
  observe(req: IncomingMessage, res: ServerResponse): void {
    const start = new Date();
    const startNs = process.hrtime.bigint();
    const { method = '-', url, httpVersion } = req;
    const remote = req.socket?.remoteAddress ?? '-';
    let bytes = 0;
    const write = res.write;
    const end = res.end;
    res.write = function (this: ServerResponse, chunk: Chunk, ...rest: unknown[]): boolean {
      bytes += sizeOf(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
      if (typeof args[0] !== 'function') bytes += sizeOf(args[0], args[1]);
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['end'];
    let isLogged = false;
    const done = (aborted: boolean): void => {
      if (isLogged) return;
      isLogged = true;
      this.#sink.line(this.#render({
        start,
        durationMs: Number(process.hrtime.bigint() - startNs) / 1e6,
        pid: process.pid,
        remote,
        method,
        url,
        httpVersion,
        status: res.statusCode,
        bytes,
        referer: single(req.headers.referer),
        userAgent: single(req.headers['user-agent']),
        aborted,
      }));
    };
    res.once('finish', () => done(false));
    res.once('close', () => done(!res.writableFinished));
  }
}
