// The upgrade path of the proxy (the server's 'upgrade' event, e.g. WebSocket): the upgrade
// request goes upstream with Upgrade kept; a 101 is relayed and the two sockets are spliced
// (bytes read past either head included); any other answer is relayed and the connection closed.
// The client socket is raw here, so responses are written as bytes.

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { STATUS_CODES, type IncomingMessage } from '../../keel.js';
import type { ProxyError } from './errors.js';
import { UpstreamExchange } from './exchange.js';
import { responseFields } from './fields.js';
import type { ProxyContext } from './options.js';

/** Time a closed client connection may take to read our last bytes before it is destroyed, ms. */
const CLOSE_GRACE_MS = 5_000;

/** Proxy the upgrade request `req` whose connection is `socket`; `head`: the bytes read past its head. */
export function tunnel(ctx: ProxyContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', noop); // the client's socket errors end in 'close', handled below
  const exchange = new UpstreamExchange(ctx, req, { kind: 'none' }, {
    onUpgrade: (ures, usocket, uhead) => {
      socket.removeListener('close', onClientGone);
      if (socket.destroyed) {
        usocket.destroy();
        return;
      }
      const fields = responseFields(ctx, ures.rawHeaders, ures.httpVersion, true);
      socket.write(renderHead(101, ures.statusMessage, fields), 'latin1');
      if (uhead.length > 0) socket.write(uhead);
      if (head.length > 0) usocket.write(head);
      splice(socket, usocket);
    },
    onResponse: (ures) => {
      socket.removeListener('close', onClientGone);
      relayRefusal(ctx, socket, ures);
    },
    onFail: (error) => {
      socket.removeListener('close', onClientGone);
      fail(ctx, req, socket, error);
    },
  });
  const onClientGone = (): void => exchange.abort();
  socket.once('close', onClientGone);
  exchange.start();
}

function noop(): void {}

/** A status-line and field lines as bytes (latin1: field values are octets). */
function renderHead(status: number, message: string | undefined, fields: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${message ?? STATUS_CODES[status] ?? ''}\r\n`;
  for (let i = 0; i < fields.length; i += 2) head += `${fields[i]}: ${fields[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/** Pipe `a` and `b` into each other; an error destroys both, a close ends the other after its writes. */
function splice(a: Duplex, b: Socket): void {
  const destroyBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
  a.once('close', () => endSoon(b));
  b.once('close', () => endSoon(a));
  b.setNoDelay(true);
  a.pipe(b);
  b.pipe(a);
}

/**
 * End `stream` after its pending writes and discard what it still receives, so that the socket
 * closes once the peer ends too (closing with unread input would reset the connection and could
 * lose our last bytes); destroyed after CLOSE_GRACE_MS at the latest.
 */
function endSoon(stream: Duplex): void {
  if (stream.destroyed) return;
  stream.end();
  stream.resume();
  const timer = setTimeout(() => stream.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
}

/** The upstream answered the upgrade request without switching: relay that response, then close. */
function relayRefusal(ctx: ProxyContext, socket: Duplex, ures: IncomingMessage): void {
  if (socket.destroyed) {
    ures.destroy();
    return;
  }
  const fields = responseFields(ctx, ures.rawHeaders, ures.httpVersion, false);
  // The body goes as received (decoded if it was chunked), delimited by its length or by the close.
  fields.push('Connection', 'close');
  socket.write(renderHead(ures.statusCode!, ures.statusMessage, fields), 'latin1');
  ures.on('error', noop);
  ures.pipe(socket, { end: false });
  ures.once('end', () => endSoon(socket));
  ures.once('close', () => {
    if (!ures.complete) socket.destroy(); // cut short: the client must see a failure, not an end
  });
  socket.once('close', () => ures.destroy());
}

/** Answer a failed upgrade: onError, or `error.status` as raw bytes, then close. */
function fail(ctx: ProxyContext, req: IncomingMessage, socket: Duplex, error: ProxyError): void {
  if (socket.destroyed) return;
  if (ctx.onError !== null) {
    ctx.onError(error, req, socket);
    return;
  }
  const body = `${STATUS_CODES[error.status] ?? 'Error'}\n`;
  const fields = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)), 'Connection', 'close'];
  socket.write(renderHead(error.status, undefined, fields) + body, 'latin1');
  endSoon(socket);
}
