// keel/client's promise API (Pool, Client, request) against a Keel server and a node:http server
// started here, and against raw net servers for what neither would send (close-delimited bodies,
// stalls, broken responses). Only 127.0.0.1.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import nodeHttp from 'node:http';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import keelHttp from 'keel';
import { Client, Pool, request } from 'keel/client';
import { closedPort, listen, rawServer, readAll, rejection, shut, sleep, waitUntil } from './promise-support.js';

const T = { timeout: 10_000 };

// ---------------------------------------------------------------------------------------------
// The test server (the same handler on Keel and on node:http)

const BIG_TEXT = Array.from({ length: 4000 }, (_, i) => `line ${i} of the compressible text\n`).join('');
const ENCODED = {
  gzip: zlib.gzipSync(BIG_TEXT),
  deflate: zlib.deflateSync(BIG_TEXT),
  br: zlib.brotliCompressSync(BIG_TEXT),
};

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function makeHandler(state) {
  return async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const body = await readAll(req);
    state.requests.push({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body });
    state.active++;
    state.maxActive = Math.max(state.maxActive, state.active);
    res.on('close', () => state.active--);
    const path = url.pathname;
    if (path === '/echo') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        length: body.length,
        sha256: sha256(body),
        text: body.length <= 4096 ? body.toString('utf8') : null,
      }));
    } else if (path === '/slow') {
      await sleep(Number(url.searchParams.get('ms') ?? 50));
      res.end(`slow ${url.searchParams.get('id') ?? ''}`);
    } else if (path === '/head-target') {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', '11');
      res.end(req.method === 'HEAD' ? undefined : 'hello world');
    } else if (path === '/204') {
      res.writeHead(204, { 'x-empty': 'yes' });
      res.end();
    } else if (path === '/json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ hello: 'world', list: [1, 2, 3], nested: { ok: true } }));
    } else if (path === '/bytes') {
      res.end(Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]));
    } else if (path === '/multi') {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('X-Multi', ['one', 'two']);
      res.setHeader('X-Case', 'MiXeD');
      res.end('multi');
    } else if (path === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('part one, ');
      await sleep(5);
      res.addTrailers({ 'x-checksum': 'abc123' });
      res.end('part two');
    } else if (path.startsWith('/enc/')) {
      const encoding = path.slice(5);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': encoding, 'content-length': ENCODED[encoding].length });
      res.end(ENCODED[encoding]);
    } else if (path === '/stall-head') {
      // never answers (until the server is shut)
    } else if (path === '/partial') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('first part;');
      // ...and the other 89 bytes never come
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  };
}

async function startServer(mod) {
  const state = { requests: [], connections: 0, active: 0, maxActive: 0 };
  const server = mod.createServer(makeHandler(state));
  server.on('connection', () => state.connections++);
  const origin = await listen(server);
  return { server, state, origin };
}

// ---------------------------------------------------------------------------------------------
// The same tests against both servers

