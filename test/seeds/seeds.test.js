// Runs every server-side example from the seed documents (examples/seeds/)
// unchanged, each in its own child process preloaded with port-shim.cjs, and
// checks over real sockets that it does what the seed says it does.
//
//   npm run build && node --test test/seeds/
//
// Today `keel` re-exports node:http, so these tests describe node:http's
// behaviour; they must keep passing once Keel's own engine replaces it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

import {
  EXAMPLES_DIR, connect, request, sleep, startExample, waitUntil, withExample,
} from './harness.js';

const T = { timeout: 15000 };
const count = (text, needle) => text.split(needle).length - 1;
const lines = (text) => text.split('\n');

// ---------------------------------------------------------------------------
// Seed 000_0488e465a6b49f79.txt: "Request-Response Pattern Under the Hood"
// ---------------------------------------------------------------------------

test('000-bare-create-server: createServer() without listen() does not keep the process alive', T, async () => {
  const ex = await startExample('000-bare-create-server.cjs', { listens: false });
  try {
    const { code, signal } = await ex.waitForExit(5000);
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.doesNotMatch(ex.stderr, /SEED_PORT=/);
  } catch (err) {
    throw ex.annotate(err);
  } finally {
    await ex.stop();
  }
});

test('000-request-timeline: logs method/url/headers, collects the body, answers processRequest(body) as JSON', T, async () => {
  await withExample('000-request-timeline.cjs', {}, async (ex) => {
    const res = await request(ex, '/timeline?x=1', { method: 'POST', body: 'hello keel' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { received: 'hello keel', length: 10 });
    assert.ok(lines(ex.stdout).includes('POST /timeline?x=1'));
    assert.match(ex.stdout, /host: '127\.0\.0\.1:\d+'/);

    // A chunked body sent in several TCP writes arrives as several 'data'
    // chunks and is reassembled before 'end'.
    const conn = await connect(ex.port);
    conn.write('POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    await sleep(50);
    conn.write('6\r\n world\r\n');
    await sleep(50);
    conn.write('0\r\n\r\n');
    const [r] = await conn.waitForResponses(1);
    conn.destroy();
    assert.equal(r.statusCode, 200);
    assert.deepEqual(JSON.parse(r.body), { received: 'hello world', length: 11 });
    assert.ok(lines(ex.stdout).includes('POST /chunked'));
  });
});

test('000-async-readfile: async handler awaits fs.promises.readFile and answers data.json', T, async () => {
  await withExample('000-async-readfile.cjs', {}, async (ex) => {
    const expected = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, 'data.json'), 'utf8'));
    const res = await request(ex, '/');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), expected);
    assert.match(ex.stdout, /Request received/);
  });
});

test('000-concurrent-requests: three requests overlap while each awaits the database', T, async () => {
  await withExample('000-concurrent-requests.cjs', {}, async (ex) => {
    const bodies = await Promise.all(['/request1', '/request2', '/request3'].map(async (p) => {
      const res = await request(ex, p);
      assert.equal(res.status, 200);
      return res.json();
    }));
    for (const body of bodies) assert.deepEqual(body, [{ id: 1, name: 'Alice' }, { id: 2, name: 'Bob' }]);
    const log = lines(ex.stdout).filter(Boolean);
    const starts = log.filter((l) => l.startsWith('Start: '));
    const ends = log.filter((l) => l.startsWith('End: '));
    assert.deepEqual(starts.map((l) => l.slice(7)).sort(), ['/request1', '/request2', '/request3']);
    assert.deepEqual(ends.map((l) => l.slice(5)).sort(), ['/request1', '/request2', '/request3']);
    const lastStart = Math.max(...starts.map((l) => log.indexOf(l)));
    const firstEnd = Math.min(...ends.map((l) => log.indexOf(l)));
    assert.ok(lastStart < firstEnd, `all requests should start before any ends:\n${log.join('\n')}`);
  });
});

