// Helpers for the keel/workers tests (deliberately not named *.test.js).
//
// - startServer(handler, options): a keel server on 127.0.0.1:0; close() drops every connection.
// - get(port, path, options): one GET with node:http (keep-alive agent unless keepAlive: false),
//   resolving { status, headers, body, ms }.
// - rawGet(port, path, extraHeaders): a raw HTTP/1.1 GET on its own socket that records the
//   bytes received, to disconnect at a chosen moment.
// - waitUntil / withTimeout: bounded waits.

import net from 'node:net';
import nodeHttp from 'node:http';
import { withTimeout } from '../support.js';
export { sleep, waitUntil, withTimeout, startServer } from '../support.js';

export const FIB = new URL('./fixtures/fib.js', import.meta.url);

/** One GET; resolves { status, headers, body, ms } (ms: from sending to the end of the body). */
export function get(port, path, { timeout = 10000 } = {}) {
  const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
  const started = performance.now();
  const request = new Promise((resolve, reject) => {
    const req = nodeHttp.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return withTimeout(request, timeout, `GET ${path}`).finally(() => agent.destroy());
}

/** A raw GET on its own connection (HTTP/1.1, keep-alive unless `extraHeaders` says otherwise). */
export function rawGet(port, path, extraHeaders = '') {
  const socket = net.connect(port, '127.0.0.1');
  const client = { socket, received: Buffer.alloc(0) };
  socket.on('data', (chunk) => {
    client.received = Buffer.concat([client.received, chunk]);
  });
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${extraHeaders}\r\n`);
  return client;
}
