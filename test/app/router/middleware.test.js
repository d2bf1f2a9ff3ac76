// keel/router middleware and the error path over real sockets: `use` order and prefixes, route
// middleware, next(), URL rewriting, sync throws / rejections / next(err) → 500 reported through
// onError, a 4xx status kept, responses already started destroyed, and routers mounted in routers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import { createRouter } from 'keel/router';
import { quietly, reply, request, serve, sleep } from './helpers.js';

test('use middleware runs first, in registration order, then route middleware, then the handler', async () => {
  const r = createRouter();
  const log = [];
  r.get('/a/:id', (req, res, next) => {
    log.push(`route-mw ${req.params.id}`);
    next();
  }, async (req, res, next) => {
    await sleep(1);
    log.push('route-mw async');
    next();
  }, (req, res, params) => {
    log.push(`handler ${params.id}`);
    res.end(log.join(','));
  });
  r.use((req, res, next) => {
    log.push('global 1');
    next();
  });
  r.use(async (req, res, next) => {
    await sleep(1);
    log.push('global 2 async');
    next();
  }, (req, res, next) => {
    log.push('global 3');
    next();
  });
  await serve(r, async ({ port }) => {
    const res = await request(port, { path: '/a/7' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'global 1,global 2 async,global 3,route-mw 7,route-mw async,handler 7');
    log.length = 0;
    const miss = await request(port, { path: '/zz' });
    assert.equal(miss.status, 404);
    assert.deepEqual(log, ['global 1', 'global 2 async', 'global 3'], 'middleware also runs before a 404');
  });
});

test('prefix middleware covers the prefix and below, not lookalikes', async () => {
  const r = createRouter();
  r.use('/api/', (req, res, next) => {
    res.setHeader('X-Api', 'yes');
    next();
  });
  r.use('/', (req, res, next) => {
    res.setHeader('X-Root', 'yes');
    next();
  });
  r.all('/*', reply('ok'));
  await serve(r, async ({ port }) => {
    for (const [path, api] of [['/api', 'yes'], ['/api/', 'yes'], ['/api/v1/x?y', 'yes'], ['/apis', undefined], ['/ap', undefined], ['/', undefined], ['/API', undefined]]) {
      const res = await request(port, { path });
      assert.equal(res.headers['x-api'], api, path);
      assert.equal(res.headers['x-root'], 'yes', path);
    }
  });
  const loose = createRouter({ caseSensitive: false });
  loose.use('/Admin', (req, res) => res.end('admin'));
  loose.get('/*', reply('other'));
  await serve(loose, async ({ port }) => {
    assert.equal((await request(port, { path: '/ADMIN/x' })).body, 'admin');
    assert.equal((await request(port, { path: '/adminx' })).body, 'other');
  });
});

test('middleware that answers stops the chain; a middleware may rewrite req.url before routing', async () => {
  const r = createRouter();
  let reached = false;
  r.use((req, res, next) => {
    if (req.url === '/blocked') {
      res.statusCode = 403;
      res.end('no');
      return;
    }
    if (req.url.startsWith('/old/')) req.url = `/new/${req.url.slice(5)}`;
    next();
  });
  r.get('/blocked', (req, res) => {
    reached = true;
    res.end('reached');
  });
  r.get('/new/:name', (req, res, params) => res.end(`new ${params.name}`));
  await serve(r, async ({ port }) => {
    const blocked = await request(port, { path: '/blocked' });
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body, 'no');
    assert.equal(reached, false);
    assert.equal((await request(port, { path: '/old/thing?x=1' })).body, 'new thing');
  });
});