for (const [name, mod] of [['Keel', keelHttp], ['node:http', nodeHttp]]) {
  describe(`promise API against a ${name} server`, () => {
    let srv;
    let pool;
    before(async () => {
      srv = await startServer(mod);
      pool = new Pool(srv.origin);
    });
    after(async () => {
      await pool.destroy();
      await shut(srv.server);
    });

    test('headers behave as a plain property: spread, JSON, keys, assignment', T, async () => {
      const res = await pool.request({ path: '/head-target' });
      const copy = { ...res };
      assert.equal(copy.headers['content-type'], 'text/plain');
      assert.ok(Object.keys(res).includes('headers'));
      assert.equal(JSON.parse(JSON.stringify({ h: res.headers })).h['content-length'], '11');
      assert.equal(res.headers, res.headers, 'the same object on every access');
      res.headers = { replaced: 'yes' };
      assert.deepEqual(res.headers, { replaced: 'yes' });
      assert.equal(await res.body.text(), 'hello world');
    });

    test('body.text() of a body that already arrived whole; then end and close follow; a second read is empty', T, async () => {
      const res = await pool.request({ path: '/head-target' });
      await sleep(20); // the whole body is buffered by now
      const ended = new Promise((resolve) => res.body.once('end', resolve));
      const closed = new Promise((resolve) => res.body.once('close', resolve));
      assert.equal(await res.body.text(), 'hello world');
      await ended;
      await closed;
      assert.equal(await res.body.text(), '');
      // The connection went back to the pool: the next request is served.
      const again = await pool.request({ path: '/head-target' });
      assert.equal(await again.body.text(), 'hello world');
    });

    test('GET: status, message, headers, rawHeaders, Host and Connection sent', T, async () => {
      const res = await pool.request({ path: '/echo?x=1' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.statusMessage, 'OK');
      assert.equal(res.headers['content-type'], 'application/json');
      assert.ok(Array.isArray(res.rawHeaders) && res.rawHeaders.length % 2 === 0);
      assert.ok(res.rawHeaders.some((h) => h.toLowerCase() === 'content-type'));
      assert.deepEqual(res.trailers, {});
      const seen = await res.body.json();
      assert.equal(seen.method, 'GET');
      assert.equal(seen.url, '/echo?x=1');
      assert.equal(seen.headers.host, new URL(srv.origin).host);
      assert.equal(seen.headers.connection, 'keep-alive');
      assert.equal(seen.headers['content-length'], undefined);
      assert.equal(seen.headers['transfer-encoding'], undefined);
      assert.equal(seen.length, 0);
    });

    for (const [kind, make] of [
      ['string', () => 'héllo wörld'],
      ['Buffer', () => Buffer.from('héllo wörld')],
      ['Uint8Array', () => new Uint8Array(Buffer.from('héllo wörld'))],
      ['Uint8Array view into a larger buffer', () => new Uint8Array(Buffer.from('XXXhéllo wörldYYY').buffer, Buffer.from('XXXhéllo wörldYYY').byteOffset + 3, Buffer.byteLength('héllo wörld'))],
    ]) {
      test(`POST with a ${kind} body: sent with Content-Length, intact`, T, async () => {
        const body = make();
        const res = await pool.request({ method: 'POST', path: '/echo', body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
        const seen = await res.body.json();
        assert.equal(seen.method, 'POST');
        assert.equal(seen.text, 'héllo wörld');
        assert.equal(seen.headers['content-length'], String(Buffer.byteLength('héllo wörld')));
        assert.equal(seen.headers['transfer-encoding'], undefined);
        assert.equal(seen.headers['content-type'], 'text/plain; charset=utf-8');
      });
    }

    test('POST with an empty string body: Content-Length: 0', T, async () => {
      const seen = await (await pool.request({ method: 'POST', path: '/echo', body: '' })).body.json();
      assert.equal(seen.headers['content-length'], '0');
      assert.equal(seen.length, 0);
    });

    test('POST with a Readable body: chunked, intact', T, async () => {
      const parts = ['alpha;', 'beta;', Buffer.from('gamma;'), 'délta'];
      const res = await pool.request({ method: 'POST', path: '/echo', body: Readable.from(parts) });
      const seen = await res.body.json();
      assert.equal(seen.headers['transfer-encoding'], 'chunked');
      assert.equal(seen.headers['content-length'], undefined);
      assert.equal(seen.text, 'alpha;beta;gamma;délta');
    });

    test('PUT with an async generator body (with empty and string pieces): chunked, intact', T, async () => {
      async function* gen() {
        yield 'one,';
        await sleep(5);
        yield Buffer.alloc(0);
        yield new Uint8Array(Buffer.from('two,'));
        await sleep(5);
        yield 'three';
      }
      const res = await pool.request({ method: 'PUT', path: '/echo', body: gen() });
      const seen = await res.body.json();
      assert.equal(seen.method, 'PUT');
      assert.equal(seen.headers['transfer-encoding'], 'chunked');
      assert.equal(seen.text, 'one,two,three');
    });

    test('a 5 MiB streamed upload arrives exactly', T, async () => {
      const data = crypto.randomBytes(5 * 1024 * 1024);
      async function* gen() {
        for (let i = 0; i < data.length; i += 65536 + 17) yield data.subarray(i, Math.min(data.length, i + 65536 + 17));
      }
      const res = await pool.request({ method: 'POST', path: '/echo', body: gen() });
      const seen = await res.body.json();
      assert.equal(seen.headers['transfer-encoding'], 'chunked');
      assert.equal(seen.length, data.length);
      assert.equal(seen.sha256, sha256(data));
      // and a Readable of the same bytes
      const res2 = await pool.request({ method: 'POST', path: '/echo', body: Readable.from([data.subarray(0, 3_000_000), data.subarray(3_000_000)]) });
      const seen2 = await res2.body.json();
      assert.equal(seen2.length, data.length);
      assert.equal(seen2.sha256, sha256(data));
    });

    test('request headers as an object (with an array value) and as a flat array', T, async () => {
      const res = await pool.request({ path: '/echo', headers: { 'X-One': '1', 'x-list': ['p', 'q'], 'x-num': 42, 'x-undef': undefined } });
      const seen = await res.body.json();
      assert.equal(seen.headers['x-one'], '1');
      assert.equal(seen.headers['x-list'], 'p, q');
      assert.equal(seen.headers['x-num'], '42');
      assert.equal('x-undef' in seen.headers, false);
      assert.ok(seen.rawHeaders.includes('X-One'), 'field name casing kept');

      const res2 = await pool.request({ path: '/echo', headers: ['X-A', '1', 'x-b', 'two', 'X-A', '3'] });
      const seen2 = await res2.body.json();
      assert.equal(seen2.headers['x-a'], '1, 3');
      assert.equal(seen2.headers['x-b'], 'two');
      const raw = seen2.rawHeaders;
      assert.deepEqual(raw.filter((_, i) => i % 2 === 0 && /^x-/i.test(raw[i])), ['X-A', 'x-b', 'X-A']);
    });

    test('a Host header given by the caller replaces the default', T, async () => {
      const seen = await (await pool.request({ path: '/echo', headers: { host: 'example.test' } })).body.json();
      assert.equal(seen.headers.host, 'example.test');
      assert.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'host').length, 1);
    });

    test('response headers: repeated fields, set-cookie array, rawHeaders as received', T, async () => {
      const res = await pool.request({ path: '/multi' });
      assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(res.headers['x-multi'], 'one, two');
      assert.equal(res.headers['x-case'], 'MiXeD');
      const pairs = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      assert.ok(pairs.includes('X-Multi: one') && pairs.includes('X-Multi: two'), pairs.join(' | '));
      assert.ok(pairs.includes('Set-Cookie: a=1') && pairs.includes('Set-Cookie: b=2'), pairs.join(' | '));
      assert.equal(await res.body.text(), 'multi');
    });

    test('response trailers are filled once the body has ended', T, async () => {
      const res = await pool.request({ path: '/trailers' });
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.headers.trailer, 'x-checksum');
      assert.equal(await res.body.text(), 'part one, part two');
      assert.equal(res.trailers['x-checksum'], 'abc123');
    });

    // Regression test (bug fixed in the engine): RequestExchange.onEnd replaces `response.trailers` with a new object instead of
    // filling the one handed out, so `const { trailers, body } = await pool.request(...)` never
    // sees the trailers (undici, whose API this mirrors, fills the same object).
    test('trailers: the object destructured before the body ends is the one filled', { ...T }, async () => {
      const { trailers, body } = await pool.request({ path: '/trailers' });
      await body.text();
      assert.equal(trailers['x-checksum'], 'abc123');
    });

    test('body.json(), body.arrayBuffer(), body.bytes()', T, async () => {
      assert.deepEqual(await (await pool.request({ path: '/json' })).body.json(), { hello: 'world', list: [1, 2, 3], nested: { ok: true } });
      const expected = [0, 1, 2, 250, 251, 252, 253, 254, 255];
      const ab = await (await pool.request({ path: '/bytes' })).body.arrayBuffer();
      assert.ok(ab instanceof ArrayBuffer);
      assert.deepEqual([...new Uint8Array(ab)], expected);
      const bytes = await (await pool.request({ path: '/bytes' })).body.bytes();
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual([...bytes], expected);
      await assert.rejects((await pool.request({ path: '/bytes' })).body.json(), SyntaxError);
      // dump() discards, and the connection serves the next request
      await (await pool.request({ path: '/multi' })).body.dump();
      assert.equal(await (await pool.request({ path: '/head-target' })).body.text(), 'hello world');
    });

    test('keep-alive: 20 sequential requests on one connection', T, async () => {
      const p = new Pool(srv.origin);
      const before = srv.state.connections;
      try {
        for (let i = 0; i < 20; i++) {
          const res = await p.request({ path: `/slow?ms=0&id=${i}` });
          assert.equal(await res.body.text(), `slow ${i}`);
        }
        assert.equal(srv.state.connections - before, 1);
      } finally {
        await p.close();
      }
    });

    test('connections: 3 with 30 concurrent requests → 3 connections, each response to its request', T, async () => {
      const p = new Pool(srv.origin, { connections: 3 });
      const before = srv.state.connections;
      srv.state.maxActive = 0;
      try {
        const bodies = await Promise.all(
          Array.from({ length: 30 }, async (_, i) => (await p.request({ path: `/slow?ms=15&id=${i}` })).body.text()),
        );
        assert.deepEqual(bodies, Array.from({ length: 30 }, (_, i) => `slow ${i}`));
        assert.equal(srv.state.connections - before, 3);
        assert.equal(srv.state.maxActive, 3);
      } finally {
        await p.close();
      }
    });

    test('HEAD: Content-Length but no body, and the connection stays in step', T, async () => {
      const client = new Client(srv.origin);
      const before = srv.state.connections;
      try {
        const res = await client.request({ method: 'HEAD', path: '/head-target' });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-length'], '11');
        assert.equal(await res.body.text(), '');
        const res2 = await client.request({ path: '/head-target' });
        assert.equal(await res2.body.text(), 'hello world');
        assert.equal(srv.state.connections - before, 1);
      } finally {
        await client.close();
      }
    });

    test('204: no body, and the next request on the connection works', T, async () => {
      const client = new Client(srv.origin);
      try {
        const res = await client.request({ method: 'DELETE', path: '/204' });
        assert.equal(res.statusCode, 204);
        assert.equal(res.headers['x-empty'], 'yes');
        assert.equal(await res.body.text(), '');
        assert.equal(await (await client.request({ path: '/head-target' })).body.text(), 'hello world');
      } finally {
        await client.close();
      }
    });

    test('AbortSignal already aborted: rejects with AbortError, nothing sent', T, async () => {
      const before = srv.state.requests.length;
      const err = await rejection(pool.request({ path: '/echo?aborted', signal: AbortSignal.abort() }));
      assert.equal(err.name, 'AbortError');
      assert.equal(err.code, 'ABORT_ERR');
      await sleep(30);
      assert.equal(srv.state.requests.length, before);
    });

    test('AbortSignal while waiting for the head: rejects with AbortError', T, async () => {
      const ac = new AbortController();
      const before = srv.state.requests.length;
      const pending = pool.request({ path: '/stall-head', signal: ac.signal });
      await waitUntil(() => srv.state.requests.slice(before).some((r) => r.url === '/stall-head'), 2000, 'the request');
      ac.abort();
      const err = await rejection(pending);
      assert.equal(err.name, 'AbortError');
      assert.equal(err.code, 'ABORT_ERR');
    });

    test('AbortSignal mid-response: the body stream errors with AbortError', T, async () => {
      const ac = new AbortController();
      const res = await pool.request({ path: '/partial', signal: ac.signal });
      assert.equal(res.statusCode, 200);
      const text = res.body.text();
      await sleep(30);
      ac.abort();
      const err = await rejection(text);
      assert.equal(err.name, 'AbortError');
      assert.equal(err.code, 'ABORT_ERR');
      assert.equal(res.body.destroyed, true);
      // the pool still works afterwards (on another connection)
      assert.equal(await (await pool.request({ path: '/head-target' })).body.text(), 'hello world');
    });

    test('headersTimeout: 200 and a server that never answers → ERR_CLIENT_HEADERS_TIMEOUT', T, async () => {
      const p = new Pool(srv.origin, { headersTimeout: 200 });
      try {
        const started = Date.now();
        const err = await rejection(p.request({ path: '/stall-head' }));
        const took = Date.now() - started;
        assert.equal(err.code, 'ERR_CLIENT_HEADERS_TIMEOUT');
        assert.ok(took >= 150 && took < 2000, `after ${took} ms`);
      } finally {
        await p.destroy();
      }
    });

    test('bodyTimeout: 200 and a body that stalls → the body errors ERR_CLIENT_BODY_TIMEOUT', T, async () => {
      const p = new Pool(srv.origin, { bodyTimeout: 200 });
      try {
        const res = await p.request({ path: '/partial' });
        assert.equal(res.statusCode, 200);
        const started = Date.now();
        const err = await rejection(res.body.text());
        const took = Date.now() - started;
        assert.equal(err.code, 'ERR_CLIENT_BODY_TIMEOUT');
        assert.ok(took >= 150 && took < 2000, `after ${took} ms`);
      } finally {
        await p.destroy();
      }
    });

    test('decompress: gzip, deflate and br bodies decoded, Content-Encoding removed, Accept-Encoding sent', T, async () => {
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const res = await pool.request({ path: `/enc/${encoding}`, decompress: true });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-encoding'], undefined, encoding);
        assert.equal(res.headers['content-length'], undefined, encoding);
        assert.equal(await res.body.text(), BIG_TEXT, encoding);
        const sent = srv.state.requests.at(-1);
        assert.equal(sent.headers['accept-encoding'], 'gzip, deflate, br');
      }
    });

    test('without decompress: the raw encoded bytes, Content-Encoding kept, no Accept-Encoding', T, async () => {
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const res = await pool.request({ path: `/enc/${encoding}` });
        assert.equal(res.headers['content-encoding'], encoding);
        const bytes = Buffer.from(await res.body.bytes());
        assert.ok(bytes.equals(ENCODED[encoding]), encoding);
        assert.equal(srv.state.requests.at(-1).headers['accept-encoding'], undefined);
      }
    });

    test('decompress keeps a caller\'s Accept-Encoding', T, async () => {
      const res = await pool.request({ path: '/enc/gzip', decompress: true, headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(await res.body.text(), BIG_TEXT);
      const sent = srv.state.requests.at(-1);
      assert.equal(sent.headers['accept-encoding'], 'gzip');
      assert.equal(sent.rawHeaders.filter((h) => h.toLowerCase() === 'accept-encoding').length, 1);
    });

    test('pool.close() waits for the request in flight, then requests reject ERR_CLIENT_CLOSED', T, async () => {
      const p = new Pool(srv.origin);
      const inflight = p.request({ path: '/slow?ms=150&id=last' });
      let closed = false;
      const closing = p.close().then(() => (closed = true));
      const err = await rejection(p.request({ path: '/echo' }));
      assert.equal(err.code, 'ERR_CLIENT_CLOSED');
      const res = await inflight;
      assert.equal(closed, false);
      assert.equal(await res.body.text(), 'slow last');
      await closing;
      assert.equal(closed, true);
      assert.equal((await rejection(p.request({ path: '/echo' }))).code, 'ERR_CLIENT_CLOSED');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Request validation, origins, errors

describe('validation and connection errors', () => {
  let srv;
  before(async () => {
    srv = await startServer(keelHttp);
  });
  after(() => shut(srv.server));

  test('an invalid header value (CR LF) → ERR_INVALID_CHAR, nothing sent', T, async () => {
    const pool = new Pool(srv.origin);
    const before = srv.state.requests.length;
    let err;
    try {
      await pool.request({ path: '/echo', headers: { 'x-evil': 'a\r\nInjected: yes' } });
    } catch (e) {
      err = e;
    }
    assert.equal(err?.code, 'ERR_INVALID_CHAR');
    err = undefined;
    try {
      await pool.request({ path: '/echo', headers: ['x-nul', 'a\0b'] });
    } catch (e) {
      err = e;
    }
    assert.equal(err?.code, 'ERR_INVALID_CHAR');
    err = undefined;
    try {
      await pool.request({ path: '/echo', headers: { 'bad name': 'x' } });
    } catch (e) {
      err = e;
    }
    assert.equal(err?.code, 'ERR_INVALID_HTTP_TOKEN');
    // the pool is untouched: the next request goes out alone
    const seen = await (await pool.request({ path: '/echo' })).body.json();
    assert.equal(seen.headers.injected, undefined);
    assert.equal(srv.state.requests.length, before + 1);
    await pool.destroy(); // (destroy(), not close(): close() is tested below)
  });

  // Regression test (bug fixed in the engine): a request rejected while its exchange is constructed (invalid header, signal already
  // aborted) never incremented Pool's in-flight count, but its rejection handler decrements it:
  // the count goes negative and pool.close() never resolves.
  test('pool.close() resolves after a request rejected for an invalid header or an aborted signal', { ...T }, async () => {
    const pool = new Pool(srv.origin);
    await rejection(pool.request({ path: '/echo', signal: AbortSignal.abort() }));
    await (await pool.request({ path: '/echo' })).body.dump();
    const closed = await Promise.race([pool.close().then(() => true), sleep(1000).then(() => false)]);
    if (!closed) await pool.destroy();
    assert.equal(closed, true, 'pool.close() still pending after 1 s');
  });

  // Regression test (bug fixed in the engine): Pool#request documents "Throws synchronously for invalid headers", but the headers
  // are validated inside the Promise executor (RequestExchange's constructor), so the error comes
  // as a rejection (an invalid path, by contrast, does throw synchronously).
  test('an invalid header value throws synchronously, as Pool#request documents', { ...T }, async () => {
    const pool = new Pool(srv.origin);
    let thrown;
    let returned;
    try {
      returned = pool.request({ path: '/echo', headers: { 'x-evil': 'a\r\nb' } });
    } catch (err) {
      thrown = err;
    }
    returned?.catch(() => {});
    await pool.destroy();
    assert.equal(thrown?.code, 'ERR_INVALID_CHAR');
  });

  test('an invalid path throws ERR_UNESCAPED_CHARACTERS synchronously', T, async () => {
    const pool = new Pool(srv.origin);
    assert.throws(() => pool.request({ path: '/a b' }), { code: 'ERR_UNESCAPED_CHARACTERS' });
    assert.throws(() => pool.request({ path: '/a\r\nb' }), { code: 'ERR_UNESCAPED_CHARACTERS' });
    assert.throws(() => pool.request({ path: 'no-slash' }), { code: 'ERR_UNESCAPED_CHARACTERS' });
    await pool.close();
  });

  test('a non-http(s) origin → ERR_INVALID_PROTOCOL', T, () => {
    assert.throws(() => new Pool('ftp://127.0.0.1:21'), { code: 'ERR_INVALID_PROTOCOL' });
    assert.throws(() => new Client('ws://127.0.0.1:80'), { code: 'ERR_INVALID_PROTOCOL' });
    assert.throws(() => request('file:///etc/passwd'), { code: 'ERR_INVALID_PROTOCOL' });
  });

  test('a closed port → ECONNREFUSED', T, async () => {
    // (A connect timeout cannot be provoked on loopback: Linux completes the handshake even when
    // the listen backlog is full, so ERR_CLIENT_CONNECT_TIMEOUT is not tested here.)
    const port = await closedPort();
    const pool = new Pool(`http://127.0.0.1:${port}`, { connectTimeout: 1000 });
    const err = await rejection(pool.request({ path: '/' }));
    assert.equal(err.code, 'ECONNREFUSED');
    await pool.destroy();
  });

  test('request(url) over the shared pools: path and query from the URL, connection reused', T, async () => {
    const before = srv.state.connections;
    const res = await request(`${srv.origin}/echo?q=1&r=2`, { method: 'POST', body: 'shared', headers: { 'x-h': 'v' } });
    const seen = await res.body.json();
    assert.equal(seen.url, '/echo?q=1&r=2');
    assert.equal(seen.text, 'shared');
    assert.equal(seen.headers['x-h'], 'v');
    const res2 = await request(new URL(`${srv.origin}/echo`), { path: '/ignored' });
    assert.equal((await res2.body.json()).url, '/echo');
    assert.equal(srv.state.connections - before, 1);
  });

  test('pool.destroy(): queued requests reject ERR_CLIENT_DESTROYED, later ones are refused', T, async () => {
    const pool = new Pool(srv.origin, { connections: 1 });
    const first = pool.request({ path: '/stall-head' });
    const queued = pool.request({ path: '/echo' });
    await waitUntil(() => srv.state.requests.some((r) => r.url === '/stall-head'), 2000, 'the first request');
    await pool.destroy();
    assert.equal((await rejection(queued)).code, 'ERR_CLIENT_DESTROYED');
    const firstErr = await rejection(first);
    assert.ok(['ERR_CLIENT_DESTROYED', 'ECONNRESET'].includes(firstErr.code), firstErr.code);
    const later = await rejection(pool.request({ path: '/echo' }));
    assert.ok(['ERR_CLIENT_DESTROYED', 'ERR_CLIENT_CLOSED'].includes(later.code), later.code);
  });

  // Regression test (bug fixed in the engine): Pool#destroy documents "requests in flight fail with ERR_CLIENT_DESTROYED". They fail
  // with ECONNRESET instead, and worse: an idempotent request in flight on a *reused* connection is
  // treated as the keep-alive race and retried — the destroyed pool opens a new connection, sends
  // the request a second time and resolves it.
  test('pool.destroy() fails the request in flight on a reused connection with ERR_CLIENT_DESTROYED (not retried)', { ...T }, async () => {
    const pool = new Pool(srv.origin);
    await (await pool.request({ path: '/echo' })).body.dump(); // the connection has served one response
    const before = srv.state.requests.length;
    const beforeConns = srv.state.connections;
    const inflight = pool.request({ path: '/slow?ms=200&id=destroy' });
    await waitUntil(() => srv.state.requests.length > before, 2000, 'the request');
    await pool.destroy();
    const outcome = await inflight.then((res) => `resolved ${res.statusCode}`, (e) => e.code);
    await sleep(50);
    assert.equal(srv.state.connections - beforeConns, 0, 'no new connection after destroy()');
    assert.equal(srv.state.requests.length - before, 1, 'the request was sent once');
    assert.equal(outcome, 'ERR_CLIENT_DESTROYED');
  });
});

// ---------------------------------------------------------------------------------------------
// Raw servers: what a well-behaved Node server would not send

describe('raw servers', () => {
  test('a close-delimited response body (no Content-Length, no chunking) is read to the close', T, async () => {
    const raw = await rawServer((conn) => {
      conn.waitFor((t) => t.includes('\r\n\r\n')).then(async () => {
        conn.socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
        await sleep(20);
        conn.socket.end(`the close #${conn.index}`);
      });
    });
    const pool = new Pool(raw.origin);
    try {
      const res = await pool.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'until the close #0');
      // the connection cannot be reused: the next request gets a new one
      const res2 = await pool.request({ path: '/' });
      assert.equal(await res2.body.text(), 'until the close #1');
      assert.equal(raw.conns.length, 2);
    } finally {
      await pool.destroy();
      await raw.close();
    }
  });

  test('1xx interim responses reach onInformation, then the final response', T, async () => {
    const raw = await rawServer((conn) => {
      conn.waitFor((t) => t.includes('\r\n\r\n')).then(() => {
        conn.socket.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
        conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal');
      });
    });
    const pool = new Pool(raw.origin);
    try {
      const infos = [];
      const res = await pool.request({ path: '/', onInformation: (info) => infos.push(info) });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'final');
      assert.equal(infos.length, 1);
      assert.equal(infos[0].statusCode, 103);
      assert.equal(infos[0].statusMessage, 'Early Hints');
      assert.equal(infos[0].headers.link, '</style.css>; rel=preload');
    } finally {
      await pool.destroy();
      await raw.close();
    }
  });

  for (const [what, response, code] of [
    ['a status code that is not 3 digits', 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['a response that is not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n', /^HPE_/],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', /^HPE_(INVALID|UNEXPECTED)_CONTENT_LENGTH$/],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n', /^HPE_/],
  ]) {
    test(`a malformed response head (${what}) rejects with an HPE_* code`, T, async () => {
      const raw = await rawServer((conn) => {
        conn.waitFor((t) => t.includes('\r\n\r\n')).then(() => conn.socket.write(response));
      });
      const pool = new Pool(raw.origin);
      try {
        const err = await rejection(pool.request({ path: '/' }));
        if (typeof code === 'string') assert.equal(err.code, code);
        else assert.match(String(err.code), code);
      } finally {
        await pool.destroy();
        await raw.close();
      }
    });
  }

  test('a bad chunk size inside the body: the body stream errors HPE_INVALID_CHUNK_SIZE', T, async () => {
    const raw = await rawServer((conn) => {
      conn.waitFor((t) => t.includes('\r\n\r\n')).then(async () => {
        conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        await sleep(20);
        conn.socket.write('zz\r\nworld\r\n0\r\n\r\n');
      });
    });
    const pool = new Pool(raw.origin);
    try {
      const res = await pool.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      const err = await rejection(res.body.text());
      assert.equal(err.code, 'HPE_INVALID_CHUNK_SIZE');
    } finally {
      await pool.destroy();
      await raw.close();
    }
  });

  test('a body cut short by the close: the body stream errors', T, async () => {
    const raw = await rawServer((conn) => {
      conn.waitFor((t) => t.includes('\r\n\r\n')).then(async () => {
        conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
        await sleep(20);
        conn.socket.end();
      });
    });
    const pool = new Pool(raw.origin);
    try {
      const res = await pool.request({ path: '/' });
      const err = await rejection(res.body.text());
      assert.ok(['HPE_INVALID_EOF_STATE', 'ECONNRESET'].includes(err.code), err.code);
    } finally {
      await pool.destroy();
      await raw.close();
    }
  });

  test('keep-alive race: a reused connection closed with no response → a GET is retried on a new connection, a POST fails', T, async () => {
    // Every connection answers its first request, then closes without answering the second.
    const raw = await rawServer((conn) => {
      const answered = conn.waitFor((t) => t.includes('\r\n\r\n')).then(() => {
        conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nconn#${conn.index}`);
      });
      answered.then(() => conn.waitFor((t) => t.split('\r\n\r\n').length >= 3)).then(() => conn.socket.destroy());
    });
    const pool = new Pool(raw.origin, { connections: 1 });
    try {
      assert.equal(await (await pool.request({ path: '/1' })).body.text(), 'conn#0');
      assert.equal(await (await pool.request({ path: '/2' })).body.text(), 'conn#1'); // retried
      assert.equal(raw.conns.length, 2);
      assert.ok(raw.conns[0].received().includes('GET /2 '), 'it was sent on the first connection first');
      const err = await rejection(pool.request({ method: 'POST', path: '/3', body: 'x' }));
      assert.equal(err.code, 'ECONNRESET');
      assert.equal(raw.conns.length, 2, 'the POST was not retried');
    } finally {
      await pool.destroy();
      await raw.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Redirects

describe('redirects', () => {
  let a;
  let b;
  before(async () => {
    const handler = (state, name) => async (req, res) => {
      const body = await readAll(req);
      state.push({ server: name, method: req.method, url: req.url, headers: req.headers, body: body.toString() });
      const m = /^\/r(\d{3})(.*)$/.exec(req.url);
      if (m) {
        res.writeHead(Number(m[1]), { location: m[2] || '/final', 'content-type': 'text/plain' });
        res.end(`redirect ${m[1]}`);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ server: name, method: req.method, url: req.url, body: body.toString(), headers: req.headers }));
    };
    const log = [];
    const sa = keelHttp.createServer(handler(log, 'a'));
    const sb = nodeHttp.createServer(handler(log, 'b'));
    a = { server: sa, origin: await listen(sa), log };
    b = { server: sb, origin: await listen(sb), log };
  });
  after(async () => {
    await shut(a.server);
    await shut(b.server);
  });

  for (const code of [301, 302, 303, 307, 308]) {
    test(`GET through a ${code} is followed as GET`, T, async () => {
      const pool = new Pool(a.origin);
      try {
        const res = await pool.request({ path: `/r${code}/final?from=${code}`, maxRedirections: 2 });
        assert.equal(res.statusCode, 200);
        const seen = await res.body.json();
        assert.equal(seen.method, 'GET');
        assert.equal(seen.url, `/final?from=${code}`);
      } finally {
        await pool.close();
      }
    });
  }

  test('POST through a 303 becomes GET without a body (and without Content-Length / Content-Type)', T, async () => {
    const pool = new Pool(a.origin);
    try {
      const res = await pool.request({ method: 'POST', path: '/r303', body: 'payload', headers: { 'content-type': 'text/plain', 'x-keep': 'kept' }, maxRedirections: 2 });
      const seen = await res.body.json();
      assert.equal(seen.method, 'GET');
      assert.equal(seen.body, '');
      assert.equal(seen.headers['content-length'], undefined);
      assert.equal(seen.headers['content-type'], undefined);
      assert.equal(seen.headers['x-keep'], 'kept');
    } finally {
      await pool.close();
    }
  });

  test('PUT through a 303 becomes GET too', T, async () => {
    const pool = new Pool(a.origin);
    try {
      const seen = await (await pool.request({ method: 'PUT', path: '/r303', body: 'payload', maxRedirections: 1 })).body.json();
      assert.equal(seen.method, 'GET');
      assert.equal(seen.body, '');
    } finally {
      await pool.close();
    }
  });

  for (const code of [307, 308]) {
    test(`POST through a ${code} keeps its method and body`, T, async () => {
      const pool = new Pool(a.origin);
      try {
        const res = await pool.request({ method: 'POST', path: `/r${code}`, body: Buffer.from('payload'), headers: { 'content-type': 'text/plain' }, maxRedirections: 2 });
        const seen = await res.body.json();
        assert.equal(seen.method, 'POST');
        assert.equal(seen.body, 'payload');
        assert.equal(seen.headers['content-type'], 'text/plain');
        assert.equal(seen.headers['content-length'], '7');
      } finally {
        await pool.close();
      }
    });
  }

  test('POST through a 301 / 302 becomes GET (as browsers do)', T, async () => {
    const pool = new Pool(a.origin);
    try {
      for (const code of [301, 302]) {
        const seen = await (await pool.request({ method: 'POST', path: `/r${code}`, body: 'payload', maxRedirections: 2 })).body.json();
        assert.equal(seen.method, 'GET', String(code));
        assert.equal(seen.body, '', String(code));
      }
    } finally {
      await pool.close();
    }
  });

  test('a 307 with a streamed body is handed back to the caller (the body cannot be replayed)', T, async () => {
    const pool = new Pool(a.origin);
    try {
      const res = await pool.request({ method: 'POST', path: '/r307', body: Readable.from(['streamed']), maxRedirections: 2 });
      assert.equal(res.statusCode, 307);
      assert.equal(res.headers.location, '/final');
      assert.equal(await res.body.text(), 'redirect 307');
    } finally {
      await pool.close();
    }
  });

  test('same origin keeps Authorization; a cross-origin redirect strips Authorization and Cookie', T, async () => {
    const pool = new Pool(a.origin);
    try {
      const same = await (await pool.request({ path: '/r302/final', headers: { authorization: 'Bearer secret', cookie: 'sid=1' }, maxRedirections: 2 })).body.json();
      assert.equal(same.server, 'a');
      assert.equal(same.headers.authorization, 'Bearer secret');
      assert.equal(same.headers.cookie, 'sid=1');

      const cross = await (await pool.request({ path: `/r302${b.origin}/final`, headers: { authorization: 'Bearer secret', cookie: 'sid=1', 'x-other': 'ok' }, maxRedirections: 2 })).body.json();
      assert.equal(cross.server, 'b');
      assert.equal(cross.headers.authorization, undefined);
      assert.equal(cross.headers.cookie, undefined);
      assert.equal(cross.headers['x-other'], 'ok');
      assert.equal(cross.headers.host, new URL(b.origin).host, 'Host is the new origin\'s');
    } finally {
      await pool.close();
    }
  });

  test('exactly maxRedirections hops are followed', T, async () => {
    const pool = new Pool(a.origin);
    try {
      const ok = await pool.request({ path: '/r302/r301/final', maxRedirections: 2 });
      assert.equal(ok.statusCode, 200);
      assert.equal((await ok.body.json()).url, '/final');
      const one = await pool.request({ path: '/r308/final', maxRedirections: 1 });
      assert.equal(one.statusCode, 200);
      await one.body.dump();
    } finally {
      await pool.close();
    }
  });

  // Regression test (bug fixed in the engine): followRedirect re-issues the request with maxRedirections: left - 1, and a request
  // with maxRedirections 0 never calls followRedirect, so its `left <= 0` branch (the one that
  // throws ERR_CLIENT_MAX_REDIRECTIONS) is dead code: one redirect too many returns the 3xx.
  test('one redirect more than maxRedirections → ERR_CLIENT_MAX_REDIRECTIONS', { ...T }, async () => {
    const pool = new Pool(a.origin);
    try {
      const err = await rejection(pool.request({ path: '/r302/r301/r307/final', maxRedirections: 2 }));
      assert.equal(err.code, 'ERR_CLIENT_MAX_REDIRECTIONS');
    } finally {
      await pool.close();
    }
  });

  // Regression test (bug fixed in the engine): followRedirect sends every hop through the shared pools of request(url), even to
  // the Pool's own origin: the hop opens a second connection, ignores the Pool's options
  // (connections, timeouts, tls) and leaves a keep-alive connection that pool.close() does not close.
  test('a same-origin redirect is followed on the Pool\'s own connection', { ...T }, async () => {
    // a server of its own: the shared pools already hold connections to the others
    const server = keelHttp.createServer((req, res) => {
      if (req.url === '/start') res.writeHead(302, { location: '/final' }).end();
      else res.end('final');
    });
    let connections = 0;
    server.on('connection', () => connections++);
    const client = new Client(await listen(server));
    try {
      const res = await client.request({ path: '/start', maxRedirections: 1 });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'final');
      assert.equal(connections, 1);
    } finally {
      await client.close();
      await shut(server);
    }
  });

  test('maxRedirections 0 (the default): the 3xx is returned as is', T, async () => {
    const pool = new Pool(a.origin);
    try {
      for (const opts of [{}, { maxRedirections: 0 }]) {
        const res = await pool.request({ path: '/r301/final', ...opts });
        assert.equal(res.statusCode, 301);
        assert.equal(res.headers.location, '/final');
        assert.equal(await res.body.text(), 'redirect 301');
      }
    } finally {
      await pool.close();
    }
  });
});
