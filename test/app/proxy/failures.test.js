// keel/proxy: failures. 502 (ERR_PROXY_UPSTREAM) when the upstream cannot be reached, resets or
// answers garbage; 504 (ERR_PROXY_TIMEOUT) when no response head arrives in time; a failure after
// the response started destroys the client connection (the client sees an error, never a complete
// body); a client that goes away aborts the upstream request within a second.
//
//   npm run build && node --test test/app/proxy/failures.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import nodeHttp from 'node:http';

import { closedPort, send, sleep, startProxy, startRawUpstream, startUpstream, waitUntil } from './helpers.js';

const T = { timeout: 10_000 };

/** Resolve with what happened to a GET through the proxy: { status, body, complete, error }. */
function outcome(port, path = '/') {
  return new Promise((resolve) => {
    const req = nodeHttp.get({ port, host: '127.0.0.1', path, agent: false }, (res) => {
      let body = '';
      let error = null;
      res.setEncoding('latin1');
      res.on('data', (c) => (body += c));
      res.on('error', (err) => (error = err));
      res.on('close', () => resolve({ status: res.statusCode, body, complete: res.complete, error }));
    });
    req.on('error', (error) => resolve({ status: null, body: '', complete: false, error }));
  });
}

test('502 Bad Gateway when the upstream refuses the connection (ERR_PROXY_UPSTREAM)', T, async () => {
  const port = await closedPort();
  const front = await startProxy({ target: `http://127.0.0.1:${port}` });
  try {
    const r = await send(front.port, { path: '/x' });
    assert.equal(r.status, 502);
    assert.equal(r.body, 'Bad Gateway\n');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.headers['content-length'], '12');
  } finally {
    await front.close();
  }
});

test('onError receives the ProxyError (code, status, upstream, cause) and answers instead', T, async () => {
  const port = await closedPort();
  const errors = [];
  const front = await startProxy({
    target: `http://127.0.0.1:${port}`,
    onError: (error, req, res) => {
      errors.push(error);
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: error.code, url: req.url }));
    },
  });
  try {
    const r = await send(front.port, { path: '/custom' });
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { code: 'ERR_PROXY_UPSTREAM', url: '/custom' });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].name, 'ProxyError');
    assert.equal(errors[0].code, 'ERR_PROXY_UPSTREAM');
    assert.equal(errors[0].status, 502);
    assert.equal(errors[0].upstream, `http://127.0.0.1:${port}`);
    assert.equal(errors[0].cause.code, 'ECONNREFUSED');
  } finally {
    await front.close();
  }
});

