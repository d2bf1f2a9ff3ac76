// Pipelining (RFC 9112 §9.3.2): requests sent back to back in one write are answered in request
// order whatever order the handlers finish in; bodies stay with their requests; a bad message or
// `Connection: close` in the pipeline ends it after the valid ones before it are answered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, untilClose, get, getMany, post, readAll, sleep, waitUntil } from './raw.js';

const T = { timeout: 5000 };

test('3 pipelined requests, the first answered last: responses in request order with the right bodies', T, async () => {
  const delays = { '/a': 50, '/b': 10, '/c': 0 };
  const finished = [];
  const handler = (req, res) => {
    setTimeout(() => {
      finished.push(req.url);
      res.end(`body of ${req.url}`);
    }, delays[req.url]);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/a') + get('/b') + get('/c'));
    const rs = await c.waitForResponses(3);
    assert.deepEqual(finished, ['/c', '/b', '/a']); // the handlers did finish out of order
    assert.deepEqual(rs.map((r) => r.statusLine), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.deepEqual(rs.map((r) => r.body.toString()), ['body of /a', 'body of /b', 'body of /c']);
    assert.deepEqual(rs.map((r) => r.headers.connection), ['keep-alive', 'keep-alive', 'keep-alive']);
    assert.equal(await c.staysOpen(50), true);
  });
});

test('3 pipelined requests answered out of order with streamed (chunked) bodies stay in order', T, async () => {
  const delays = { '/a': 60, '/b': 20, '/c': 0 };
  const handler = (req, res) => {
    res.write(`${req.url}:1;`);
    setTimeout(() => {
      res.write(`${req.url}:2;`);
      res.end();
    }, delays[req.url]);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/a') + get('/b') + get('/c'));
    const rs = await c.waitForResponses(3);
    assert.deepEqual(rs.map((r) => r.headers['transfer-encoding']), ['chunked', 'chunked', 'chunked']);
    assert.deepEqual(rs.map((r) => r.body.toString()), ['/a:1;/a:2;', '/b:1;/b:2;', '/c:1;/c:2;']);
  });
});

test('20 pipelined requests in one write are all answered, in order', T, async () => {
  const handler = (req, res) => {
    const n = Number(req.url.slice(1));
    setTimeout(() => res.end(`#${n}`), (20 - n) % 7);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(getMany(20));
    const rs = await c.waitForResponses(20, 3000);
    assert.equal(rs.length, 20);
    for (let i = 0; i < 20; i++) {
      assert.equal(rs[i].status, 200);
      assert.equal(rs[i].body.toString(), `#${i}`);
    }
    assert.equal(h.calls, 20);
    assert.equal(await c.staysOpen(50), true);
  });
});

test('pipelined POST bodies (Content-Length and chunked) each reach the right request', T, async () => {
  const handler = async (req, res) => {
    const body = await readAll(req);
    await sleep(req.url === '/1' ? 30 : 0);
    res.end(`${req.method} ${req.url} [${body.toString()}]`);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    const chunked =
      'POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5\r\nworld\r\n3\r\n!!!\r\n0\r\n\r\n';
    await c.write(post('/1', 'hello') + chunked + post('/3', '') + post('/4', 'GET /x HTTP/1.1\r\n\r\n') + get('/5'));
    const rs = await c.waitForResponses(5);
    assert.deepEqual(rs.map((r) => r.body.toString()), [
      'POST /1 [hello]',
      'POST /2 [world!!!]',
      'POST /3 []',
      'POST /4 [GET /x HTTP/1.1\r\n\r\n]', // a body that looks like a request stays a body
      'GET /5 []',
    ]);
    assert.equal(h.calls, 5);
  });
});

test('pipelined bodies not read by their handlers are discarded and do not leak into the next request', T, async () => {
  const handler = (req, res) => res.end(`${req.url}`); // never reads the body
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(post('/1', 'GET /evil HTTP/1.1\r\nHost: a\r\n\r\n') + get('/2'));
    const rs = await c.waitForResponses(2);
    assert.deepEqual(rs.map((r) => r.body.toString()), ['/1', '/2']);
    await sleep(50);
    assert.deepEqual(h.requests.map((r) => r.url), ['/1', '/2']);
  });
});

