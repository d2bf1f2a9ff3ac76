// Pipelining in keel/client (RFC 9112 §9.3.2): several requests written on one connection before
// the first response, responses matched to requests in order, nothing pipelined behind a
// non-idempotent request, framing kept through HEAD / 204 / 304 responses, and the requests left
// unanswered when the server closes retried on a new connection. The server is a raw net server
// that parses requests itself and records, per connection, every read and when each request
// arrived relative to the responses it had written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Pool } from 'keel/client';
import { listen, sleep } from './promise-support.js';

const T = { timeout: 5000 };

/** Parse complete requests (Content-Length or chunked bodies) off the front of `buf`. */
function parseRequests(buf) {
  const requests = [];
  let offset = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', offset, 'latin1');
    if (end === -1) break;
    const head = buf.subarray(offset, end).toString('latin1');
    const [line, ...fields] = head.split('\r\n');
    const [method, path] = line.split(' ');
    const headers = {};
    for (const f of fields) {
      const i = f.indexOf(':');
      headers[f.slice(0, i).trim().toLowerCase()] = f.slice(i + 1).trim();
    }
    let pos = end + 4;
    let body;
    if (headers['transfer-encoding'] === 'chunked') {
      const parts = [];
      let complete = false;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', pos, 'latin1');
        if (lineEnd === -1) break;
        const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
        if (buf.length < lineEnd + 2 + size + 2) break;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        pos = lineEnd + 2 + size + 2;
        if (size === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (buf.length < pos + length) break;
      body = buf.subarray(pos, pos + length);
      pos += length;
    }
    requests.push({ method, path, headers, body: body.toString('latin1') });
    offset = pos;
  }
  return { requests, rest: buf.subarray(offset) };
}