test('000-blocking-fibonacci: /slow answers fibonacci(45) and blocks /fast until it is done', T, async () => {
  await withExample('000-blocking-fibonacci.cjs', {}, async (ex) => {
    const slow = request(ex, '/slow').then(async (res) => ({ status: res.status, body: await res.text() }));
    await ex.waitForStdout('fibonacci(45) started');
    // The server is now busy in a synchronous loop; /fast has to wait for it.
    const sent = performance.now();
    const fastRes = await request(ex, '/fast');
    const fastBody = await fastRes.text();
    const fastLatency = performance.now() - sent;
    assert.equal(fastRes.status, 200);
    assert.equal(fastBody, 'Hello');
    assert.deepEqual(await slow, { status: 200, body: '1134903170' });
    assert.ok(fastLatency >= 150, `/fast should have waited for /slow (took ${fastLatency.toFixed(0)} ms)`);
  });
});

test('000-worker-threads: /slow is computed in ./fibonacci-worker.js and answered from the worker message', T, async () => {
  await withExample('000-worker-threads.cjs', {}, async (ex) => {
    const res = await request(ex, '/slow');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '1134903170');
  });
});

test('000-response-buffering: three write()s then end() arrive as one body', T, async () => {
  await withExample('000-response-buffering.cjs', {}, async (ex) => {
    const res = await request(ex, '/');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Part 1Part 2Part 3');
  });
});

test('000-sse-flush: text/event-stream headers, a first event, then a data: <timestamp> event every second', T, async () => {
  await withExample('000-sse-flush.cjs', {}, async (ex) => {
    const controller = new AbortController();
    try {
      const res = await fetch(ex.url('/events'), { signal: controller.signal });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const deadline = Date.now() + 4000;
      while (!/^data: First event\n\ndata: \d{13}\n\n/.test(text)) {
        assert.ok(Date.now() < deadline, `expected two SSE events, got ${JSON.stringify(text)}`);
        const { value, done } = await reader.read();
        assert.ok(!done, `stream ended early: ${JSON.stringify(text)}`);
        text += decoder.decode(value, { stream: true });
      }
      const stamp = Number(/data: (\d{13})/.exec(text)[1]);
      assert.ok(Math.abs(stamp - Date.now()) < 10_000);
    } finally {
      controller.abort();
    }
  });
});

test('000-connection-close: answers after longOperation; a client that leaves cancels it via req close', T, async () => {
  await withExample('000-connection-close.cjs', {}, async (ex) => {
    const res = await request(ex, '/');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'operation result');
    assert.equal(count(ex.stdout, 'longOperation: completed'), 1);
    // req 'close' also fires once the exchange is over.
    await ex.waitForStdout('Client disconnected');

    // Now a client that hangs up before the operation finishes.
    const conn = await connect(ex.port);
    conn.write('GET /leaving HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => count(ex.stdout, 'longOperation: started') === 2, 5000, 'second request');
    conn.destroy();
    await ex.waitForStdout('longOperation: cancelled');
    await waitUntil(() => count(ex.stdout, 'Client disconnected') >= 2, 5000, 'second req close');
    await sleep(700); // longer than the 500 ms operation
    assert.equal(count(ex.stdout, 'longOperation: completed'), 1, 'cancelled operation must not complete');
    assert.equal(conn.buffer.length, 0);
  });
});

// ---------------------------------------------------------------------------
// Seed 001_04522a7d6c04775c.txt: "CHAPTER 8 — Networking Internals"
// ---------------------------------------------------------------------------

test('001-hello-world: write() + end() answers 200 "Hello world"', T, async () => {
  await withExample('001-hello-world.cjs', {}, async (ex) => {
    const res = await request(ex, '/');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Hello world');
  });
});