test('504 Gateway Timeout when no response head arrives within `timeout` ms, and the upstream request is aborted', T, async () => {
  let upstreamClosedAt = 0;
  const upstream = await startUpstream((req) => {
    req.resume();
    req.once('close', () => (upstreamClosedAt = Date.now()));
  });
  const errors = [];
  const front = await startProxy({ target: upstream.url, timeout: 200, onError: (error, req, res) => {
    errors.push(error);
    res.writeHead(error.status);
    res.end(error.code);
  } });
  try {
    const started = Date.now();
    const r = await send(front.port, { path: '/slow' });
    const elapsed = Date.now() - started;
    assert.equal(r.status, 504);
    assert.equal(r.body, 'ERR_PROXY_TIMEOUT');
    assert.equal(errors[0].code, 'ERR_PROXY_TIMEOUT');
    assert.equal(errors[0].status, 504);
    assert.ok(elapsed >= 180 && elapsed < 2000, `answered after ${elapsed} ms`);
    await waitUntil(() => upstreamClosedAt !== 0, 1000, 'the upstream request to close');
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('the default 504 reply', T, async () => {
  const upstream = await startUpstream(() => {});
  const front = await startProxy({ target: upstream.url, timeout: 100 });
  try {
    const r = await send(front.port, { path: '/' });
    assert.equal(r.status, 504);
    assert.equal(r.body, 'Gateway Timeout\n');
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('502 when the upstream closes the connection without answering (a POST is not retried)', T, async () => {
  let requests = 0;
  const upstream = await startRawUpstream((socket) => {
    socket.once('data', () => {
      requests++;
      socket.destroy();
    });
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const r = await send(front.port, { method: 'POST', path: '/p', headers: { 'Content-Length': 2 } }, 'hi');
    assert.equal(r.status, 502);
    assert.equal(requests, 1);
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('502 when the upstream answers something that is not HTTP', T, async () => {
  const upstream = await startRawUpstream((socket) => {
    socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
  });
  const errors = [];
  const front = await startProxy({ target: upstream.url, onError: (error, req, res) => {
    errors.push(error);
    res.writeHead(502);
    res.end();
  } });
  try {
    const r = await send(front.port, { path: '/' });
    assert.equal(r.status, 502);
    assert.equal(errors[0].code, 'ERR_PROXY_UPSTREAM');
    assert.match(errors[0].cause.code, /^HPE_/);
  } finally {
    await front.close();
    await upstream.close();
  }
});

for (const framing of ['content-length', 'chunked']) {
  test(`an upstream that fails mid-body (${framing}): the client connection is destroyed, the body never looks complete`, T, async () => {
    const upstream = await startRawUpstream((socket) => {
      socket.once('data', () => {
        if (framing === 'chunked') socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello');
        setTimeout(() => socket.destroy(), 50);
      });
    });
    const errors = [];
    const front = await startProxy({ target: upstream.url, onError: (error, req, res) => errors.push({ error, headersSent: res.headersSent }) });
    try {
      const r = await outcome(front.port);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'hello');
      assert.equal(r.complete, false);
      assert.equal(r.error?.code, 'ECONNRESET');
      await waitUntil(() => errors.length === 1, 1000, 'onError');
      assert.equal(errors[0].error.code, 'ERR_PROXY_UPSTREAM');
      assert.equal(errors[0].headersSent, true);
    } finally {
      await front.close();
      await upstream.close();
    }
  });
}

test('a client that disconnects while the upstream thinks aborts the upstream request within 1 s', T, async () => {
  let upstreamReq = null;
  let closedAt = 0;
  const upstream = await startUpstream((req) => {
    upstreamReq = req;
    req.once('close', () => (closedAt = Date.now()));
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const socket = net.connect(front.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET /think HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => upstreamReq !== null, 2000, 'the upstream request');
    const disconnectedAt = Date.now();
    socket.destroy();
    await waitUntil(() => closedAt !== 0, 1000, "the upstream request's 'close'");
    assert.ok(closedAt - disconnectedAt < 1000);
    assert.equal(upstreamReq.complete, true); // a GET: complete on arrival, so only its 'close' tells
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('a client that disconnects mid-download stops the upstream response within 1 s', T, async () => {
  let upstreamRes = null;
  let closedAt = 0;
  const upstream = await startUpstream((req, res) => {
    upstreamRes = res;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    const timer = setInterval(() => res.write('tick\n'), 10);
    res.once('close', () => {
      clearInterval(timer);
      closedAt = Date.now();
    });
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const res = await new Promise((resolve, reject) => {
      const req = nodeHttp.get({ port: front.port, host: '127.0.0.1', agent: false }, resolve);
      req.on('error', reject);
    });
    await new Promise((resolve) => res.once('data', resolve));
    const disconnectedAt = Date.now();
    res.destroy();
    await waitUntil(() => closedAt !== 0, 1000, "the upstream response's 'close'");
    assert.ok(closedAt - disconnectedAt < 1000);
    assert.equal(upstreamRes.writableFinished, false);
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('a client that disconnects mid-upload aborts the upstream request within 1 s', T, async () => {
  let upstreamReq = null;
  let abortedAt = 0;
  const upstream = await startUpstream((req) => {
    upstreamReq = req;
    req.resume();
    req.once('aborted', () => (abortedAt = Date.now()));
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const req = nodeHttp.request({ port: front.port, host: '127.0.0.1', method: 'POST', agent: false, headers: { 'Content-Length': 1000 } });
    req.on('error', () => {});
    req.write('x'.repeat(100));
    await waitUntil(() => upstreamReq !== null, 2000, 'the upstream request');
    await sleep(20);
    const disconnectedAt = Date.now();
    req.destroy();
    await waitUntil(() => abortedAt !== 0, 1000, "the upstream request's 'aborted'");
    assert.ok(abortedAt - disconnectedAt < 1000);
    assert.equal(upstreamReq.complete, false);
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('an error before the request body was read answers with Connection: close', T, async () => {
  const port = await closedPort();
  const front = await startProxy({ target: `http://127.0.0.1:${port}` });
  try {
    const r = await new Promise((resolve, reject) => {
      const req = nodeHttp.request({ port: front.port, host: '127.0.0.1', method: 'PUT', agent: false, headers: { 'Content-Length': 100000 } }, resolve);
      req.on('error', reject);
      req.write('x'.repeat(1000)); // and never the rest
    });
    assert.equal(r.statusCode, 502);
    assert.equal(r.headers.connection, 'close');
    r.resume();
  } finally {
    await front.close();
  }
});

test('`timeout` does not cut a slow upload short: it runs from the end of the request to the response head', T, async () => {
  const upstream = await startUpstream(async (req, res) => {
    let length = 0;
    for await (const chunk of req) length += chunk.length;
    if (req.url === '/answer') res.end(`got ${length}`);
    // '/silent': never answers
  });
  const front = await startProxy({ target: upstream.url, timeout: 200 });
  try {
    const upload = (path) => new Promise((resolve, reject) => {
      const req = nodeHttp.request({ port: front.port, host: '127.0.0.1', method: 'POST', path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body, at: Date.now() }));
      });
      req.on('error', reject);
      let sent = 0;
      const timer = setInterval(() => {
        req.write('x'.repeat(10));
        if (++sent === 8) {
          clearInterval(timer);
          req.end();
        }
      }, 60); // about 480 ms of upload, well over the 200 ms timeout
    });
    const ok = await upload('/answer');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'got 80');
    const started = Date.now();
    const silent = await upload('/silent');
    assert.equal(silent.status, 504);
    assert.ok(silent.at - started >= 480 + 150, `504 after ${silent.at - started} ms: the upload time was counted`);
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('an upstream that answers before reading the whole upload (413): relayed with Connection: close', T, async () => {
  const upstream = await startUpstream((req, res) => {
    res.writeHead(413, { 'Content-Type': 'text/plain', Connection: 'close' });
    res.end('too big');
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const r = await new Promise((resolve, reject) => {
      const req = nodeHttp.request({ port: front.port, host: '127.0.0.1', method: 'POST', agent: false, headers: { 'Content-Length': 50_000_000 } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, body }));
      });
      req.on('error', () => {}); // the rest of the upload may be cut off
      req.write(Buffer.alloc(256 * 1024));
    });
    assert.deepEqual(r, { status: 413, connection: 'close', body: 'too big' });
  } finally {
    await front.close();
    await upstream.close();
  }
});
