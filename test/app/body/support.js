// Helpers for the keel/body tests (deliberately not named *.test.js).
//
// - withServer(handler, fn): a keel server on 127.0.0.1:0 running `handler`; fn(h) gets
//   { server, port, connect() }; every socket is destroyed and the server closed afterwards.
// - Client: a raw socket that parses Content-Length / chunked responses, with bounded waits.
// - request(port, head, body): one request on a fresh connection; returns the response.
// - multipartBody(parts, boundary): a multipart/form-data body from { name, value | filename+data }.

import net from 'node:net';
import http from 'keel';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reject after `ms` unless `promise` settles first. */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve function, for handlers to report what they saw. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export async function withServer(handler, fn, options = {}) {
  const server = http.createServer(options, handler);
  const sockets = new Set();
  const clients = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const h = {
    server,
    port: server.address().port,
    sockets,
    async connect() {
      const client = await Client.connect(h.port);
      clients.add(client);
      return client;
    },
  };
  try {
    return await fn(h);
  } finally {
    for (const client of clients) client.socket.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(() => resolve()));
  }
}

/** Parse one response at the start of `buf`: { status, headers, body, length } or null if incomplete. */
function parseResponse(buf) {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let offset = headEnd + 4;
  if (status < 200) return { status, headers, body: '', length: offset, interim: true };
  if (headers['content-length'] !== undefined) {
    const end = offset + Number(headers['content-length']);
    if (buf.length < end) return null;
    return { status, headers, body: buf.subarray(offset, end).toString('utf8'), length: end };
  }
  if (headers['transfer-encoding'] === 'chunked') {
    const parts = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', offset);
      if (lineEnd === -1) return null;
      const size = parseInt(buf.subarray(offset, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        if (buf.length < lineEnd + 4) return null;
        return { status, headers, body: Buffer.concat(parts).toString('utf8'), length: lineEnd + 4 };
      }
      if (buf.length < lineEnd + 2 + size + 2) return null;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
    }
  }
  return { status, headers, body: '', length: offset };
}

/** A raw client socket: write bytes, wait for parsed responses or for the server to close. */
export class Client {
  static connect(port) {
    return within(
      new Promise((resolve, reject) => {
        const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Client(socket)));
        socket.once('error', reject);
      }),
      2000,
      'connect',
    );
  }

  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.responses = [];
    this.closed = false;
    this.error = null;
    this.waiters = [];
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const response = parseResponse(this.buffer);
        if (response === null) break;
        this.buffer = this.buffer.subarray(response.length);
        if (!response.interim) this.responses.push(response);
      }
      this.#wake();
    });
    socket.on('error', (err) => {
      this.error = err;
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  #until(check, ms, what) {
    return within(
      new Promise((resolve) => {
        const test = () => {
          const value = check();
          if (value) resolve(value);
          else this.waiters.push(test);
        };
        test();
      }),
      ms,
      what,
    );
  }

  /** Write, resolving when the bytes were handed over (false if the socket is gone). */
  write(bytes) {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve(false);
      this.socket.write(bytes, (err) => resolve(!err));
    });
  }

  /** The n-th response (1-based count), within `ms`. */
  response(n = 1, ms = 3000) {
    return this.#until(() => this.responses[n - 1] ?? (this.closed && this.responses.length < n ? Promise.reject(new Error(`connection closed after ${this.responses.length} responses`)) : null), ms, `response ${n}`);
  }

  /** Resolve once the server closed the connection, within `ms`. */
  waitForClose(ms = 3000) {
    return this.#until(() => this.closed, ms, 'the server to close the connection');
  }
}

/** A request head: method, path and header fields (an object; Host is added). */
export function head(method, path, fields = {}) {
  let text = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [name, value] of Object.entries(fields)) text += `${name}: ${value}\r\n`;
  return text + '\r\n';
}

/** POST `body` (string or Buffer) with Content-Length and the given fields. */
export function post(path, fields, body) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body ?? '');
  return Buffer.concat([Buffer.from(head('POST', path, { 'Content-Length': bytes.length, ...fields })), bytes]);
}

/** A chunked request body: one chunk per piece, then the last chunk. */
export function chunked(pieces) {
  const parts = [];
  for (const piece of pieces) {
    const bytes = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    parts.push(Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** One request on a fresh connection; the first response. */
export async function request(h, bytes) {
  const client = await h.connect();
  await client.write(bytes);
  return client.response();
}

/** A multipart/form-data body: parts are { name, value } or { name, filename, type, data }. */
export function multipartBody(parts, boundary = 'keelboundary7MA4YWxk') {
  const chunks = [];
  for (const part of parts) {
    let disposition = `form-data; name="${part.name}"`;
    if (part.filename !== undefined) disposition += `; filename="${part.filename}"`;
    let partHead = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n`;
    if (part.type !== undefined) partHead += `Content-Type: ${part.type}\r\n`;
    chunks.push(Buffer.from(partHead + '\r\n'), Buffer.isBuffer(part.data ?? part.value) ? part.data ?? part.value : Buffer.from(part.data ?? part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
