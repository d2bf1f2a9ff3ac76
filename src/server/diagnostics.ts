// The server's node:diagnostics_channel channels, named as undici names its own. The engine
// publishes on a channel only when it has subscribers (checked with `hasSubscribers` first), and
// takes timestamps only then: with no subscriber the request path does no extra work.

import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/** `keel:server:request:start` { request, response, socket }: a request head was parsed, before 'request'. */
export const requestStartChannel = diagnostics.channel('keel:server:request:start');
/** `keel:server:response:finish` { request, response, timings }: the response's last byte went to the socket. */
export const responseFinishChannel = diagnostics.channel('keel:server:response:finish');
/** `{ request, response, timings, bytes }`: the connection closed before the response was complete. */
export const responseAbortChannel = diagnostics.channel('keel:server:response:abort');
/** `keel:server:error` { error, socket }: a client error (a ParseError, a socket error). */
export const errorChannel = diagnostics.channel('keel:server:error');
/** `keel:server:timeout` { phase, afterMs, socket }: a headers, request or idle deadline fired. */
export const timeoutChannel = diagnostics.channel('keel:server:timeout');

/** Phase whose deadline fired: headersTimeout, requestTimeout or keepAliveTimeout. */
export type TimeoutPhase = 'headers' | 'request' | 'idle';

/**
 * performance.now() marks of one request, in ms; 0 = not reached yet. Allocated only when the
 * response:finish channel has subscribers or the server's `serverTiming` option is on.
 */
export interface RequestMarks {
  /** The first byte of the request was received (or, pipelined, it was already buffered). */
  firstByteAt: number;
  /** The header section was parsed. */
  headAt: number;
  /** The request was handed to the application ('request' / 'checkContinue' / 'checkExpectation'). */
  dispatchedAt: number;
  /** res.end() was called. */
  endAt: number;
}

/** `timings` of keel:server:response:finish, in ms (fractional, ≥ 0). */
export interface ResponseTimings {
  /** First byte received → request dispatched to the handler. */
  queuedMs: number;
  /** First byte received → header section parsed. */
  headersMs: number;
  /** Dispatched → res.end() called. */
  handlerMs: number;
  /** res.end() called → last byte handed to the socket (later when pipelined behind slower responses). */
  writtenMs: number;
}

/** Compute the timings of `marks` with `now` as the moment the last byte was handed over. */
export function responseTimings(marks: RequestMarks, now: number): ResponseTimings {
  const dispatchedAt = marks.dispatchedAt || marks.headAt;
  const endAt = marks.endAt || now;
  return {
    queuedMs: Math.max(0, dispatchedAt - marks.firstByteAt),
    headersMs: Math.max(0, marks.headAt - marks.firstByteAt),
    handlerMs: Math.max(0, endAt - dispatchedAt),
    writtenMs: Math.max(0, now - endAt),
  };
}

/** Message of keel:server:timeout. */
export interface TimeoutMessage {
  phase: TimeoutPhase;
  /** ms since the phase began (the request's first byte, or the last response for 'idle'). */
  afterMs: number;
  socket: Socket;
}
