// The client's node:diagnostics_channel channels, named as undici names its own. Connections and
// pools publish on a channel only when it has subscribers (checked with `hasSubscribers` first),
// and take timestamps only then: with no subscriber a request does no extra work.

import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Exchange } from './exchange.js';

/** `keel:client:connect` { origin, socket, connectMs, tlsMs? }: a new connection is ready (TLS included). */
export const connectChannel = diagnostics.channel('keel:client:connect');
/** `keel:client:request:start` { method, path, origin }: a request starts being written on a connection. */
export const requestStartChannel = diagnostics.channel('keel:client:request:start');
/** `keel:client:response:headers` { request, statusCode, firstByteMs }: the final response head was parsed. */
export const responseHeadersChannel = diagnostics.channel('keel:client:response:headers');
/** `keel:client:response:end` { request, bodyMs }: the response is complete. */
export const responseEndChannel = diagnostics.channel('keel:client:response:end');
/** `keel:client:error` { request, error }: a request failed (connection error, parse error, timeout). */
export const errorChannel = diagnostics.channel('keel:client:error');

/** Message of keel:client:request:start; the later messages of the same request carry it as `request`. */
export interface RequestStartMessage {
  method: string;
  /** request-target as written (origin-form: path and query). */
  path: string;
  /** `protocol//hostname:port`. */
  origin: string;
}

/** A request's marks (performance.now(), ms), kept only while some client channel has subscribers. */
interface ExchangeMarks {
  message: RequestStartMessage;
  startAt: number;
  headAt: number;
}

const marks = new WeakMap<Exchange, ExchangeMarks>();

/** Whether any per-request client channel has subscribers (then request starts are marked). */
export function isObserved(): boolean {
  return requestStartChannel.hasSubscribers || responseHeadersChannel.hasSubscribers || responseEndChannel.hasSubscribers || errorChannel.hasSubscribers;
}

/** `protocol//hostname:port` of a pool's origin. */
export function originName(origin: { protocol: string; hostname: string; port: number }): string {
  return `${origin.protocol}//${origin.hostname.includes(':') ? `[${origin.hostname}]` : origin.hostname}:${origin.port}`;
}

/** Call when isObserved(): mark `exchange` and publish request:start. */
export function requestStarted(exchange: Exchange, origin: string): void {
  const message: RequestStartMessage = { method: exchange.method, path: exchange.path, origin };
  marks.set(exchange, { message, startAt: performance.now(), headAt: 0 });
  if (requestStartChannel.hasSubscribers) requestStartChannel.publish(message);
}

/** The final response head of `exchange` was parsed. */
export function responseHeaders(exchange: Exchange, statusCode: number): void {
  const mark = marks.get(exchange);
  if (mark === undefined) return;
  mark.headAt = performance.now();
  if (responseHeadersChannel.hasSubscribers) {
    responseHeadersChannel.publish({ request: mark.message, statusCode, firstByteMs: mark.headAt - mark.startAt });
  }
}

/** The response of `exchange` is complete. */
export function responseEnded(exchange: Exchange): void {
  const mark = marks.get(exchange);
  if (mark === undefined) return;
  marks.delete(exchange);
  if (responseEndChannel.hasSubscribers && mark.headAt !== 0) {
    responseEndChannel.publish({ request: mark.message, bodyMs: performance.now() - mark.headAt });
  }
}

/** `exchange` failed with `error` (`request` is null when it never started on a connection). */
export function requestFailed(exchange: Exchange, error: Error): void {
  const mark = marks.get(exchange);
  if (mark !== undefined) marks.delete(exchange);
  if (errorChannel.hasSubscribers) errorChannel.publish({ request: mark?.message ?? null, error });
}

/**
 * Call when connectChannel.hasSubscribers, with a socket just created: publish connect when it is
 * ready — on 'connect' for TCP, on 'secureConnect' for TLS (then `tlsMs` is the handshake's share).
 */
export function watchConnect(origin: string, socket: Socket): void {
  const startAt = performance.now();
  const isTls = socket instanceof tls.TLSSocket;
  if (!socket.connecting && !isTls) {
    connectChannel.publish({ origin, socket, connectMs: 0 });
    return;
  }
  let connectedAt = 0;
  socket.once('connect', () => {
    connectedAt = performance.now();
    if (!isTls) connectChannel.publish({ origin, socket, connectMs: connectedAt - startAt });
  });
  if (isTls) {
    socket.once('secureConnect', () => {
      const now = performance.now();
      if (connectedAt === 0) connectedAt = startAt;
      connectChannel.publish({ origin, socket, connectMs: connectedAt - startAt, tlsMs: now - connectedAt });
    });
  }
}
