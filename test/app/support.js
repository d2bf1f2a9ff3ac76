// Shared by the battery tests' helpers (test/app/*/helpers.js; deliberately not named *.test.js):
// bounded waits and a test server on 127.0.0.1:0 that can drop every connection it accepted.

import http from 'keel';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check()` until it returns a truthy value; reject after `ms`. */
export async function waitUntil(check, ms = 3000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolve with `promise`, or reject after `ms`. */
export function withTimeout(promise, ms, what = 'promise') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A server of `module` (default keel) on 127.0.0.1:0 that tracks its sockets.
 * Returns { server, port, sockets, dropAll() } — dropAll() destroys every open connection.
 */
export async function listenTracked(handler, options = {}, module = http) {
  const server = module.createServer(options, handler);
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: server.address().port,
    sockets,
    dropAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** A keel server on 127.0.0.1:0. Returns { server, port, sockets, close() }; close() drops every connection. */
export async function startServer(handler, options = {}) {
  const tracked = await listenTracked(handler, options);
  return {
    server: tracked.server,
    port: tracked.port,
    sockets: tracked.sockets,
    async close() {
      tracked.dropAll();
      await new Promise((resolve) => tracked.server.close(() => resolve()));
    },
  };
}
