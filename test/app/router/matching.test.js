// keel/router matching: precedence (static > param > wildcard, with backtracking), params and
// their percent-decoding, constraints, trailing-slash and case policies, the query ignored, a
// 100-route table checked route by route, and the same results through a real server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRouter, Router } from 'keel/router';
import { request, serve } from './helpers.js';

const noop = () => {};

/** find() → "METHOD path-pattern params-json", or null. */
function lookup(router, method, url) {
  const match = router.find(method, url);
  return match === null ? null : `${match.route.method} ${match.route.path} ${JSON.stringify(match.params)}`;
}

test('createRouter() returns a callable Router', () => {
  const router = createRouter();
  assert.equal(typeof router, 'function');
  assert.ok(router instanceof Router);
  assert.ok(router instanceof Function);
  assert.equal(typeof router.call, 'function');
  assert.equal(router.length, 3);
  assert.deepEqual(Object.keys(router), []);
});

test('static beats param beats wildcard, at every branch', () => {
  const r = createRouter();
  r.get('/users/me', noop);
  r.get('/users/:id', noop);
  r.get('/users/*', noop);
  r.get('/users/:id/posts', noop);
  r.get('/users/me/posts/latest', noop);
  assert.equal(lookup(r, 'GET', '/users/me'), 'GET /users/me {}');
  assert.equal(lookup(r, 'GET', '/users/42'), 'GET /users/:id {"id":"42"}');
  assert.equal(lookup(r, 'GET', '/users/42/x'), 'GET /users/* {"*":"42/x"}');
  assert.equal(lookup(r, 'GET', '/users/'), 'GET /users/* {"*":""}');
  assert.equal(lookup(r, 'GET', '/users/42/posts'), 'GET /users/:id/posts {"id":"42"}');
  // backtracking: /users/me has no /posts below it, the param branch has
  assert.equal(lookup(r, 'GET', '/users/me/posts'), 'GET /users/:id/posts {"id":"me"}');
  assert.equal(lookup(r, 'GET', '/users/me/posts/latest'), 'GET /users/me/posts/latest {}');
  assert.equal(lookup(r, 'GET', '/users/me/posts/older'), 'GET /users/* {"*":"me/posts/older"}');
  assert.equal(lookup(r, 'GET', '/users'), null);
});

test('backtracking across a shared static prefix and a param with a static prefix', () => {
  const r = createRouter();
  r.get('/v:major/info', noop);
  r.get('/:page', noop);
  r.get('/video/:id', noop);
  assert.equal(lookup(r, 'GET', '/v2/info'), 'GET /v:major/info {"major":"2"}');
  assert.equal(lookup(r, 'GET', '/v2'), 'GET /:page {"page":"v2"}');
  assert.equal(lookup(r, 'GET', '/video'), 'GET /:page {"page":"video"}');
  assert.equal(lookup(r, 'GET', '/video/7'), 'GET /video/:id {"id":"7"}');
  assert.equal(lookup(r, 'GET', '/videos/info'), 'GET /v:major/info {"major":"ideos"}');
});

test('params: several, non-empty, whole segments; wildcard takes the rest', () => {
  const r = createRouter();
  r.get('/a/:x/b/:y', noop);
  r.get('/files/*', noop);
  r.get('/@:handle', noop);
  assert.equal(lookup(r, 'GET', '/a/1/b/2'), 'GET /a/:x/b/:y {"x":"1","y":"2"}');
  assert.equal(lookup(r, 'GET', '/a//b/2'), null);
  assert.equal(lookup(r, 'GET', '/a/1/b/'), null);
  assert.equal(lookup(r, 'GET', '/files/a/b/c.txt'), 'GET /files/* {"*":"a/b/c.txt"}');
  assert.equal(lookup(r, 'GET', '/files'), null);
  assert.equal(lookup(r, 'GET', '/@keel'), 'GET /@:handle {"handle":"keel"}');
});

test('params are percent-decoded once; %2F stays inside its segment', () => {
  const r = createRouter();
  r.get('/users/:id', noop);
  r.get('/users/:id/files/*', noop);
  r.get('/café/:x', noop);
  assert.equal(lookup(r, 'GET', '/users/a%20b'), 'GET /users/:id {"id":"a b"}');
  assert.equal(lookup(r, 'GET', '/users/a%2Fb'), 'GET /users/:id {"id":"a/b"}');
  assert.equal(lookup(r, 'GET', '/users/a%2fb'), 'GET /users/:id {"id":"a/b"}');
  assert.equal(lookup(r, 'GET', '/users/100%25'), 'GET /users/:id {"id":"100%"}');
  assert.equal(lookup(r, 'GET', '/users/%2541'), 'GET /users/:id {"id":"%41"}'); // not decoded twice
  assert.equal(lookup(r, 'GET', '/users/%E2%9C%93'), 'GET /users/:id {"id":"✓"}');
  assert.equal(lookup(r, 'GET', '/users/x/files/a%2Fb/c%20d'), 'GET /users/:id/files/* {"id":"x","*":"a/b/c d"}');
  // static text matches decoded: "/caf%C3%A9" is "/café"
  assert.equal(lookup(r, 'GET', '/caf%C3%A9/1'), 'GET /café/:x {"x":"1"}');
  assert.equal(lookup(r, 'GET', '/%75sers/7'), 'GET /users/:id {"id":"7"}');
});

