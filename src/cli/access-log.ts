// The access log: one line per response, built on Keel's diagnostics channels —
// keel:server:response:finish (the last byte handed to the socket) and keel:server:response:abort
// (the connection closed first, logged as aborted). The messages carry the request, the response,
// the per-phase timings and the body bytes sent (after keel/compress, when it is in use).

import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from '../keel.js';
import { formatCombined, formatJson, type AccessRecord } from './log-format.js';
import type { LogFormat } from './args.js';
import type { LogSink } from './log-sink.js';

/** What keel:server:response:finish and keel:server:response:abort publish (README, Observability). */
interface ResponseMessage {
  request: IncomingMessage;
  response: ServerResponse;
  timings: { queuedMs: number; handlerMs: number; writtenMs: number };
  bytes: number;
}

const FINISH = 'keel:server:response:finish';
const ABORT = 'keel:server:response:abort';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

export class AccessLog {
  readonly #render: (record: AccessRecord) => string;
  readonly #sink: LogSink;

  /** A log in `format` ('combined' or 'json') written to `sink`, for every Keel server of the process. */
  constructor(format: Exclude<LogFormat, 'off'>, sink: LogSink) {
    this.#render = format === 'json' ? formatJson : formatCombined;
    this.#sink = sink;
    diagnostics.subscribe(FINISH, this.#onFinish);
    diagnostics.subscribe(ABORT, this.#onAbort);
  }

  /** Stop logging. */
  close(): void {
    diagnostics.unsubscribe(FINISH, this.#onFinish);
    diagnostics.unsubscribe(ABORT, this.#onAbort);
  }

  #onFinish = (message: unknown): void => this.#write(message as ResponseMessage, false);
  #onAbort = (message: unknown): void => this.#write(message as ResponseMessage, true);

  #write({ request, response, timings, bytes }: ResponseMessage, aborted: boolean): void {
    const durationMs = timings.queuedMs + timings.handlerMs + timings.writtenMs;
    this.#sink.line(this.#render({
      start: new Date(Date.now() - durationMs),
      durationMs,
      pid: process.pid,
      remote: request.socket?.remoteAddress ?? '-',
      method: request.method ?? '-',
      url: request.url,
      httpVersion: request.httpVersion,
      status: response.statusCode,
      bytes,
      referer: single(request.headers.referer),
      userAgent: single(request.headers['user-agent']),
      aborted,
    }));
  }
}
