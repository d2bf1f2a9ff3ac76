// The named exports of `keel`, shaped like node:http (src/index.ts adds the default export):
// Keel's own server and client.

import { METHODS } from './common/methods.js';
import { STATUS_CODES } from './common/status-codes.js';
import { MAX_HEADER_SIZE_BYTES } from './common/defaults.js';
import { ParseError, keelError } from './common/errors.js';
import { validateHeaderName, validateHeaderValue as checkHeaderValue } from './message/headers.js';
import { IncomingMessage } from './message/incoming-message.js';
import { OutgoingMessage } from './message/outgoing-message.js';
import { Server, createServer } from './server/server.js';
import { ServerResponse } from './server/server-response.js';
import { Agent, globalAgent } from './client/agent.js';
import { ClientRequest, get, request } from './client/client-request.js';

/** Node's http.validateHeaderValue: throws ERR_HTTP_INVALID_HEADER_VALUE or ERR_INVALID_CHAR. */
function validateHeaderValue(name: string, value: unknown): void {
  checkHeaderValue(name, value);
}

/** Default header section limit in bytes (node:http's http.maxHeaderSize). */
const maxHeaderSize = MAX_HEADER_SIZE_BYTES;


export {
  Agent,
  ClientRequest,
  IncomingMessage,
  METHODS,
  OutgoingMessage,
  ParseError,
  STATUS_CODES,
  Server,
  ServerResponse,
  createServer,
  get,
  globalAgent,
  keelError,
  maxHeaderSize,
  request,
  validateHeaderName,
  validateHeaderValue,
};
export type { RequestListener, ServerOptions } from './server/server.js';
export type { IncomingHttpHeaders } from './message/headers.js';
export type { OutgoingHttpHeader, OutgoingHttpHeaders } from './message/outgoing-message.js';
