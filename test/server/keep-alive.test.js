// Connection persistence (RFC 9112 §9.3, §9.6): keep-alive by default for HTTP/1.1, close for
// HTTP/1.0 unless asked, `Connection: close`, the Keep-Alive field, maxRequestsPerSocket, the
// idle timeout, and the server's own ways of closing connections.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, untilClose, get, sleep, waitUntil, countEnds as countSocketEnds } from './raw.js';

const T = { timeout: 5000 };

const hello = (req, res) => res.end(`hello ${req.url}`);

/** A handler that answers 'quick' at once, except /slow, whose responses it holds in `held`. */
function holdSlow() {
  const held = [];
  const handler = (req, res) => {
    if (req.url === '/slow') held.push(res);
    else res.end('quick');
  };
  return { handler, held };
}

/** Two connections to `h`: one idle after a quick request, one busy with a held /slow request. */
async function idleAndBusy(h, held) {
  const idle = await h.connect();
  await idle.write(get('/quick'));
  await idle.waitForResponses(1);
  const busy = await h.connect();
  await busy.write(get('/slow'));
  await waitUntil(() => held.length === 1, 2000, 'the slow request');
  return [idle, busy];
}

test('two sequential requests on one socket are both answered, the connection persists', T, async () => {
  await withServer(hello, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/1'));
    let [r1] = await c.waitForResponses(1);
    assert.equal(r1.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r1.headers.connection, 'keep-alive');
    assert.equal(r1.headers['content-length'], '8');
    assert.equal(r1.body.toString(), 'hello /1');
    assert.equal(c.ended, false);

    await c.write(get('/2'));
    const rs = await c.waitForResponses(2);
    assert.equal(rs[1].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[1].headers.connection, 'keep-alive');
    assert.equal(rs[1].body.toString(), 'hello /2');
    assert.equal(await c.staysOpen(100), true);
    assert.equal(h.calls, 2);
    assert.equal(h.sockets.size, 1);
  });
});

test('HTTP/1.0 without keep-alive: Connection: close and the socket closes after the response', T, async () => {
  await withServer(hello, {}, async (h) => {
    const [rs] = await untilClose(h, 'GET /old HTTP/1.0\r\n\r\n');
    assert.equal(rs.length, 1);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[0].headers.connection, 'close');
    assert.equal(rs[0].body.toString(), 'hello /old');
    assert.equal(h.calls, 1);
  });
});

