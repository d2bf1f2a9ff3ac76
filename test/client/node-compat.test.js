// Keel's node-compatible client (`import http from 'keel'`: request, get, ClientRequest, Agent,
// globalAgent) against BOTH a Keel server and a node:http server: the same table of checks runs
// once per server kind, then checks that need hand-written responses run against raw node:net
// servers.
//
//   npm run build && node --test test/client/node-compat.test.js
//
// The assertions describe node:http's client. To check that they do, run the file with Node's
// own client in place of Keel's:
//
//   KEEL_COMPAT_CLIENT=node node --test test/client/node-compat.test.js
//
// Keel's deliberate differences from Node are branched on `isKeel` (and say so):
//   - a GET written with a body gets Content-Length / chunked framing (Node sends it unframed);
//   - idempotent requests are retried once on a fresh connection when a reused keep-alive
//     connection dies before any response byte (Node errors with ECONNRESET);
//   - only a 2xx answer to CONNECT is a tunnel ('connect'); Node treats any answer as one.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import nodeHttp from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import keelHttp from 'keel';

import {
  closed, collect, once, onRequestHeads, rawNames, rawValues, send, sleep, startRawServer, startServer, waitUntil,
} from './helpers.js';

const http = process.env.KEEL_COMPAT_CLIENT === 'node' ? nodeHttp : keelHttp;
const isKeel = http === keelHttp;
const here = path.dirname(fileURLToPath(import.meta.url));
const T = { timeout: 10_000 };
const MiB = 1024 * 1024;
// Larger than loopback's socket buffers can take while the client does not read (tcp_wmem's 4 MiB
// plus what receive-window autotuning grants; on Node 22 the client reads more before it pauses).
const BIG_BYTES = 16 * MiB;

/** What the echo route answers: everything the server saw of the request. */
async function echo(req, res) {
  const body = await collect(req);
  const payload = JSON.stringify({
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body: body.toString('utf8'),
  });
  res.setHeader('Content-Type', 'application/json');
  res.end(payload);
}

/**
 * The routes every server kind serves. `hooks.onRequest(req)` lets tests see a request arrive
 * (e.g. to destroy the client request once the server has it).
 */
function routes(hooks) {
  return async (req, res) => {
    hooks.onRequest?.(req, res);
    const { pathname } = new URL(req.url, 'http://x');
    switch (pathname) {
      case '/head': {
        const text = 'hello world';
        res.setHeader('Content-Length', Buffer.byteLength(text));
        res.setHeader('Content-Type', 'text/plain');
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
      case '/204':
        res.writeHead(204, { 'X-Kind': 'no-content' });
        res.end();
        return;
      case '/304':
        res.writeHead(304, { ETag: '"v1"' });
        res.end();
        return;
      case '/trailers':
        res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Checksum' });
        res.write('chunk-one;');
        await sleep(5);
        res.write('chunk-two');
        res.addTrailers({ 'X-Checksum': 'abc123' });
        res.end();
        return;
      case '/big': {
        // BIG_BYTES in 64 KiB writes, honouring backpressure; records what the server saw.
        const state = hooks.big = { wrote: 0, sawBackpressure: false, done: false };
        const chunk = Buffer.alloc(64 * 1024, 'k');
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': BIG_BYTES });
        while (state.wrote < BIG_BYTES) {
          state.wrote += chunk.length;
          if (!res.write(chunk)) {
            state.sawBackpressure = true;
            await new Promise((resolve) => res.once('drain', resolve));
          }
        }
        res.end(() => { state.done = true; });
        return;
      }
      case '/hints':
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        await sleep(5);
        res.end('after hints');
        return;
      case '/cookies':
        res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2']);
        res.setHeader('X-Dup', ['one', 'two']);
        res.end('cookies');
        return;
      case '/cut':
        // Promises 100 bytes, sends 10, then drops the connection.
        res.writeHead(200, { 'Content-Length': 100 });
        res.write('0123456789');
        setTimeout(() => req.socket.destroy(), 30);
        return;
      case '/slow-read': {
        // Reads the request body slowly (10 ms pauses), then answers with its length.
        let length = 0;
        for await (const chunk of req) {
          length += chunk.length;
          await sleep(2);
        }
        res.end(String(length));
        return;
      }
      case '/delay': {
        const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms'));
        await sleep(ms);
        res.end(`after ${ms}`);
        return;
      }
      case '/hang':
        return; // never answers
      case '/destroy':
        req.socket.destroy();
        return;
      case '/slow':
        await sleep(30);
        await echo(req, res);
        return;
      default:
        await echo(req, res);
    }
  };
}

/** The server's view of a request, from the echo route. */
async function echoed(input, options = {}, body = undefined) {
  const { res, body: data } = await send(http, input, options, body);
  assert.equal(res.statusCode, 200);
  return JSON.parse(data.toString('utf8'));
}

/** Handlers for checkContinue, upgrade and connect, the same for both server kinds. */
function addProtocolListeners(server) {
  server.on('checkContinue', async (req, res) => {
    res.writeContinue();
    await echo(req, res);
  });
  server.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nHELLO');
    socket.on('data', (d) => socket.write(d));
    socket.on('error', () => {});
  });
  server.on('connect', (req, socket) => {
    if (req.url === 'denied.example:443') {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 6\r\n\r\ndenied');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    socket.on('data', (d) => socket.write(d));
    socket.on('error', () => {});
  });
}

