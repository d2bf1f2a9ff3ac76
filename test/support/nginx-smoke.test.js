// Proves that test/support/nginx.js starts a working nginx: the default locations answer, an
// http.Agent reuses one connection, the options reach the config, a bad config fails loudly and
// stop() leaves nothing behind. Skipped when nginx is not installed, unless KEEL_REQUIRE_NGINX=1
// (then a missing nginx is a failure).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import {
  CHUNKED_BODY,
  CLOSE_BODY,
  HELLO_BODY,
  JSON_BODY,
  STATIC_FILES,
  hasNginx,
  proxyLocation,
  startNginx,
  staticContent,
} from './nginx.js';

// nginx is required (.ci/run installs it); KEEL_REQUIRE_NGINX=0 lets a machine without it skip.
const required = process.env.KEEL_REQUIRE_NGINX !== '0';
const skip = !hasNginx() && !required ? 'nginx is not installed (apt-get install -y nginx-light)' : false;

/** GET with node:http; resolves to { status, headers, body (Buffer), localPort }. */
function get(url, options = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, ...options }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), localPort: res.socket?.localPort }),
      );
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`timeout: GET ${url}`)));
  });
}

/** Sequential GETs through one keep-alive agent; resolves to the number of distinct sockets used. */
async function socketsFor(url, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set();
  agent.on('free', (socket) => sockets.add(socket));
  try {
    for (let i = 0; i < n; i++) {
      const r = await get(url, { agent });
      assert.equal(r.status, 200);
    }
    return sockets.size;
  } finally {
    agent.destroy();
  }
}

test('nginx helper: default locations, keep-alive, stop()', { skip }, async (t) => {
  const ngx = await startNginx();
  t.after(() => ngx.stop());
  assert.match(ngx.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ngx.url, `http://127.0.0.1:${ngx.port}`);

  await t.test('/hello', async () => {
    const r = await get(`${ngx.url}/hello`);
    assert.equal(r.status, 200);
    assert.match(r.headers.server, /^nginx/);
    assert.match(r.headers['content-type'], /^text\/plain/);
    assert.equal(r.headers['content-length'], String(HELLO_BODY.length));
    assert.equal(r.body.toString(), HELLO_BODY);
  });

  await t.test('/static/1k, /static/64k and /static/1m have their generated content', async () => {
    for (const [name, size] of Object.entries(STATIC_FILES)) {
      const r = await get(`${ngx.url}/static/${name}`);
      assert.equal(r.status, 200, name);
      assert.equal(r.headers['content-length'], String(size), name);
      assert.equal(r.body.length, size, name);
      assert.ok(r.body.equals(staticContent(size)), `${name}: content differs`);
    }
    assert.equal((await get(`${ngx.url}/static/missing`)).status, 404);
  });

  await t.test('/json', async () => {
    const r = await get(`${ngx.url}/json`);
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(r.body.toString()), JSON.parse(JSON_BODY));
  });

  await t.test('/chunked is sent with Transfer-Encoding: chunked, in several chunks', { skip: !ngx.chunked && 'nginx built without SSI' }, async () => {
    const r = await get(`${ngx.url}/chunked`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(r.body.toString('latin1'), CHUNKED_BODY);
    // on the wire: more than one data chunk before the last-chunk
    const raw = await rawGet(ngx.port, '/chunked');
    const sizes = [...raw.split('\r\n\r\n').slice(1).join('\r\n\r\n').matchAll(/(?:^|\r\n)([0-9a-f]+)\r\n/g)].map((m) => parseInt(m[1], 16));
    assert.ok(sizes.filter((s) => s > 0).length >= 2, `chunk sizes ${JSON.stringify(sizes)}`);
  });

  await t.test('/close answers with Connection: close and closes', async () => {
    const r = await get(`${ngx.url}/close`, { agent: new http.Agent({ keepAlive: true }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    assert.equal(r.body.toString(), CLOSE_BODY);
  });

  await t.test('an http.Agent with keepAlive uses one socket for 10 requests', async () => {
    assert.equal(await socketsFor(`${ngx.url}/hello`, 10), 1);
  });

  await t.test('stop() ends nginx and removes its temp dir', async () => {
    const { dir, port } = ngx;
    assert.ok(existsSync(dir));
    await ngx.stop();
    assert.equal(ngx.alive(), false);
    assert.equal(existsSync(dir), false);
    // a fresh connection (not one pooled by http.globalAgent, which keeps sockets alive in Node 20)
    await assert.rejects(
      new Promise((resolve, reject) => {
        const sock = net.connect({ host: '127.0.0.1', port }, () => {
          sock.destroy();
          resolve();
        });
        sock.on('error', reject);
      }),
      /ECONNREFUSED/,
    );
    await ngx.stop(); // idempotent
  });
});

/** One raw GET with Connection: close; resolves to the whole response as a latin1 string. */
function rawGet(port, path) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let data = '';
    sock.setEncoding('latin1');
    sock.setTimeout(5000, () => sock.destroy(new Error('raw GET timed out')));
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    sock.on('data', (d) => (data += d));
    sock.on('error', reject);
    sock.on('close', () => resolve(data));
  });
}

test('nginx helper: keepaliveRequests and keepaliveTimeout reach the config', { skip }, async (t) => {
  const ngx = await startNginx({ keepaliveRequests: 3, keepaliveTimeout: 300 });
  t.after(() => ngx.stop());
  assert.match(ngx.config, /keepalive_requests 3;/);
  assert.match(ngx.config, /keepalive_timeout 300ms;/);
  // 10 requests, at most 3 per connection: 4 connections
  assert.equal(await socketsFor(`${ngx.url}/hello`, 10), 4);

  // an idle keep-alive connection is closed by nginx after ~300 ms
  const sock = net.connect({ host: '127.0.0.1', port: ngx.port });
  const started = Date.now();
  const closed = new Promise((resolve, reject) => {
    sock.setTimeout(3000, () => reject(new Error('nginx did not close the idle connection within 3 s')));
    sock.on('error', reject);
    sock.on('close', resolve);
  });
  sock.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  sock.resume();
  await closed;
  sock.destroy();
  assert.ok(Date.now() - started >= 250, `closed after ${Date.now() - started} ms`);
});

test('nginx helper: upstreams + locations proxy to a Node server', { skip }, async (t) => {
  const backend = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`node saw ${req.method} ${req.url}`);
  });
  await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => backend.close(resolve)));
  const ngx = await startNginx({
    upstreams: { backend: `127.0.0.1:${backend.address().port}` },
    locations: proxyLocation('/api/', 'backend'),
  });
  t.after(() => ngx.stop());
  const r = await get(`${ngx.url}/api/thing?x=1`);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'node saw GET /api/thing?x=1');
  assert.equal((await get(`${ngx.url}/hello`)).body.toString(), HELLO_BODY); // defaults still there
});

test('nginx helper: a bad config rejects with nginx\'s error output and leaves nothing behind', { skip }, async () => {
  await assert.rejects(startNginx({ locations: 'no_such_directive on;' }), (err) => {
    assert.match(err.message, /nginx failed to start/);
    assert.match(err.message, /unknown directive "no_such_directive"/);
    const dir = /-p (\S+?)\/? -c/.exec(err.message)?.[1];
    assert.ok(dir, err.message);
    assert.equal(existsSync(dir), false, `${dir} left behind`);
    return true;
  });
});
