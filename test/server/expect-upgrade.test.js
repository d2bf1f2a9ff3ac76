// Expect: 100-continue (RFC 9110 §10.1.1, §15.2.1) with and without a 'checkContinue' listener,
// and the connection hand-over of Upgrade (§7.8) and CONNECT (§9.3.6) to their listeners.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, untilClose, get, readAll, sleep, waitUntil } from './raw.js';

const T = { timeout: 5000 };
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

const echo = async (req, res) => {
  const body = await readAll(req);
  res.end(`echo:${body.toString()}`);
};

test('Expect: 100-continue → 100 Continue before the body is sent, then the final response', T, async () => {
  await withServer(echo, {}, async (h) => {
    const c = await h.connect();
    await c.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n');
    await waitUntil(() => c.text.length >= CONTINUE.length, 2000, '100 Continue');
    assert.equal(c.text, CONTINUE);
    assert.equal(h.calls, 1); // the request listener runs at once (no checkContinue listener)
    await c.write('hello world');
    const rs = await c.waitForResponses(2);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 100 Continue');
    assert.equal(rs[1].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[1].body.toString(), 'echo:hello world');
    assert.equal(rs[1].headers.connection, 'keep-alive');
    // The connection is reusable.
    await c.write(get('/next'));
    const rs2 = await c.waitForResponses(3);
    assert.equal(rs2[2].body.toString(), 'echo:');
  });
});

test('Expect: 100-continue is case-insensitive; without a body no 100 is sent', T, async () => {
  await withServer(echo, {}, async (h) => {
    const c = await h.connect();
    await c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-Continue\r\n\r\n');
    await waitUntil(() => c.text === CONTINUE, 2000, '100 Continue');
    await c.write('hi');
    await c.waitForResponses(2);
    await c.write('GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n');
    const rs = await c.waitForResponses(3);
    assert.deepEqual(rs.map((r) => r.status), [100, 200, 200]);
  });
});

test('Expect: 100-continue in an HTTP/1.0 request is ignored (no 100)', T, async () => {
  await withServer(echo, {}, async (h) => {
    const [rs] = await untilClose(h, 'POST / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi');
    assert.deepEqual(rs.map((r) => r.status), [200]);
    assert.equal(rs[0].body.toString(), 'echo:hi');
  });
});

test("checkContinue listener: no automatic 100; writeContinue() then the body is read", T, async () => {
  await withServer(null, {}, async (h) => {
    let requestEvents = 0;
    h.server.on('request', () => requestEvents++);
    let proceed;
    h.server.on('checkContinue', (req, res) => {
      proceed = () => {
        res.writeContinue();
        echo(req, res);
      };
    });
    const c = await h.connect();
    await c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    await waitUntil(() => proceed, 2000, 'checkContinue');
    await sleep(100);
    assert.equal(c.length, 0, 'no automatic 100 Continue');
    proceed();
    await waitUntil(() => c.text === CONTINUE, 2000, '100 Continue');
    await c.write('body');
    const rs = await c.waitForResponses(2);
    assert.equal(rs[1].status, 200);
    assert.equal(rs[1].body.toString(), 'echo:body');
    assert.equal(requestEvents, 0, "'request' is not emitted when checkContinue handles it");
  });
});

