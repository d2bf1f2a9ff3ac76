// Per-phase deadlines: headersTimeout (a slow head), requestTimeout (a slow whole request), and the
// socket inactivity timeout (server.timeout / setTimeout and its 'timeout' event). Short values
// through options keep every test well under a second or two.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, sleep, waitUntil } from './raw.js';

const T = { timeout: 5000 };
const CANNED_408 = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

test('headersTimeout: 300 and half a head → 408 Request Timeout and close, within 1.3 s', T, async () => {
  await withServer((req, res) => res.end('no'), { headersTimeout: 300 }, async (h) => {
    const c = await h.connect();
    const sentAt = Date.now();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ');
    const closedAt = await c.waitForClose(2000);
    const elapsed = closedAt - sentAt;
    assert.equal(c.text, CANNED_408);
    assert.ok(elapsed >= 250, `closed after ${elapsed} ms`);
    assert.ok(elapsed < 1300, `closed after ${elapsed} ms`);
    assert.equal(h.calls, 0);
  });
});

test('headersTimeout counts from the first byte: trickling the head does not extend it', T, async () => {
  await withServer((req, res) => res.end('no'), { headersTimeout: 300 }, async (h) => {
    const c = await h.connect();
    const sentAt = Date.now();
    const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-A: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n';
    const trickle = c.trickle(head, 20);
    await c.waitForClose(2000);
    await trickle;
    const elapsed = c.endedAt - sentAt;
    assert.equal(c.text, CANNED_408);
    assert.ok(elapsed < 1300, `closed after ${elapsed} ms`);
    assert.equal(h.calls, 0);
  });
});

test("headersTimeout with a clientError listener: err.code is ERR_HTTP_REQUEST_TIMEOUT", T, async () => {
  await withServer((req, res) => res.end('no'), { headersTimeout: 300 }, async (h) => {
    const errors = [];
    h.server.on('clientError', (err, socket) => {
      errors.push(err);
      socket.end('HTTP/1.1 408 Mine\r\nConnection: close\r\n\r\n');
    });
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\n');
    await c.waitForClose(2000);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'ERR_HTTP_REQUEST_TIMEOUT');
    assert.ok(errors[0] instanceof Error);
    assert.equal(c.text, 'HTTP/1.1 408 Mine\r\nConnection: close\r\n\r\n');
  });
});

test('requestTimeout: 400 with a body that trickles → 408 and close; the request is aborted', T, async () => {
  const seen = { aborted: false, error: null };
  const handler = (req, res) => {
    req.on('aborted', () => {
      seen.aborted = true;
    });
    req.on('error', (err) => {
      seen.error = err;
    });
    req.resume();
    req.on('end', () => res.end('complete'));
  };
  await withServer(handler, { headersTimeout: 300, requestTimeout: 400 }, async (h) => {
    const c = await h.connect();
    const sentAt = Date.now();
    await c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n');
    const trickle = c.trickle('x'.repeat(100), 40);
    await c.waitForClose(2500);
    await trickle;
    const elapsed = c.endedAt - sentAt;
    assert.equal(c.text, CANNED_408);
    assert.ok(elapsed >= 350, `closed after ${elapsed} ms`);
    assert.ok(elapsed < 1400, `closed after ${elapsed} ms`);
    assert.equal(h.calls, 1);
    await waitUntil(() => seen.aborted, 1000, "req 'aborted'");
    assert.equal(seen.error?.code, 'ERR_HTTP_REQUEST_TIMEOUT');
  });
});

test('requestTimeout after the handler answered: the socket closes without a 408 after the 200', T, async () => {
  const handler = (req, res) => {
    req.on('error', () => {});
    res.end('answered early');
  };
  await withServer(handler, { headersTimeout: 300, requestTimeout: 400 }, async (h) => {
    const c = await h.connect();
    await c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n');
    const [r] = await c.waitForResponses(1);
    assert.equal(r.status, 200);
    const trickle = c.trickle('x'.repeat(100), 40);
    await c.waitForClose(2500);
    await trickle;
    const rs = c.responses();
    assert.equal(rs.length, 1);
    assert.equal(rs[0].body.toString(), 'answered early');
    assert.equal(c.text.includes('408'), false);
  });
});

test('a new connection that sends nothing gets 408 after headersTimeout', T, async () => {
  await withServer((req, res) => res.end('no'), { headersTimeout: 300 }, async (h) => {
    const c = await h.connect();
    const connectedAt = Date.now();
    await c.waitForClose(2000);
    const elapsed = c.endedAt - connectedAt;
    assert.equal(c.text, CANNED_408);
    assert.ok(elapsed >= 250 && elapsed < 1300, `closed after ${elapsed} ms`);
  });
});

test('headersTimeout restarts for the next request on a keep-alive connection', T, async () => {
  await withServer((req, res) => res.end('ok'), { headersTimeout: 300, keepAliveTimeout: 5000 }, async (h) => {
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.waitForResponses(1);
    await sleep(400); // longer than headersTimeout, shorter than keepAliveTimeout: idle is fine
    assert.equal(c.ended, false);
    const sentAt = Date.now();
    await c.write('GET /2 HTTP/1.1\r\nHo');
    await c.waitForClose(2000);
    const elapsed = c.endedAt - sentAt;
    assert.ok(elapsed >= 250 && elapsed < 1300, `closed after ${elapsed} ms`);
    const rs = c.responses();
    assert.deepEqual(rs.map((r) => r.status), [200, 408]);
  });
});

test("server.setTimeout(200, cb): 'timeout' fires with the socket after 200 ms of inactivity", T, async () => {
  await withServer((req, res) => res.end('ok'), { keepAliveTimeout: 5000 }, async (h) => {
    const fired = [];
    const ret = h.server.setTimeout(200, (socket) => {
      fired.push({ socket, at: Date.now() });
      socket.destroy();
    });
    assert.equal(ret, h.server);
    assert.equal(h.server.timeout, 200);
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.waitForResponses(1);
    const idleFrom = Date.now();
    await c.waitForClose(2000);
    assert.equal(fired.length, 1);
    const serverSocket = fired[0].socket;
    assert.equal(typeof serverSocket.destroy, 'function');
    assert.equal(serverSocket.remotePort, c.socket.localPort);
    const idle = fired[0].at - idleFrom;
    assert.ok(idle >= 150 && idle < 1000, `timeout after ${idle} ms`);
  });
});

test("server.timeout = 200 with no 'timeout' listener: the idle socket is destroyed", T, async () => {
  await withServer((req, res) => res.end('ok'), { keepAliveTimeout: 5000 }, async (h) => {
    h.server.timeout = 200;
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.waitForResponses(1);
    const from = Date.now();
    await c.waitForClose(2000);
    const elapsed = c.endedAt - from;
    assert.ok(elapsed >= 150 && elapsed < 1000, `closed after ${elapsed} ms`);
  });
});

test("res.setTimeout(150, cb) during a slow response: 'timeout' fires on res, the socket is kept", T, async () => {
  let timedOut = 0;
  const handler = (req, res) => {
    res.setTimeout(150, () => {
      timedOut++;
      res.end('after timeout');
    });
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const [r] = await c.waitForResponses(1, 2000);
    assert.equal(timedOut, 1);
    assert.equal(r.body.toString(), 'after timeout');
    assert.equal(c.ended, false);
  });
});