test('garbage after a valid request: the first is answered 200, then 400 Bad Request with Connection: close', T, async () => {
  await withServer((req, res) => res.end('ok'), {}, async (h) => {
    const [rs] = await untilClose(h, get('/') + 'Invalid\r\n\r\n');
    assert.equal(rs.length, 2);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[0].body.toString(), 'ok');
    assert.equal(rs[1].statusLine, 'HTTP/1.1 400 Bad Request');
    assert.equal(rs[1].headers.connection, 'close');
    assert.equal(rs[1].body.length, 0);
    assert.equal(h.calls, 1);
  });
});

test('garbage after a slow valid request: the 400 waits for the first response', T, async () => {
  const handler = (req, res) => setTimeout(() => res.end('late'), 60);
  await withServer(handler, {}, async (h) => {
    const [rs] = await untilClose(h, get('/') + 'G(T / HTTP/1.1\r\n\r\n');
    assert.deepEqual(rs.map((r) => r.status), [200, 400]);
    assert.equal(rs[0].body.toString(), 'late');
  });
});

test('Connection: close in the middle of a pipeline: answered up to it, nothing after it dispatched', T, async () => {
  const handler = (req, res) => setTimeout(() => res.end(`r${req.url}`), req.url === '/1' ? 30 : 0);
  await withServer(handler, {}, async (h) => {
    const [rs] = await untilClose(h, get('/1') + get('/2', 'Connection: close\r\n') + get('/3') + get('/4'));
    assert.equal(rs.length, 2);
    assert.deepEqual(rs.map((r) => r.body.toString()), ['r/1', 'r/2']);
    assert.equal(rs[0].headers.connection, 'keep-alive');
    assert.equal(rs[1].headers.connection, 'close');
    await sleep(50);
    assert.deepEqual(h.requests.map((r) => r.url), ['/1', '/2']);
  });
});

test('an empty line between pipelined requests is ignored (RFC 9112 §2.2)', T, async () => {
  await withServer((req, res) => res.end(req.url), {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/1') + '\r\n' + get('/2'));
    const rs = await c.waitForResponses(2);
    assert.deepEqual(rs.map((r) => r.body.toString()), ['/1', '/2']);
  });
});

test('a pipeline split at every byte gives the same responses', T, async () => {
  await withServer((req, res) => res.end(req.url), {}, async (h) => {
    const c = await h.connect();
    const bytes = Buffer.from(get('/1') + post('/2', 'xy') + get('/3'));
    const pieces = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.subarray(i, i + 7));
    await c.send(pieces, 1);
    const rs = await c.waitForResponses(3);
    assert.deepEqual(rs.map((r) => r.body.toString()), ['/1', '/2', '/3']);
  });
});

test('100 pipelined requests with asynchronous handlers (beyond the dispatch depth) are all answered in order', { timeout: 8000 }, async () => {
  const handler = (req, res) => setTimeout(() => res.end(`#${req.url.slice(1)}`), 1);
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(getMany(100));
    const rs = await c.waitForResponses(100, 5000);
    assert.deepEqual(rs.map((r) => r.body.toString()), Array.from({ length: 100 }, (_, i) => `#${i}`));
    assert.equal(h.calls, 100);
  });
});

test('pipelined requests whose handlers never finish are not all dispatched at once (bounded depth)', T, async () => {
  const pending = [];
  const handler = (req, res) => pending.push(res);
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(getMany(200));
    await sleep(200);
    assert.ok(h.calls > 0 && h.calls < 200, `${h.calls} requests dispatched`);
    // Finishing them lets the rest through.
    const before = h.calls;
    for (const res of pending.splice(0)) res.end('x');
    await waitUntil(() => h.calls > before, 2000, 'more dispatches');
  });
});
