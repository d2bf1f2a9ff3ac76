// keel/sse over real sockets: the head, exact event bytes, Last-Event-ID (with a real EventSource
// reconnecting), heartbeats, close() and client disconnects, and a stream that outlives the
// server's keep-alive, headers and request timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { EventSource } from 'undici';
import { sse, createEventStream, EventStream } from 'keel/sse';
import { openStream, rawRequest, startServer, sleep, waitUntil, withTimeout } from './helpers.js';

test('the head leaves at once, before any event: 200, text/event-stream, no-cache, keep-alive, X-Accel-Buffering: no', async () => {
  let stream;
  const h = await startServer((req, res) => {
    stream = sse(req, res, { heartbeat: 0 });
  });
  const client = rawRequest(h.port, 'GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  try {
    await waitUntil(() => client.received.includes('\r\n\r\n'), 3000, 'the head');
    const head = client.received.toString('latin1');
    const lines = head.slice(0, head.indexOf('\r\n\r\n')).split('\r\n');
    assert.equal(lines[0], 'HTTP/1.1 200 OK');
    const fields = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]));
    assert.equal(fields['content-type'], 'text/event-stream');
    assert.equal(fields['cache-control'], 'no-cache');
    assert.equal(fields.connection, 'keep-alive');
    assert.equal(fields['x-accel-buffering'], 'no');
    assert.equal(fields['transfer-encoding'], 'chunked');
    assert.equal(fields['content-length'], undefined);
    assert.equal(head.length, head.indexOf('\r\n\r\n') + 4, 'nothing but the head yet');
    assert.ok(stream instanceof EventStream);
    assert.equal(createEventStream, sse);
    // One event: one chunk with exactly its bytes.
    stream.send({ event: 'hello', data: 'world' });
    const chunk = 'event: hello\ndata: world\n\n';
    await waitUntil(() => client.received.toString('latin1').endsWith(`${chunk.length.toString(16)}\r\n${chunk}\r\n`), 3000, 'the chunk');
    stream.close();
    await waitUntil(() => client.received.toString('latin1').endsWith('0\r\n\r\n'), 3000, 'the last chunk');
  } finally {
    client.socket.destroy();
    await h.close();
  }
});

test('events, ids, retry, multi-line data, JSON data and comments arrive byte for byte and parse as a browser would', async () => {
  let stream;
  const h = await startServer((req, res) => {
    stream = sse(req, res, { heartbeat: 0, retry: 1500 });
    stream.send('plain');
    stream.send({ event: 'update', id: '1', data: 'line one\nline two\r\nline three' });
    stream.comment('just a comment');
    stream.send({ id: 2, data: { user: 'ada', tags: ['x', 'y'] } });
    stream.retry(3000);
    stream.send({ event: 'empty', data: '' });
    stream.send({ id: 'no-data' });
    stream.send({ event: 'last', data: 'bye' });
    stream.close();
  });
  try {
    const client = await openStream(h.port, '/events');
    await client.done(3000);
    assert.equal(client.res.statusCode, 200);
    assert.equal(client.text(),
      'retry: 1500\n\n' +
      'data: plain\n\n' +
      'event: update\nid: 1\ndata: line one\ndata: line two\ndata: line three\n\n' +
      ': just a comment\n\n' +
      'id: 2\ndata: {"user":"ada","tags":["x","y"]}\n\n' +
      'retry: 3000\n\n' +
      'event: empty\ndata: \n\n' +
      'id: no-data\n\n' +
      'event: last\ndata: bye\n\n');
    const { parser } = client;
    assert.deepEqual(parser.events, [
      { type: 'message', data: 'plain', lastEventId: '' },
      { type: 'update', data: 'line one\nline two\nline three', lastEventId: '1' },
      { type: 'message', data: '{"user":"ada","tags":["x","y"]}', lastEventId: '2' },
      { type: 'empty', data: '', lastEventId: '2' },
      { type: 'last', data: 'bye', lastEventId: 'no-data' },
    ]);
    assert.deepEqual(parser.comments, ['just a comment']);
    assert.deepEqual(parser.retries, [1500, 3000]);
    assert.equal(stream.closed, true);
    assert.equal(stream.reason, null);
  } finally {
    await h.close();
  }
});

