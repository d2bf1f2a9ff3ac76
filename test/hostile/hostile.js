// Helpers for the hostile-client suite (deliberately not named *.test.js: Node's test runner would
// pick it up as a test file).
//
// - serve(handler, options, impl): a server (Keel by default, or node:http for a parity run) on
//   127.0.0.1:0 that counts handler calls and tracks the sockets it accepted; h.close() tears
//   everything down, clients included.
// - openMany(h, n): n raw clients (RawClient from ../server/raw.js), connected in batches.
// - Leak checks: resourceCounts() / settleResources(baseline) over process.getActiveResourcesInfo(),
//   connectionCount(server), listenerCounts(emitter), collectGarbage() and a WeakRef tracker
//   (tracker()) that counts how many server-side objects survive a full garbage collection.

import nodeHttp from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import keel from 'keel';
import { RawClient, sleep } from '../server/raw.js';

export { sleep, waitUntil, waitForStall, get, post } from '../server/raw.js';
export { keel, nodeHttp };

export const CANNED_408 = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
export const CANNED_431 = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';

/**
 * Start a server of `impl` (keel or node:http) with `options`; `handler` may be null. Returns
 * { impl, server, port, calls, accepted, sockets, clients, connect(), close() }: `calls` counts
 * handler invocations, `accepted` the 'connection' events, `sockets` the server-side sockets
 * still open.
 */
export async function serve(handler, options = {}, impl = keel) {
  const h = { impl, server: null, port: 0, calls: 0, accepted: 0, sockets: new Set(), clients: new Set() };
  const listener = handler
    ? (req, res) => {
        h.calls++;
        return handler(req, res);
      }
    : undefined;
  const server = listener ? impl.createServer(options, listener) : impl.createServer(options);
  h.server = server;
  server.on('connection', (socket) => {
    h.accepted++;
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
    const client = await RawClient.connect(h.port, 5000);
    h.clients.add(client);
    client.socket.on('close', () => h.clients.delete(client));
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

/** Open `n` raw clients to `h`, `batch` connects at a time (the listen backlog is 511). */
export async function openMany(h, n, batch = 50) {
  const clients = [];
  for (let i = 0; i < n; i += batch) {
    const count = Math.min(batch, n - i);
    clients.push(...(await Promise.all(Array.from({ length: count }, () => h.connect()))));
  }
  return clients;
}

/** server.getConnections() as a promise. */
export function connectionCount(server) {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

/** Wait until the server reports no connection left (bounded by `ms`). */
export async function waitForNoConnections(server, ms = 3000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const n = await connectionCount(server);
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`server.getConnections() still ${n} after ${ms} ms`);
    await sleep(10);
  }
}

/** process.getActiveResourcesInfo() as counts per type: { TCPSocketWrap: 3, Timeout: 1, ... }. */
export function resourceCounts() {
  const counts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** The types whose count is above `baseline` now, as "type: baseline → now" strings. */
function resourceExcess(baseline) {
  const now = resourceCounts();
  return Object.keys(now)
    .filter((type) => now[type] > (baseline[type] ?? 0))
    .map((type) => `${type}: ${baseline[type] ?? 0} → ${now[type]}`);
}

/**
 * Wait until no active resource type (sockets, ref'd timers, write/shutdown requests...) counts
 * more than in `baseline`; throw with the excess after `ms`.
 */
export async function settleResources(baseline, ms = 3000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const excess = resourceExcess(baseline);
    if (excess.length === 0) return;
    if (Date.now() > deadline) throw new Error(`active resources above the baseline after ${ms} ms: ${excess.join(', ')}`);
    await sleep(10);
  }
}

/** { eventName: listenerCount } of an emitter (to show that listeners do not pile up). */
export function listenerCounts(emitter) {
  return Object.fromEntries(emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]));
}

// global.gc without --expose-gc on the command line (npm test runs plain `node --test`).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

/** Full garbage collections across a few turns (WeakRefs read in a turn are kept until its end). */
export async function collectGarbage() {
  for (let i = 0; i < 3; i++) {
    await sleep(10);
    gc();
  }
}

/** Heap in use after a full collection, bytes. */
export async function heapAfterGc() {
  await collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * WeakRefs to objects that must not outlive their connection: add(obj, label), then
 * `await alive()` → the labels of those that survive a full collection.
 */
export function tracker() {
  const refs = [];
  return {
    add(obj, label) {
      refs.push([new WeakRef(obj), label]);
    },
    get size() {
      return refs.length;
    },
    async alive() {
      await collectGarbage();
      return refs.filter(([ref]) => ref.deref() !== undefined).map(([, label]) => label);
    },
  };
}
