// Helpers for the keel/sse tests (deliberately not named *.test.js).
//
// - EventStreamParser: the WHATWG HTML event-stream interpretation (§9.2.6), written from the
//   spec: UTF-8 decoding, BOM, CRLF / LF / CR line ends split across chunks, fields, comments,
//   dispatch on a blank line. It records events, comments and retry values.
// - startServer(handler, options): a keel server on 127.0.0.1:0; close() drops every connection.
// - openStream(port, path, headers): a node:http GET whose body feeds a parser; also keeps the
//   exact (de-chunked) body text.
// - rawRequest(port, text): a raw socket that records every byte received.
// - waitUntil / withTimeout: bounded waits.

import net from 'node:net';
import nodeHttp from 'node:http';
import { withTimeout } from '../support.js';
export { sleep, waitUntil, withTimeout, startServer } from '../support.js';

/** The event-stream interpretation of WHATWG HTML §9.2.6, as an EventSource applies it. */
export class EventStreamParser {
  events = [];
  comments = [];
  retries = [];
  /** The last event ID as the client keeps it (sent back as Last-Event-ID). */
  lastEventId = '';
  #decoder = new TextDecoder('utf-8');
  #buffer = '';
  #first = true;
  #eventType = '';
  #data = '';
  #lastEventIdBuffer = '';

  /** Feed bytes (Buffer / Uint8Array) or already decoded text. */
  push(chunk) {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (this.#first && text.length > 0) {
      this.#first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.#buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (match === null) break;
      // A CR at the very end may be the first half of a CRLF split across chunks: wait.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line);
    }
  }

  /** End of stream: an incomplete event is discarded (as the spec says). */
  end() {
    if (this.#buffer.endsWith('\r')) {
      this.#line(this.#buffer.slice(0, -1));
      this.#buffer = '';
    }
  }

  #line(line) {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#eventType = value;
    else if (field === 'data') this.#data += `${value}\n`;
    else if (field === 'id') {
      if (!value.includes('\0')) this.#lastEventIdBuffer = value;
    } else if (field === 'retry') {
      if (/^[0-9]+$/.test(value)) this.retries.push(Number(value));
    }
  }

  #dispatch() {
    this.lastEventId = this.#lastEventIdBuffer;
    if (this.#data === '') {
      this.#eventType = '';
      return;
    }
    const data = this.#data.endsWith('\n') ? this.#data.slice(0, -1) : this.#data;
    this.events.push({ type: this.#eventType === '' ? 'message' : this.#eventType, data, lastEventId: this.lastEventId });
    this.#data = '';
    this.#eventType = '';
  }
}

/** Parse a whole event-stream text. */
export function parseAll(text) {
  const parser = new EventStreamParser();
  parser.push(text);
  parser.end();
  return parser;
}

/**
 * GET `path` with node:http. Resolves once the head is in: { res, parser, text(), ended, done(ms), close() }.
 * `text()` is the body received so far, de-chunked, as decoded UTF-8. The request is sent with
 * `Connection: keep-alive`, as browsers send it, unless `keepAlive: false` (then node:http sends
 * `Connection: close`).
 */
export function openStream(port, path = '/', headers = {}, { keepAlive = true } = {}) {
  const agent = keepAlive ? new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 }) : false;
  return new Promise((resolve, reject) => {
    const req = nodeHttp.get({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      const parser = new EventStreamParser();
      const chunks = [];
      const stream = {
        res,
        req,
        parser,
        ended: false,
        text: () => Buffer.concat(chunks).toString('utf8'),
        close: () => {
          req.destroy();
          if (agent) agent.destroy();
        },
        /** Resolves when the response ends (or closes), rejects after `ms`. */
        done: (ms = 3000) => withTimeout(ended, ms, 'the end of the response'),
      };
      const ended = new Promise((done) => res.on('close', done)).finally(() => {
        if (agent) agent.destroy();
      });
      res.on('data', (chunk) => {
        chunks.push(chunk);
        parser.push(chunk);
      });
      res.on('end', () => {
        stream.ended = true;
        parser.end();
      });
      res.on('error', () => {});
      resolve(stream);
    });
    req.on('error', reject);
  });
}

/** A raw connection that writes `text` and records every byte received. */
export function rawRequest(port, text) {
  const socket = net.connect(port, '127.0.0.1');
  const client = { socket, received: Buffer.alloc(0), closed: false };
  socket.on('data', (chunk) => {
    client.received = Buffer.concat([client.received, chunk]);
  });
  socket.on('close', () => {
    client.closed = true;
  });
  socket.on('error', () => {});
  socket.write(text);
  return client;
}
