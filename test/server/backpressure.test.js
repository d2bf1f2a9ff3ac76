// Flow control in both directions: a handler that does not read its body stops the server reading
// the socket (TCP backpressure reaches the client); a handler that honours res.write() === false
// and 'drain' never buffers a slow client's whole response; and a client that vanishes mid-body
// or mid-response is cleaned up without an uncaught exception.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, getMany, sleep, waitUntil, waitForStall, once, readAll } from './raw.js';

const T = { timeout: 10000 };
const MiB = 1024 * 1024;
const TOTAL = 8 * MiB;
const CHUNK = 64 * 1024;

test('slow reader: a handler that does not read stops the server reading; resumed, it gets every byte', T, async () => {
  let request;
  const handler = (req, res) => {
    request = req;
    req.pause();
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    const socket = c.socket;
    let flushed = 0;
    let sawFalse = false;
    const body = Buffer.alloc(CHUNK, 'a');
    socket.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${TOTAL}\r\n\r\n`);
    const pump = (async () => {
      for (let sent = 0; sent < TOTAL; sent += CHUNK) {
        if (socket.destroyed) return;
        const ok = socket.write(body, (err) => {
          if (!err) flushed += CHUNK;
        });
        if (!ok) {
          sawFalse = true;
          await once(socket, 'drain', 8000);
        }
      }
    })();

    await waitUntil(() => request, 2000, 'the request');
    const stalledAt = await waitForStall(() => flushed);
    assert.equal(sawFalse, true, 'socket.write() returned false');
    assert.ok(stalledAt < TOTAL - MiB, `the client could push ${stalledAt} bytes`);
    const serverRead = request.socket.bytesRead;
    if (process.env.KEEL_TEST_DEBUG) console.log({ stalledAt, serverRead });
    assert.ok(serverRead < MiB, `the server read ${serverRead} bytes while the body was not consumed`);
    await sleep(100);
    assert.equal(request.socket.bytesRead, serverRead, 'the server stopped reading');

    const received = await readAll(request); // resumes the request
    await pump;
    assert.equal(received.length, TOTAL);
    assert.equal(received.every((b) => b === 0x61), true);
    assert.equal(request.complete, true);
  });
});

test("slow writer: write() === false and 'drain' are honoured, the client gets exactly 8 MiB", T, async () => {
  const stats = { falses: 0, drains: 0, maxBuffered: 0 };
  const handler = (req, res) => {
    res.setHeader('Content-Length', TOTAL);
    const chunk = Buffer.alloc(CHUNK, 'b');
    let sent = 0;
    res.on('drain', () => stats.drains++);
    const pump = () => {
      while (sent < TOTAL) {
        sent += CHUNK;
        const ok = res.write(chunk);
        stats.maxBuffered = Math.max(stats.maxBuffered, res.writableLength);
        if (!ok) {
          stats.falses++;
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    c.socket.pause();
    await c.write('GET /download HTTP/1.1\r\nHost: a\r\n\r\n');
    await sleep(500);
    assert.ok(stats.falses >= 1, 'res.write() returned false while the client did not read');
    assert.ok(c.length === 0, 'the client has not read anything yet');
    c.socket.resume();
    const [r] = await c.waitForResponses(1, 8000);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(TOTAL));
    assert.equal(r.body.length, TOTAL);
    assert.equal(r.body.every((b) => b === 0x62), true);
    assert.equal(c.length, r.raw.length); // nothing after the response
    assert.ok(stats.drains >= 1, "'drain' fired");
    assert.ok(stats.maxBuffered <= 4 * CHUNK, `res buffered up to ${stats.maxBuffered} bytes`);
  });
});

test('slow writer, chunked: a piped 8 MiB Readable arrives whole and in order', T, async () => {
  const { Readable } = await import('node:stream');
  const handler = (req, res) => {
    let i = 0;
    const source = new Readable({
      read() {
        if (i * CHUNK >= TOTAL) return this.push(null);
        const chunk = Buffer.alloc(CHUNK, i % 251);
        i++;
        this.push(chunk);
      },
    });
    source.pipe(res);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    c.socket.pause();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await sleep(300);
    c.socket.resume();
    const [r] = await c.waitForResponses(1, 8000);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.body.length, TOTAL);
    for (let k = 0; k < TOTAL / CHUNK; k++) assert.equal(r.body[k * CHUNK], k % 251);
  });
});

test("client disconnects mid-body: req 'aborted' + 'close', res 'close', no connections left", T, async () => {
  const events = [];
  let request;
  const handler = (req, res) => {
    request = req;
    req.on('data', () => {
      if (!events.includes('data')) events.push('data');
    });
    req.on('aborted', () => events.push('req aborted'));
    req.on('error', (err) => events.push(`req error ${err.code}`));
    req.on('close', () => events.push('req close'));
    res.on('close', () => events.push('res close'));
    res.on('finish', () => events.push('res finish'));
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${MiB}\r\n\r\n` + 'x'.repeat(1000));
    await waitUntil(() => events.includes('data'), 2000, 'some body');
    c.destroy();
    await waitUntil(() => events.includes('req close') && events.includes('res close'), 2000, "'close' events");
    assert.ok(events.includes('req aborted'), events.join());
    assert.equal(events.includes('res finish'), false);
    assert.equal(request.aborted, true);
    assert.equal(request.complete, false);
    assert.ok(events.some((e) => e.startsWith('req error')), events.join()); // a listener exists
    await waitUntil(() => h.sockets.size === 0, 2000, 'the server socket to close');
    const count = await new Promise((resolve, reject) => h.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    assert.equal(count, 0);
  });
});

