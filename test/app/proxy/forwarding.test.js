// keel/proxy: what is forwarded, field by field. Hop-by-hop fields removed both ways (RFC 9110
// §7.6.1, including fields named in Connection), X-Forwarded-*, Forwarded (RFC 7239), Via (RFC 9110
// §7.6.3), Host preserved or changed, paths prefixed and rewritten, statuses and fields relayed.
//
//   npm run build && node --test test/app/proxy/forwarding.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import nodeHttp from 'node:http';
import { createProxy, ProxyError } from 'keel/proxy';

import { collect, fieldsOf, rawExchange, send, startProxy, startRawUpstream, startUpstream } from './helpers.js';

const T = { timeout: 10_000 };

/** An upstream answering with what it received: { method, url, headers, rawHeaders, body }. */
function startEcho(kind) {
  return startUpstream(async (req, res) => {
    const body = (await collect(req)).toString();
    const json = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body });
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-Upstream', 'yes');
    res.end(json);
  }, { kind });
}

async function withEcho(options, fn, kind) {
  const upstream = await startEcho(kind);
  const front = await startProxy({ target: upstream.url, ...options });
  try {
    await fn(front, upstream);
  } finally {
    await front.close();
    await upstream.close();
  }
}

test('a GET is forwarded and the response relayed, with Via appended both ways', T, async () => {
  await withEcho({}, async (front, upstream) => {
    const r = await send(front.port, { path: '/hello?x=1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'yes');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers.via, '1.1 keel');
    const seen = JSON.parse(r.body);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/hello?x=1');
    assert.equal(seen.headers.host, `127.0.0.1:${front.port}`);
    assert.equal(seen.headers.via, '1.1 keel');
    assert.notEqual(upstream.port, front.port);
  });
});

test('X-Forwarded-For is appended; X-Forwarded-Proto/-Host are set (forged values replaced); Forwarded and Via appended', T, async () => {
  await withEcho({}, async (front) => {
    const r = await send(front.port, {
      path: '/',
      headers: {
        Host: 'example.test:8080',
        'X-Forwarded-For': '203.0.113.7',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'evil.test',
        Forwarded: 'for=203.0.113.7;proto=https',
        Via: '1.0 fred',
      },
    });
    assert.equal(r.status, 200);
    const { headers, rawHeaders } = JSON.parse(r.body);
    assert.equal(headers.host, 'example.test:8080');
    assert.equal(headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], 'example.test:8080');
    assert.equal(headers.forwarded, 'for=203.0.113.7;proto=https, for=127.0.0.1;host="example.test:8080";proto=http');
    assert.equal(headers.via, '1.0 fred, 1.1 keel');
    // One field line each: the lists are joined, never sent twice.
    const names = rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via', 'host']) {
      assert.equal(names.filter((n) => n === name).length, 1, name);
    }
  });
});