test('HTTP/1.0 with Connection: keep-alive and a Content-Length response stays open', T, async () => {
  await withServer(hello, {}, async (h) => {
    const c = await h.connect();
    await c.write('GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [r1] = await c.waitForResponses(1);
    assert.equal(r1.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r1.headers['content-length'], '8');
    assert.equal(r1.headers.connection, 'keep-alive');
    assert.match(r1.headers['keep-alive'], /^timeout=\d+$/);
    assert.equal(r1.body.toString(), 'hello /a');
    assert.equal(await c.staysOpen(150), true);
    // The connection is really reusable.
    await c.write('GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const rs = await c.waitForResponses(2);
    assert.equal(rs[1].body.toString(), 'hello /b');
    assert.equal(h.calls, 2);
  });
});

test('Connection: close → response says close, socket closes, a pipelined request after it is not dispatched', T, async () => {
  await withServer(hello, {}, async (h) => {
    const [rs, c] = await untilClose(h, get('/1', 'Connection: close\r\n') + get('/2'));
    assert.equal(rs.length, 1);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[0].headers.connection, 'close');
    assert.equal(rs[0].headers['keep-alive'], undefined);
    assert.equal(rs[0].body.toString(), 'hello /1');
    assert.equal(c.text.includes('/2'), false);
    await sleep(50);
    assert.equal(h.calls, 1);
    assert.deepEqual(h.requests.map((r) => r.url), ['/1']);
  });
});

/** countEnds() on every socket `h` accepts from now on. */
function countEnds(h) {
  const ends = [];
  h.server.on('connection', (socket) => ends.push(countSocketEnds(socket)));
  return ends;
}

for (const [label, request] of [
  ['Connection: close', get('/fast', 'Connection: close\r\n')],
  ['HTTP/1.0 without keep-alive', 'GET /fast HTTP/1.0\r\n\r\n'],
]) {
  test(`${label}, response already in the kernel → the server closes at once (no half-close first), the client gets it all and a FIN`, T, async () => {
    await withServer(hello, {}, async (h) => {
      const ends = countEnds(h);
      const [rs, c] = await untilClose(h, request);
      assert.equal(rs.length, 1);
      assert.equal(rs[0].headers.connection, 'close');
      assert.equal(rs[0].body.toString(), 'hello /fast');
      assert.equal(c.error, null); // a FIN, not a reset
      await waitUntil(() => ends.length === 1 && ends[0].socket.destroyed, 2000, 'the server socket destroyed');
      assert.equal(ends[0].ends, 0);
    });
  });
}

test('Connection: close with a response the kernel has not taken yet (8 MiB) → half-close after its last byte; every byte arrives', T, async () => {
  const big = Buffer.alloc(8 * 1024 * 1024, 'k');
  await withServer((req, res) => res.end(big), {}, async (h) => {
    const ends = countEnds(h);
    const c = await h.connect();
    c.socket.pause(); // let the server's socket buffer fill: writableLength > 0 when it closes
    await c.write(get('/big', 'Connection: close\r\n'));
    await waitUntil(() => ends.length === 1 && ends[0].socket.writableLength > 0, 2000, 'output queued in the server socket');
    c.socket.resume();
    await c.waitForClose(4000);
    const [r] = c.responses();
    assert.equal(r.body.length, big.length);
    assert.equal(c.error, null);
    assert.equal(ends[0].ends, 1);
  });
});

test('a server-initiated close (maxRequestsPerSocket) keeps the half-close: the client may have sent more', T, async () => {
  await withServer(hello, {}, async (h) => {
    h.server.maxRequestsPerSocket = 1;
    const ends = countEnds(h);
    const [rs, c] = await untilClose(h, get('/1'));
    assert.equal(rs.length, 1);
    assert.equal(rs[0].headers.connection, 'close');
    assert.equal(c.error, null);
    await waitUntil(() => ends.length === 1 && ends[0].socket.destroyed, 2000, 'the server socket destroyed');
    assert.equal(ends[0].ends, 1);
  });
});

test('Connection: close answered before its body arrived → not closed at once: the body is still coming', T, async () => {
  // The handler answers after the first body bytes: the parser holds nothing, the rest is on its way.
  await withServer((req, res) => req.once('data', () => res.end('early')), {}, async (h) => {
    const ends = countEnds(h);
    const c = await h.connect();
    await c.write('POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10\r\n\r\n12345');
    const [r] = await c.waitForResponses(1);
    assert.equal(r.body.toString(), 'early');
    await c.write('67890');
    await c.waitForClose();
    assert.equal(c.error, null);
    assert.equal(ends[0].ends, 1);
  });
});

test('Keep-Alive: timeout=65 by default; server.keepAliveTimeout = 5000 after listen → timeout=5', T, async () => {
  await withServer(hello, {}, async (h) => {
    assert.equal(h.server.keepAliveTimeout, 65000);
    const c = await h.connect();
    await c.write(get('/1'));
    const [r1] = await c.waitForResponses(1);
    assert.equal(r1.headers['keep-alive'], 'timeout=65');
    h.server.keepAliveTimeout = 5000;
    await c.write(get('/2'));
    const rs = await c.waitForResponses(2);
    assert.equal(rs[1].headers['keep-alive'], 'timeout=5');
    // A new connection sees it too.
    const c2 = await h.connect();
    await c2.write(get('/3'));
    const [r3] = await c2.waitForResponses(1);
    assert.equal(r3.headers['keep-alive'], 'timeout=5');
  });
});

test('maxRequestsPerSocket = 2: the second response has Connection: close and the socket closes', T, async () => {
  await withServer(hello, {}, async (h) => {
    h.server.maxRequestsPerSocket = 2;
    const c = await h.connect();
    await c.write(get('/1'));
    const [r1] = await c.waitForResponses(1);
    assert.equal(r1.headers.connection, 'keep-alive');
    await c.write(get('/2'));
    await c.waitForClose();
    const rs = c.responses();
    assert.equal(rs.length, 2);
    assert.equal(rs[1].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[1].headers.connection, 'close');
    assert.equal(rs[1].body.toString(), 'hello /2');
    assert.equal(h.calls, 2);
  });
});

test('keepAliveTimeout: 200 → the server closes an idle connection after ≥150 ms and before 1500 ms', T, async () => {
  await withServer(hello, { keepAliveTimeout: 200 }, async (h) => {
    const c = await h.connect();
    await c.write(get('/'));
    const [r] = await c.waitForResponses(1);
    const answeredAt = Date.now();
    assert.equal(r.headers['keep-alive'], 'timeout=0'); // floor(200 / 1000), as Node
    const closedAt = await c.waitForClose(2000);
    const idle = closedAt - answeredAt;
    assert.ok(idle >= 150, `closed after ${idle} ms`);
    assert.ok(idle < 1500, `closed after ${idle} ms`);
    assert.equal(c.responses().length, 1); // nothing written on close
  });
});

test('closeIdleConnections() closes an idle keep-alive socket but not one with a request in flight', T, async () => {
  const { handler, held } = holdSlow();
  await withServer(handler, {}, async (h) => {
    const [idle, busy] = await idleAndBusy(h, held);

    h.server.closeIdleConnections();
    await idle.waitForClose(1000);
    assert.equal(await busy.staysOpen(150), true);

    held[0].end('slow done');
    const [r] = await busy.waitForResponses(1);
    assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r.body.toString(), 'slow done');
    assert.equal(r.headers.connection, 'keep-alive');
    // Idle now: the next call closes it.
    h.server.closeIdleConnections();
    await busy.waitForClose(1000);
  });
});

