// keel/sse per-client buffer: a client that connects and never reads is dropped once it is more
// than maxBufferedBytes behind (ERR_SSE_CLIENT_TOO_SLOW), with the server's pending bytes bounded
// all along; a client that reads keeps its stream however much is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { sse, DEFAULT_MAX_BUFFERED_BYTES } from 'keel/sse';
import { openStream, rawRequest, startServer, withTimeout } from './helpers.js';

/**
 * Flood `stream` with `eventBytes`-sized events, one burst per macrotask, without waiting for
 * 'drain' (the worst producer). Resolves with the stream's close reason and the most bytes ever
 * pending on the server side.
 */
function flood(stream, eventBytes) {
  const data = 'x'.repeat(eventBytes);
  const seen = { maxPending: 0, maxWritableLength: 0, sent: 0 };
  return new Promise((resolve) => {
    const tick = () => {
      if (stream.closed) return;
      for (let i = 0; i < 8 && !stream.closed; i++) {
        stream.send({ data });
        seen.sent++;
        // Read the buffer before the socket is torn down by a drop.
        if (!stream.res.destroyed) {
          seen.maxPending = Math.max(seen.maxPending, stream.bufferedBytes);
          seen.maxWritableLength = Math.max(seen.maxWritableLength, stream.res.writableLength);
        }
      }
      setImmediate(tick);
    };
    stream.once('close', (reason) => resolve({ reason, ...seen }));
    // Start outside the request handler, once the head is out: a real producer's pace.
    setTimeout(tick, 20);
  });
}

for (const [label, maxBufferedBytes] of [['64 KiB limit', 64 * 1024], ['default 1 MiB limit', undefined]]) {
  test(`a client that never reads is dropped with ERR_SSE_CLIENT_TOO_SLOW, pending bytes bounded (${label})`, async () => {
    const limit = maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    const eventBytes = 16 * 1024;
    let result;
    let serverSocket;
    const h = await startServer((req, res) => {
      serverSocket = req.socket;
      const stream = sse(req, res, { heartbeat: 0, maxBufferedBytes });
      result = flood(stream, eventBytes);
    });
    // Connect, ask, and never read a byte.
    const client = rawRequest(h.port, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    client.socket.pause();
    try {
      await withTimeout((async () => {
        while (result === undefined) await new Promise((r) => setTimeout(r, 5));
      })(), 3000, 'the request');
      const { reason, maxPending, maxWritableLength, sent } = await withTimeout(result, 20000, 'the slow client to be dropped');
      assert.equal(reason.code, 'ERR_SSE_CLIENT_TOO_SLOW');
      // Bounded: at most the limit plus the one event that crossed it (and its chunk framing).
      const bound = limit + eventBytes + 64;
      assert.ok(maxPending <= bound, `pending ${maxPending} > ${bound}`);
      assert.ok(maxWritableLength <= bound, `writableLength ${maxWritableLength} > ${bound}`);
      // The kernel's socket buffers took a good part of the flood before the limit was reached.
      assert.ok(sent * eventBytes > limit + 4 * eventBytes, `sent ${sent * eventBytes} bytes`);
      assert.equal(serverSocket.destroyed, true, 'the connection is closed');
    } finally {
      client.socket.destroy();
      await h.close();
    }
  });
}

// The limit may be below the response's highWaterMark (16 KiB on Node 20, 64 KiB on Node 22) and
// each event above it: the write that fills the buffer returns false with more than the limit
// pending, and a producer that then waits for 'drain' must keep its stream.
for (const [label, limit] of [['64 KiB', 64 * 1024], ['8 KiB, below the highWaterMark', 8 * 1024]]) {
  test(`a client that reads keeps its stream: 8 MiB through a ${label} limit with a producer that waits for drain`, async () => {
    const total = 8 * 1024 * 1024;
    const eventBytes = 32 * 1024;
    let reason = 'open';
    const h = await startServer(async (req, res) => {
      const stream = sse(req, res, { heartbeat: 0, maxBufferedBytes: limit });
      stream.on('close', (r) => {
        reason = r;
      });
      const data = 'y'.repeat(eventBytes);
      for (let sent = 0; sent < total && !stream.closed; sent += eventBytes) {
        if (!stream.send({ data })) await Promise.race([once(res, 'drain'), once(stream, 'close')]);
      }
      stream.close();
    });
    try {
      const client = await openStream(h.port, '/');
      await client.done(20000);
      assert.equal(reason, null);
      assert.equal(client.parser.events.length, total / eventBytes);
      assert.ok(client.parser.events.every((e) => e.data.length === eventBytes));
    } finally {
      await h.close();
    }
  });
}