for (const kind of ['keel', 'node']) {
  describe(`client against a ${kind} server`, () => {
    const hooks = {};
    let h;
    before(async () => {
      h = await startServer(kind, routes(hooks));
      addProtocolListeners(h.server);
    });
    after(async () => {
      await h.close();
    });
    const origin = () => ({ host: '127.0.0.1', port: h.port });

    // ---- request targets ---------------------------------------------------------------------

    test('GET via a URL string, a URL object and an options object', T, async () => {
      const viaString = await echoed(h.url('/a/b'));
      const viaUrl = await echoed(new URL(h.url('/a/b')));
      const viaOptions = await echoed({ ...origin(), path: '/a/b' });
      const viaGet = await new Promise((resolve, reject) => {
        http.get(h.url('/a/b'), (res) => collect(res).then((b) => resolve(JSON.parse(b)), reject)).on('error', reject);
      });
      for (const seen of [viaString, viaUrl, viaOptions, viaGet]) {
        assert.equal(seen.method, 'GET');
        assert.equal(seen.url, '/a/b');
        assert.equal(seen.httpVersion, '1.1');
        assert.equal(seen.headers.host, `127.0.0.1:${h.port}`);
      }
      // URL + options: the options win.
      const merged = await echoed(h.url('/from-url'), { method: 'PUT', headers: { 'X-From': 'options' } }, 'x');
      assert.equal(merged.method, 'PUT');
      assert.equal(merged.url, '/from-url');
      assert.equal(merged.headers['x-from'], 'options');
    });

    test('query strings are sent as given (URL string, URL searchParams, options.path)', T, async () => {
      assert.equal((await echoed(h.url('/search?q=a%20b&x=1&x=2'))).url, '/search?q=a%20b&x=1&x=2');
      const url = new URL(h.url('/search'));
      url.searchParams.set('name', 'Zoë & co');
      assert.equal((await echoed(url)).url, `/search?${url.searchParams}`);
      assert.equal((await echoed({ ...origin(), path: '/p?empty=&flag' })).url, '/p?empty=&flag');
      // An empty query (`/?`) is not kept by WHATWG URL, but is by options.path.
      assert.equal((await echoed({ ...origin(), path: '/?' })).url, '/?');
    });

    // ---- request headers ---------------------------------------------------------------------

    test('headers: setHeader, arrays as repeated fields, names as written, Host with the port', T, async () => {
      const seen = await new Promise((resolve, reject) => {
        const req = http.request({ ...origin(), path: '/h', headers: { 'X-From-Options': 'o' } }, (res) => {
          collect(res).then((b) => resolve(JSON.parse(b)), reject);
        });
        req.on('error', reject);
        req.setHeader('X-CaSe-Kept', 'yes');
        req.setHeader('X-Multi', ['one', 'two']);
        req.setHeader('X-Removed', 'gone');
        req.removeHeader('x-removed');
        req.setHeader('X-Number', 42);
        assert.equal(req.getHeader('x-case-kept'), 'yes');
        assert.deepEqual(req.getHeader('X-MULTI'), ['one', 'two']);
        assert.equal(req.getHeader('x-removed'), undefined);
        assert.equal(req.getHeader('host'), `127.0.0.1:${h.port}`);
        assert.equal(req.hasHeader('X-CASE-KEPT'), true);
        const names = req.getHeaderNames();
        for (const n of ['x-from-options', 'host', 'x-case-kept', 'x-multi', 'x-number']) assert.ok(names.includes(n), n);
        assert.ok(req.getRawHeaderNames().includes('X-CaSe-Kept'));
        assert.equal(req.getHeaders()['x-number'], 42);
        req.end();
      });
      const names = rawNames(seen.rawHeaders);
      assert.ok(names.includes('X-CaSe-Kept'), `names as written: ${names}`);
      assert.ok(names.includes('X-From-Options'));
      assert.deepEqual(rawValues(seen.rawHeaders, 'x-multi'), ['one', 'two']);
      assert.equal(seen.headers['x-multi'], 'one, two');
      assert.equal(seen.headers['x-number'], '42');
      assert.equal(seen.headers['x-removed'], undefined);
      assert.deepEqual(rawValues(seen.rawHeaders, 'host'), [`127.0.0.1:${h.port}`]);
      assert.equal(seen.headers.connection, 'keep-alive'); // globalAgent keeps connections alive
    });

    test('headers given as a flat array are sent in order, repeats kept', T, async () => {
      // Node adds no Host of its own when headers is an array: the list says everything.
      const seen = await echoed({
        ...origin(),
        path: '/arr',
        headers: ['Host', `127.0.0.1:${h.port}`, 'X-Arr', '1', 'X-Other', 'o', 'X-Arr', '2'],
      });
      assert.deepEqual(rawValues(seen.rawHeaders, 'x-arr'), ['1', '2']);
      assert.equal(seen.headers['x-arr'], '1, 2');
      assert.deepEqual(rawValues(seen.rawHeaders, 'host'), [`127.0.0.1:${h.port}`]);
      // Regression test (bug fixed in the engine): Keel groups the values of a repeated name (X-Arr: 1, X-Arr: 2, X-Other: o);
      // Node writes a flat array exactly in its order (X-Arr: 1, X-Other: o, X-Arr: 2).
      assert.deepEqual(rawNames(seen.rawHeaders).filter((n) => n.startsWith('X-')), ['X-Arr', 'X-Other', 'X-Arr']);
    });

    test('Host: no port when the port is the default one; an explicit Host is kept', T, async () => {
      assert.equal((await echoed({ ...origin(), defaultPort: h.port, path: '/' })).headers.host, '127.0.0.1');
      const explicit = await echoed({ ...origin(), path: '/', headers: { Host: 'virtual.example' } });
      assert.deepEqual(rawValues(explicit.rawHeaders, 'host'), ['virtual.example']);
    });

    test('auth option and URL credentials become Authorization: Basic', T, async () => {
      const basic = (s) => `Basic ${Buffer.from(s).toString('base64')}`;
      assert.equal((await echoed({ ...origin(), path: '/', auth: 'user:p@ss word' })).headers.authorization, basic('user:p@ss word'));
      const url = new URL(h.url('/'));
      url.username = 'al ice';
      url.password = 's3:cr@t';
      assert.equal(url.password, 's3%3Acr%40t'); // percent-encoded in the URL, decoded for the header
      assert.equal((await echoed(url)).headers.authorization, basic('al ice:s3:cr@t'));
      // An Authorization header given explicitly wins over auth.
      const explicit = await echoed({ ...origin(), path: '/', auth: 'a:b', headers: { Authorization: 'Bearer t' } });
      assert.deepEqual(rawValues(explicit.rawHeaders, 'authorization'), ['Bearer t']);
    });

    // ---- request bodies and framing --------------------------------------------------------

    test('POST with end(body): Content-Length, no chunked framing', T, async () => {
      const seen = await echoed({ ...origin(), method: 'POST', path: '/post' }, {}, 'héllo body');
      assert.equal(seen.method, 'POST');
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength('héllo body')));
      assert.equal(seen.headers['transfer-encoding'], undefined);
      assert.equal(seen.body, 'héllo body');
      const fromBuffer = await echoed({ ...origin(), method: 'PUT', path: '/put' }, {}, Buffer.from('bytes!'));
      assert.equal(fromBuffer.headers['content-length'], '6');
      assert.equal(fromBuffer.body, 'bytes!');
    });

    test('write() + write() + end(): chunked, reassembled by the server', T, async () => {
      const seen = await new Promise((resolve, reject) => {
        const req = http.request({ ...origin(), method: 'POST', path: '/chunks' }, (res) => {
          collect(res).then((b) => resolve(JSON.parse(b)), reject);
        });
        req.on('error', reject);
        req.write('first,');
        req.write(Buffer.from('second,'));
        setTimeout(() => req.end('third'), 20);
      });
      assert.equal(seen.headers['transfer-encoding'], 'chunked');
      assert.equal(seen.headers['content-length'], undefined);
      assert.equal(seen.body, 'first,second,third');
    });

    test('an explicit Content-Length with write()s: no chunked framing', T, async () => {
      const seen = await new Promise((resolve, reject) => {
        const req = http.request({ ...origin(), method: 'POST', path: '/cl', headers: { 'Content-Length': 6 } }, (res) => {
          collect(res).then((b) => resolve(JSON.parse(b)), reject);
        });
        req.on('error', reject);
        req.write('abc');
        req.end('def');
      });
      assert.equal(seen.headers['content-length'], '6');
      assert.equal(seen.headers['transfer-encoding'], undefined);
      assert.equal(seen.body, 'abcdef');
    });

    test('request trailers: addTrailers() with a chunked body', T, async () => {
      // Regression test (bug fixed in the engine): Keel's ClientRequest has no addTrailers() (TypeError: req.addTrailers is not
      // a function); Node's sends the trailer section after the last chunk.
      const s = await startServer(kind, async (req, res) => {
        const body = await collect(req);
        res.end(JSON.stringify({ body: body.toString(), trailers: req.trailers }));
      });
      try {
        const seen = await new Promise((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/', agent: false, headers: { Trailer: 'X-Sum' } }, (res) => {
            collect(res).then((b) => resolve(JSON.parse(b)), reject);
          });
          req.on('error', reject);
          req.write('with trailers');
          req.addTrailers({ 'X-Sum': 'f00d' });
          req.end();
        });
        assert.equal(seen.body, 'with trailers');
        assert.deepEqual(seen.trailers, { 'x-sum': 'f00d' });
      } finally {
        await s.close();
      }
    });

    test('POST without a body: Content-Length: 0; GET, HEAD, DELETE without a body: no framing field', T, async () => {
      const post = await echoed({ ...origin(), method: 'POST', path: '/' });
      assert.equal(post.headers['content-length'], '0');
      assert.equal(post.headers['transfer-encoding'], undefined);
      for (const method of ['GET', 'DELETE', 'OPTIONS']) {
        const seen = await echoed({ ...origin(), method, path: '/' });
        assert.equal(seen.method, method);
        assert.equal(seen.headers['content-length'], undefined, method);
        assert.equal(seen.headers['transfer-encoding'], undefined, method);
      }
    });

    test('GET with a body: framed by Keel (deliberate difference), unframed by Node', T, async () => {
      if (!isKeel) {
        // Node writes the body without a framing field: the server reads it as the next request.
        return;
      }
      const seen = await echoed({ ...origin(), method: 'GET', path: '/get-body' }, {}, 'query-in-body');
      assert.equal(seen.headers['content-length'], '13');
      assert.equal(seen.body, 'query-in-body');
    });

    // ---- responses ---------------------------------------------------------------------------

    test('response: statusCode, statusMessage, headers, rawHeaders, httpVersion, req', T, async () => {
      const { req, res, body } = await send(http, h.url('/info'));
      assert.equal(res.statusCode, 200);
      assert.equal(res.statusMessage, 'OK');
      assert.equal(res.httpVersion, '1.1');
      assert.equal(res.headers['content-type'], 'application/json');
      assert.ok(rawNames(res.rawHeaders).includes('Content-Type'));
      assert.equal(res.headers['content-length'], String(body.length));
      assert.equal(res.complete, true);
      assert.equal(res.req, req);
      assert.deepEqual(res.trailers, {});
    });

    test('HEAD: no body, Content-Length header present, the connection stays usable', T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const head = await send(http, { ...origin(), method: 'HEAD', path: '/head', agent });
        assert.equal(head.res.statusCode, 200);
        assert.equal(head.res.headers['content-length'], '11');
        assert.equal(head.body.length, 0);
        const get = await send(http, { ...origin(), path: '/head', agent });
        assert.equal(get.body.toString(), 'hello world');
        assert.equal(get.req.reusedSocket, true);
      } finally {
        agent.destroy();
      }
    });

    test('204 and 304: no body, end fires, the connection stays usable', T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const noContent = await send(http, { ...origin(), path: '/204', agent });
        assert.equal(noContent.res.statusCode, 204);
        assert.equal(noContent.res.statusMessage, 'No Content');
        assert.equal(noContent.res.headers['x-kind'], 'no-content');
        assert.equal(noContent.body.length, 0);
        const notModified = await send(http, { ...origin(), path: '/304', agent });
        assert.equal(notModified.res.statusCode, 304);
        assert.equal(notModified.res.headers.etag, '"v1"');
        assert.equal(notModified.body.length, 0);
        assert.equal(notModified.req.reusedSocket, true);
        const next = await send(http, { ...origin(), path: '/after', agent });
        assert.equal(JSON.parse(next.body).url, '/after');
        assert.equal(next.req.reusedSocket, true);
      } finally {
        agent.destroy();
      }
    });

    test('chunked response with trailers: body reassembled, res.trailers / rawTrailers after end', T, async () => {
      const { res, body } = await send(http, h.url('/trailers'));
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.headers.trailer, 'X-Checksum');
      assert.equal(body.toString(), 'chunk-one;chunk-two');
      assert.deepEqual({ ...res.trailers }, { 'x-checksum': 'abc123' });
      assert.deepEqual(res.rawTrailers, ['X-Checksum', 'abc123']);
    });

    test('response backpressure: a paused response holds the server back; 16 MiB arrive exactly', T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const req = http.request({ ...origin(), path: '/big', agent });
        req.end();
        const [res] = await once(req, 'response');
        res.pause();
        await sleep(300);
        // The server filled the socket and had to wait: the client stopped reading.
        assert.equal(hooks.big.sawBackpressure, true);
        assert.equal(hooks.big.done, false);
        let received = 0;
        res.on('data', (chunk) => { received += chunk.length; });
        const ended = once(res, 'end');
        res.resume();
        await ended;
        assert.equal(received, BIG_BYTES);
        assert.equal(res.complete, true);
        await waitUntil(() => hooks.big.done, 2000, 'the server to finish');
        // The connection is reusable afterwards.
        const next = await send(http, { ...origin(), path: '/next', agent });
        assert.equal(next.req.reusedSocket, true);
      } finally {
        agent.destroy();
      }
    });

    test('repeated response fields: Set-Cookie as an array, others joined with ", "', T, async () => {
      const { res } = await send(http, h.url('/cookies'));
      assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
      assert.equal(res.headers['x-dup'], 'one, two');
      assert.deepEqual(rawValues(res.rawHeaders, 'x-dup'), ['one', 'two']);
    });

    test("the connection lost in the middle of a body: res 'aborted' and 'error' ECONNRESET 'aborted'", T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const req = http.request({ ...origin(), path: '/cut', agent });
        req.end();
        const [res] = await once(req, 'response');
        const events = [];
        let received = '';
        res.on('data', (d) => { received += d; });
        res.on('aborted', () => events.push('aborted'));
        res.on('end', () => events.push('end'));
        res.on('error', (err) => events.push(`error ${err.code} ${err.message}`));
        await closed(res);
        events.push('close');
        assert.equal(received, '0123456789');
        assert.equal(res.complete, false);
        assert.deepEqual(events, ['aborted', 'error ECONNRESET aborted', 'close']);
      } finally {
        agent.destroy();
      }
    });

    test('request backpressure: write() returns false, drain, 4 MiB arrive exactly at a slow server', T, async () => {
      const req = http.request({ ...origin(), method: 'POST', path: '/slow-read', agent: false });
      const response = once(req, 'response', 8000);
      const chunk = Buffer.alloc(64 * 1024, 'w');
      let sawFalse = false;
      for (let sent = 0; sent < 4 * MiB; sent += chunk.length) {
        if (!req.write(chunk)) {
          sawFalse = true;
          await once(req, 'drain', 8000);
        }
      }
      req.end();
      const [res] = await response;
      assert.equal((await collect(res)).toString(), String(4 * MiB));
      assert.equal(sawFalse, true);
    });

    test("no 'response' listener: the response is dumped and the socket reused", T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const ignored = http.get({ ...origin(), path: '/trailers', agent });
        await closed(ignored);
        const next = await send(http, { ...origin(), path: '/next', agent });
        assert.equal(JSON.parse(next.body).url, '/next');
        assert.equal(next.req.reusedSocket, true);
      } finally {
        agent.destroy();
      }
    });

    test('res.destroy() in the middle of a body: the next request on the agent still works', T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const req = http.request({ ...origin(), path: '/big', agent });
        req.on('error', () => {});
        req.end();
        const [res] = await once(req, 'response');
        res.on('error', () => {});
        await once(res, 'data');
        res.destroy();
        await closed(res);
        const next = await send(http, { ...origin(), path: '/after-destroy', agent });
        assert.equal(JSON.parse(next.body).url, '/after-destroy');
        assert.equal(next.req.reusedSocket, false);
      } finally {
        agent.destroy();
      }
    });

    test("options.timeout on a keep-alive agent: no 'timeout' once the response is complete", T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const { req } = await send(http, { ...origin(), path: '/quick', agent, timeout: 100 });
        let timedOut = false;
        req.on('timeout', () => { timedOut = true; });
        await sleep(250);
        assert.equal(timedOut, false);
        const next = await send(http, { ...origin(), path: '/quick2', agent });
        assert.equal(next.req.reusedSocket, true);
      } finally {
        agent.destroy();
      }
    });

    // ---- agents ------------------------------------------------------------------------------

    test('Agent({ keepAlive: true }): 10 sequential requests on one connection; reusedSocket', T, async () => {
      const s = await startServer(kind, echo);
      const agent = new http.Agent({ keepAlive: true });
      try {
        const reused = [];
        for (let i = 0; i < 10; i++) {
          const { req, body } = await send(http, { host: '127.0.0.1', port: s.port, path: `/${i}`, agent });
          assert.equal(JSON.parse(body).url, `/${i}`);
          reused.push(req.reusedSocket);
        }
        assert.equal(s.connections, 1);
        assert.deepEqual(reused, [false, true, true, true, true, true, true, true, true, true]);
        assert.equal(s.requests.every((r) => r.headers.connection === 'keep-alive'), true);
        const name = agent.getName({ host: '127.0.0.1', port: s.port });
        await waitUntil(() => agent.freeSockets[name]?.length === 1, 2000, 'a free socket');
      } finally {
        agent.destroy();
        await s.close();
      }
    });

    test('maxSockets: 2 with 10 concurrent requests: exactly 2 connections, all answered', T, async () => {
      const s = await startServer(kind, async (req, res) => {
        await sleep(20);
        await echo(req, res);
      });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
      try {
        const name = agent.getName({ host: '127.0.0.1', port: s.port });
        let most = 0;
        const all = Array.from({ length: 10 }, (_, i) => {
          const p = send(http, { host: '127.0.0.1', port: s.port, path: `/c${i}`, agent });
          most = Math.max(most, agent.sockets[name]?.length ?? 0);
          return p;
        });
        const monitor = setInterval(() => { most = Math.max(most, agent.sockets[name]?.length ?? 0); }, 2);
        const results = await Promise.all(all);
        clearInterval(monitor);
        assert.deepEqual(results.map((r) => JSON.parse(r.body).url), Array.from({ length: 10 }, (_, i) => `/c${i}`));
        assert.equal(s.connections, 2);
        assert.ok(most <= 2, `agent.sockets never above maxSockets (saw ${most})`);
      } finally {
        agent.destroy();
        await s.close();
      }
    });

    test('Agent({ keepAlive: false }): a new connection per request, Connection: close', T, async () => {
      const s = await startServer(kind, echo);
      const agent = new http.Agent({ keepAlive: false });
      try {
        for (let i = 0; i < 3; i++) {
          const { req, body } = await send(http, { host: '127.0.0.1', port: s.port, path: '/', agent });
          assert.equal(JSON.parse(body).headers.connection, 'close');
          assert.equal(req.reusedSocket, false);
        }
        assert.equal(s.connections, 3);
        const name = agent.getName({ host: '127.0.0.1', port: s.port });
        await waitUntil(() => !agent.sockets[name] && !agent.freeSockets[name], 2000, 'no sockets kept');
      } finally {
        agent.destroy();
        await s.close();
      }
    });

    test('agent: false: a one-off connection with Connection: close', T, async () => {
      const s = await startServer(kind, echo);
      try {
        for (let i = 0; i < 2; i++) {
          const { req, body } = await send(http, { host: '127.0.0.1', port: s.port, path: '/', agent: false });
          assert.equal(JSON.parse(body).headers.connection, 'close');
          assert.notEqual(req.agent, http.globalAgent);
        }
        assert.equal(s.connections, 2);
        await waitUntil(() => s.sockets.size === 0, 2000, 'the connections to close');
      } finally {
        await s.close();
      }
    });

    test('globalAgent is used by default: keep-alive, socket kept free for reuse', T, async () => {
      const s = await startServer(kind, echo);
      try {
        assert.equal(http.globalAgent.keepAlive, true);
        assert.equal(http.globalAgent.options.timeout, 5000);
        assert.equal(http.globalAgent.scheduling, 'lifo');
        assert.ok(http.globalAgent instanceof http.Agent);
        const first = await send(http, `http://127.0.0.1:${s.port}/g1`);
        assert.equal(first.req.agent, http.globalAgent);
        assert.equal(JSON.parse(first.body).headers.connection, 'keep-alive');
        const name = http.globalAgent.getName({ host: '127.0.0.1', port: s.port });
        await waitUntil(() => http.globalAgent.freeSockets[name]?.length === 1, 2000, 'a free socket in globalAgent');
        const second = await send(http, `http://127.0.0.1:${s.port}/g2`);
        assert.equal(second.req.reusedSocket, true);
        assert.equal(s.connections, 1);
      } finally {
        await s.close();
      }
    });

    test('agent.destroy() closes its connections', T, async () => {
      const s = await startServer(kind, echo);
      const agent = new http.Agent({ keepAlive: true });
      try {
        await send(http, { host: '127.0.0.1', port: s.port, path: '/', agent });
        const name = agent.getName({ host: '127.0.0.1', port: s.port });
        await waitUntil(() => agent.freeSockets[name]?.length === 1, 2000, 'a free socket');
        assert.equal(s.sockets.size, 1);
        agent.destroy();
        await waitUntil(() => s.sockets.size === 0, 2000, 'the server to see the connection close');
        assert.equal(Object.keys(agent.sockets).length, 0);
        assert.equal(Object.keys(agent.freeSockets).length, 0);
      } finally {
        await s.close();
      }
    });

    test('Agent timeout: an idle kept socket is closed after `timeout` ms', T, async () => {
      const s = await startServer(kind, echo);
      const agent = new http.Agent({ keepAlive: true, timeout: 150 });
      try {
        await send(http, { host: '127.0.0.1', port: s.port, path: '/', agent });
        const name = agent.getName({ host: '127.0.0.1', port: s.port });
        await waitUntil(() => agent.freeSockets[name]?.length === 1, 2000, 'a free socket');
        await waitUntil(() => s.sockets.size === 0, 2000, 'the idle socket to be closed');
        assert.equal(agent.freeSockets[name], undefined);
        // The next request simply opens a new connection.
        const next = await send(http, { host: '127.0.0.1', port: s.port, path: '/', agent });
        assert.equal(next.req.reusedSocket, false);
        assert.equal(s.connections, 2);
      } finally {
        agent.destroy();
        await s.close();
      }
    });

    test('maxFreeSockets: 1 keeps one idle socket, closes the others', T, async () => {
      const s = await startServer(kind, async (req, res) => {
        await sleep(20);
        await echo(req, res);
      });
      const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 1 });
      try {
        await Promise.all([1, 2, 3].map((i) => send(http, { host: '127.0.0.1', port: s.port, path: `/${i}`, agent })));
        assert.equal(s.connections, 3);
        const name = agent.getName({ host: '127.0.0.1', port: s.port });
        await waitUntil(() => s.sockets.size === 1, 2000, 'two of the three connections to close');
        assert.equal(agent.freeSockets[name]?.length, 1);
      } finally {
        agent.destroy();
        await s.close();
      }
    });

    for (const scheduling of ['lifo', 'fifo']) {
      test(`scheduling: '${scheduling}' picks the ${scheduling === 'lifo' ? 'most' : 'least'} recently freed socket`, T, async () => {
        const agent = new http.Agent({ keepAlive: true, scheduling });
        try {
          // Two connections: A answers after 10 ms, B after 80 ms, so B is freed last.
          const a = send(http, { ...origin(), path: '/delay?ms=10', agent });
          const b = send(http, { ...origin(), path: '/delay?ms=80', agent });
          const [ra, rb] = await Promise.all([a, b]);
          const portA = ra.req.socket.localPort;
          const portB = rb.req.socket.localPort;
          assert.notEqual(portA, portB);
          const next = await send(http, { ...origin(), path: '/next', agent });
          assert.equal(next.req.reusedSocket, true);
          assert.equal(next.req.socket.localPort, scheduling === 'lifo' ? portB : portA);
        } finally {
          agent.destroy();
        }
      });
    }

    test('Agent options and getName', T, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 3, maxFreeSockets: 7, timeout: 1234, scheduling: 'fifo' });
      try {
        assert.equal(agent.keepAlive, true);
        assert.equal(agent.maxSockets, 3);
        assert.equal(agent.maxFreeSockets, 7);
        assert.equal(agent.scheduling, 'fifo');
        assert.equal(agent.options.timeout, 1234);
        assert.equal(agent.defaultPort, 80);
        assert.equal(agent.protocol, 'http:');
        assert.equal(agent.getName({ host: 'example.com', port: 8080 }), 'example.com:8080:');
        assert.equal(agent.getName({ host: 'example.com', port: 8080, localAddress: '127.0.0.2' }), 'example.com:8080:127.0.0.2');
        assert.equal(agent.getName({ host: 'example.com', port: 8080, family: 6 }), 'example.com:8080::6');
      } finally {
        agent.destroy();
      }
    });

    test('Agent#createConnection can be overridden', T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      const calls = [];
      agent.createConnection = (options, cb) => {
        calls.push({ host: options.host, port: options.port });
        return net.createConnection({ host: '127.0.0.1', port: h.port }, cb);
      };
      try {
        // The target does not exist: the overridden factory sends it to our server.
        const { body } = await send(http, { host: 'nowhere.invalid', port: 12345, path: '/redirected', agent });
        const seen = JSON.parse(body);
        assert.equal(seen.url, '/redirected');
        assert.equal(seen.headers.host, 'nowhere.invalid:12345');
        assert.deepEqual(calls, [{ host: 'nowhere.invalid', port: 12345 }]);
      } finally {
        agent.destroy();
      }
    });

    // ---- events ------------------------------------------------------------------------------

    test("events: 'socket' (a net.Socket), 'response', 'finish', 'close'; setNoDelay / setSocketKeepAlive", T, async () => {
      const events = [];
      const req = http.request(h.url('/events'));
      req.setNoDelay(true);
      req.setSocketKeepAlive(true, 1000);
      req.on('socket', (socket) => {
        events.push('socket');
        assert.ok(socket instanceof net.Socket);
        assert.equal(req.socket, socket);
      });
      req.on('finish', () => events.push('finish'));
      req.on('close', () => events.push('close'));
      req.end();
      const [res] = await once(req, 'response');
      events.push('response');
      res.on('end', () => events.push('end'));
      await collect(res);
      await waitUntil(() => events.includes('close'), 2000, "'close'");
      assert.deepEqual(events, ['socket', 'finish', 'response', 'end', 'close']);
      assert.equal(req.finished, true);
      assert.equal(req.writableEnded, true);
    });

    test("Expect: 100-continue: 'continue' and 'information' (100), then the body is sent", T, async () => {
      const events = [];
      const seen = await new Promise((resolve, reject) => {
        const req = http.request({ ...origin(), method: 'POST', path: '/expect', headers: { Expect: '100-continue' } }, (res) => {
          events.push(`response ${res.statusCode}`);
          collect(res).then((b) => resolve(JSON.parse(b)), reject);
        });
        req.on('error', reject);
        req.on('information', (info) => {
          events.push(`information ${info.statusCode}`);
          assert.equal(info.statusMessage, 'Continue');
          assert.equal(info.httpVersion, '1.1');
        });
        req.on('continue', () => {
          events.push('continue');
          req.end('sent after 100');
        });
      });
      assert.deepEqual(events, ['continue', 'information 100', 'response 200']);
      assert.equal(seen.headers.expect, '100-continue');
      assert.equal(seen.body, 'sent after 100');
    });

    test("103 Early Hints: 'information' with its headers, then the response", T, async () => {
      const infos = [];
      const req = http.request(h.url('/hints'));
      req.on('information', (info) => infos.push(info));
      req.end();
      const [res] = await once(req, 'response');
      assert.equal((await collect(res)).toString(), 'after hints');
      assert.equal(infos.length, 1);
      assert.equal(infos[0].statusCode, 103);
      assert.equal(infos[0].statusMessage, 'Early Hints');
      assert.equal(infos[0].headers.link, '</style.css>; rel=preload; as=style');
      assert.ok(Array.isArray(infos[0].rawHeaders));
    });

    test("101 Switching Protocols: 'upgrade' (res, socket, head) with the bytes after the head; the socket is usable", T, async () => {
      const req = http.request({ ...origin(), path: '/ws', headers: { Connection: 'Upgrade', Upgrade: 'echo' } });
      req.on('response', () => assert.fail("no 'response' for a 101"));
      req.end();
      const [res, socket, head] = await once(req, 'upgrade');
      try {
        assert.equal(res.statusCode, 101);
        assert.equal(res.headers.upgrade, 'echo');
        assert.ok(Buffer.isBuffer(head));
        assert.ok(socket instanceof net.Socket);
        // The server sent HELLO right behind the head: it is in `head` or the socket's first data.
        let got = head.toString();
        socket.on('data', (d) => { got += d; });
        await waitUntil(() => got.length >= 5, 2000, 'HELLO');
        assert.equal(got, 'HELLO');
        socket.write('ping');
        await waitUntil(() => got === 'HELLOping', 2000, 'the echo through the upgraded socket');
      } finally {
        socket.destroy();
      }
    });

    test("CONNECT: 'connect' (res, socket, head); the tunnel carries bytes both ways", T, async () => {
      const req = http.request({ ...origin(), method: 'CONNECT', path: 'tunnel.example:443' });
      req.end();
      const [res, socket, head] = await once(req, 'connect');
      try {
        assert.equal(res.statusCode, 200);
        assert.equal(res.statusMessage, 'Connection Established');
        assert.ok(Buffer.isBuffer(head));
        assert.equal(head.length, 0);
        socket.write('through the tunnel');
        const [echoed] = await once(socket, 'data');
        assert.equal(echoed.toString(), 'through the tunnel');
      } finally {
        socket.destroy();
      }
    });

    test('CONNECT answered 407: a response with Keel (deliberate difference); Node emits connect', T, async () => {
      const req = http.request({ ...origin(), method: 'CONNECT', path: 'denied.example:443', agent: false });
      req.on('error', () => {});
      req.end();
      if (isKeel) {
        const [res] = await once(req, 'response');
        assert.equal(res.statusCode, 407);
        assert.equal((await collect(res)).toString(), 'denied');
      } else {
        const [res, socket] = await once(req, 'connect');
        assert.equal(res.statusCode, 407);
        socket.destroy();
      }
    });

    // ---- errors ------------------------------------------------------------------------------

    test('the server closes the connection before answering: ECONNRESET "socket hang up"', T, async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const req = http.request({ ...origin(), path: '/destroy', agent });
        const done = closed(req);
        const failed = once(req, 'error');
        req.end();
        const [err] = await failed;
        assert.equal(err.code, 'ECONNRESET');
        assert.equal(err.message, 'socket hang up');
        await done;
      } finally {
        agent.destroy();
      }
    });

    test("req.destroy() before the response: 'error' ECONNRESET socket hang up, then 'close'", T, async () => {
      const events = [];
      const req = http.request({ ...origin(), path: '/hang?destroy', agent: false });
      req.on('error', (err) => events.push(`error ${err.code} ${err.message}`));
      req.on('close', () => events.push('close'));
      req.on('response', () => events.push('response'));
      hooks.onRequest = (r) => {
        if (r.url === '/hang?destroy') req.destroy();
      };
      try {
        req.end();
        await waitUntil(() => events.includes('close'), 3000, "'close'");
        assert.deepEqual(events, ['error ECONNRESET socket hang up', 'close']);
        assert.equal(req.destroyed, true);
      } finally {
        hooks.onRequest = undefined;
      }
    });

    test('req.destroy() before a socket is assigned: error then close, nothing sent', T, async () => {
      const before = h.requests.length;
      const events = [];
      const req = http.request({ ...origin(), path: '/never-sent', agent: false });
      req.on('error', (err) => events.push(`error ${err.code}`));
      req.on('close', () => events.push('close'));
      req.end();
      req.destroy();
      await waitUntil(() => events.includes('close'), 2000, "'close'");
      assert.deepEqual(events, ['error ECONNRESET', 'close']);
      await sleep(50);
      assert.equal(h.requests.slice(before).some((r) => r.url === '/never-sent'), false);
    });

    test("req.destroy(err): 'error' is err", T, async () => {
      const req = http.request({ ...origin(), path: '/hang?destroy-err', agent: false });
      const done = closed(req);
      const failed = once(req, 'error');
      req.end();
      await once(req, 'socket');
      const mine = new Error('mine');
      req.destroy(mine);
      const [err] = await failed;
      assert.equal(err, mine);
      await done;
    });

    test("abort(): 'abort' event, req.aborted, then 'close'", T, async () => {
      const events = [];
      const req = http.request({ ...origin(), path: '/hang?abort', agent: false });
      req.on('abort', () => events.push('abort'));
      req.on('error', (err) => events.push(`error ${err.code}`));
      req.on('close', () => events.push('close'));
      hooks.onRequest = (r) => {
        if (r.url === '/hang?abort') req.abort();
      };
      try {
        req.end();
        await waitUntil(() => events.includes('close'), 3000, "'close'");
        await sleep(20);
        assert.equal(req.aborted, true);
        // As Node documents: abort() before the response emits 'abort', then 'error'
        // (ECONNRESET socket hang up), then 'close'.
        assert.deepEqual(events, ['abort', 'error ECONNRESET', 'close']);
      } finally {
        hooks.onRequest = undefined;
      }
    });

    test("signal: AbortController.abort() → 'error' AbortError / ABORT_ERR", T, async () => {
      const ac = new AbortController();
      const req = http.request({ ...origin(), path: '/hang?signal', agent: false, signal: ac.signal });
      hooks.onRequest = (r) => {
        if (r.url === '/hang?signal') ac.abort();
      };
      try {
        const done = closed(req);
        const failed = once(req, 'error');
        req.end();
        const [err] = await failed;
        assert.equal(err.name, 'AbortError');
        assert.equal(err.code, 'ABORT_ERR');
        await done;
        assert.equal(req.destroyed, true);
      } finally {
        hooks.onRequest = undefined;
      }
    });

    test('signal already aborted: the request fails with AbortError and is never sent', T, async () => {
      const before = h.requests.length;
      const req = http.request({ ...origin(), path: '/pre-aborted', agent: false, signal: AbortSignal.abort() });
      req.end();
      const [err] = await once(req, 'error');
      assert.equal(err.name, 'AbortError');
      assert.equal(err.code, 'ABORT_ERR');
      await sleep(50);
      assert.equal(h.requests.slice(before).some((r) => r.url === '/pre-aborted'), false);
    });

    test("setTimeout(100) with a server that never answers: 'timeout', then the test destroys", T, async () => {
      const started = Date.now();
      const req = http.request({ ...origin(), path: '/hang?timeout', agent: false });
      let callbackCalled = false;
      req.setTimeout(100, () => { callbackCalled = true; });
      req.on('error', () => {});
      const done = closed(req);
      req.end();
      await once(req, 'timeout');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 90, `timeout after ${elapsed} ms`);
      assert.ok(callbackCalled);
      assert.equal(req.destroyed, false); // 'timeout' does not destroy by itself
      req.destroy();
      await done;
    });

    test("options.timeout: 'timeout' event", T, async () => {
      const req = http.request({ ...origin(), path: '/hang?timeout-option', agent: false, timeout: 80 });
      req.on('error', () => {});
      const done = closed(req);
      req.end();
      await once(req, 'timeout');
      req.destroy();
      await done;
    });
  });
}