test('closeAllConnections() destroys idle and busy connections alike', T, async () => {
  const { handler, held } = holdSlow();
  await withServer(handler, {}, async (h) => {
    const [idle, busy] = await idleAndBusy(h, held);
    const resClosed = new Promise((resolve) => held[0].on('close', resolve));

    h.server.closeAllConnections();
    await idle.waitForClose(1000);
    await busy.waitForClose(1000);
    await resClosed;
    assert.equal(busy.length, 0); // no response at all
    await waitUntil(() => h.sockets.size === 0, 1000, 'server sockets to close');
  });
});

test('server.close() closes idle connections and lets an in-flight response finish with Connection: close', T, async () => {
  const { handler, held } = holdSlow();
  await withServer(handler, {}, async (h) => {
    const [idle, busy] = await idleAndBusy(h, held);

    let closed = false;
    h.server.close(() => {
      closed = true;
    });
    await idle.waitForClose(1000);
    assert.equal(await busy.staysOpen(100), true);
    assert.equal(closed, false);

    held[0].end('finished');
    await busy.waitForClose(1000);
    const rs = busy.responses();
    assert.equal(rs.length, 1);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[0].body.toString(), 'finished');
    // The connection closes after this response, so the response must say so.
    assert.equal(rs[0].headers.connection, 'close');
    assert.equal(rs[0].headers['keep-alive'], undefined);
    await waitUntil(() => closed, 1000, "the server's 'close' event");
  });
});

test("a handler's own Connection: close ends the connection after its response", T, async () => {
  const handler = (req, res) => {
    res.setHeader('Connection', 'close');
    res.end('bye');
  };
  await withServer(handler, {}, async (h) => {
    const [rs] = await untilClose(h, get('/'));
    assert.equal(rs.length, 1);
    assert.equal(rs[0].headers.connection, 'close');
    assert.equal(rs[0].headers['keep-alive'], undefined);
    assert.equal(rs[0].body.toString(), 'bye');
  });
});

test('Connection: keep-alive, Close (token list, any case) → close wins', T, async () => {
  await withServer(hello, {}, async (h) => {
    const [, c] = await untilClose(h, get('/1', 'Connection: keep-alive, Close\r\n') + get('/2'));
    assert.equal(c.responses().length, 1);
    assert.equal(c.responses()[0].headers.connection, 'close');
    await sleep(30);
    assert.equal(h.calls, 1);
  });
});

test('the client half-closes (FIN) on an idle connection → the server closes too', T, async () => {
  await withServer(hello, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/'));
    await c.waitForResponses(1);
    c.socket.end();
    await c.waitForClose(1000);
    await waitUntil(() => h.sockets.size === 0, 1000, 'the server socket to close');
  });
});

test('keepAliveTimeout: 0 disables the idle timeout; no Keep-Alive: timeout=0 is advertised (as Node)', T, async () => {
  // Regression test (bug fixed in the engine): Keel always renders `Keep-Alive: timeout=<floor(keepAliveTimeout / 1000)>`, so
  // keepAliveTimeout: 0 (= no idle timeout) advertises `Keep-Alive: timeout=0`, which tells
  // clients the connection may be closed at once (undici then never reuses it). Node omits the
  // Keep-Alive field when keepAliveTimeout is 0 (`if (this._keepAliveTimeout && ...)` in
  // _http_outgoing.js).
  await withServer(hello, { keepAliveTimeout: 0 }, async (h) => {
    const c = await h.connect();
    await c.write(get('/'));
    const [r] = await c.waitForResponses(1);
    assert.equal(r.headers.connection, 'keep-alive');
    assert.equal(await c.staysOpen(300), true);
    assert.equal(r.headers['keep-alive'], undefined);
  });
});
