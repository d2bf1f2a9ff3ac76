// Helpers for the keel/shutdown tests (deliberately not named *.test.js).
//
// - startServer(handler, { kind }): a Keel ('keel', default) or node:http ('node') server on
//   127.0.0.1:0; `h.kill()` destroys every connection (cleanup after a failed test).
// - RawClient: a raw socket that sends bytes, collects every byte received and knows when the
//   server ended / closed it; responses(): the complete HTTP/1.1 responses received (Content-Length
//   or chunked framing), each { status, headers, body }.
// - connectOutcome(port): 'connected' or the connect error's code (ECONNREFUSED).
// - sleep, waitUntil, withTimeout: bounded waits.

import net from 'node:net';
import nodeHttp from 'node:http';
import http from 'keel';
import { listenTracked, waitUntil } from '../support.js';
export { sleep, waitUntil, withTimeout } from '../support.js';

/** A server on 127.0.0.1:0 with `handler`; its sockets are kept so that kill() can drop them. */
export async function startServer(handler, { kind = 'keel' } = {}) {
  const tracked = await listenTracked(handler, {}, kind === 'node' ? nodeHttp : http);
  return {
    server: tracked.server,
    port: tracked.port,
    kill() {
      tracked.dropAll();
      if (tracked.server.listening) tracked.server.close();
    },
  };
}

/** Connect and report 'connected' (then close) or the error's code. */
export function connectOutcome(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err) => resolve(err.code));
  });
}

/** A raw client connection: every byte received, and whether / how it ended. */
export class RawClient {
  #chunks = [];
  ended = false;
  closed = false;
  error = null;

  constructor(port) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => {
      this.#chunks.push(chunk);
    });
    this.socket.on('end', () => {
      this.ended = true;
    });
    this.socket.on('error', (err) => {
      this.error = err;
    });
    this.socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Resolve once connected. */
  async connected() {
    if (!this.socket.connecting) return;
    await new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }

  /** Every byte received so far. */
  get received() {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  send(text) {
    this.socket.write(text);
  }

  get(path = '/', extra = '') {
    this.send(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`);
  }

  /** Resolve when the socket closed (rejects after `ms`). */
  whenClosed(ms = 3000) {
    return waitUntil(() => this.closed, ms, 'the raw socket to close');
  }

  /** The complete responses in `received`. */
  responses() {
    return parseResponses(this.received);
  }

  destroy() {
    this.socket.destroy();
  }
}

/** Split bytes into complete HTTP/1.1 responses (Content-Length or chunked bodies). */
export function parseResponses(bytes) {
  const text = bytes.toString('latin1');
  const out = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const [statusLine, ...lines] = text.slice(at, headEnd).split('\r\n');
    const headers = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let bodyStart = headEnd + 4;
    let body = '';
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const sizeEnd = text.indexOf('\r\n', bodyStart);
        if (sizeEnd < 0) return out;
        const size = parseInt(text.slice(bodyStart, sizeEnd), 16);
        if (text.length < sizeEnd + 2 + size + 2) return out;
        body += text.slice(sizeEnd + 2, sizeEnd + 2 + size);
        bodyStart = sizeEnd + 2 + size + 2;
        if (size === 0) break;
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (text.length < bodyStart + length) break;
      body = text.slice(bodyStart, bodyStart + length);
      bodyStart += length;
    }
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    at = bodyStart;
  }
  return out;
}