// ---- against raw servers ---------------------------------------------------------------------

describe('client against raw node:net servers', () => {
  test('a close-delimited response (no Content-Length, no chunked) ends when the server closes', T, async () => {
    const s = await startRawServer((socket) => {
      onRequestHeads(socket, () => socket.end('HTTP/1.1 200 OK\r\n\r\nbody until close'));
    });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const { res, body } = await send(http, s.url('/'), { agent });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(res.headers['transfer-encoding'], undefined);
      assert.equal(body.toString(), 'body until close');
      assert.equal(res.complete, true);
      // That connection is gone: the next request opens another one.
      const next = await send(http, s.url('/again'), { agent });
      assert.equal(next.body.toString(), 'body until close');
      assert.equal(next.req.reusedSocket, false);
      assert.equal(s.connections, 2);
    } finally {
      agent.destroy();
      await s.close();
    }
  });

  test('connection refused: ECONNREFUSED', T, async () => {
    const s = await startRawServer(() => {});
    const port = s.port;
    await s.close();
    const req = http.get(`http://127.0.0.1:${port}/`);
    const done = closed(req);
    const [err] = await once(req, 'error');
    assert.equal(err.code, 'ECONNREFUSED');
    await done;
  });

  test('Content-Length together with chunked in a response: HPE_INVALID_TRANSFER_ENCODING', T, async () => {
    const s = await startRawServer((socket) => {
      onRequestHeads(socket, () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'));
    });
    try {
      const req = http.get(s.url('/'));
      req.on('response', () => assert.fail('no response for malformed framing'));
      const [err] = await once(req, 'error');
      assert.equal(err.code, 'HPE_INVALID_TRANSFER_ENCODING');
    } finally {
      await s.close();
    }
  });

  test('a reused keep-alive socket closed by the server: GET retried by Keel (deliberate difference)', T, async () => {
    // The server answers the first request with keep-alive and closes right after; the second
    // request goes on the dead pooled socket before the client noticed.
    const s = await startRawServer((socket) => {
      onRequestHeads(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok');
        setTimeout(() => socket.destroy(), 20);
      });
    });
    const agent = new http.Agent({ keepAlive: true });
    try {
      await send(http, s.url('/1'), { agent });
      // Find the moment the pooled socket is dead on the server side but still looks idle.
      await sleep(25);
      const attempt = send(http, s.url('/2'), { agent });
      if (isKeel) {
        const { res, body } = await attempt;
        assert.equal(res.statusCode, 200);
        assert.equal(body.toString(), 'ok');
      } else {
        // Node either errors (ECONNRESET) or, if it saw the close first, opens a new connection.
        await attempt.then(() => {}, (err) => assert.equal(err.code, 'ECONNRESET'));
      }
    } finally {
      agent.destroy();
      await s.close();
    }
  });
});

