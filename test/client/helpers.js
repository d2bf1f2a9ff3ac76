// Helpers for the client tests (deliberately not named *.test.js).
//
// - startServer(kind, handler): a Keel ('keel') or node:http ('node') server on 127.0.0.1:0 that
//   counts and tracks every connection it accepts (also those handed to 'upgrade' / 'connect'),
//   so that close() tears everything down.
// - startRawServer(onConnection): a node:net server for hand-written responses, same bookkeeping.
// - send(client, input, options, body): one request with `client` (keel or node:http), resolved
//   with { req, res, body } once the response body ended; rejected with the request's 'error'.
// - collect(res), once(emitter, event, ms), waitUntil(check, ms), sleep(ms).

import net from 'node:net';
import nodeHttp from 'node:http';
import http from 'keel';

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

/**
 * Resolve with the event's arguments (an array); reject after `ms`, or on 'error' when
 * `rejectOnError` (not when waiting for 'error' itself). Call it BEFORE the event can fire:
 * Keel may emit 'error' and 'close' in the same tick.
 */
export function once(emitter, event, ms = 3000, rejectOnError = true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'`));
    }, ms);
    const on = (...args) => {
      cleanup();
      resolve(args);
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      clearTimeout(timer);
      emitter.removeListener(event, on);
      if (listensForError) emitter.removeListener('error', onError);
    };
    const listensForError = rejectOnError && event !== 'error';
    emitter.once(event, on);
    if (listensForError) emitter.once('error', onError);
  });
}

/** once(emitter, 'close') that ignores 'error' (set it up before the request can fail). */
export function closed(emitter, ms = 3000) {
  return once(emitter, 'close', ms, false);
}

/** The whole body of a readable as one Buffer. */
export function collect(stream, ms = 5000) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const timer = setTimeout(() => reject(new Error(`body did not end within ${ms} ms`)), ms);
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    stream.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function track(h, server) {
  server.on('connection', (socket) => {
    h.connections++;
    h.sockets.add(socket);
    socket.on('close', () => h.sockets.delete(socket));
  });
}

async function listen(h, server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  h.port = server.address().port;
}

/**
 * Start a server of `kind` ('keel' or 'node') with the request listener `handler`.
 * Returns { kind, server, port, connections, sockets, requests, url(path), close() };
 * `connections` counts accepted TCP connections, `requests` every request seen.
 */
export async function startServer(kind, handler) {
  const impl = kind === 'keel' ? http : nodeHttp;
  const h = {
    kind,
    server: null,
    port: 0,
    connections: 0,
    sockets: new Set(),
    requests: [],
    url: (p = '/') => `http://127.0.0.1:${h.port}${p}`,
    close: null,
  };
  const server = impl.createServer((req, res) => {
    h.requests.push(req);
    return handler?.(req, res);
  });
  h.server = server;
  track(h, server);
  await listen(h, server);
  h.close = async () => {
    for (const socket of h.sockets) socket.destroy();
    server.closeAllConnections?.();
    if (server.listening) await new Promise((resolve) => server.close(() => resolve()));
  };
  return h;
}

/** A raw node:net server; `onConnection(socket, h)` writes whatever bytes the test wants. */
export async function startRawServer(onConnection) {
  const h = {
    server: null,
    port: 0,
    connections: 0,
    sockets: new Set(),
    url: (p = '/') => `http://127.0.0.1:${h.port}${p}`,
    close: null,
  };
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    onConnection(socket, h);
  });
  h.server = server;
  track(h, server);
  await listen(h, server);
  h.close = async () => {
    for (const socket of h.sockets) socket.destroy();
    if (server.listening) await new Promise((resolve) => server.close(() => resolve()));
  };
  return h;
}

/**
 * Read a request head (and, once the head is complete, call `onHead(headText, rest)`) from a raw
 * socket; returns nothing. Used by raw servers that answer per request.
 */
export function onRequestHeads(socket, onHead) {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      buffered = buffered.subarray(end + 4);
      // Bodies: only Content-Length (enough for these tests).
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const length = m ? Number(m[1]) : 0;
      if (buffered.length < length) {
        // Wait for the rest of the body: put the head back.
        buffered = Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), buffered]);
        return;
      }
      const body = buffered.subarray(0, length);
      buffered = buffered.subarray(length);
      onHead(head, body);
    }
  });
}

/**
 * One request with `client` (keel or node:http): `request(input, options)`, ended with `body`
 * (undefined: end() without a body). Resolves { req, res, body } after the response's 'end'.
 */
export function send(client, input, options = {}, body = undefined, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no complete response within ${ms} ms`));
    }, ms);
    const onResponse = (res) => {
      collect(res, ms).then((data) => {
        clearTimeout(timer);
        resolve({ req, res, body: data });
      }, (err) => {
        clearTimeout(timer);
        reject(err);
      });
    };
    // node:http's signatures: request(url, options, cb) or request(options, cb).
    const req = typeof input === 'string' || input instanceof URL
      ? client.request(input, options, onResponse)
      : client.request({ ...input, ...options }, onResponse);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (body === undefined) req.end();
    else req.end(body);
  });
}

/** A field's values in a flat rawHeaders list (case-insensitive name). */
export function rawValues(rawHeaders, name) {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name.toLowerCase()) out.push(rawHeaders[i + 1]);
  }
  return out;
}

/** The field names of a flat rawHeaders list, as sent. */
export function rawNames(rawHeaders) {
  return rawHeaders.filter((_, i) => i % 2 === 0);
}
