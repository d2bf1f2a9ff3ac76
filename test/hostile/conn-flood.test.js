// Connection floods: with server.maxConnections set, connections past the limit are closed by the
// server as soon as they are accepted ('drop' fires for each; no 'connection' event, no request
// served), the admitted connections keep working, and freed slots are given to new connections —
// as on node:http. A churn of 1000 connections that connect and leave (FIN or RST, some after a
// few bytes) leaves no connection, socket or timer behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectionCount,
  get,
  keel,
  nodeHttp,
  openMany,
  resourceCounts,
  serve,
  settleResources,
  sleep,
  tracker,
  waitForNoConnections,
  waitUntil,
} from './hostile.js';

const T = { timeout: 20_000 };
const LIMIT = 20;

/** One request on an open client; returns the response body. */
async function ask(c, path) {
  const before = c.responses().length;
  await c.write(get(path));
  const rs = await c.waitForResponses(before + 1, 3000);
  return rs[before].body.toString();
}

for (const impl of [keel, nodeHttp]) {
  const name = impl === keel ? 'keel' : 'node:http';
  test(`${name}: maxConnections = 20 and 60 more connections: those are dropped ('drop' × 60), the 20 keep working, freed slots are reused`, T, async () => {
    const h = await serve((req, res) => res.end(`served ${req.url}`), { keepAliveTimeout: 10_000 }, impl);
    h.server.maxConnections = LIMIT;
    const drops = [];
    h.server.on('drop', (data) => drops.push(data));
    try {
      const admitted = await openMany(h, LIMIT);
      for (const [i, c] of admitted.entries()) assert.equal(await ask(c, `/a${i}`), `served /a${i}`);
      assert.equal(await connectionCount(h.server), LIMIT);

      const extra = await openMany(h, 60);
      const ports = new Set(extra.map((c) => c.socket.localPort));
      await Promise.all(extra.map((c) => c.waitForClose(3000)));
      await waitUntil(() => drops.length === 60, 3000, "'drop' for every extra connection");
      assert.ok(extra.every((c) => c.length === 0), 'a dropped connection receives nothing');
      assert.ok(drops.every((d) => d.remoteAddress === '127.0.0.1' && ports.has(d.remotePort)), 'drop data names the dropped peers');
      assert.equal(h.accepted, LIMIT, "no 'connection' event for a dropped connection");

      // The admitted connections were not disturbed.
      for (const [i, c] of admitted.entries()) assert.equal(await ask(c, `/b${i}`), `served /b${i}`);

      // Free 10 slots: 10 new connections are admitted and served.
      for (const c of admitted.slice(0, 10)) c.destroy();
      await waitUntil(() => h.sockets.size === LIMIT - 10, 3000, 'the server to see 10 closes');
      const late = await openMany(h, 10);
      for (const [i, c] of late.entries()) assert.equal(await ask(c, `/c${i}`), `served /c${i}`);
      assert.equal(drops.length, 60);
      assert.equal(h.calls, 2 * LIMIT + 10);
    } finally {
      await h.close();
    }
  });
}

test('keel: a churn of 1000 connections that connect and leave (FIN or RST, after 0 to a few bytes) leaves nothing behind', T, async () => {
  const sockets = tracker();
  const h = await serve((req, res) => res.end('served'), { headersTimeout: 5000, keepAliveTimeout: 5000 });
  h.server.on('connection', (socket) => sockets.add(socket, `server socket ${socket.remotePort}`));
  try {
    const baseline = resourceCounts();
    const listenersBefore = h.server.eventNames().map((n) => [n, h.server.listenerCount(n)]);
    const prefixes = ['', 'G', 'GET / HTTP/1.1\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'];
    for (let round = 0; round < 10; round++) {
      const clients = await openMany(h, 100, 100);
      await Promise.all(clients.map((c, i) => (prefixes[i % 4] ? c.write(prefixes[i % 4]) : null)));
      await sleep(5);
      for (const [i, c] of clients.entries()) {
        if (i % 2 === 0) c.socket.resetAndDestroy();
        else c.destroy();
      }
    }
    // Still serving.
    const c = await h.connect();
    assert.equal(await ask(c, '/after'), 'served');
    c.destroy();

    await waitForNoConnections(h.server);
    assert.equal(h.accepted, 1001);
    assert.deepEqual(h.server.eventNames().map((n) => [n, h.server.listenerCount(n)]), listenersBefore);
    await settleResources(baseline);
    assert.deepEqual(await sockets.alive(), [], 'server-side sockets still reachable after a full GC');
  } finally {
    await h.close();
  }
});