test('malformed percent-encoding throws ERR_ROUTE_INVALID_URL with status 400', () => {
  const r = createRouter();
  r.get('/users/:id', noop);
  for (const url of ['/users/%zz', '/users/%', '/users/%4', '/users/%C3', '/users/%FF']) {
    assert.throws(() => r.find('GET', url), (err) => err.code === 'ERR_ROUTE_INVALID_URL' && err.status === 400, url);
  }
  // a "%" in the query is not the path's business
  assert.equal(lookup(r, 'GET', '/users/1?q=%zz'), 'GET /users/:id {"id":"1"}');
});

test('the query string and a fragment are ignored; absolute-form targets use their path', () => {
  const r = createRouter();
  r.get('/', noop);
  r.get('/search', noop);
  r.get('/items/:id', noop);
  assert.equal(lookup(r, 'GET', '/search?q=a/b&x=:y'), 'GET /search {}');
  assert.equal(lookup(r, 'GET', '/items/9?full=1'), 'GET /items/:id {"id":"9"}');
  assert.equal(lookup(r, 'GET', '/items/9#top'), 'GET /items/:id {"id":"9"}');
  assert.equal(lookup(r, 'GET', '/?a=1'), 'GET / {}');
  assert.equal(lookup(r, 'GET', 'http://example.com/items/3?x'), 'GET /items/:id {"id":"3"}');
  assert.equal(lookup(r, 'GET', 'http://example.com'), 'GET / {}');
  assert.equal(lookup(r, 'GET', '*'), null);
  assert.equal(lookup(r, 'CONNECT', 'example.com:443'), null);
});

test('param constraints: tried in registration order, then the unconstrained param', () => {
  const r = createRouter();
  r.get('/orders/:id(\\d+)', noop);
  r.get('/orders/:slug([a-z-]+)', noop);
  r.get('/orders/:other', noop);
  r.get('/tags/:tag([a-z]+)/posts', noop);
  r.get('/enc/:v(a b)', noop);
  assert.equal(lookup(r, 'GET', '/orders/42'), 'GET /orders/:id(\\d+) {"id":"42"}');
  assert.equal(lookup(r, 'GET', '/orders/big-one'), 'GET /orders/:slug([a-z-]+) {"slug":"big-one"}');
  assert.equal(lookup(r, 'GET', '/orders/X1'), 'GET /orders/:other {"other":"X1"}');
  assert.equal(lookup(r, 'GET', '/tags/news/posts'), 'GET /tags/:tag([a-z]+)/posts {"tag":"news"}');
  assert.equal(lookup(r, 'GET', '/tags/News/posts'), null);
  // anchored: a partial match is no match; tested on the decoded value
  assert.equal(lookup(r, 'GET', '/orders/42abc'), 'GET /orders/:other {"other":"42abc"}');
  assert.equal(lookup(r, 'GET', '/enc/a%20b'), 'GET /enc/:v(a b) {"v":"a b"}');
});

test('methods have separate trees; HEAD falls back to GET; all() comes after the method', () => {
  const r = createRouter();
  r.get('/x/:id', noop);
  r.post('/x/new', noop);
  r.head('/h', noop);
  r.get('/h', noop);
  r.all('/x/me', noop);
  r.all('/any/*', noop);
  r.on('PROPFIND', '/dav/*', noop);
  assert.equal(lookup(r, 'GET', '/x/new'), 'GET /x/:id {"id":"new"}');
  assert.equal(lookup(r, 'POST', '/x/new'), 'POST /x/new {}');
  assert.equal(lookup(r, 'PUT', '/x/new'), null);
  assert.equal(lookup(r, 'HEAD', '/x/5'), 'GET /x/:id {"id":"5"}');
  assert.equal(lookup(r, 'HEAD', '/h'), 'HEAD /h {}');
  assert.equal(lookup(r, 'GET', '/x/me'), 'GET /x/:id {"id":"me"}');
  assert.equal(lookup(r, 'DELETE', '/x/me'), '* /x/me {}');
  assert.equal(lookup(r, 'PATCH', '/any/thing'), '* /any/* {"*":"thing"}');
  assert.equal(lookup(r, 'PROPFIND', '/dav/a/b'), 'PROPFIND /dav/* {"*":"a/b"}');
});

