// Reference ceiling "bare node:net": a node:net server that speaks no HTTP at all. It scans the
// incoming bytes for the blank line ending a request head ("\r\n\r\n") and, for each one found,
// writes the same fixed, valid HTTP/1.1 response: 200 text/plain "Hello World" with
// Content-Length (no Date, no parsing of the request line, headers or body). What it measures is
// what one Node.js process on one core can do with sockets alone: the limit any HTTP server
// written in JavaScript on node:net (Keel included) works under. Only for the GET scenarios
// (keepalive, pipeline, close): a request with a body would be answered wrongly.
//
// In `close` mode (the Connection: close scenario) the response says `Connection: close` and the
// server ends the connection after answering, as an HTTP server must when asked to.
//
//   import { start } from './bare-net.js';
//   const server = await start(port, '127.0.0.1', { close: false });

import net from 'node:net';

const BODY = 'Hello World';
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);
const MAX_CACHED_BATCH = 64; // responses to one read are written with one write; batches cached up to this

function fixedResponse(close) {
  const head =
    'HTTP/1.1 200 OK\r\n' +
    'Content-Type: text/plain\r\n' +
    `Content-Length: ${Buffer.byteLength(BODY)}\r\n` +
    (close ? 'Connection: close\r\n' : '') +
    '\r\n';
  return Buffer.from(head + BODY, 'latin1');
}

/**
 * Counts the request heads completed by `chunk`: occurrences of "\r\n\r\n" in `carry + chunk`,
 * where `carry` holds the (at most 3) bytes after the last match seen so far, which may begin one
 * straddling two reads. Returns the count and the new carry.
 */
export function countHeadEnds(carry, chunk) {
  // Requests arrive whole in practice (each read ends with a head's blank line, so carry is
  // empty and nothing is copied); the concat is for heads split across reads.
  const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
  let count = 0;
  let lastEnd = 0;
  for (let i = data.indexOf(HEAD_END); i !== -1; i = data.indexOf(HEAD_END, lastEnd)) {
    count++;
    lastEnd = i + HEAD_END.length;
  }
  const rest = data.subarray(Math.max(lastEnd, data.length - (HEAD_END.length - 1)));
  return { count, carry: rest.length > 0 ? Buffer.from(rest) : EMPTY };
}

export function start(port, host = '127.0.0.1', { close = false } = {}) {
  const one = fixedResponse(close);
  const batches = [null, one];
  const batch = (n) => {
    if (n <= MAX_CACHED_BATCH) return (batches[n] ??= Buffer.concat(new Array(n).fill(one)));
    return Buffer.concat(new Array(n).fill(one));
  };

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let carry = EMPTY;
    socket.on('data', (chunk) => {
      const r = countHeadEnds(carry, chunk);
      carry = r.carry;
      if (r.count === 0) return;
      if (close) {
        // One answer, then close at once when the kernel has taken it all (close(2) sends the
        // bytes and the FIN; no shutdown(2) and no wait), as Keel does for a client's close.
        socket.write(one);
        if (socket.writableLength === 0) socket.destroy();
        else socket.destroySoon();
        return;
      }
      socket.write(batch(r.count));
    });
    socket.on('error', () => {}); // resets by the load generator are expected
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