test("client disconnects mid-body: req 'error' is ECONNRESET 'aborted', as node:http", T, async () => {
  // Regression test (bug fixed in the engine): Keel destroys the request with the parser's HPE_INVALID_EOF_STATE ParseError
  // (ServerConnection#onEnd → #onPeerEnded → parser.finish() throws → #onParseError →
  // req.destroy(parseError)). node:http destroys in-flight requests with
  // ConnResetException('aborted') (code ECONNRESET) when the client goes away, and body readers
  // (raw-body, busboy, user code) test `err.code === 'ECONNRESET'` to recognise a client abort.
  let error;
  const handler = (req) => {
    req.on('error', (err) => {
      error = err;
    });
    req.resume();
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${MiB}\r\n\r\n` + 'x'.repeat(1000));
    await waitUntil(() => h.calls === 1, 2000, 'the request');
    await sleep(20);
    c.destroy();
    await waitUntil(() => error, 2000, "req 'error'");
    assert.equal(error.code, 'ECONNRESET');
    assert.equal(error.message, 'aborted');
  });
});

test("client disconnects mid-response: res 'close' fires, later writes do not throw", T, async () => {
  const state = { closed: false, thrown: null, writesAfterClose: 0, errors: [], callbackErrors: 0 };
  let wrote = 0;
  const handler = (req, res) => {
    res.on('error', (err) => state.errors.push(err));
    res.on('close', () => {
      state.closed = true;
    });
    const timer = setInterval(() => {
      try {
        if (state.closed) state.writesAfterClose++;
        res.write(Buffer.alloc(1024, 'z'), (err) => {
          if (err) state.callbackErrors++;
        });
        wrote++;
        if (state.writesAfterClose >= 5) {
          clearInterval(timer);
          res.end();
        }
      } catch (err) {
        state.thrown = err;
        clearInterval(timer);
      }
    }, 5);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => c.length > 4000, 2000, 'part of the response');
    c.destroy();
    await waitUntil(() => state.writesAfterClose >= 5 || state.thrown, 3000, 'writes after close');
    assert.equal(state.closed, true);
    assert.equal(state.thrown, null);
    assert.ok(wrote > 5);
    await sleep(20);
    await waitUntil(() => h.sockets.size === 0, 2000, 'the server socket to close');
  });
});

test('a piped response whose client disappears: the pipe is torn down, no uncaught exception', T, async () => {
  const { Readable } = await import('node:stream');
  let sourceDestroyed = false;
  const handler = (req, res) => {
    let n = 0;
    const source = new Readable({
      read() {
        setTimeout(() => this.push(Buffer.alloc(4096, n++ % 256)), 2);
      },
      destroy(err, cb) {
        sourceDestroyed = true;
        cb(err);
      },
    });
    res.on('close', () => source.destroy());
    source.pipe(res);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => c.length > 20000, 2000, 'part of the response');
    c.destroy();
    await waitUntil(() => sourceDestroyed, 2000, 'the source to be destroyed');
  });
});

test('pipelined requests with large responses and a client that does not read: dispatching stops, then all arrive in order', T, async () => {
  const SIZE = 256 * 1024;
  const handler = (req, res) => res.end(Buffer.alloc(SIZE, Number(req.url.slice(1)) + 1));
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    c.socket.pause();
    await c.write(getMany(60));
    await sleep(400);
    const dispatched = h.calls;
    assert.ok(dispatched < 60, `${dispatched} of 60 dispatched while the client was not reading`);
    c.socket.resume();
    const rs = await c.waitForResponses(60, 8000);
    for (let i = 0; i < 60; i++) {
      assert.equal(rs[i].body.length, SIZE);
      assert.equal(rs[i].body[0], i + 1);
      assert.equal(rs[i].body[SIZE - 1], i + 1);
    }
  });
});

test('res.destroy() in the middle of a response closes the connection (the client is not left hanging)', T, async () => {
  // Regression test (bug fixed in the engine): ServerResponse has no _destroy: res.destroy() only destroys the Writable. The
  // socket stays open, the chunked body is never terminated, responseDone() is never called, so
  // the client waits forever and every later pipelined response on the connection is held
  // forever. node:http's OutgoingMessage.destroy() destroys the socket. Same for
  // stream.pipeline(source, res, cb) when the source fails (pipeline destroys res).
  let resClosed = false;
  const handler = (req, res) => {
    res.on('close', () => {
      resClosed = true;
    });
    res.write('partial');
    setTimeout(() => res.destroy(), 20);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => resClosed, 1000, "res 'close'");
    await c.waitForClose(1500);
    assert.equal(c.responses().length, 0); // an incomplete chunked response, then close
  });
});

test('stream.pipeline(failing source, res) closes the connection instead of hanging', T, async () => {
  // Regression test (bug fixed in the engine): same cause as the res.destroy() test above.
  const { pipeline, Readable } = await import('node:stream');
  let pipelineError;
  const handler = (req, res) => {
    let n = 0;
    const source = new Readable({
      read() {
        if (n++ < 2) this.push('data;');
        else this.destroy(new Error('source failed'));
      },
    });
    pipeline(source, res, (err) => {
      pipelineError = err;
    });
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => pipelineError, 1000, 'the pipeline callback');
    assert.equal(pipelineError.message, 'source failed');
    await c.waitForClose(1500);
  });
});

test("res.destroy(err) mid-response, with no 'error' listener: the connection closes and the process lives (as node:http)", T, async () => {
  // node:http's OutgoingMessage.destroy(err) destroys the socket and never emits 'error' on the
  // response; Keel's ServerResponse, a Writable, emitted it, so the common
  // `source.on('error', (err) => res.destroy(err))` crashed a server without a res 'error' listener.
  const uncaught = [];
  const onUncaught = (err) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  let closed = false;
  let errored = null;
  let errorEvents = 0;
  const handler = (req, res) => {
    res.on('close', () => {
      closed = true;
      errored = res.errored;
      errorEvents = res.listenerCount('error');
    });
    res.write('partial');
    setTimeout(() => res.destroy(new Error('source failed')), 20);
  };
  try {
    await withServer(handler, {}, async (h) => {
      const c = await h.connect();
      await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await waitUntil(() => closed, 1000, "res 'close'");
      await c.waitForClose(1500);
      await new Promise((resolve) => setImmediate(resolve));
    });
  } finally {
    process.off('uncaughtException', onUncaught);
  }
  assert.deepEqual(uncaught.map((e) => e.message), []);
  assert.equal(errored?.message, 'source failed');
  assert.equal(errorEvents, 0);
});
