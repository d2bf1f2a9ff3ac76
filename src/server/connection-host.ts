// What a ServerConnection needs from its server: configuration read at the moment it applies (so
// that `server.keepAliveTimeout = 5000` after listen() takes effect, as in Node), factories for
// requests and responses, and the server's events.

import type { Socket } from 'node:net';
import type { RequestParserOptions } from '../http1/request-parser.js';
import type { BodySource, IncomingMessage } from '../message/incoming-message.js';
import type { ResponseSink, ServerResponse } from './server-response.js';

export interface ConnectionHost {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly maxRequestsPerSocket: number;
  /** False once close() was called: responses then carry `Connection: close`. */
  readonly isAcceptingRequests: boolean;
  /** The `serverTiming` option (fixed at construction): responses carry `Server-Timing: total;dur=<ms>`. */
  readonly serverTiming: boolean;
  parserOptions(): RequestParserOptions;
  createRequest(socket: Socket, source: BodySource): IncomingMessage;
  createResponse(req: IncomingMessage, sink: ResponseSink, keepAlive: boolean): ServerResponse;
  connectionClosed(connection: unknown): void;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
}
