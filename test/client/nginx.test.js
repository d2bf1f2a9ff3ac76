// keel/client against a real server: nginx started by test/support/nginx.js on 127.0.0.1.
// Keep-alive (and nginx closing after keepalive_requests or keepalive_timeout), chunked responses,
// a 1 MiB static file, HEAD, Connection: close, 50 concurrent requests over 10 connections,
// pipelining, gzip, and a streamed upload proxied to a Node backend. nginx's $connection and
// $connection_requests tell which connection served each request.
// nginx is required (.ci/run installs it); KEEL_REQUIRE_NGINX=0 lets a machine without it skip.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import nodeHttp from 'node:http';
import { Pool, Client } from 'keel/client';
import { CHUNKED_BODY, CLOSE_BODY, HELLO_BODY, JSON_BODY, STATIC_FILES, hasNginx, proxyLocation, startNginx, staticContent } from '../support/nginx.js';
import { listen, readAll, shut, sleep } from './promise-support.js';

const T = { timeout: 10_000 };
const required = process.env.KEEL_REQUIRE_NGINX !== '0';
const skip = !hasNginx() && !required ? 'nginx is not installed' : false;

// `/conn` answers "<connection serial> <requests on it>"
const CONN_LOCATION = 'location = /conn { default_type text/plain; return 200 "$connection $connection_requests"; }';