test('001-stream-file: createReadStream("bigfile.mp4").pipe(res) streams the whole file', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-seed-'));
  try {
    const bytes = randomBytes(384 * 1024);
    fs.writeFileSync(path.join(dir, 'bigfile.mp4'), bytes);
    await withExample('001-stream-file.cjs', { cwd: dir }, async (ex) => {
      const res = await request(ex, '/');
      assert.equal(res.status, 200);
      // No Content-Length is known up front, so the body is sent chunked.
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(body.length, bytes.length);
      assert.ok(body.equals(bytes), 'streamed bytes differ from the file');
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// Seed 002_7166d7bc8f0fc95a.txt: "HTTP Client–Server Communication in Node.js"
// ---------------------------------------------------------------------------

test('002-hello-server (ESM): logs method, url and body chunks; answers "Hello from HTTP Server"', T, async () => {
  await withExample('002-hello-server.mjs', {}, async (ex) => {
    await ex.waitForStdout('Server is listening on port 80');
    const res = await request(ex, '/', { method: 'POST', body: 'Hi i am client' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Hello from HTTP Server');
    await ex.waitForStdout('Hi i am client');
    const log = lines(ex.stdout);
    assert.ok(log.includes('got the request'));
    assert.ok(log.includes('POST'));
    assert.ok(log.includes('/'));
  });
});

// ---------------------------------------------------------------------------
// Seed 003_fe9f17a5a20ce7db.txt: "How does the HTTP module work in Node.js?"
// ---------------------------------------------------------------------------

test('003-quick-json: answers {"message":"Hello"} as application/json', T, async () => {
  await withExample('003-quick-json.cjs', {}, async (ex) => {
    const res = await request(ex, '/anything');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { message: 'Hello' });
    assert.match(ex.stdout, /Running on port 3000/);
  });
});

test('003-read-request: logs method, raw url, pathname and searchParams; answers "ok"', T, async () => {
  await withExample('003-read-request.cjs', {}, async (ex) => {
    const res = await request(ex, '/api/users?page=2');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok');
    const log = lines(ex.stdout);
    for (const expected of ['GET', '/api/users?page=2', '/api/users', '2']) {
      assert.ok(log.includes(expected), `missing log line ${expected}`);
    }
    assert.match(ex.stdout, /host: '127\.0\.0\.1:\d+'/);
  });
});

test('003-collect-post-body: POST /api/users answers 201 {"created": body}', T, async () => {
  await withExample('003-collect-post-body.cjs', {}, async (ex) => {
    const res = await request(ex, '/api/users', { method: 'POST', body: JSON.stringify({ name: 'Carol' }) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { created: { name: 'Carol' } });
  });
});

test('003-mistake-missing-end: writeHead() without end() never answers and keeps the connection open', T, async () => {
  await withExample('003-mistake-missing-end.cjs', {}, async (ex) => {
    const conn = await connect(ex.port);
    conn.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(500);
    // node:http only records writeHead()'s headers; nothing is sent before
    // the first write()/end().
    assert.equal(conn.text, '');
    assert.equal(conn.closed, false);
    assert.equal(ex.exitInfo, null);
    conn.destroy();
  });
});

test('003-mistake-headers-after-body: writeHead() after write() throws ERR_HTTP_HEADERS_SENT and crashes', T, async () => {
  await withExample('003-mistake-headers-after-body.cjs', {}, async (ex) => {
    const conn = await connect(ex.port);
    conn.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { code } = await ex.waitForExit(5000);
    assert.notEqual(code, 0);
    assert.match(ex.stderr, /ERR_HTTP_HEADERS_SENT/);
    assert.match(ex.stderr, /Cannot (set|write) headers after they are sent/);
    conn.destroy();
  });
});

test('003-json-api: GET /api/users lists users; anything else is a JSON 404', T, async () => {
  await withExample('003-json-api.cjs', {}, async (ex) => {
    let res = await request(ex, '/api/users');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), [{ id: 1, name: 'Alice' }, { id: 2, name: 'Bob' }]);

    for (const [method, p] of [['GET', '/nope'], ['POST', '/api/users'], ['GET', '/api/users?x=1']]) {
      res = await request(ex, p, { method });
      assert.equal(res.status, 404, `${method} ${p}`);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), { error: 'Not found' });
    }
  });
});

test('003-create-user: 201 with id, 400 on bad JSON, 404 otherwise, connection dropped past 100 KB', T, async () => {
  await withExample('003-create-user.cjs', {}, async (ex) => {
    let res = await request(ex, '/api/users', { method: 'POST', body: JSON.stringify({ name: 'Dave', role: 'admin' }) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const created = await res.json();
    assert.equal(typeof created.id, 'number');
    assert.equal(created.name, 'Dave');
    assert.equal(created.role, 'admin');

    res = await request(ex, '/api/users', { method: 'POST', body: '{not json' });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'Invalid JSON' });

    res = await request(ex, '/api/users');
    assert.equal(res.status, 404);
    assert.equal(await res.text(), '');

    // Oversized body: req.destroy() tears the connection down, no response.
    const conn = await connect(ex.port);
    const size = 200_000;
    conn.write(`POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
    conn.write('a'.repeat(size));
    await conn.waitForClose(5000);
    assert.doesNotMatch(conn.text, /^HTTP\/1\.1/);

    // The server is still fine afterwards.
    res = await request(ex, '/api/users', { method: 'POST', body: '{"name":"Eve"}' });
    assert.equal(res.status, 201);
    assert.equal((await res.json()).name, 'Eve');
  });
});

test('003-proxy: pipes method, path, headers and body to internal-service:8080 and streams the answer back; 502 when it is down', T, async () => {
  const seen = [];
  const upstream = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const info = {
        method: req.method,
        url: req.url,
        xTest: req.headers['x-test'] ?? null,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(info);
      res.writeHead(201, { 'Content-Type': 'application/json', 'X-Upstream': 'yes' });
      res.end(JSON.stringify(info));
    });
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = upstream.address().port;
  try {
    await withExample('003-proxy.cjs', {
      // The example hardcodes internal-service:8080; the shim redirects that
      // host:port to the upstream above (see port-shim.cjs).
      env: { SEED_HOST_MAP: `internal-service:8080=127.0.0.1:${upstreamPort}` },
    }, async (ex) => {
      let res = await request(ex, '/things?a=1', { method: 'POST', body: 'payload', headers: { 'X-Test': '1' } });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('x-upstream'), 'yes');
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), { method: 'POST', url: '/things?a=1', xTest: '1', body: 'payload' });

      res = await request(ex, '/plain');
      assert.equal(res.status, 201);
      assert.deepEqual(await res.json(), { method: 'GET', url: '/plain', xTest: null, body: '' });
      assert.equal(seen.length, 2);

      // Upstream gone: the proxy's 'error' listener answers 502.
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
      res = await request(ex, '/down');
      assert.equal(res.status, 502);
      assert.equal(await res.text(), 'Bad gateway');
    });
  } finally {
    upstream.closeAllConnections();
    upstream.close();
  }
});

// ---------------------------------------------------------------------------
// Seed 004_887b8c147026eacd.txt: "HTTP Server Fundamentals"
// ---------------------------------------------------------------------------

test('004-basic-server: 200 text/plain "Hello World" and the listen() callback runs', T, async () => {
  await withExample('004-basic-server.cjs', {}, async (ex) => {
    const res = await request(ex, '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'Hello World');
    assert.match(ex.stdout, /Server running at http:\/\/localhost:3000\//);
  });
});

test('004-request-object: logs method, url, headers, httpVersion and the streamed body', T, async () => {
  await withExample('004-request-object.cjs', {}, async (ex) => {
    const conn = await connect(ex.port);
    conn.write('POST /path?query=string HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nname=');
    await sleep(50);
    conn.write('keel');
    await ex.waitForStdout('Body: name=keel');
    const log = lines(ex.stdout);
    assert.ok(log.includes('POST'));
    assert.ok(log.includes('/path?query=string'));
    assert.ok(log.includes('1.1'));
    assert.match(ex.stdout, /'content-type': 'text\/plain'/);
    // The seed's handler never answers.
    assert.equal(conn.text, '');
    conn.destroy();
  });
});

test('004-parse-url: logs pathname, search and searchParams.get("id")', T, async () => {
  await withExample('004-parse-url.cjs', {}, async (ex) => {
    const conn = await connect(ex.port);
    conn.write('GET /users?id=123 HTTP/1.1\r\nHost: localhost:3000\r\n\r\n');
    await ex.waitForStdout(/^123$/m);
    assert.deepEqual(lines(ex.stdout).filter(Boolean), ['/users', '?id=123', '123']);
    conn.destroy();
  });
});

test('004-response-object: setHeader + writeHead + write + end; the second end() crashes with write after end', T, async () => {
  await withExample('004-response-object.cjs', {}, async (ex) => {
    const conn = await connect(ex.port);
    conn.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { code } = await ex.waitForExit(5000);
    await sleep(50);
    const [res] = conn.responses;
    assert.ok(res, `expected a complete response before the crash, got ${JSON.stringify(conn.text)}`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['x-custom-header'], 'value');
    assert.equal(res.body, '{"message": "Hello"}');
    assert.notEqual(code, 0);
    assert.match(ex.stderr, /ERR_STREAM_WRITE_AFTER_END/);
    conn.destroy();
  });
});

test('004-routing: GET / streams index.html, /api/users JSON, POST creates, else 404', T, async () => {
  await withExample('004-routing.cjs', {}, async (ex) => {
    let res = await request(ex, '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html');
    assert.equal(await res.text(), fs.readFileSync(path.join(EXAMPLES_DIR, 'index.html'), 'utf8'));

    res = await request(ex, '/api/users');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), [{ id: 1, name: 'Alice' }]);

    res = await request(ex, '/api/users', { method: 'POST', body: JSON.stringify({ name: 'Carol' }) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { id: 2, name: 'Carol' });

    res = await request(ex, '/missing');
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'Not Found');
  });
});

test('004-static-files: serves public/ with MIME types; 404, 405 and 403 on traversal', T, async () => {
  await withExample('004-static-files.cjs', {}, async (ex) => {
    const pub = path.join(EXAMPLES_DIR, 'public');
    for (const [file, type] of [['index.html', 'text/html'], ['style.css', 'text/css'], ['notes.txt', 'application/octet-stream']]) {
      const res = await request(ex, `/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get('content-type'), type, file);
      assert.equal(await res.text(), fs.readFileSync(path.join(pub, file), 'utf8'), file);
    }

    let res = await request(ex, '/missing.html');
    assert.equal(res.status, 404);
    assert.equal(await res.text(), 'Not Found');

    res = await request(ex, '/index.html', { method: 'POST', body: 'x' });
    assert.equal(res.status, 405);
    assert.equal(await res.text(), 'Method Not Allowed');

    // fetch() would normalize "..", so send the raw request line.
    const conn = await connect(ex.port);
    conn.write('GET /../package.json HTTP/1.1\r\nHost: x\r\n\r\n');
    const [r] = await conn.waitForResponses(1);
    conn.destroy();
    assert.equal(r.statusCode, 403);
    assert.equal(r.body, 'Forbidden');
  });
});

test('004-parse-body: parses JSON, urlencoded and text bodies by Content-Type; 400 on bad JSON', T, async () => {
  await withExample('004-parse-body.cjs', {}, async (ex) => {
    const post = async (body, contentType) => {
      const res = await request(ex, '/submit', { method: 'POST', body, headers: { 'Content-Type': contentType } });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    let r = await post(JSON.stringify({ a: 1, b: [true] }), 'application/json');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.deepEqual(JSON.parse(r.text), { received: { a: 1, b: [true] } });

    r = await post('a=1&b=two+words', 'application/x-www-form-urlencoded');
    assert.deepEqual(JSON.parse(r.text), { received: { a: '1', b: 'two words' } });

    r = await post('just text', 'text/plain');
    assert.deepEqual(JSON.parse(r.text), { received: 'just text' });

    r = await post('{broken', 'application/json');
    assert.equal(r.status, 400);
    assert.equal(r.text, 'Bad Request');
  });
});

test('004-keep-alive: two requests reuse one TCP connection; Keep-Alive: timeout=5; close is observed', T, async () => {
  await withExample('004-keep-alive.cjs', {}, async (ex) => {
    const conn = await connect(ex.port);
    conn.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
    await conn.waitForResponses(1);
    conn.write('GET /two HTTP/1.1\r\nHost: x\r\n\r\n');
    const responses = await conn.waitForResponses(2);
    assert.equal(conn.closed, false);
    for (const r of responses) {
      assert.equal(r.statusCode, 200);
      assert.equal(r.body, 'Hello');
      assert.equal(r.headers.connection, 'keep-alive');
      assert.equal(r.headers['keep-alive'], 'timeout=5');
    }
    assert.equal(count(ex.stdout, 'New TCP connection'), 1);
    assert.equal(count(ex.stdout, 'Connection closed'), 0);
    conn.socket.end();
    await ex.waitForStdout('Connection closed');
    assert.equal(count(ex.stdout, 'New TCP connection'), 1);
  });
});

test('004-error-handling: handler errors become 500; garbage gets the raw 400 from clientError', T, async () => {
  await withExample('004-error-handling.cjs', {}, async (ex) => {
    let res = await request(ex, '/ok');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'handled /ok');

    res = await request(ex, '/boom');
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'Internal Server Error');
    await ex.waitForStderr('Request error: Error: boom');

    const conn = await connect(ex.port);
    conn.write('THIS IS NOT HTTP\r\n\r\n');
    await conn.waitForClose(5000);
    assert.equal(conn.text, 'HTTP/1.1 400 Bad Request\r\n\r\n');
    assert.equal(ex.exitInfo, null, 'server must survive a client error');

    res = await request(ex, '/still-up');
    assert.equal(await res.text(), 'handled /still-up');
  });
});

