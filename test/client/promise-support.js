// Helpers of the keel/client promise-API tests (promise-api, pipelining, tls, nginx; deliberately
// not named *.test.js): servers on 127.0.0.1 with a free port, a raw net server that records what
// each connection received, and small utilities.

import net from 'node:net';
import { once } from 'node:events';

export const HOST = '127.0.0.1';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Listen on 127.0.0.1:0; resolves to the origin 'http://127.0.0.1:PORT'. */
export async function listen(server, protocol = 'http:') {
  server.listen(0, HOST);
  await once(server, 'listening');
  return `${protocol}//${HOST}:${server.address().port}`;
}

/** Close a server and every connection it still has. */
export async function shut(server) {
  const closed = new Promise((resolve) => server.close(() => resolve()));
  server.closeAllConnections?.();
  await closed;
}

/** A whole stream as a Buffer. */
export async function readAll(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

/** Resolves to the error of `promise` (fails if it resolves). */
export async function rejection(promise) {
  let value;
  try {
    value = await promise;
  } catch (err) {
    return err;
  }
  throw new Error(`expected a rejection, got ${value && value.statusCode ? `status ${value.statusCode}` : String(value)}`);
}

/** Poll `predicate` until true (or fail after `ms`). */
export async function waitUntil(predicate, ms = 2000, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * A raw TCP server. `onConnection(conn)` is called for every connection with
 * { socket, index, reads: Buffer[] (each 'data' chunk), received() (all bytes as latin1),
 *   waitFor(predicate(text)) }.
 * Resolves to { origin, port, conns (every connection record), server, close() }.
 */
export async function rawServer(onConnection) {
  const conns = [];
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const waiters = [];
    const conn = {
      socket,
      index: conns.length,
      reads: [],
      received: () => Buffer.concat(conn.reads).toString('latin1'),
      /** Resolves once the received text satisfies `predicate` (checked on every read). */
      waitFor(predicate) {
        if (predicate(conn.received())) return Promise.resolve();
        return new Promise((resolve) => waiters.push({ predicate, resolve }));
      },
    };
    conns.push(conn);
    socket.on('data', (chunk) => {
      conn.reads.push(chunk);
      const text = conn.received();
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].predicate(text)) waiters.splice(i, 1)[0].resolve();
      }
    });
    onConnection(conn);
  });
  const origin = await listen(server);
  return {
    origin,
    port: server.address().port,
    conns,
    server,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The request-lines in the bytes a connection received (requests without bodies). */
export function requestLines(text) {
  return [...text.matchAll(/(?:^|\r\n\r\n)([A-Z]+ \S+ HTTP\/1\.1)\r\n/g)].map((m) => m[1]);
}

/** A port on 127.0.0.1 with nothing listening on it (bound, then released). */
export async function closedPort() {
  const s = net.createServer();
  s.listen(0, HOST);
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}
