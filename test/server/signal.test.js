// One abort model: req.signal (Keel's IncomingMessage) aborts with a reason whose code says why —
// ECONNRESET (client gone), ERR_HTTP_REQUEST_TIMEOUT (a deadline), ERR_SERVER_CLOSED (shutdown) —
// and never when the exchange completes normally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'keel';

async function withServer(options, handler, fn) {
  const server = http.createServer(options, handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(server, server.address().port);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

function waitFor(check, ms = 2000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error('timed out'));
      }
    }, 10);
  });
}

test('the client going away aborts req.signal with ECONNRESET', async () => {
  let reason = null;
  await withServer({}, (req) => req.signal.addEventListener('abort', () => (reason = req.signal.reason)), async (server, port) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await waitFor(() => reason !== null);
    assert.equal(reason.code, 'ECONNRESET');
  });
});

test('a request deadline aborts req.signal with ERR_HTTP_REQUEST_TIMEOUT', async () => {
  let reason = null;
  await withServer({ requestTimeout: 300, headersTimeout: 300 }, (req) => {
    req.resume();
    req.signal.addEventListener('abort', () => (reason = req.signal.reason));
  }, async (server, port) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc'));
    socket.on('error', () => {});
    await waitFor(() => reason !== null, 3000);
    assert.equal(reason.code, 'ERR_HTTP_REQUEST_TIMEOUT');
    socket.destroy();
  });
});

test('closeAllConnections() aborts req.signal with ERR_SERVER_CLOSED', async () => {
  let reason = null;
  let arrived = false;
  await withServer({}, (req) => {
    arrived = true;
    req.signal.addEventListener('abort', () => (reason = req.signal.reason));
  }, async (server, port) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('error', () => {});
    await waitFor(() => arrived);
    server.closeAllConnections();
    await waitFor(() => reason !== null);
    assert.equal(reason.code, 'ERR_SERVER_CLOSED');
  });
});

test('a completed exchange never aborts req.signal, even when read after the end', async () => {
  const signals = [];
  await withServer({}, (req, res) => {
    signals.push(req.signal);
    res.end('ok');
  }, async (server, port) => {
    for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(signals.length, 3);
    for (const s of signals) assert.equal(s.aborted, false);
  });
});

test('a signal first read after the client left is already aborted', async () => {
  let late = null;
  await withServer({}, (req) => {
    req.on('aborted', () => setTimeout(() => (late = req.signal), 10));
  }, async (server, port) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab'));
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await waitFor(() => late !== null);
    assert.equal(late.aborted, true);
    assert.equal(late.reason.code, 'ECONNRESET');
  });
});
