// Helpers for the keel/proxy tests (deliberately not named *.test.js).
//
// - startUpstream(handler, { kind }): a Keel ('keel', default) or node:http ('node') server on
//   127.0.0.1:0, its connections tracked so that close() tears everything down.
// - startRawUpstream(onConnection): a node:net server for hand-written responses.
// - startProxy(options, { wrap, host }): a Keel server running createProxy(options) (also for
//   'upgrade'); `wrap(proxy)` may return the request listener (to add middleware in front).
// - send(port, options, body): one request with node:http (agent: false), resolved with
//   { res, status, headers, rawHeaders, body } once the body ended.
// - rawExchange(port, bytes): write raw bytes, resolve with everything read until the server closes.
// - closedPort(), sleep(ms), waitUntil(check, ms), collect(stream).

import net from 'node:net';
import nodeHttp from 'node:http';
import http from 'keel';
import { createProxy } from 'keel/proxy';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check()` until it returns a truthy value; reject after `ms`. */
export async function waitUntil(check, ms = 2000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Read a stream to its end: a Buffer. */
export async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function track(server) {
  const sockets = new Set();
  const add = (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  server.on('connection', add);
  server.on('upgrade', (_req, socket) => add(socket));
  return () => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

async function listen(server, host = '127.0.0.1') {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return server.address().port;
}

/** An upstream HTTP server: `kind` 'keel' (default) or 'node', on `host` (default 127.0.0.1). */
export async function startUpstream(handler, { kind = 'keel', host = '127.0.0.1' } = {}) {
  const server = kind === 'node' ? nodeHttp.createServer(handler) : http.createServer(handler);
  const close = track(server);
  const port = await listen(server, host);
  return { server, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close };
}

/** An upstream that writes whatever it likes: onConnection(socket). */
export async function startRawUpstream(onConnection) {
  const server = net.createServer(onConnection);
  const close = track(server);
  const port = await listen(server);
  return { server, port, url: `http://127.0.0.1:${port}`, close };
}

/** A Keel server with the proxy as its request listener and 'upgrade' listener. */
export async function startProxy(options, { wrap, host = '127.0.0.1' } = {}) {
  const proxy = createProxy(options);
  const server = http.createServer(wrap ? wrap(proxy) : proxy);
  server.on('upgrade', proxy.upgrade);
  const closeServer = track(server);
  const port = await listen(server, host);
  return {
    server,
    port,
    proxy,
    close: async () => {
      await closeServer();
      proxy.close();
    },
  };
}

/** One request with node:http (agent: false): { res, status, headers, rawHeaders, body }. */
export function send(port, options = {}, body) {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request({ host: options.host ?? '127.0.0.1', port, agent: false, ...options }, (res) => {
      collect(res).then(
        (data) => resolve({ res, status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders, body: data.toString(), data }),
        reject,
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Write `bytes` on a new connection; resolve with all bytes read until the server closes (or `ms`). */
export function rawExchange(port, bytes, ms = 3000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, ms);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(bytes);
  });
}

/** A port nothing listens on (bound, then released). */
export async function closedPort() {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Field lines of a raw HTTP head as [name, value] pairs (names lower-cased). */
export function fieldsOf(head) {
  return head.split('\r\n').slice(1).filter(Boolean).map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
}