test('send() validates before writing: ERR_INVALID_CHAR for CR/LF in event or id, and the stream stays usable', async () => {
  const errors = [];
  const h = await startServer((req, res) => {
    const stream = sse(req, res, { heartbeat: 0 });
    for (const bad of [{ event: 'a\nb', data: 'x' }, { id: '1\r\n', data: 'x' }, { id: 'a\0', data: 'x' }]) {
      try {
        stream.send(bad);
      } catch (err) {
        errors.push(err.code);
      }
    }
    stream.send({ data: 'ok' });
    stream.close();
  });
  try {
    const client = await openStream(h.port, '/');
    await client.done(3000);
    assert.deepEqual(errors, ['ERR_INVALID_CHAR', 'ERR_INVALID_CHAR', 'ERR_INVALID_CHAR']);
    assert.equal(client.text(), 'data: ok\n\n');
  } finally {
    await h.close();
  }
});

test('lastEventId is the Last-Event-ID request header, undefined without it', async () => {
  const seen = [];
  const h = await startServer((req, res) => {
    const stream = sse(req, res, { heartbeat: 0 });
    seen.push(stream.lastEventId);
    stream.close();
  });
  try {
    for (const headers of [{}, { 'Last-Event-ID': '42' }, { 'last-event-id': 'abc-7' }]) {
      const client = await openStream(h.port, '/', headers);
      await client.done(3000);
    }
    assert.deepEqual(seen, [undefined, '42', 'abc-7']);
  } finally {
    await h.close();
  }
});

test('a real EventSource (undici) reconnects after close() and resumes from Last-Event-ID', async () => {
  const connections = [];
  const h = await startServer((req, res) => {
    const stream = sse(req, res, { heartbeat: 0, retry: 50 });
    connections.push(stream.lastEventId);
    const from = stream.lastEventId === undefined ? 1 : Number(stream.lastEventId) + 1;
    for (let n = from; n < from + 3; n++) stream.send({ event: 'count', id: String(n), data: `n=${n}` });
    stream.close();
  });
  const source = new EventSource(`http://127.0.0.1:${h.port}/events`);
  try {
    const received = [];
    const done = new Promise((resolve) => {
      source.addEventListener('count', (e) => {
        received.push([e.data, e.lastEventId]);
        if (received.length === 6) resolve();
      });
    });
    await withTimeout(done, 5000, 'six events over two connections');
    source.close();
    assert.deepEqual(received, [['n=1', '1'], ['n=2', '2'], ['n=3', '3'], ['n=4', '4'], ['n=5', '5'], ['n=6', '6']]);
    assert.deepEqual(connections.slice(0, 2), [undefined, '3']);
  } finally {
    source.close();
    await h.close();
  }
});

for (const heartbeat of [0, 20]) {
  test(`a client that disconnects: "close" with ECONNRESET within 1 s, signal aborted, timer and listeners gone (heartbeat ${heartbeat})`, async () => {
    let stream;
    let listenersBefore;
    const h = await startServer((req, res) => {
      listenersBefore = { close: res.listenerCount('close'), error: res.listenerCount('error') };
      stream = sse(req, res, { heartbeat });
      stream.send({ data: 'hello' });
    });
    try {
      const client = await openStream(h.port, '/');
      await waitUntil(() => client.parser.events.length === 1 && (heartbeat === 0 || client.parser.comments.length >= 2), 3000, 'the first bytes');
      const closed = once(stream, 'close');
      const started = Date.now();
      client.close();
      const [reason] = await withTimeout(closed, 1000, "the stream's 'close'");
      assert.ok(Date.now() - started < 1000);
      assert.equal(reason.code, 'ECONNRESET');
      assert.equal(stream.closed, true);
      assert.equal(stream.reason, reason);
      assert.equal(stream.signal.aborted, true);
      assert.equal(stream.signal.reason, reason);
      assert.equal(stream.res.listenerCount('close'), listenersBefore.close);
      assert.equal(stream.res.listenerCount('error'), listenersBefore.error);
      // Writing to a closed stream is a no-op that says so.
      assert.equal(stream.send({ data: 'late' }), false);
      assert.equal(stream.comment('late'), false);
      // No heartbeat runs any more: nothing is written after the close.
      const before = client.text().length;
      await sleep(100);
      assert.equal(client.text().length, before);
    } finally {
      await h.close();
    }
  });
}

