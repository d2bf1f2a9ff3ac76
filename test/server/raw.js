// Helpers for the server tests (deliberately not named *.test.js).
//
// - start(handler, options): a keel server on 127.0.0.1:0 that tracks every socket it accepts and
//   every raw client the test opens, so that h.close() tears everything down.
// - withServer(handler, options, fn): start(), run fn(h), always h.close().
// - fetchOne(h, request) / untilClose(h, request): write a request on a fresh connection of `h`
//   and wait for its response / for the server to close the connection.
// - RawClient: a raw net.connect socket that records every byte received, with bounded waits.
// - splitResponses(bytes): split concatenated HTTP/1.1 responses (Content-Length, chunked,
//   or until close; no body for 1xx / 204 / 304 / HEAD) into { status, reason, headers, body, ... }.
// - exchange(port, pieces, opts): connect, write, wait for N responses or close, return the result.
// - countEnds(socket): count a server-side socket's end() calls (half-close vs at-once close).

import net from 'node:net';
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

/** Resolve with the event's arguments, reject after `ms`. */
/** Wait until `value()` has not changed for `quietMs` (bounded by `ms`); returns the value. */
export async function waitForStall(value, quietMs = 300, ms = 4000) {
  const deadline = Date.now() + ms;
  let last = value();
  let since = Date.now();
  for (;;) {
    await sleep(25);
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
    if (Date.now() > deadline) throw new Error(`no stall within ${ms} ms (value ${now})`);
  }
}

export function once(emitter, event, ms = 2000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'`));
    }, ms);
    const on = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, on);
  });
}

/**
 * Start a keel server. `handler` is the request listener (may be null); `options` go to
 * createServer. Returns a harness: { server, port, calls, sockets, connect(), close() }.
 * `calls` counts handler invocations.
 */
