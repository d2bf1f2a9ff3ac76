// keel/router's own answers over real sockets: 404, 405 with a sorted Allow (HEAD with GET,
// OPTIONS always), HEAD by GET routes, OPTIONS 204 with Allow (and "OPTIONS *"), the notFound /
// methodNotAllowed options, and a 400 for a malformed path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRouter } from 'keel/router';
import { raw, reply, request, serve } from './helpers.js';

function api() {
  const r = createRouter();
  r.get('/users', reply('list'));
  r.post('/users', reply('created'));
  r.get('/users/:id', reply('one'));
  r.put('/users/:id', reply('put'));
  r.delete('/users/:id', reply('deleted'));
  r.patch('/only-patch', reply('patched'));
  r.on(['PROPFIND', 'report'], '/dav', reply('dav'));
  return r;
}

test('404 Not Found, text/plain, when no route matches the path', async () => {
  await serve(api(), async ({ port }) => {
    for (const path of ['/nope', '/users/1/2', '/user', '/USERS']) {
      const res = await request(port, { path });
      assert.equal(res.status, 404, path);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers['content-length'], '9');
      assert.equal(res.body, 'Not Found');
      assert.equal(res.headers.allow, undefined);
    }
    const post = await request(port, { method: 'POST', path: '/nope', body: 'x'.repeat(1000) });
    assert.equal(post.status, 404);
  });
});

test('405 with Allow listing the path\'s methods, sorted, HEAD with GET, OPTIONS always', async () => {
  await serve(api(), async ({ port }) => {
    const a = await request(port, { method: 'DELETE', path: '/users' });
    assert.equal(a.status, 405);
    assert.equal(a.headers.allow, 'GET, HEAD, OPTIONS, POST');
    assert.equal(a.body, 'Method Not Allowed');
    assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8');
    const b = await request(port, { method: 'POST', path: '/users/7' });
    assert.equal(b.status, 405);
    assert.equal(b.headers.allow, 'DELETE, GET, HEAD, OPTIONS, PUT');
    const c = await request(port, { method: 'GET', path: '/only-patch' });
    assert.equal(c.status, 405);
    assert.equal(c.headers.allow, 'OPTIONS, PATCH');
    const d = await request(port, { method: 'HEAD', path: '/only-patch' });
    assert.equal(d.status, 405);
    assert.equal(d.headers.allow, 'OPTIONS, PATCH');
    const e = await request(port, { method: 'GET', path: '/dav' });
    assert.equal(e.status, 405);
    assert.equal(e.headers.allow, 'OPTIONS, PROPFIND, REPORT');
  });
});