function response(path, { status = 200, extra = '', body = `you asked for ${path}`, chunked = false } = {}) {
  if (chunked) {
    const half = Math.ceil(body.length / 2);
    return `HTTP/1.1 ${status} OK\r\n${extra}Transfer-Encoding: chunked\r\n\r\n` +
      `${half.toString(16)}\r\n${body.slice(0, half)}\r\n${(body.length - half).toString(16)}\r\n${body.slice(half)}\r\n0\r\n\r\n`;
  }
  return `HTTP/1.1 ${status} OK\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * A raw server that answers in order. Per connection it keeps { index, reads, requests, written,
 * events }: each request gets `answeredBefore` (responses written on the connection when it
 * arrived) and `read` (the index of the read it completed in).
 * - `batch(conn)`: answer once the connection has this many unanswered requests (or after
 *   `batchWaitMs`), all responses in one write. Default: answer each request at once.
 * - `delayMs`: wait before each answer.
 * - `respond(req, conn, i)` → the response text; `closeAfter(req, conn, i)` → true to end the
 *   connection after this response (anything unanswered is dropped).
 */
async function pipelineServer({ batch = () => 1, batchWaitMs = 500, delayMs = 0, respond = (req) => response(req.path), closeAfter = () => false } = {}) {
  const conns = [];
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const conn = { index: conns.length, socket, reads: [], requests: [], written: 0, events: [], ended: false };
    conns.push(conn);
    let buf = Buffer.alloc(0);
    let queue = [];
    let busy = false;
    let batchTimer = null;

    const flush = async () => {
      if (busy || conn.ended) return;
      busy = true;
      try {
        while (queue.length > 0 && !conn.ended) {
          const want = batch(conn);
          if (queue.length < want && batchTimer !== 'expired') {
            batchTimer ??= setTimeout(() => {
              batchTimer = 'expired';
              flush();
            }, batchWaitMs);
            return;
          }
          const take = queue.splice(0, Math.max(want, 1));
          if (delayMs > 0) await sleep(delayMs);
          let out = '';
          let end = false;
          for (const req of take) {
            const i = conn.requests.indexOf(req);
            out += respond(req, conn, i);
            conn.events.push(`respond ${req.method} ${req.path}`);
            conn.written++;
            if (closeAfter(req, conn, i)) {
              end = true;
              break;
            }
          }
          socket.write(out);
          if (end) {
            conn.ended = true;
            socket.end();
            return;
          }
        }
      } finally {
        busy = false;
      }
    };

    socket.on('data', (chunk) => {
      conn.reads.push(chunk);
      buf = Buffer.concat([buf, chunk]);
      const { requests, rest } = parseRequests(buf);
      buf = rest;
      for (const req of requests) {
        req.answeredBefore = conn.written;
        req.read = conn.reads.length - 1;
        conn.requests.push(req);
        conn.events.push(`receive ${req.method} ${req.path}`);
        queue.push(req);
      }
      flush();
    });
  });
  const origin = await listen(server);
  return {
    origin,
    conns,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function getText(pool, opts) {
  const res = await pool.request(opts);
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

test('10 concurrent GETs with pipelining: 10 → all written on one connection before the first response, each answer to its request', T, async () => {
  const srv = await pipelineServer({ batch: () => 10 });
  const pool = new Pool(srv.origin, { connections: 1, pipelining: 10 });
  try {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => getText(pool, { path: `/p${i}` })));
    assert.deepEqual(results.map((r) => r.body), Array.from({ length: 10 }, (_, i) => `you asked for /p${i}`));
    assert.equal(srv.conns.length, 1);
    const conn = srv.conns[0];
    assert.equal(conn.requests.length, 10);
    assert.deepEqual(conn.requests.map((r) => r.answeredBefore), Array(10).fill(0), 'every request arrived before any response');
    const perRead = conn.reads.map((r) => (r.toString('latin1').match(/ HTTP\/1\.1\r\n/g) ?? []).length);
    assert.ok(Math.max(...perRead) >= 2, `requests per read: ${perRead}`);
  } finally {
    await pool.destroy();
    await srv.close();
  }
});

test('pipelined responses of mixed framing (Content-Length, chunked, empty) and sizes stay matched', T, async () => {
  const sizes = [0, 1, 70_000, 5, 300, 0, 16_384, 2, 1_000_000, 9];
  const bodyOf = (i) => `#${i}:${'x'.repeat(sizes[i])}`;
  const srv = await pipelineServer({
    batch: () => 10,
    respond: (req) => {
      const i = Number(req.path.slice(2));
      return response(req.path, { body: bodyOf(i), chunked: i % 2 === 1 });
    },
  });
  const pool = new Pool(srv.origin, { connections: 1, pipelining: 10 });
  try {
    const results = await Promise.all(sizes.map((_, i) => getText(pool, { path: `/m${i}` })));
    results.forEach((r, i) => {
      assert.equal(r.body.length, bodyOf(i).length, `#${i} length`);
      assert.equal(r.body, bodyOf(i), `#${i}`);
      assert.equal(r.headers['transfer-encoding'], i % 2 === 1 ? 'chunked' : undefined);
    });
    assert.equal(srv.conns.length, 1);
  } finally {
    await pool.destroy();
    await srv.close();
  }
});

test('pipelining: 3 never has more than 3 requests outstanding on the connection', T, async () => {
  const srv = await pipelineServer({ delayMs: 10 });
  const pool = new Pool(srv.origin, { connections: 1, pipelining: 3 });
  try {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => getText(pool, { path: `/d${i}` })));
    assert.deepEqual(results.map((r) => r.body), Array.from({ length: 12 }, (_, i) => `you asked for /d${i}`));
    assert.equal(srv.conns.length, 1);
    const conn = srv.conns[0];
    conn.requests.forEach((req, i) => {
      const outstanding = i - req.answeredBefore + 1; // itself and the unanswered ones before it
      assert.ok(outstanding <= 3, `request #${i} arrived with ${outstanding} outstanding`);
    });
    assert.ok(conn.requests.some((req, i) => i - req.answeredBefore + 1 >= 2), 'it did pipeline');
  } finally {
    await pool.destroy();
    await srv.close();
  }
});