export async function start(handler, options = {}) {
  const h = {
    server: null,
    port: 0,
    calls: 0,
    requests: [],
    sockets: new Set(),
    clients: new Set(),
    connect: null,
    close: null,
  };
  const listener = handler
    ? (req, res) => {
        h.calls++;
        h.requests.push(req);
        return handler(req, res);
      }
    : undefined;
  const server = listener ? http.createServer(options, listener) : http.createServer(options);
  h.server = server;
  server.on('connection', (socket) => {
    h.sockets.add(socket);
    socket.on('close', () => h.sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  h.port = server.address().port;
  h.connect = async () => {
    const client = await RawClient.connect(h.port);
    h.clients.add(client);
    return client;
  };
  h.close = async () => {
    for (const client of h.clients) client.destroy();
    for (const socket of h.sockets) socket.destroy();
    server.closeAllConnections?.();
    if (server.listening) await new Promise((resolve) => server.close(() => resolve()));
  };
  return h;
}

/** Run `fn(h)` with a started server (see start), always closing it; returns what `fn` returns. */
export async function withServer(handler, options, fn) {
  const h = await start(handler, options);
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

/** One request on a fresh connection of `h` (default: GET /); returns [response, client]. */
export async function fetchOne(h, request = get('/'), opts = {}) {
  const c = await h.connect();
  await c.write(request);
  const rs = await c.waitForResponses(1, 2000, opts);
  return [rs[0], c];
}

/** Write `request` on a fresh connection of `h`, wait until the server closes it; returns [responses, client]. */
export async function untilClose(h, request) {
  const c = await h.connect();
  await c.write(request);
  await c.waitForClose();
  return [c.responses(), c];
}

/**
 * Count socket.end() calls on a server-side socket: how the server closed it. destroySoon()
 * half-closes through end() (shutdown(2), then close(2) after 'finish'); an at-once close calls
 * destroy() only. Returns { socket, ends }, `ends` kept up to date.
 */
export function countEnds(socket) {
  const entry = { socket, ends: 0 };
  const end = socket.end;
  socket.end = function (...args) {
    entry.ends++;
    return end.apply(this, args);
  };
  return entry;
}

/** A raw TCP client that records everything it receives. */
export class RawClient {
  /** Connect to 127.0.0.1:port. */
  static connect(port, ms = 2000) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timed out'));
      }, ms);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.chunks = [];
    this.length = 0;
    this.ended = false; // the server's FIN (or a reset) was seen
    this.closed = false;
    this.endedAt = 0;
    this.error = null;
    this.firstDataAt = 0;
    socket.on('data', (chunk) => {
      if (this.firstDataAt === 0) this.firstDataAt = Date.now();
      this.chunks.push(chunk);
      this.length += chunk.length;
    });
    socket.on('end', () => {
      this.ended = true;
      this.endedAt ||= Date.now();
      socket.end();
    });
    socket.on('error', (err) => {
      this.error = err;
    });
    socket.on('close', () => {
      this.ended = true;
      this.closed = true;
      this.endedAt ||= Date.now();
    });
  }

  /** Every byte received so far. */
  get data() {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  get text() {
    return this.data.toString('latin1');
  }

  /** Write bytes; resolves once they were handed to the kernel (or the socket failed). */
  write(bytes) {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve(false);
      this.socket.write(bytes, () => resolve(true));
    });
  }

  /** Write `pieces` one after another with `delay` ms between them. */
  async send(pieces, delay = 0) {
    const list = Array.isArray(pieces) ? pieces : [pieces];
    for (let i = 0; i < list.length; i++) {
      if (i > 0 && delay > 0) await sleep(delay);
      await this.write(list[i]);
    }
  }

  /** Write `text` one character at a time, `delay` ms apart, until done or the server closed. */
  async trickle(text, delay) {
    for (const ch of text) {
      if (this.ended) return;
      await this.write(ch);
      await sleep(delay);
    }
  }

  /** Parse what was received so far (see splitResponses). */
  responses(opts = {}) {
    return splitResponses(this.data, { closed: this.ended, ...opts }).responses;
  }

  /** Wait until `n` responses (1xx included, as they are separate messages) are complete. */
  async waitForResponses(n, ms = 2000, opts = {}) {
    await waitUntil(() => this.responses(opts).length >= n || (this.ended && this.responses(opts).length < n && 'ended'), ms, `${n} responses`);
    const responses = this.responses(opts);
    if (responses.length < n) {
      throw new Error(`connection closed after ${responses.length} of ${n} responses; received:\n${this.text}`);
    }
    return responses;
  }

  /** Wait until the server closed the connection (FIN or reset). */
  async waitForClose(ms = 2000) {
    await waitUntil(() => this.ended, ms, 'the server to close the connection');
    return this.endedAt;
  }

  /** Whether the connection is still open after `ms` of quiet. */
  async staysOpen(ms = 150) {
    await sleep(ms);
    return !this.ended;
  }

  destroy() {
    this.socket.destroy();
  }
}

const NO_BODY_STATUS = (status) => (status >= 100 && status < 200) || status === 204 || status === 304;

/**
 * Split concatenated HTTP/1.1 responses.
 *   opts.closed: the connection is closed, so a body delimited by close is complete;
 *   opts.head: indices (among final, non-1xx responses) answering HEAD requests (no body).
 * Returns { responses, rest } where each response is
 *   { statusLine, version, status, reason, rawHeaders, headers, body, chunked, chunks, rawTrailers,
 *     trailers, untilClose, raw }.
 * `headers` has lower-cased names; repeated fields become arrays.
 */