test('004-server-events: request/connection events fire; an Upgrade request goes to the upgrade listener', T, async () => {
  await withExample('004-server-events.cjs', {
    // port-shim.cjs reports these events on stderr as SEED_EVENT lines.
    env: { SEED_TRACE_EVENTS: 'request,connection,upgrade' },
  }, async (ex) => {
    const res = await request(ex, '/');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello');
    assert.match(ex.stdout, /handler: GET \//);
    assert.match(ex.stderr, /SEED_EVENT connection/);
    assert.match(ex.stderr, /SEED_EVENT request GET \//);

    const conn = await connect(ex.port);
    conn.write('GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await ex.waitForStderr('SEED_EVENT upgrade GET /chat');
    await sleep(300);
    // The (empty) upgrade listener owns the socket now: the request handler
    // did not run, nothing was written and the socket was left open.
    assert.doesNotMatch(ex.stdout, /handler: GET \/chat/);
    assert.doesNotMatch(ex.stderr, /SEED_EVENT request GET \/chat/);
    assert.equal(conn.text, '');
    assert.equal(conn.closed, false);
    conn.destroy();
  });
});

test('004-graceful-shutdown: SIGTERM closes the server, drops keep-alive sockets, exits 0', T, async () => {
  await withExample('004-graceful-shutdown.cjs', {}, async (ex) => {
    const conn = await connect(ex.port);
    conn.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const [r] = await conn.waitForResponses(1);
    assert.equal(r.body, 'hello');
    assert.equal(conn.closed, false);

    ex.child.kill('SIGTERM');
    const { code, signal } = await ex.waitForExit(5000);
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.match(ex.stdout, /Shutting down\.\.\./);
    assert.match(ex.stdout, /Server closed/);
    assert.doesNotMatch(ex.stdout, /Forcing exit/);
    await conn.waitForClose(2000);
  });
});