test('a POST is never pipelined: it arrives after every earlier response, and nothing arrives behind it before its response', T, async () => {
  const srv = await pipelineServer({ delayMs: 20 });
  const pool = new Pool(srv.origin, { connections: 1, pipelining: 10 });
  try {
    const order = [
      { path: '/g1' },
      { path: '/g2' },
      { method: 'POST', path: '/post', body: 'payload' },
      { path: '/g3' },
      { path: '/g4' },
      { method: 'PUT', path: '/put', body: 'idempotent' },
      { path: '/g5' },
    ];
    const results = await Promise.all(order.map((opts) => getText(pool, opts)));
    assert.deepEqual(results.map((r) => r.body), order.map((o) => `you asked for ${o.path}`));
    assert.equal(srv.conns.length, 1);
    const conn = srv.conns[0];
    const post = conn.requests.findIndex((r) => r.method === 'POST');
    assert.notEqual(post, -1);
    assert.equal(conn.requests[post].body, 'payload');
    assert.equal(conn.requests[post].answeredBefore, post, 'every request before the POST was answered when it arrived');
    const events = conn.events;
    const received = events.indexOf('receive POST /post');
    const answered = events.indexOf('respond POST /post');
    assert.deepEqual(events.slice(received + 1, answered), [], `nothing pipelined behind the POST: ${events.join(', ')}`);
    // ...and requests were pipelined elsewhere in the run
    assert.ok(conn.requests.some((req, i) => req.answeredBefore < i), `no pipelining at all: ${events.join(', ')}`);
  } finally {
    await pool.destroy();
    await srv.close();
  }
});

test('a HEAD, a 204 and a 304 in the middle of a pipeline (Content-Length, no body) keep the framing', T, async () => {
  const srv = await pipelineServer({
    batch: () => 7,
    respond: (req) => {
      if (req.method === 'HEAD') return 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n\r\n';
      if (req.path === '/nocontent') return 'HTTP/1.1 204 No Content\r\nX-Empty: 1\r\n\r\n';
      if (req.path === '/notmodified') return 'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: "x"\r\n\r\n';
      return response(req.path);
    },
  });
  const pool = new Pool(srv.origin, { connections: 1, pipelining: 10 });
  try {
    const order = [
      { path: '/a' },
      { method: 'HEAD', path: '/head' },
      { path: '/b' },
      { path: '/nocontent' },
      { path: '/c' },
      { path: '/notmodified', headers: { 'if-none-match': '"x"' } },
      { path: '/d' },
    ];
    const results = await Promise.all(order.map((opts) => getText(pool, opts)));
    assert.equal(srv.conns.length, 1);
    assert.deepEqual(srv.conns[0].requests.map((r) => r.answeredBefore), Array(7).fill(0), 'all seven pipelined');
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 204, 200, 304, 200]);
    assert.equal(results[1].headers['content-length'], '1234');
    assert.deepEqual(results.map((r) => r.body), ['you asked for /a', '', 'you asked for /b', '', 'you asked for /c', '', 'you asked for /d']);
    // and the connection is still in step afterwards
    assert.equal((await getText(pool, { path: '/after' })).body, 'you asked for /after');
    assert.equal(srv.conns.length, 1);
  } finally {
    await pool.destroy();
    await srv.close();
  }
});

