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

/** Most bytes of the new protocol buffered from the client before the upstream's 101, bytes. */
const EARLY_LIMIT_BYTES = 64 * 1024;

/** Proxy the upgrade request `req` whose connection is `socket`; `head`: the bytes read past its head. */
export function tunnel(ctx: ProxyContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  // Until the 101, the client's socket is read (so that its going away is seen) into `early`.
  const early: Buffer[] = head.length > 0 ? [head] : [];
  let earlyBytes = head.length;
  const onEarlyData = (chunk: Buffer): void => {
    early.push(chunk);
    earlyBytes += chunk.length;
    if (earlyBytes > EARLY_LIMIT_BYTES) socket.pause();
  };
  const onClientGone = (): void => {
    detach();
    exchange.abort();
    socket.destroy();
  };
  const detach = (): void => {
    socket.removeListener('data', onEarlyData);
    socket.removeListener('end', onClientGone);
    socket.removeListener('close', onClientGone);
    socket.pause();
  };
  const exchange = new UpstreamExchange(ctx, req, { kind: 'none' }, {
    onUpgrade: (ures, usocket, uhead) => {
      detach();
      if (socket.destroyed) {
        usocket.destroy();
        return;
      }
      const fields = responseFields(ctx, ures.rawHeaders, ures.httpVersion, true);
      socket.write(renderHead(101, ures.statusMessage, fields), 'latin1');
      if (uhead.length > 0) socket.write(uhead);
      for (const chunk of early) usocket.write(chunk);
      splice(socket, usocket);
    },
    onResponse: (ures) => {
      detach();
      relayRefusal(ctx, socket, ures);
    },
    onFail: (error) => {
      detach();
      fail(ctx, req, socket, error);
    },
  });
  socket.on('error', noop); // the client's socket errors end in 'close'
  socket.on('data', onEarlyData);
  socket.once('end', onClientGone);
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