/** GET `path`; resolves to { status, headers, body (string) }. */
async function get(pool, path, opts = {}) {
  const res = await pool.request({ path, ...opts });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** GET /conn; resolves to [connection, requestsOnIt]. */
async function whichConnection(pool) {
  const { status, body } = await get(pool, '/conn');
  assert.equal(status, 200);
  const [conn, n] = body.split(' ').map(Number);
  return [conn, n];
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

describe('keel/client against nginx', { skip }, () => {
  let ngx;
  let backend;
  before(async () => {
    backend = nodeHttp.createServer(async (req, res) => {
      const body = await readAll(req);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, length: body.length, sha256: sha256(body), te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null }));
    });
    const backendOrigin = await listen(backend);
    ngx = await startNginx({
      upstreams: { backend: new URL(backendOrigin).host },
      locations: [
        CONN_LOCATION,
        proxyLocation('/api/', 'backend', 'client_max_body_size 20m;'),
        // the generated static files, gzipped (a relative alias is relative to nginx's prefix, its dir)
        'location /gz/ { gzip on; gzip_types *; gzip_min_length 0; alias www/static/; default_type text/plain; }',
      ].join('\n    '),
    });
  });
  after(async () => {
    await ngx?.stop();
    if (backend) await shut(backend);
  });

  test('GET /hello, /json: status, headers, body', T, async () => {
    const pool = new Pool(ngx.url);
    try {
      const hello = await get(pool, '/hello');
      assert.equal(hello.status, 200);
      assert.match(hello.headers.server, /^nginx/);
      assert.equal(hello.headers['content-length'], String(HELLO_BODY.length));
      assert.equal(hello.body, HELLO_BODY);
      const res = await pool.request({ path: '/json' });
      assert.match(res.headers['content-type'], /^application\/json/);
      assert.deepEqual(await res.body.json(), JSON.parse(JSON_BODY));
      assert.equal((await get(pool, '/static/missing')).status, 404);
    } finally {
      await pool.close();
    }
  });

  test('keep-alive: 20 sequential requests on one connection', T, async () => {
    const client = new Client(ngx.url);
    try {
      const seen = [];
      for (let i = 0; i < 20; i++) seen.push(await whichConnection(client));
      assert.equal(new Set(seen.map(([c]) => c)).size, 1, JSON.stringify(seen));
      assert.deepEqual(seen.map(([, n]) => n), Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      await client.close();
    }
  });

  test('chunked response from nginx (SSI): de-chunked exactly', T, async (t) => {
    if (!ngx.chunked) {
      t.skip('nginx built without SSI');
      return;
    }
    const pool = new Pool(ngx.url);
    try {
      for (let i = 0; i < 3; i++) {
        const r = await get(pool, '/chunked');
        assert.equal(r.status, 200);
        assert.equal(r.headers['transfer-encoding'], 'chunked');
        assert.equal(r.headers['content-length'], undefined);
        assert.equal(r.body, CHUNKED_BODY);
      }
    } finally {
      await pool.close();
    }
  });

  test('static files 1k, 64k and a 1 MiB file arrive exactly', T, async () => {
    const pool = new Pool(ngx.url);
    try {
      for (const [name, size] of Object.entries(STATIC_FILES)) {
        const res = await pool.request({ path: `/static/${name}` });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-length'], String(size));
        const bytes = Buffer.from(await res.body.bytes());
        assert.equal(bytes.length, size, name);
        assert.ok(bytes.equals(staticContent(size)), `${name}: content differs`);
      }
    } finally {
      await pool.close();
    }
  });

  test('HEAD of the 1 MiB file: Content-Length, no body, the connection stays in step', T, async () => {
    const client = new Client(ngx.url);
    try {
      const [c1] = await whichConnection(client);
      const res = await client.request({ method: 'HEAD', path: '/static/1m' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-length'], String(STATIC_FILES['1m']));
      assert.equal(await res.body.text(), '');
      const [c2, n] = await whichConnection(client);
      assert.equal(c2, c1);
      assert.equal(n, 3);
    } finally {
      await client.close();
    }
  });

  test('a location that answers Connection: close: every request on a new connection, all succeed', T, async () => {
    const client = new Client(ngx.url);
    try {
      const [before] = await whichConnection(client);
      for (let i = 0; i < 5; i++) {
        const r = await get(client, '/close');
        assert.equal(r.status, 200);
        assert.equal(r.headers.connection, 'close');
        assert.equal(r.body, CLOSE_BODY);
      }
      const [after, n] = await whichConnection(client);
      assert.ok(after > before, 'a new connection after the closes');
      assert.equal(n, 1);
    } finally {
      await client.close();
    }
  });

  test('50 concurrent requests through Pool({ connections: 10 }): all succeed on at most 10 connections', T, async () => {
    const pool = new Pool(ngx.url, { connections: 10 });
    try {
      const paths = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? '/static/64k' : i % 5 === 1 ? '/json' : '/conn'));
      const results = await Promise.all(paths.map((p) => get(pool, p)));
      results.forEach((r, i) => {
        assert.equal(r.status, 200, `#${i}`);
        if (paths[i] === '/static/64k') assert.equal(r.body, staticContent(STATIC_FILES['64k']).toString('latin1'));
        if (paths[i] === '/json') assert.equal(r.body, JSON_BODY);
      });
      const conns = new Set(results.filter((_, i) => paths[i] === '/conn').map((r) => r.body.split(' ')[0]));
      assert.ok(conns.size <= 10 && conns.size >= 2, `${conns.size} connections`);
      // 20 more: still no more than 10 connections in all (nginx closed none of them)
      const again = await Promise.all(Array.from({ length: 20 }, () => whichConnection(pool)));
      for (const [c] of again) conns.add(String(c));
      assert.ok(conns.size <= 10, `${conns.size} connections`);
    } finally {
      await pool.close();
    }
  });

  test('pipelining: 10 concurrent GETs on one connection to nginx, each response to its request', T, async () => {
    const pool = new Pool(ngx.url, { connections: 1, pipelining: 10 });
    try {
      const paths = ['/hello', '/static/1k', '/json', '/conn', '/static/64k', '/hello', ngx.chunked ? '/chunked' : '/json', '/conn', '/static/1k', '/conn'];
      const results = await Promise.all(paths.map((p) => get(pool, p)));
      const expected = {
        '/hello': HELLO_BODY,
        '/json': JSON_BODY,
        '/static/1k': staticContent(1024).toString('latin1'),
        '/static/64k': staticContent(65536).toString('latin1'),
        '/chunked': CHUNKED_BODY,
      };
      results.forEach((r, i) => {
        assert.equal(r.status, 200, paths[i]);
        if (expected[paths[i]] !== undefined) assert.equal(r.body, expected[paths[i]], paths[i]);
      });
      const conns = results.filter((_, i) => paths[i] === '/conn').map((r) => r.body.split(' ').map(Number));
      assert.equal(new Set(conns.map(([c]) => c)).size, 1, 'one connection');
      assert.deepEqual(conns.map(([, n]) => n), [4, 8, 10], 'in request order on it');
    } finally {
      await pool.close();
    }
  });

  test('decompress: gzip from nginx decoded; without it the gzip bytes', T, async () => {
    const pool = new Pool(ngx.url);
    try {
      const res = await pool.request({ path: '/gz/64k', decompress: true });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-encoding'], undefined);
      assert.equal(await res.body.text(), staticContent(65536).toString('latin1'));
      const raw = await pool.request({ path: '/gz/64k', headers: { 'accept-encoding': 'gzip' } });
      assert.equal(raw.headers['content-encoding'], 'gzip');
      const bytes = Buffer.from(await raw.body.bytes());
      assert.ok(bytes.length < 65536);
      assert.ok((await import('node:zlib')).gunzipSync(bytes).equals(staticContent(65536)));
    } finally {
      await pool.close();
    }
  });

  test('a 5 MiB streamed (chunked) upload through nginx to a Node backend arrives exactly', T, async () => {
    const pool = new Pool(ngx.url);
    try {
      const data = crypto.randomBytes(5 * 1024 * 1024);
      async function* gen() {
        for (let i = 0; i < data.length; i += 200_000) yield data.subarray(i, i + 200_000);
      }
      const res = await pool.request({ method: 'POST', path: '/api/upload', body: gen() });
      assert.equal(res.statusCode, 200);
      const seen = await res.body.json();
      assert.equal(seen.method, 'POST');
      assert.equal(seen.length, data.length);
      assert.equal(seen.sha256, sha256(data));
      // and a Buffer body
      const res2 = await pool.request({ method: 'PUT', path: '/api/put', body: data.subarray(0, 100_000) });
      const seen2 = await res2.body.json();
      assert.equal(seen2.sha256, sha256(data.subarray(0, 100_000)));
      assert.equal(seen2.cl, '100000');
    } finally {
      await pool.close();
    }
  });
});