// ---- synchronous validation -----------------------------------------------------------------

describe('request() validates synchronously', () => {
  test('a header value with CR/LF: ERR_INVALID_CHAR (options and setHeader)', () => {
    assert.throws(() => http.request({ host: '127.0.0.1', port: 1, headers: { 'X-Bad': 'a\r\nInjected: 1' } }), { code: 'ERR_INVALID_CHAR' });
    const req = http.request({ host: '127.0.0.1', port: 1, agent: false });
    req.on('error', () => {});
    try {
      assert.throws(() => req.setHeader('X-Bad', 'line\nbreak'), { code: 'ERR_INVALID_CHAR' });
      assert.throws(() => req.setHeader('Bad Name', 'v'), { code: 'ERR_INVALID_HTTP_TOKEN' });
      assert.throws(() => req.setHeader('X-Undefined', undefined), { code: 'ERR_HTTP_INVALID_HEADER_VALUE' });
    } finally {
      req.destroy();
    }
  });

  test('an invalid method: ERR_INVALID_HTTP_TOKEN', () => {
    assert.throws(() => http.request({ host: '127.0.0.1', port: 1, method: 'GE T' }), { code: 'ERR_INVALID_HTTP_TOKEN' });
    assert.throws(() => http.request({ host: '127.0.0.1', port: 1, method: 'G\r\nET' }), { code: 'ERR_INVALID_HTTP_TOKEN' });
  });

  test('a path with a space: ERR_UNESCAPED_CHARACTERS', () => {
    assert.throws(() => http.request({ host: '127.0.0.1', port: 1, path: '/a b' }), { code: 'ERR_UNESCAPED_CHARACTERS', name: 'TypeError' });
  });

  test('an https: URL with the http client: ERR_INVALID_PROTOCOL', () => {
    assert.throws(() => http.request('https://127.0.0.1:1/'), { code: 'ERR_INVALID_PROTOCOL', name: 'TypeError' });
    assert.throws(() => http.get({ protocol: 'ftp:', host: '127.0.0.1', port: 1 }), { code: 'ERR_INVALID_PROTOCOL' });
  });

  test('Agent#getName without a port leaves the port empty', T, () => {
    // Regression test (bug fixed in the engine): Keel fills in the default port ('localhost:80:'); Node's getName() uses only
    // what it is given: 'localhost::' (and 'example.com::' for { host: 'example.com' }).
    const agent = new http.Agent();
    assert.equal(agent.getName({}), 'localhost::');
    assert.equal(agent.getName({ host: 'example.com' }), 'example.com::');
  });

  test('headers cannot change once sent: ERR_HTTP_HEADERS_SENT', T, async () => {
    const s = await startServer('keel', echo);
    try {
      const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', agent: false });
      req.write('x');
      req.flushHeaders();
      await once(req, 'socket');
      await sleep(20);
      assert.equal(req.headersSent, true);
      assert.throws(() => req.setHeader('X-Late', '1'), { code: 'ERR_HTTP_HEADERS_SENT' });
      req.end();
      const [res] = await once(req, 'response');
      await collect(res);
    } finally {
      await s.close();
    }
  });
});