export function splitResponses(buf, opts = {}) {
  const closed = opts.closed ?? false;
  const headSet = new Set(opts.head ?? []);
  const responses = [];
  let pos = 0;
  let finalIndex = 0;
  while (pos < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd === -1) break;
    const headText = buf.subarray(pos, headEnd).toString('latin1');
    const lines = headText.split('\r\n');
    const statusLine = lines[0];
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const status = Number(m[2]);
    const rawHeaders = [];
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      rawHeaders.push(name, value);
      addField(headers, name, value);
    }
    const res = {
      statusLine,
      version: m[1],
      status,
      reason: m[3] ?? '',
      rawHeaders,
      headers,
      body: Buffer.alloc(0),
      chunked: false,
      chunks: [],
      rawTrailers: [],
      trailers: {},
      untilClose: false,
      raw: null,
    };
    const start = pos;
    let p = headEnd + 4;
    const informational = status >= 100 && status < 200;
    const isHead = !informational && headSet.has(finalIndex);
    const te = headers['transfer-encoding'];
    if (NO_BODY_STATUS(status) || isHead) {
      // no body
    } else if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(String(te))) {
      res.chunked = true;
      const parts = [];
      let complete = false;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', p, 'latin1');
        if (lineEnd === -1) break;
        const sizeLine = buf.subarray(p, lineEnd).toString('latin1');
        const size = parseInt(sizeLine.split(';')[0], 16);
        if (!/^[0-9a-fA-F]+(;.*)?$/.test(sizeLine) || Number.isNaN(size)) throw new Error(`bad chunk-size line ${JSON.stringify(sizeLine)}`);
        if (size === 0) {
          // trailer section until an empty line
          let q = lineEnd + 2;
          const trailerLines = [];
          let done = false;
          for (;;) {
            const e = buf.indexOf('\r\n', q, 'latin1');
            if (e === -1) break;
            if (e === q) {
              done = true;
              q = e + 2;
              break;
            }
            trailerLines.push(buf.subarray(q, e).toString('latin1'));
            q = e + 2;
          }
          if (!done) break;
          for (const line of trailerLines) {
            const colon = line.indexOf(':');
            const name = line.slice(0, colon);
            const value = line.slice(colon + 1).trim();
            res.rawTrailers.push(name, value);
            addField(res.trailers, name, value);
          }
          p = q;
          complete = true;
          break;
        }
        const dataStart = lineEnd + 2;
        if (buf.length < dataStart + size + 2) break;
        if (buf[dataStart + size] !== 0x0d || buf[dataStart + size + 1] !== 0x0a) throw new Error('chunk data not followed by CRLF');
        parts.push(buf.subarray(dataStart, dataStart + size));
        res.chunks.push(size);
        p = dataStart + size + 2;
      }
      if (!complete) break;
      res.body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (buf.length < p + n) break;
      res.body = buf.subarray(p, p + n);
      p += n;
    } else {
      // delimited by close
      if (!closed) break;
      res.untilClose = true;
      res.body = buf.subarray(p);
      p = buf.length;
    }
    res.raw = buf.subarray(start, p);
    responses.push(res);
    if (!informational) finalIndex++;
    pos = p;
  }
  return { responses, rest: buf.subarray(pos) };
}

function addField(obj, name, value) {
  const key = name.toLowerCase();
  if (obj[key] === undefined) obj[key] = value;
  else if (Array.isArray(obj[key])) obj[key].push(value);
  else obj[key] = [obj[key], value];
}

/**
 * Connect to `port`, write `pieces` (one write each, `delay` ms apart), and wait until
 * `responses` responses were received (then `linger` ms more) or the server closed the connection.
 * Returns { client, responses, closed, data, text }.
 */
export async function exchange(port, pieces, opts = {}) {
  const { responses: n = Infinity, delay = 0, timeout = 3000, linger = 0, head } = opts;
  const client = await RawClient.connect(port);
  try {
    await client.send(pieces, delay);
    await waitUntil(() => client.ended || (n !== Infinity && client.responses({ head }).length >= n), timeout, n === Infinity ? 'close' : `${n} responses or close`);
    if (linger > 0) await sleep(linger);
    return { client, responses: client.responses({ head }), closed: client.ended, data: client.data, text: client.text };
  } finally {
    if (!opts.keepOpen) client.destroy();
  }
}

/** A plain GET request's bytes. */
export function get(path = '/', extra = '') {
  return `GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;
}

/** `n` GET requests for /0 … /<n-1>, back to back (a pipeline in one string). */
export function getMany(n) {
  let bytes = '';
  for (let i = 0; i < n; i++) bytes += get(`/${i}`);
  return bytes;
}

/** A POST request with a Content-Length body. */
export function post(path, body, extra = '') {
  return `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** Read a whole Readable into a Buffer. */
export async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