test('trailing slash: distinct by default; one route with ignoreTrailingSlash', () => {
  const strict = createRouter();
  strict.get('/a', noop);
  strict.get('/b/', noop);
  strict.get('/p/:id', noop);
  assert.equal(lookup(strict, 'GET', '/a'), 'GET /a {}');
  assert.equal(lookup(strict, 'GET', '/a/'), null);
  assert.equal(lookup(strict, 'GET', '/b'), null);
  assert.equal(lookup(strict, 'GET', '/p/1/'), null);
  strict.get('/a/', noop); // a different route: no duplicate

  const loose = createRouter({ ignoreTrailingSlash: true });
  loose.get('/a', noop);
  loose.get('/b/', noop);
  loose.get('/p/:id', noop);
  loose.get('/', noop);
  loose.get('/files/*', noop);
  assert.equal(lookup(loose, 'GET', '/a'), 'GET /a {}');
  assert.equal(lookup(loose, 'GET', '/a/'), 'GET /a {}');
  assert.equal(lookup(loose, 'GET', '/b'), 'GET /b/ {}');
  assert.equal(lookup(loose, 'GET', '/b/'), 'GET /b/ {}');
  assert.equal(lookup(loose, 'GET', '/p/1/'), 'GET /p/:id {"id":"1"}');
  assert.equal(lookup(loose, 'GET', '/'), 'GET / {}');
  assert.equal(lookup(loose, 'GET', '/files/'), 'GET /files/* {"*":""}');
  assert.equal(lookup(loose, 'GET', '/a//'), null);
  assert.throws(() => loose.get('/a/', noop), { code: 'ERR_ROUTE_DUPLICATE' });
  assert.throws(() => loose.get('/p/:other/', noop), { code: 'ERR_ROUTE_DUPLICATE' });
});

test('case: sensitive by default; caseSensitive: false folds static text, params keep their case', () => {
  const strict = createRouter();
  strict.get('/Users/:id', noop);
  assert.equal(lookup(strict, 'GET', '/users/1'), null);
  assert.equal(lookup(strict, 'GET', '/Users/Ab'), 'GET /Users/:id {"id":"Ab"}');

  const loose = createRouter({ caseSensitive: false });
  loose.get('/Users/:id', noop);
  loose.get('/STATIC', noop);
  loose.get('/tag/:t([A-Z]+)', noop);
  assert.equal(lookup(loose, 'GET', '/users/AbC'), 'GET /Users/:id {"id":"AbC"}');
  assert.equal(lookup(loose, 'GET', '/USERS/AbC'), 'GET /Users/:id {"id":"AbC"}');
  assert.equal(lookup(loose, 'GET', '/static'), 'GET /STATIC {}');
  assert.equal(lookup(loose, 'GET', '/Tag/ABC'), 'GET /tag/:t([A-Z]+) {"t":"ABC"}');
  assert.equal(lookup(loose, 'GET', '/tag/abc'), null); // constraints see the request's case
  assert.equal(lookup(loose, 'GET', '/USERS/%C4%B0x'), 'GET /Users/:id {"id":"İx"}');
  assert.throws(() => loose.get('/users/:x', noop), { code: 'ERR_ROUTE_DUPLICATE' });
});

test('params objects are fresh, plain and own; parameterless routes share a frozen {}', () => {
  const r = createRouter();
  r.get('/a/:x', noop);
  r.get('/b', noop);
  const one = r.find('GET', '/a/1').params;
  const two = r.find('GET', '/a/2').params;
  assert.notEqual(one, two);
  assert.deepEqual(one, { x: '1' });
  assert.equal(Object.getPrototypeOf(one), Object.prototype);
  const empty = r.find('GET', '/b').params;
  assert.ok(Object.isFrozen(empty));
  assert.deepEqual(empty, {});
});

test('params are built the same where code generation from strings is disallowed', { timeout: 15_000 }, async () => {
  const script = `
    import { createRouter } from 'keel/router';
    let blocked = false;
    try { new Function('return 1'); } catch { blocked = true; }
    const r = createRouter();
    r.get('/a/:x/:y/*', () => {});
    r.get('/b', () => {});
    console.log(JSON.stringify({ blocked, a: r.find('GET', '/a/1/%2F/z').params, b: r.find('GET', '/b').params }));`;
  const output = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { timeout: 10_000 }, (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout)));
  });
  assert.deepEqual(JSON.parse(output), { blocked: true, a: { x: '1', y: '/', '*': 'z' }, b: {} });
});