test('HEAD is answered by the GET route, without a body; an explicit HEAD route wins', async () => {
  const r = api();
  const seen = [];
  r.get('/page', (req, res) => {
    seen.push(req.method);
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('Content-Length', '5');
    res.end('hello');
  });
  r.head('/explicit', (req, res) => {
    res.setHeader('X-Head', 'yes');
    res.end();
  });
  r.get('/explicit', reply('get'));
  await serve(r, async ({ port }) => {
    const text = await raw(port, 'HEAD /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nContent-Length: 5\r\n/i);
    assert.ok(text.endsWith('\r\n\r\n'), 'no body after the head');
    assert.deepEqual(seen, ['HEAD']);
    const e = await request(port, { method: 'HEAD', path: '/explicit' });
    assert.equal(e.status, 200);
    assert.equal(e.headers['x-head'], 'yes');
    assert.equal((await request(port, { path: '/explicit' })).body, 'get');
  });
});

test('OPTIONS: 204 with Allow, no body; an OPTIONS route replaces it; unknown path 404', async () => {
  const r = api();
  r.options('/custom', (req, res) => {
    res.writeHead(200, { Allow: 'GET', 'Content-Length': '6' });
    res.end('custom');
  });
  r.get('/custom', reply('c'));
  await serve(r, async ({ port }) => {
    const text = await raw(port, 'OPTIONS /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 204 No Content\r\n/);
    assert.match(text, /\r\nAllow: DELETE, GET, HEAD, OPTIONS, PUT\r\n/);
    assert.doesNotMatch(text, /Content-Length|Transfer-Encoding/i);
    assert.ok(text.endsWith('\r\n\r\n'));
    const custom = await request(port, { method: 'OPTIONS', path: '/custom' });
    assert.equal(custom.status, 200);
    assert.equal(custom.body, 'custom');
    const missing = await request(port, { method: 'OPTIONS', path: '/missing' });
    assert.equal(missing.status, 404);
  });
});

test('"OPTIONS *" answers 204 with every method the router has', async () => {
  await serve(api(), async ({ port }) => {
    const text = await raw(port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 204 No Content\r\n/);
    assert.match(text, /\r\nAllow: DELETE, GET, HEAD, OPTIONS, PATCH, POST, PROPFIND, PUT, REPORT\r\n/);
  });
  await serve(createRouter(), async ({ port }) => {
    const text = await raw(port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(text, /\r\nAllow: OPTIONS\r\n/);
  });
});

test('an all() route takes every method: no 405, no automatic OPTIONS', async () => {
  const r = createRouter();
  r.get('/thing', reply('get'));
  r.all('/thing', (req, res) => res.end(`all ${req.method}`));
  await serve(r, async ({ port }) => {
    assert.equal((await request(port, { path: '/thing' })).body, 'get');
    assert.equal((await request(port, { method: 'DELETE', path: '/thing' })).body, 'all DELETE');
    assert.equal((await request(port, { method: 'OPTIONS', path: '/thing' })).body, 'all OPTIONS');
  });
});

test('notFound and methodNotAllowed options replace the answers; Allow is set first', async () => {
  const r = createRouter({
    notFound: (req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'not_found', path: req.url }));
    },
    methodNotAllowed: (req, res, allowed) => {
      res.statusCode = 405;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ allowed, header: res.getHeader('Allow') }));
    },
  });
  r.get('/a', reply('a'));
  await serve(r, async ({ port }) => {
    const nf = await request(port, { path: '/zz?x=1' });
    assert.equal(nf.status, 404);
    assert.deepEqual(JSON.parse(nf.body), { error: 'not_found', path: '/zz?x=1' });
    const mna = await request(port, { method: 'PUT', path: '/a' });
    assert.equal(mna.status, 405);
    assert.equal(mna.headers.allow, 'GET, HEAD, OPTIONS');
    assert.deepEqual(JSON.parse(mna.body), { allowed: ['GET', 'HEAD', 'OPTIONS'], header: 'GET, HEAD, OPTIONS' });
  });
});

test('a malformed percent-encoding in the path is a 400; the connection stays usable', async () => {
  const r = createRouter();
  r.get('/users/:id', reply('ok'));
  await serve(r, async ({ port }) => {
    const text = await raw(port, 'GET /users/%zz HTTP/1.1\r\nHost: x\r\n\r\nGET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nBad RequestHTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
  });
});

test('notFound is middleware-shaped: next() gives the default 404, next(err) the error path', async () => {
  const errors = [];
  const r = createRouter({
    onError: (err) => errors.push(err.message),
    notFound: (req, res, next) => {
      if (req.url === '/file.txt') res.end('from disk');
      else if (req.url === '/broken') next(new Error('disk on fire'));
      else next();
    },
  });
  r.get('/api', reply('api'));
  await serve(r, async ({ port }) => {
    assert.equal((await request(port, { path: '/file.txt' })).body, 'from disk');
    const missing = await request(port, { path: '/missing' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body, 'Not Found');
    assert.equal((await request(port, { path: '/broken' })).status, 500);
    assert.equal((await request(port, { method: 'POST', path: '/api' })).status, 405, 'a 405 is not a notFound');
  });
  assert.deepEqual(errors, ['disk on fire']);
});