// Regression test, fixed (engine, src/server/server-connection.ts): when the request said `Connection: close`
// (node:http's client with agent: false, HTTP/1.0, maxRequestsPerSocket reached, server.close()),
// the server stops parsing after it, so the client's FIN is never seen while the response is in
// flight: no 'aborted', no res 'close' until a write fails. node:http reports it at once.
test('a Connection: close client that disconnects is noticed without heartbeats', {}, async () => {
  let stream;
  const h = await startServer((req, res) => {
    stream = sse(req, res, { heartbeat: 0 });
  });
  try {
    const client = await openStream(h.port, '/', {}, { keepAlive: false });
    await waitUntil(() => stream !== undefined, 3000, 'the stream');
    const closed = once(stream, 'close');
    client.close();
    const [reason] = await withTimeout(closed, 1000, "the stream's 'close'");
    assert.equal(reason.code, 'ECONNRESET');
  } finally {
    await h.close();
  }
});

test('heartbeats find a departed client even where the engine misses its FIN (Connection: close)', async () => {
  let stream;
  const h = await startServer((req, res) => {
    stream = sse(req, res, { heartbeat: 50 });
  });
  try {
    const client = await openStream(h.port, '/', {}, { keepAlive: false });
    await waitUntil(() => client.parser.comments.length >= 1, 3000, 'a heartbeat');
    const closed = once(stream, 'close');
    client.close();
    // The first heartbeat after the FIN draws a reset, the next write fails: a few periods.
    const [reason] = await withTimeout(closed, 2000, "the stream's 'close'");
    assert.equal(reason.code, 'ECONNRESET');
    assert.equal(stream.signal.aborted, true);
  } finally {
    await h.close();
  }
});

test('heartbeat: a ": heartbeat" comment every `heartbeat` ms; 0 sends none', async () => {
  const h = await startServer((req, res) => {
    const stream = sse(req, res, { heartbeat: req.url === '/on' ? 30 : 0 });
    setTimeout(() => stream.close(), 400);
  });
  try {
    const [on, off] = await Promise.all([openStream(h.port, '/on'), openStream(h.port, '/off')]);
    await Promise.all([on.done(), off.done()]);
    assert.ok(on.parser.comments.length >= 3, `heartbeats: ${on.parser.comments.length}`);
    assert.ok(on.parser.comments.every((c) => c === 'heartbeat'));
    assert.match(on.text(), /^(: heartbeat\n\n)+$/);
    assert.equal(off.text(), '');
  } finally {
    await h.close();
  }
});

test('close(): the response ends cleanly, "close" has a null reason and the signal an AbortError', async () => {
  let stream;
  const h = await startServer((req, res) => {
    stream = sse(req, res, { heartbeat: 0 });
  });
  try {
    const client = await openStream(h.port, '/');
    await waitUntil(() => stream !== undefined, 3000, 'the stream');
    const closed = once(stream, 'close');
    stream.send({ data: 'only' });
    stream.close();
    stream.close(); // idempotent
    const [reason] = await closed;
    assert.equal(reason, null);
    assert.equal(stream.signal.aborted, true);
    assert.equal(stream.signal.reason.name, 'AbortError');
    await client.done(3000);
    assert.equal(client.text(), 'data: only\n\n');
    assert.equal(client.res.complete, true);
  } finally {
    await h.close();
  }
});