/** 100 routes of an API: every route must be found by a path built for it, with its params. */
function apiTable() {
  const routes = [];
  const resources = ['users', 'posts', 'comments', 'orders', 'products', 'invoices', 'teams', 'projects', 'tickets', 'files'];
  for (const r of resources) {
    routes.push(
      ['GET', `/api/v1/${r}`],
      ['POST', `/api/v1/${r}`],
      ['GET', `/api/v1/${r}/:id`],
      ['PUT', `/api/v1/${r}/:id`],
      ['PATCH', `/api/v1/${r}/:id`],
      ['DELETE', `/api/v1/${r}/:id`],
      ['GET', `/api/v1/${r}/:id/history`],
      ['GET', `/api/v1/${r}/search`],
    );
  }
  routes.push(
    ['GET', '/api/v1/users/:id/posts/:postId'],
    ['GET', '/api/v1/users/:id/posts/:postId/comments'],
    ['GET', '/api/v1/users/me'],
    ['GET', '/api/v1/teams/:teamId/members/:userId'],
    ['PUT', '/api/v1/teams/:teamId/members/:userId'],
    ['DELETE', '/api/v1/teams/:teamId/members/:userId'],
    ['GET', '/api/v1/projects/:id/tickets/:ticketId'],
    ['GET', '/api/v2/users/:id'],
    ['GET', '/api/v2/users'],
    ['GET', '/health'],
    ['GET', '/metrics'],
    ['GET', '/'],
    ['GET', '/login'],
    ['POST', '/login'],
    ['POST', '/logout'],
    ['GET', '/static/*'],
    ['GET', '/docs/*'],
    ['GET', '/blog/:year/:month/:slug'],
    ['GET', '/@:handle'],
    ['GET', '/favicon.ico'],
  );
  return routes;
}

test('a 100-route table: every route found from a path built for it, with its params', () => {
  const routes = apiTable();
  assert.equal(routes.length, 100);
  const r = createRouter();
  for (const [method, path] of routes) r.on(method, path, noop);
  assert.equal(r.routes().length, 100);
  let n = 0;
  for (const [method, path] of routes) {
    const expected = {};
    const url = path.replace(/:(\w+)|\*/g, (all, name) => {
      const value = `v${n++}`;
      expected[name ?? '*'] = value;
      return name ? value : `${value}/deep/er`;
    });
    if ('*' in expected) expected['*'] += '/deep/er';
    const match = r.find(method, url);
    assert.ok(match, `${method} ${url}`);
    assert.equal(match.route.path, path, `${method} ${url}`);
    assert.equal(match.route.method, method);
    assert.deepEqual({ ...match.params }, expected, `${method} ${url}`);
  }
  // near misses
  for (const [method, url] of [
    ['GET', '/api/v1/userz'],
    ['GET', '/api/v3/users'],
    ['POST', '/api/v1/users/1'],
    ['GET', '/api/v1/users/1/history/x'],
    ['GET', '/api/v1/users/1/posts'],
    ['DELETE', '/api/v1/teams/1/members'],
    ['GET', '/blog/2026/11'],
    ['GET', '/favicon.ic'],
    ['GET', '/healthz'],
    ['GET', ''],
  ]) assert.equal(r.find(method, url), null, `${method} ${url}`);
});

test('through a server: the handler gets (req, res, params), req.params and req.query', async () => {
  const r = createRouter();
  r.get('/users/:id/posts/:postId', (req, res, params) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ params, same: req.params === params, q: req.query.get('q'), all: req.query.getAll('t') }));
  });
  r.get('/files/*', (req, res, params) => res.end(params['*']));
  r.get('/users/me/posts/:postId', (req, res, params) => res.end(`me ${params.postId}`));
  await serve(r, async ({ port }) => {
    const a = await request(port, { path: '/users/a%20b/posts/7?q=x%20y&t=1&t=2' });
    assert.equal(a.status, 200);
    assert.deepEqual(JSON.parse(a.body), { params: { id: 'a b', postId: '7' }, same: true, q: 'x y', all: ['1', '2'] });
    const b = await request(port, { path: '/files/a/b%2Fc.txt' });
    assert.equal(b.body, 'a/b/c.txt');
    const c = await request(port, { path: '/users/me/posts/3' });
    assert.equal(c.body, 'me 3');
    const d = await request(port, { path: '/users/me/posts' });
    assert.equal(d.status, 404);
  });
});

test('req.query: parsed on first read, empty without a query, assignable', async () => {
  const r = createRouter();
  r.use((req, res, next) => {
    if (req.url.startsWith('/set')) req.query = { custom: true };
    next();
  });
  r.get('/q', (req, res) => res.end(`${req.query instanceof URLSearchParams}:${req.query.toString()}:${req.query === req.query}`));
  r.get('/set', (req, res) => res.end(JSON.stringify(req.query)));
  await serve(r, async ({ port }) => {
    assert.equal((await request(port, { path: '/q' })).body, 'true::true');
    assert.equal((await request(port, { path: '/q?a=1&b=%20' })).body, 'true:a=1&b=+:true');
    assert.equal((await request(port, { path: '/set' })).body, '{"custom":true}');
  });
});