test('checkContinue listener answers 417 without reading: no 100, Connection: close, the body is never read', T, async () => {
  await withServer(null, {}, async (h) => {
    let dataEvents = 0;
    h.server.on('checkContinue', (req, res) => {
      req.on('data', () => dataEvents++);
      res.writeHead(417, { 'Content-Type': 'text/plain' });
      res.end('too big');
    });
    const [rs, c] = await untilClose(h, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n');
    assert.equal(rs.length, 1);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 417 Expectation Failed');
    assert.equal(rs[0].body.toString(), 'too big');
    // The client was never told to send the body, so the framing is in doubt: close.
    assert.equal(rs[0].headers.connection, 'close');
    assert.equal(c.text.includes('100 Continue'), false);
    assert.equal(dataEvents, 0);
  });
});

test("upgrade listener gets (req, socket, head): head = the bytes after the request head; the socket is raw", T, async () => {
  // Regression test (bug fixed in the engine): the socket handed to 'upgrade' / 'connect' is paused by Keel *after* the listener
  // returns, so bytes the client sends later never reach the listener's 'data' handler.
  // ServerConnection#onData → #pull → #pullOnce → #onHead → #startUpgrade → #finishUpgrade emits
  // the event synchronously; back in #pullOnce the loop breaks on `#upgrade !== null` with
  // needData false, and the "pause while parsing cannot go on" step calls socket.pause() on the
  // socket that now belongs to the listener (readableFlowing goes back to false).
  await withServer((req, res) => res.end('normal'), {}, async (h) => {
    const seen = {};
    h.server.on('upgrade', (req, socket, head) => {
      seen.req = req;
      seen.head = Buffer.from(head);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.write(head);
      socket.on('data', (d) => socket.write(d));
    });
    const c = await h.connect();
    await c.write('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nRAW\x00\x01bytes');
    await waitUntil(() => seen.req, 2000, "'upgrade'");
    assert.equal(seen.head.toString('latin1'), 'RAW\x00\x01bytes');
    assert.equal(seen.req.url, '/ws');
    assert.equal(seen.req.headers.upgrade, 'echo');
    assert.equal(h.calls, 0);
    await waitUntil(() => c.text.endsWith('RAW\x00\x01bytes'), 2000, 'the echoed head');
    await c.write('ping');
    await waitUntil(() => c.text.endsWith('ping'), 2000, 'the echo');
    const text = c.text;
    assert.equal(text, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nRAW\x00\x01bytesping');
  });
});

test('upgrade pipelined after a normal request waits for its response', T, async () => {
  await withServer((req, res) => setTimeout(() => res.end('first'), 30), {}, async (h) => {
    h.server.on('upgrade', (req, socket, head) => {
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nhead=${head.toString()}`);
    });
    const [, c] = await untilClose(h, get('/1') + 'GET /up HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\nAFTER');
    const text = c.text;
    const first = text.indexOf('first');
    const switching = text.indexOf('101 Switching');
    assert.ok(first > 0 && switching > first, text);
    assert.ok(text.endsWith('head=AFTER'), text);
  });
});

test('Upgrade fields without an upgrade listener: served as a normal request', T, async () => {
  await withServer((req, res) => res.end(`normal ${req.headers.upgrade}`), {}, async (h) => {
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    const [r] = await c.waitForResponses(1);
    assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r.body.toString(), 'normal websocket');
    assert.equal(h.calls, 1);
    await c.write(get('/again'));
    const rs = await c.waitForResponses(2);
    assert.equal(rs[1].status, 200);
  });
});

test("Upgrade field without 'Connection: upgrade' is not an upgrade", T, async () => {
  await withServer((req, res) => res.end('normal'), {}, async (h) => {
    let upgrades = 0;
    h.server.on('upgrade', (req, socket) => {
      upgrades++;
      socket.destroy();
    });
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n');
    const [r] = await c.waitForResponses(1);
    assert.equal(r.body.toString(), 'normal');
    assert.equal(upgrades, 0);
  });
});

test("CONNECT with a 'connect' listener gets (req, socket, head)", T, async () => {
  // Regression test (bug fixed in the engine): same as the upgrade test above — the tunnel socket is paused after the listener
  // returns, so 'tunnel data' is never echoed.
  await withServer((req, res) => res.end('normal'), {}, async (h) => {
    const seen = {};
    h.server.on('connect', (req, socket, head) => {
      seen.req = req;
      seen.head = Buffer.from(head);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      socket.on('data', (d) => socket.write(d));
    });
    const c = await h.connect();
    await c.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nTLS-HELLO');
    await waitUntil(() => seen.req, 2000, "'connect'");
    assert.equal(seen.req.method, 'CONNECT');
    assert.equal(seen.req.url, 'example.com:443');
    assert.equal(seen.head.toString(), 'TLS-HELLO');
    assert.equal(h.calls, 0);
    await c.write('tunnel data');
    await waitUntil(() => c.text.endsWith('tunnel data'), 2000, 'the tunnel echo');
    assert.equal(c.text, 'HTTP/1.1 200 Connection Established\r\n\r\ntunnel data');
  });
});

test("CONNECT without a 'connect' listener: the connection is closed (as Node)", T, async () => {
  await withServer((req, res) => res.end('normal'), {}, async (h) => {
    const [, c] = await untilClose(h, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.equal(h.calls, 0);
    assert.equal(c.length, 0);
  });
});