test('a sync throw, an async rejection and next(err) each give 500, reported through onError', async () => {
  const reported = [];
  const r = createRouter({
    onError: (err, req, res) => {
      reported.push([err.message, req.url, typeof res.setHeader]);
    },
  });
  let after = 0;
  r.get('/sync', () => {
    throw new Error('sync boom');
  });
  r.get('/async', async () => {
    await sleep(1);
    throw new Error('async boom');
  });
  r.get('/next', (req, res, next) => next(new Error('next boom')), () => after++);
  r.use('/mw', async () => {
    throw new Error('middleware boom');
  });
  r.get('/mw', () => after++);
  r.get('/reject-undefined', () => Promise.reject(undefined));
  r.get('/null-is-continue', (req, res, next) => next(null), reply('continued'));
  await serve(r, async ({ port }) => {
    for (const path of ['/sync', '/async', '/next', '/mw']) {
      const res = await request(port, { path });
      assert.equal(res.status, 500, path);
      assert.equal(res.body, 'Internal Server Error');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    }
    assert.equal((await request(port, { path: '/reject-undefined' })).status, 500);
    assert.equal((await request(port, { path: '/null-is-continue' })).body, 'continued');
  });
  assert.equal(after, 0);
  assert.deepEqual(reported.slice(0, 4), [
    ['sync boom', '/sync', 'function'],
    ['async boom', '/async', 'function'],
    ['next boom', '/next', 'function'],
    ['middleware boom', '/mw', 'function'],
  ]);
  assert.equal(reported.length, 5);
});

test('the default reporter logs 5xx errors with console.error, not 4xx', async () => {
  const r = createRouter();
  r.get('/500', () => {
    throw new Error('server fault');
  });
  r.get('/400', () => {
    throw Object.assign(new Error('client fault'), { status: 400 });
  });
  const logged = await quietly(() =>
    serve(r, async ({ port }) => {
      assert.equal((await request(port, { path: '/500' })).status, 500);
      assert.equal((await request(port, { path: '/400' })).status, 400);
    }),
  );
  assert.equal(logged.length, 1);
  assert.equal(logged[0][0].message, 'server fault');
});

test('an error\'s own 4xx/5xx status or statusCode is kept; anything else is 500', async () => {
  const statuses = [];
  const r = createRouter({ onError: (err) => statuses.push(err.status ?? err.statusCode) });
  const fail = (props) => () => {
    throw Object.assign(new Error('x'), props);
  };
  r.post('/body', async (req, res, params, next) => next(Object.assign(new Error('bad json'), { status: 400, expose: true })));
  r.get('/413', fail({ statusCode: 413 }));
  r.get('/503', fail({ status: 503, headers: { 'Retry-After': '5' } }));
  r.get('/401', fail({ status: 401, headers: { 'WWW-Authenticate': 'Basic realm="k"' } }));
  r.get('/302', fail({ status: 302 }));
  r.get('/600', fail({ status: 600 }));
  r.get('/string', fail({ status: '404' }));
  r.get('/float', fail({ status: 404.5 }));
  await serve(r, async ({ port }) => {
    const body = await request(port, { method: 'POST', path: '/body', body: '{' });
    assert.equal(body.status, 400);
    assert.equal(body.body, 'Bad Request');
    assert.equal((await request(port, { path: '/413' })).status, 413);
    const unavailable = await request(port, { path: '/503' });
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.headers['retry-after'], undefined, 'err.headers only on 4xx');
    const unauthorized = await request(port, { path: '/401' });
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.headers['www-authenticate'], 'Basic realm="k"');
    for (const path of ['/302', '/600', '/string', '/float']) assert.equal((await request(port, { path })).status, 500, path);
  });
  assert.equal(statuses.length, 8);
});

test('headers set before the error are dropped from the error answer', async () => {
  const r = createRouter({ onError: () => {} });
  r.get('/x', (req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', '1000');
    res.setHeader('Set-Cookie', 'session=1');
    throw new Error('late');
  });
  await serve(r, async ({ port }) => {
    const res = await request(port, { path: '/x' });
    assert.equal(res.status, 500);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers['content-length'], '21');
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal(res.body, 'Internal Server Error');
  });
});

test('an error after the response started destroys it; after it ended, only reports', async () => {
  const reported = [];
  const r = createRouter({ onError: (err) => reported.push(err.message) });
  r.get('/started', async (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('partial');
    await sleep(5);
    throw new Error('mid-body');
  });
  r.get('/ended', (req, res) => {
    res.end('complete');
    throw new Error('after end');
  });
  await serve(r, async ({ port }) => {
    const started = await request(port, { path: '/started' });
    assert.equal(started.status, 200);
    assert.ok(started.error, 'the client sees the response cut short');
    const ended = await request(port, { path: '/ended' });
    assert.equal(ended.status, 200);
    assert.equal(ended.body, 'complete');
    assert.equal(ended.error, undefined);
    assert.equal((await request(port, { path: '/ended' })).body, 'complete', 'the server carries on');
  });
  assert.deepEqual(reported, ['mid-body', 'after end', 'after end']);
});