test('Forwarded quotes an IPv6 client address (RFC 7239 §6), X-Forwarded-For has it bare', T, async (t) => {
  const upstream = await startEcho();
  let front;
  try {
    front = await startProxy({ target: upstream.url }, { host: '::1' });
  } catch {
    await upstream.close();
    t.skip('no IPv6 loopback');
    return;
  }
  try {
    const r = await send(front.port, { host: '::1', path: '/', headers: { Host: 'v6.test' } });
    assert.equal(r.status, 200);
    const { headers } = JSON.parse(r.body);
    assert.equal(headers.forwarded, 'for="[::1]";host=v6.test;proto=http');
    assert.equal(headers['x-forwarded-for'], '::1');
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('an IPv6 upstream URL ([::1]) works, and changeOrigin sends its bracketed host', T, async (t) => {
  let upstream;
  try {
    upstream = await startUpstream((req, res) => res.end(JSON.stringify({ host: req.headers.host, address: req.socket.remoteAddress })), { host: '::1' });
  } catch {
    t.skip('no IPv6 loopback');
    return;
  }
  const front = await startProxy({ target: upstream.url, changeOrigin: true });
  try {
    const r = await send(front.port, { path: '/' });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { host: `[::1]:${upstream.port}`, address: '::1' });
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('xForwarded: false, forwarded: false, via: false add nothing and pass incoming fields as they are', T, async () => {
  await withEcho({ xForwarded: false, forwarded: false, via: false }, async (front) => {
    const r = await send(front.port, { path: '/', headers: { 'X-Forwarded-Proto': 'https', Forwarded: 'for=1.2.3.4', Via: '1.0 fred' } });
    const { headers } = JSON.parse(r.body);
    assert.equal(headers['x-forwarded-for'], undefined);
    assert.equal(headers['x-forwarded-host'], undefined);
    assert.equal(headers['x-forwarded-proto'], 'https');
    assert.equal(headers.forwarded, 'for=1.2.3.4');
    assert.equal(headers.via, '1.0 fred');
    assert.equal(r.headers.via, undefined);
  });
});

test('a custom via pseudonym, and Via for an HTTP/1.0 request says 1.0', T, async () => {
  await withEcho({ via: 'edge-1' }, async (front) => {
    const raw = await rawExchange(front.port, 'GET /v HTTP/1.0\r\nHost: a.test\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
    const [head, body] = raw.split('\r\n\r\n');
    assert.deepEqual(fieldsOf(head).filter(([n]) => n === 'via'), [['via', '1.1 edge-1']]);
    assert.equal(JSON.parse(body).headers.via, '1.0 edge-1');
  });
});

test('Host is preserved by default and replaced by the upstream host with changeOrigin', T, async () => {
  await withEcho({ changeOrigin: true }, async (front, upstream) => {
    const r = await send(front.port, { path: '/', headers: { Host: 'public.test' } });
    const { headers } = JSON.parse(r.body);
    assert.equal(headers.host, `127.0.0.1:${upstream.port}`);
    assert.equal(headers['x-forwarded-host'], 'public.test');
  });
});

test('hop-by-hop request fields are removed, with every field named in Connection', T, async () => {
  await withEcho({}, async (front) => {
    const raw = await rawExchange(front.port,
      'GET /hop HTTP/1.1\r\nHost: h.test\r\n' +
      'Connection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\n' +
      'Proxy-Connection: keep-alive\r\nTE: trailers\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n' +
      'Upgrade: h2c\r\nX-Kept: yes\r\nAuthorization: Bearer abc\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
    const { headers, rawHeaders } = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    for (const name of ['x-secret-hop', 'keep-alive', 'proxy-connection', 'te', 'proxy-authorization', 'upgrade', 'transfer-encoding']) {
      assert.equal(headers[name], undefined, name);
    }
    assert.equal(headers['x-kept'], 'yes');
    assert.equal(headers.authorization, 'Bearer abc');
    // The only Connection field is the client's own (keep-alive to the upstream).
    assert.equal(headers.connection, 'keep-alive');
    assert.equal(rawHeaders.filter((v) => /secret/i.test(v)).length, 0);
  });
});

test('hop-by-hop response fields are removed, with every field named in Connection', T, async () => {
  const upstream = await startRawUpstream((socket) => {
    socket.once('data', () => {
      socket.end(
        'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Upstream-Hop\r\nX-Upstream-Hop: 1\r\n' +
        'Keep-Alive: timeout=99\r\nProxy-Authenticate: Basic realm="x"\r\nProxy-Connection: keep-alive\r\n' +
        'Upgrade: h2c\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\nX-Kept: yes\r\n' +
        'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n' +
        '5\r\nhello\r\n0\r\nX-T: done\r\n\r\n');
    });
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const raw = await rawExchange(front.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    const fields = fieldsOf(head);
    const names = fields.map(([n]) => n);
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(names.includes('x-upstream-hop'), false);
    assert.equal(names.includes('proxy-authenticate'), false);
    assert.equal(names.includes('proxy-connection'), false);
    assert.equal(names.includes('upgrade'), false);
    assert.deepEqual(fields.filter(([n]) => n === 'keep-alive'), []); // the front answers Connection: close
    assert.deepEqual(fields.filter(([n]) => n === 'connection'), [['connection', 'close']]);
    assert.deepEqual(fields.filter(([n]) => n === 'set-cookie'), [['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
    assert.deepEqual(fields.filter(([n]) => n === 'x-kept'), [['x-kept', 'yes']]);
    assert.deepEqual(fields.filter(([n]) => n === 'transfer-encoding'), [['transfer-encoding', 'chunked']]); // the front's own framing
    // The body, and its trailer, are relayed.
    assert.equal(raw.slice(raw.indexOf('\r\n\r\n') + 4), '5\r\nhello\r\n0\r\nX-T: done\r\n\r\n');
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('the upstream path: a base path prefixes it; pathRewrite (rules or a function) rewrites it', T, async () => {
  const upstream = await startEcho();
  const prefixed = await startProxy({ target: `${upstream.url}/base/` });
  const rules = await startProxy({ target: upstream.url, pathRewrite: { '^/api/v1': '/v1', '^/api': '' } });
  const fn = await startProxy({ target: `${upstream.url}/svc`, pathRewrite: (path, req) => `${path.toUpperCase()}?m=${req.method}` });
  try {
    const url = async (front, path) => JSON.parse((await send(front.port, { path })).body).url;
    assert.equal(await url(prefixed, '/x/y?q=1'), '/base/x/y?q=1');
    assert.equal(await url(prefixed, '/'), '/base/');
    assert.equal(await url(rules, '/api/users?id=2'), '/users?id=2');
    assert.equal(await url(rules, '/api/v1/users'), '/v1/users');
    assert.equal(await url(rules, '/other'), '/other');
    assert.equal(await url(fn, '/abc'), '/svc/ABC?m=GET');
  } finally {
    await prefixed.close();
    await rules.close();
    await fn.close();
    await upstream.close();
  }
});

test('status code, reason phrase, repeated fields, HEAD, 204 and 304 are relayed as sent', T, async () => {
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/teapot') {
      res.writeHead(418, 'Short And Stout', [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Type', 'text/plain']]);
      res.end('tea');
    } else if (req.url === '/none') {
      res.writeHead(204, { 'X-Empty': 'yes' });
      res.end();
    } else if (req.url === '/cached') {
      res.writeHead(304, { ETag: '"v1"' });
      res.end();
    } else {
      res.setHeader('Content-Length', '11');
      res.end(req.method === 'HEAD' ? undefined : 'hello world');
    }
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const teapot = await send(front.port, { path: '/teapot' });
    assert.equal(teapot.status, 418);
    assert.equal(teapot.res.statusMessage, 'Short And Stout');
    assert.deepEqual(teapot.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(teapot.body, 'tea');
    const head = await send(front.port, { method: 'HEAD', path: '/len' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '11');
    assert.equal(head.body, '');
    const none = await send(front.port, { path: '/none' });
    assert.equal(none.status, 204);
    assert.equal(none.headers['x-empty'], 'yes');
    const cached = await send(front.port, { path: '/cached', headers: { 'If-None-Match': '"v1"' } });
    assert.equal(cached.status, 304);
    assert.equal(cached.headers.etag, '"v1"');
    const get = await send(front.port, { path: '/len' });
    assert.equal(get.body, 'hello world');
    assert.equal(get.headers['content-length'], '11');
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('a POST body with Content-Length reaches a node:http upstream intact', T, async () => {
  await withEcho({}, async (front) => {
    const body = JSON.stringify({ a: 1, text: 'é€' });
    const r = await send(front.port, { method: 'POST', path: '/p', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, body);
    const seen = JSON.parse(r.body);
    assert.equal(r.status, 200);
    assert.equal(seen.body, body);
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(seen.headers['transfer-encoding'], undefined);
  }, 'node');
});

test('a 103 Early Hints from the upstream reaches an HTTP/1.1 client before the response', T, async () => {
  const upstream = await startUpstream((req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    setTimeout(() => res.end('done'), 20);
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const hints = [];
    const body = await new Promise((resolve, reject) => {
      const req = nodeHttp.request({ port: front.port, host: '127.0.0.1', agent: false }, (res) => collect(res).then((b) => resolve(b.toString()), reject));
      req.on('information', (info) => hints.push(info));
      req.on('error', reject);
      req.end();
    });
    assert.equal(body, 'done');
    assert.equal(hints.length, 1);
    assert.equal(hints[0].statusCode, 103);
    assert.equal(hints[0].headers.link, '</style.css>; rel=preload; as=style');
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('a response head is sent before the first body byte (event streams)', T, async () => {
  let finish;
  const upstream = await startUpstream((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.flushHeaders();
    finish = () => res.end('data: bye\n\n');
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const res = await new Promise((resolve, reject) => {
      const req = nodeHttp.get({ port: front.port, host: '127.0.0.1', agent: false }, resolve);
      req.on('error', reject);
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    finish();
    assert.equal((await collect(res)).toString(), 'data: bye\n\n');
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('createProxy validates its options', () => {
  assert.throws(() => createProxy({}), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => createProxy({ upstreams: [] }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => createProxy({ target: 'not a url' }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => createProxy({ target: 'ftp://127.0.0.1/' }), { code: 'ERR_INVALID_PROTOCOL' });
  assert.throws(() => createProxy({ target: 'http://127.0.0.1/?q=1' }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => createProxy({ target: 'http://127.0.0.1', timeout: -1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => createProxy({ target: 'http://127.0.0.1', via: 'a b' }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => createProxy({ target: 'http://127.0.0.1', xForwarded: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => createProxy({ target: 'http://127.0.0.1', agent: new nodeHttp.Agent() }), { code: 'ERR_INVALID_ARG_TYPE' });
  const proxy = createProxy({ upstreams: ['http://127.0.0.1:1', new URL('http://[::1]:2/x')] });
  assert.equal(typeof proxy, 'function');
  assert.equal(typeof proxy.upgrade, 'function');
  assert.deepEqual(proxy.upstreams, [{ url: 'http://127.0.0.1:1/', healthy: true }, { url: 'http://[::1]:2/x', healthy: true }]);
  assert.equal(new ProxyError('ERR_PROXY_TIMEOUT', 'x').status, 504);
  proxy.close();
});

test('the request-target in absolute-form is sent upstream in origin-form', T, async () => {
  await withEcho({}, async (front) => {
    const socket = net.connect(front.port, '127.0.0.1');
    socket.write('GET http://abs.test/p?q=1 HTTP/1.1\r\nHost: abs.test\r\nConnection: close\r\n\r\n');
    const raw = (await collect(socket)).toString();
    assert.match(raw, /^HTTP\/1\.1 200 OK/);
    assert.equal(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).url, '/p?q=1');
  });
});
