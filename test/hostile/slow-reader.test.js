// Slow readers: clients that ask for a large response and never read it. With a handler that
// honours backpressure (write() === false / 'drain'), the server's writes stall once the kernel
// buffers are full — what the process holds stays bounded, far below the response size — and the
// stalled socket is destroyed by the inactivity timeout (server.timeout): res 'close' without
// 'finish', no connection left. A handler that buffers a whole response at once gets it released
// when the socket is timed out.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  collectGarbage,
  get,
  keel,
  nodeHttp,
  openMany,
  resourceCounts,
  serve,
  settleResources,
  sleep,
  waitForNoConnections,
  waitForStall,
  waitUntil,
} from './hostile.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const SOCKET_TIMEOUT = 500;
const T = { timeout: 20_000 };

/**
 * A handler streaming `size` bytes in 64 KiB chunks, honouring backpressure (GET /small: a short
 * answer); `stats` gets, per streamed response, { socket, produced, finish, close, closedAt }.
 */
function streamingHandler(size, stats) {
  const chunk = Buffer.alloc(CHUNK, 'r');
  return (req, res) => {
    if (req.url === '/small') return void res.end('small');
    const entry = { socket: req.socket, produced: 0, finish: false, close: false, closedAt: 0 };
    stats.push(entry);
    res.on('finish', () => (entry.finish = true));
    res.on('close', () => {
      entry.close = true;
      entry.closedAt = Date.now();
    });
    res.setHeader('Content-Length', size);
    const pump = () => {
      while (entry.produced < size && !res.destroyed) {
        entry.produced += CHUNK;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };
}

/** A client that sends `request` and never reads (paused before the first byte arrives). */
async function nonReader(h, request = get('/big')) {
  const c = await h.connect();
  c.socket.pause();
  await c.write(request);
  return c;
}

test('a client that never reads a 64 MiB response: writes stall, memory stays bounded, the socket is timed out (Keel and node:http)', T, async () => {
  const SIZE = 64 * MiB;
  for (const impl of [nodeHttp, keel]) {
    const name = impl === keel ? 'keel' : 'node:http';
    const stats = [];
    const h = await serve(streamingHandler(SIZE, stats), {}, impl);
    h.server.timeout = SOCKET_TIMEOUT;
    try {
      await nonReader(h);
      await waitUntil(() => stats.length === 1, 2000, `${name}: the request`);
      const [entry] = stats;
      const written = await waitForStall(() => entry.socket.bytesWritten, 300, 5000);
      const stalledAt = Date.now();
      assert.ok(written < 16 * MiB, `${name}: ${written} bytes written to a client that does not read`);
      assert.ok(entry.produced < 16 * MiB, `${name}: the handler produced ${entry.produced} bytes`);
      assert.ok(entry.socket.writableLength <= 4 * CHUNK, `${name}: ${entry.socket.writableLength} bytes queued on the socket`);

      await waitUntil(() => entry.close, 4 * SOCKET_TIMEOUT + 2000, `${name}: res 'close'`);
      const after = entry.closedAt - stalledAt;
      assert.ok(after <= 3 * SOCKET_TIMEOUT + 1500, `${name}: closed ${after} ms after the writes stalled`);
      assert.equal(entry.finish, false);
      assert.equal(entry.socket.destroyed, true);
      await waitForNoConnections(h.server);
    } finally {
      await h.close();
    }
  }
});

// Regression test (bug fixed in the engine): the output batch of ServerConnection.write()
// acknowledged a chunk's CRLF suffix (which carries the write callback) at once, so res.write()
// never returned false and the whole response piled up in memory.
test('a chunked response pumped synchronously by the handler to a client that does not read: res.write() returns false within 1 MiB (Keel and node:http)', T, async () => {
  // Capped at 4096 writes of 16 KiB (64 MiB): a regression cannot exhaust memory.
  const CAP = 4096;
  for (const impl of [nodeHttp, keel]) {
    const name = impl === keel ? 'keel' : 'node:http';
    let result = null;
    const h = await serve((req, res) => {
      const chunk = Buffer.alloc(16 * 1024, 'c');
      let writes = 0;
      while (writes < CAP) {
        writes++;
        if (!res.write(chunk)) break;
      }
      result = { writes, queued: req.socket.writableLength };
      req.socket.destroy();
    }, {}, impl);
    try {
      await nonReader(h);
      await waitUntil(() => result, 3000, `${name}: the handler`);
      assert.ok(result.writes * 16 * 1024 <= MiB, `${name}: ${result.writes} writes of 16 KiB before write() returned false`);
      assert.ok(result.queued <= MiB, `${name}: ${result.queued} bytes queued on the socket`);
    } finally {
      await h.close();
    }
  }
});

test('20 clients that never read 16 MiB each (320 MiB): the process holds a bounded amount, all are timed out, a normal client is served', T, async () => {
  const stats = [];
  const h = await serve(streamingHandler(16 * MiB, stats), {});
  h.server.timeout = SOCKET_TIMEOUT;
  try {
    const baseline = resourceCounts();
    await collectGarbage();
    const before = process.memoryUsage();
    const clients = await openMany(h, 20);
    for (const c of clients) {
      c.socket.pause();
      await c.write(get('/big'));
    }
    await waitUntil(() => stats.length === 20, 3000, 'the 20 requests');
    await waitForStall(() => stats.reduce((sum, e) => sum + e.socket.bytesWritten, 0), 300, 5000);

    const during = process.memoryUsage();
    const held = during.heapUsed + during.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    const queued = stats.reduce((sum, e) => sum + e.socket.writableLength, 0);
    const produced = stats.reduce((sum, e) => sum + e.produced, 0);
    assert.ok(held < 64 * MiB, `the process grew by ${(held / MiB).toFixed(1)} MiB`);
    assert.ok(queued <= 20 * 4 * CHUNK, `${queued} bytes queued on the sockets`);
    assert.ok(produced < 20 * 8 * MiB, `the handlers produced ${(produced / MiB).toFixed(1)} MiB of 320`);

    // Still serving while the readers stall.
    const normal = await h.connect();
    await normal.write(get('/small'));
    assert.equal((await normal.waitForResponses(1, 3000))[0].body.toString(), 'small');
    normal.destroy();
    if (process.env.KEEL_TEST_DEBUG) console.log({ heldMiB: held / MiB, queued, producedMiB: produced / MiB });

    await waitUntil(() => stats.every((e) => e.close), 4 * SOCKET_TIMEOUT + 3000, "res 'close' on every stalled response");
    assert.equal(stats.some((e) => e.finish), false);
    await waitForNoConnections(h.server);
    for (const c of clients) c.destroy(); // paused, they never saw the server's close
    await settleResources(baseline);
  } finally {
    await h.close();
  }
});

test('a handler that buffers a 32 MiB response at once: when the non-reading client is timed out, the memory is released', T, async () => {
  const SIZE = 32 * MiB;
  let closed = false;
  const h = await serve((req, res) => {
    res.on('close', () => (closed = true));
    res.end(Buffer.alloc(SIZE, 'b')); // ignores backpressure: the bytes wait in the process
  }, {});
  h.server.timeout = SOCKET_TIMEOUT;
  try {
    await collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    await nonReader(h);
    await waitUntil(() => h.calls === 1, 2000, 'the request');
    await waitUntil(() => closed, 4 * SOCKET_TIMEOUT + 2000, "res 'close' (socket timed out)");
    await waitForNoConnections(h.server);
    await collectGarbage();
    const after = process.memoryUsage().arrayBuffers;
    assert.ok(after - before < 4 * MiB, `${((after - before) / MiB).toFixed(1)} MiB still held after the socket closed`);
  } finally {
    await h.close();
  }
});