test('onError may answer itself (sync or async); its own failure is logged and the 500 still sent', async () => {
  const mode = { value: 'sync' };
  const r = createRouter({
    onError: async (err, req, res) => {
      if (mode.value === 'sync') {
        res.writeHead(418, { 'Content-Type': 'text/plain' });
        res.end(`custom ${err.message}`);
      } else if (mode.value === 'async') {
        await sleep(5);
        res.statusCode = 503;
        res.end('later');
      } else {
        throw new Error('reporter broke');
      }
    },
  });
  r.get('/x', () => {
    throw new Error('boom');
  });
  await serve(r, async ({ port }) => {
    const custom = await request(port, { path: '/x' });
    assert.equal(custom.status, 418);
    assert.equal(custom.body, 'custom boom');
    mode.value = 'async';
    const later = await request(port, { path: '/x' });
    assert.equal(later.status, 503);
    assert.equal(later.body, 'later');
    mode.value = 'broken';
    const logged = await quietly(async () => {
      const broken = await request(port, { path: '/x' });
      assert.equal(broken.status, 500);
    });
    assert.equal(logged.length, 1);
    assert.equal(logged[0][0].message, 'reporter broke');
  });
});

test('a handler calling next() falls through to 404; extra next() calls are ignored', async () => {
  const r = createRouter({ onError: (err) => assert.fail(err) });
  r.get('/fall', (req, res, params, next) => next());
  r.get('/twice', (req, res, params, next) => {
    res.end('once');
    next();
    next();
  });
  await serve(r, async ({ port }) => {
    const fall = await request(port, { path: '/fall' });
    assert.equal(fall.status, 404);
    const twice = await request(port, { path: '/twice' });
    assert.equal(twice.status, 200);
    assert.equal(twice.body, 'once');
  });
});

test('a router mounted in another: misses go to next(), errors to next(err)', async () => {
  const outerErrors = [];
  const outer = createRouter({ onError: (err) => outerErrors.push(err.message) });
  const api = createRouter({ onError: () => assert.fail('the mounted router does not report') });
  api.get('/api/users/:id', (req, res, params) => res.end(`user ${params.id}`));
  api.get('/api/boom', () => {
    throw new Error('inner');
  });
  outer.use('/api', api);
  outer.get('/api/status', reply('outer status'));
  outer.get('/', reply('home'));
  await serve(outer, async ({ port }) => {
    assert.equal((await request(port, { path: '/api/users/3' })).body, 'user 3');
    assert.equal((await request(port, { path: '/api/status' })).body, 'outer status');
    assert.equal((await request(port, { path: '/' })).body, 'home');
    const boom = await request(port, { path: '/api/boom' });
    assert.equal(boom.status, 500);
    assert.equal((await request(port, { path: '/api/none' })).status, 404);
    const wrongMethod = await request(port, { method: 'DELETE', path: '/api/users/3' });
    assert.equal(wrongMethod.status, 404, 'the outer router has no route for it at all');
  });
  assert.deepEqual(outerErrors, ['inner']);
});

test('handle() and node:http: the router is a plain (req, res) listener', async () => {
  const r = createRouter();
  r.get('/n/:id', (req, res, params) => res.end(`node ${params.id} ${req.query.get('a')}`));
  r.get('/boom', async () => {
    throw new Error('x');
  });
  const server = nodeHttp.createServer((req, res) => r.handle(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address();
    assert.equal((await request(port, { path: '/n/5?a=b' })).body, 'node 5 b');
    assert.equal((await request(port, { method: 'PUT', path: '/n/5' })).status, 405);
    const logged = await quietly(async () => assert.equal((await request(port, { path: '/boom' })).status, 500));
    assert.equal(logged.length, 1);
    assert.equal('query' in nodeHttp.IncomingMessage.prototype, false, "node:http's prototype is left alone");
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a router used as a route handler ignores the params object in the next position', async () => {
  const inner = createRouter();
  inner.get('/x/in', reply('inner'));
  const outer = createRouter();
  outer.get('/x/*', inner);
  await serve(outer, async ({ port }) => {
    assert.equal((await request(port, { path: '/x/in' })).body, 'inner');
    assert.equal((await request(port, { path: '/x/other' })).status, 404);
  });
});