// ---- the package from CommonJS, and process lifetime -----------------------------------------

function runNode(args, ms = 5000) {
  return new Promise((resolve) => {
    const started = Date.now();
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    execFile(process.execPath, args, { cwd: here, env, timeout: ms }, (error, stdout, stderr) => {
      resolve({ error, stdout, stderr, elapsed: Date.now() - started });
    });
  });
}

describe('from CommonJS and as a process', () => {
  test("require('keel').request from a .cjs file", T, async () => {
    const s = await startServer('keel', echo);
    try {
      const { error, stdout, stderr } = await runNode([path.join(here, 'fixtures', 'cjs-request.cjs'), s.url('/from-cjs')]);
      assert.equal(error, null, stderr);
      const out = JSON.parse(stdout);
      assert.equal(out.statusCode, 200);
      assert.equal(out.typeofRequest, 'function');
      assert.equal(out.sameAsDefault, true);
      assert.equal(out.seen.method, 'POST');
      assert.equal(out.seen.url, '/from-cjs');
      assert.equal(out.seen.body, 'from a cjs file');
      assert.equal(out.seen.headers['content-length'], '15');
    } finally {
      await s.close();
    }
  });

  test('an idle keep-alive socket in globalAgent does not keep the process alive (as Node)', T, async () => {
    // Node's Agent unrefs free sockets (keepSocketAlive) and refs them again when reused; so do
    // Keel's pools.
    // The server keeps the connection open (5 s keep-alive); the child must exit on its own
    // right after its response, as with node:http's globalAgent (free sockets are unref'd).
    const s = await startServer('node', echo);
    try {
      const script = `
        const http = require(${JSON.stringify(isKeel ? 'keel' : 'node:http')});
        http.get(${JSON.stringify(s.url('/idle'))}, (res) => {
          res.resume();
          res.on('end', () => console.log('done ' + res.statusCode));
        });`;
      const { error, stdout, elapsed } = await runNode(['-e', script], 3000);
      assert.equal(stdout.trim(), 'done 200');
      assert.equal(error, null, `exited on its own (after ${elapsed} ms)`);
      assert.ok(elapsed < 2500, `exited after ${elapsed} ms`);
    } finally {
      await s.close();
    }
  });
});
