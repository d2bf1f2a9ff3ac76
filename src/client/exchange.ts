// Exchange: one request/response pair as a client connection sees it. The node-compatible
// ClientRequest and the promise API's lighter request both implement it, so pooling, pipelining,
// retries and timeouts are written once, in ClientConnection and Pool.

import type { Socket } from 'node:net';
import type { ResponseHead } from '../http1/response-parser.js';
import type { ClientConnection } from './client-connection.js';

export interface Exchange {
  /** Request method: decides response framing (HEAD, CONNECT) and whether it may be pipelined. */
  readonly method: string;
  /** request-target as written (origin-form: path and query); for the diagnostics channels. */
  readonly path: string;
  /** RFC 9110 §9.2.2 idempotent method: may be pipelined behind others and retried. */
  readonly isIdempotent: boolean;
  /** True once the caller gave up before the request was written: it is skipped, never sent. */
  readonly isCancelled: boolean;
  /**
   * Whether the request may be sent again on a fresh connection: idempotent, with a body that can
   * be replayed, and not retried too often already.
   */
  canRetry(): boolean;
  /** The connection is this exchange's to write on: send the request (then call conn.requestSent). */
  start(conn: ClientConnection, reusedSocket: boolean): void;
  /** A 1xx interim response (not 101). */
  onInformation(head: ResponseHead): void;
  /** The final response head. */
  onResponse(head: ResponseHead): void;
  /** A piece of the response body; return false to stop reading until conn.resume(). */
  onBody(chunk: Buffer): boolean;
  /** The response is complete. */
  onEnd(trailers: string[]): void;
  /** 101, or 2xx to CONNECT: the socket now belongs to this exchange, with the bytes after the head. */
  onUpgrade(head: ResponseHead, socket: Socket, rest: Buffer): void;
  /** The exchange failed (connection error, parse error, timeout). */
  onError(error: Error): void;
}

/** RFC 9110 §9.2.2: methods whose repetition has the same intended effect. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT.has(method);
}