test('a stream outlives short keepAliveTimeout, headersTimeout and requestTimeout: a response in flight is never cut', async () => {
  let stream;
  const h = await startServer((req, res) => {
    if (req.url === '/plain') {
      res.end('ok');
      return;
    }
    stream = sse(req, res, { heartbeat: 0 });
    stream.send({ data: 'first' });
    setTimeout(() => {
      stream.send({ data: 'second' });
      stream.close();
    }, 1200);
  }, { keepAliveTimeout: 100, headersTimeout: 100, requestTimeout: 200, connectionsCheckingInterval: 10 });
  try {
    const client = await openStream(h.port, '/');
    await client.done(5000);
    assert.deepEqual(client.parser.events.map((e) => e.data), ['first', 'second']);
    assert.equal(client.res.complete, true);
    assert.equal(stream.reason, null);
    // Control: the same server does close an idle keep-alive connection after 100 ms.
    const idle = rawRequest(h.port, 'GET /plain HTTP/1.1\r\nHost: x\r\n\r\n');
    try {
      await waitUntil(() => idle.received.includes('ok'), 3000, 'the plain response');
      const answered = Date.now();
      await waitUntil(() => idle.closed, 3000, 'the idle connection to be closed');
      assert.ok(Date.now() - answered < 1200, 'closed by the keep-alive timeout, not the stream test');
    } finally {
      idle.socket.destroy();
    }
  } finally {
    await h.close();
  }
});

test('options.headers add or override headers, but Content-Type stays text/event-stream; headers already sent: ERR_HTTP_HEADERS_SENT', async () => {
  let thrown;
  const h = await startServer((req, res) => {
    if (req.url === '/sent') {
      res.writeHead(200);
      res.write('x');
      try {
        sse(req, res);
      } catch (err) {
        thrown = err;
      }
      res.end();
      return;
    }
    const stream = sse(req, res, { heartbeat: 0, headers: { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store', 'Content-Type': 'text/plain' } });
    stream.close();
  });
  try {
    const client = await openStream(h.port, '/');
    await client.done(3000);
    assert.equal(client.res.headers['access-control-allow-origin'], '*');
    assert.equal(client.res.headers['cache-control'], 'no-store');
    assert.equal(client.res.headers['content-type'], 'text/event-stream');
    const sent = await openStream(h.port, '/sent');
    await sent.done(3000);
    assert.equal(thrown?.code, 'ERR_HTTP_HEADERS_SENT');
  } finally {
    await h.close();
  }
});

test('bad options throw before the head is written', async () => {
  const codes = [];
  const h = await startServer((req, res) => {
    for (const options of [{ heartbeat: -1 }, { maxBufferedBytes: 'big' }, { retry: 1.5 }]) {
      try {
        sse(req, res, options);
      } catch (err) {
        codes.push(err.code);
      }
    }
    res.statusCode = 204;
    res.end();
  });
  try {
    const client = await openStream(h.port, '/');
    await client.done(3000);
    assert.equal(client.res.statusCode, 204);
    assert.deepEqual(codes, ['ERR_OUT_OF_RANGE', 'ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']);
  } finally {
    await h.close();
  }
});

test('HTTP/1.0 request: no chunked coding and no Connection: keep-alive; the body runs until close', async () => {
  const h = await startServer((req, res) => {
    const stream = sse(req, res, { heartbeat: 0 });
    stream.send({ data: 'old client' });
    stream.close();
  });
  const client = rawRequest(h.port, 'GET / HTTP/1.0\r\n\r\n');
  try {
    await waitUntil(() => client.closed, 3000, 'the server to close the connection');
    const text = client.received.toString('latin1');
    const [head, body] = text.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.doesNotMatch(head, /keep-alive/i);
    assert.equal(body, 'data: old client\n\n');
  } finally {
    client.socket.destroy();
    await h.close();
  }
});