test('the server closes after the 3rd response (Connection: close): the other 7 GETs are retried on a new connection, all 10 succeed', T, async () => {
  const srv = await pipelineServer({
    batch: (conn) => (conn.index === 0 ? 10 : 1),
    respond: (req, conn, i) => response(req.path, { extra: conn.index === 0 && i === 2 ? 'Connection: close\r\n' : '', body: `conn ${conn.index} answers ${req.path}` }),
    closeAfter: (req, conn, i) => conn.index === 0 && i === 2,
  });
  const pool = new Pool(srv.origin, { connections: 1, pipelining: 10 });
  try {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => getText(pool, { path: `/r${i}` })));
    assert.ok(results.every((r) => r.status === 200));
    assert.deepEqual(results.map((r) => r.body.replace(/^conn \d answers /, '')), Array.from({ length: 10 }, (_, i) => `/r${i}`));
    assert.deepEqual(results.slice(0, 3).map((r) => r.body), ['conn 0 answers /r0', 'conn 0 answers /r1', 'conn 0 answers /r2']);
    assert.ok(results.slice(3).every((r) => r.body.startsWith('conn 1 ')), results.map((r) => r.body).join(', '));
    assert.equal(srv.conns.length, 2);
    assert.equal(srv.conns[0].requests.length, 10, 'all ten were pipelined on the first connection');
    assert.deepEqual(srv.conns[1].requests.map((r) => r.path), Array.from({ length: 7 }, (_, i) => `/r${i + 3}`));
  } finally {
    await pool.destroy();
    await srv.close();
  }
});

test('the server drops the connection after the 3rd response (no Connection: close): the unanswered GETs are retried', T, async () => {
  const srv = await pipelineServer({
    batch: (conn) => (conn.index === 0 ? 10 : 1),
    respond: (req, conn) => response(req.path, { body: `conn ${conn.index} answers ${req.path}` }),
    closeAfter: (req, conn, i) => conn.index === 0 && i === 2,
  });
  const pool = new Pool(srv.origin, { connections: 1, pipelining: 10 });
  try {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => getText(pool, { path: `/s${i}` })));
    assert.deepEqual(results.map((r) => r.body.replace(/^conn \d answers /, '')), Array.from({ length: 10 }, (_, i) => `/s${i}`));
    assert.equal(srv.conns.length, 2);
    assert.equal(srv.conns[1].requests.length, 7);
  } finally {
    await pool.destroy();
    await srv.close();
  }
});

test('two connections with pipelining: 5 → 20 concurrent GETs spread over both, all answered', T, async () => {
  const srv = await pipelineServer({ delayMs: 5 });
  const pool = new Pool(srv.origin, { connections: 2, pipelining: 5 });
  try {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => getText(pool, { path: `/t${i}` })));
    assert.deepEqual(results.map((r) => r.body), Array.from({ length: 20 }, (_, i) => `you asked for /t${i}`));
    assert.ok(srv.conns.length <= 2, `${srv.conns.length} connections`);
    for (const conn of srv.conns) {
      conn.requests.forEach((req, i) => assert.ok(i - req.answeredBefore + 1 <= 5, `conn ${conn.index} #${i}`));
    }
  } finally {
    await pool.destroy();
    await srv.close();
  }
});

// Regression test (bug fixed in the engine): a POST that cannot be pipelined waits in the pool's queue until its connection is
// completely idle (ConnectionPool#connectionIdle), while later GETs keep being pipelined onto the
// connection (canTake): they overtake it, and a steady stream of GETs starves it indefinitely.
// (undici keeps requests in order: a non-idempotent request blocks the ones behind it.)
test('a queued POST is not starved by a steady stream of pipelined GETs issued after it', { ...T }, async () => {
  const srv = await pipelineServer({ delayMs: 5 });
  const pool = new Pool(srv.origin, { connections: 1, pipelining: 4 });
  try {
    let stop = false;
    const workers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) await getText(pool, { path: `/w${w}-${i}` });
    });
    await sleep(50);
    const started = Date.now();
    let postDoneAfter = -1;
    const post = getText(pool, { method: 'POST', path: '/post', body: 'x' }).then((r) => {
      postDoneAfter = Date.now() - started;
      return r;
    });
    await sleep(600);
    stop = true;
    await Promise.all(workers);
    assert.equal((await post).body, 'you asked for /post');
    assert.ok(postDoneAfter >= 0 && postDoneAfter < 300, `the POST completed ${postDoneAfter} ms after it was issued (GETs ran for 600 ms)`);
  } finally {
    await pool.destroy();
    await srv.close();
  }
});