describe('keel/client against nginx with keepalive_requests 5 and keepalive_timeout 300ms', { skip }, () => {
  let ngx;
  before(async () => {
    ngx = await startNginx({ keepaliveRequests: 5, keepaliveTimeout: 300, locations: CONN_LOCATION });
  });
  after(() => ngx?.stop());

  test('20 sequential requests: nginx closes after every 5th, all 20 succeed on 4 connections', T, async () => {
    const client = new Client(ngx.url);
    try {
      const seen = [];
      for (let i = 0; i < 20; i++) seen.push(await whichConnection(client));
      assert.deepEqual(seen.map(([, n]) => n), Array.from({ length: 20 }, (_, i) => (i % 5) + 1));
      assert.equal(new Set(seen.map(([c]) => c)).size, 4);
    } finally {
      await client.close();
    }
  });

  test('20 sequential requests of mixed kinds with keepalive_requests 5', T, async () => {
    const pool = new Pool(ngx.url, { connections: 2 });
    try {
      for (let i = 0; i < 20; i++) {
        const path = ['/hello', '/static/64k', '/json', ngx.chunked ? '/chunked' : '/static/1k'][i % 4];
        const r = await get(pool, path);
        assert.equal(r.status, 200, `#${i} ${path}`);
        if (path === '/hello') assert.equal(r.body, HELLO_BODY);
        if (path === '/static/64k') assert.equal(r.body.length, 65536);
        if (path === '/chunked') assert.equal(r.body, CHUNKED_BODY);
      }
    } finally {
      await pool.close();
    }
  });

  test('pipelining 10 on one connection: nginx answers 5 and closes, the other 5 are retried, all succeed', T, async () => {
    const pool = new Pool(ngx.url, { connections: 1, pipelining: 10 });
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => get(pool, '/conn')));
      const seen = results.map((r) => r.body.split(' ').map(Number));
      assert.ok(results.every((r) => r.status === 200));
      assert.deepEqual(seen.slice(0, 5).map(([, n]) => n), [1, 2, 3, 4, 5]);
      assert.equal(new Set(seen.slice(0, 5).map(([c]) => c)).size, 1);
      assert.ok(!seen.slice(5).some(([c]) => c === seen[0][0]), 'the last 5 on other connections');
    } finally {
      await pool.close();
    }
  });

  test('50 concurrent requests through Pool({ connections: 10 }) with keepalive_requests 5: all succeed', T, async () => {
    const pool = new Pool(ngx.url, { connections: 10 });
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => get(pool, i % 2 ? '/static/1k' : '/conn')));
      assert.ok(results.every((r) => r.status === 200));
      results.forEach((r, i) => {
        if (i % 2) assert.equal(r.body, staticContent(1024).toString('latin1'));
      });
    } finally {
      await pool.close();
    }
  });

  test('an idle connection closed by nginx (keepalive_timeout 300ms): the next request goes on a new connection and succeeds', T, async () => {
    const client = new Client(ngx.url, { keepAliveTimeout: 10_000 });
    try {
      const [c1] = await whichConnection(client);
      await sleep(600); // nginx closes the idle connection after 300 ms
      const [c2, n] = await whichConnection(client);
      assert.notEqual(c2, c1);
      assert.equal(n, 1);
    } finally {
      await client.close();
    }
  });
});
