// keel/router registration: duplicates (ERR_ROUTE_DUPLICATE, whatever the param names), path
// syntax (ERR_ROUTE_INVALID_PATH), methods (ERR_ROUTE_INVALID_METHOD), handler and option types
// (ERR_INVALID_ARG_TYPE), method lists, routes() — all thrown at registration, never per request.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRouter } from 'keel/router';

const noop = () => {};

test('a duplicate route throws ERR_ROUTE_DUPLICATE; the first route stays', () => {
  const r = createRouter();
  r.get('/users/:id', noop);
  assert.throws(() => r.get('/users/:id', noop), { code: 'ERR_ROUTE_DUPLICATE', name: 'Error', message: 'Route already registered: GET /users/:id' });
  assert.throws(() => r.get('/users/:userId', noop), { code: 'ERR_ROUTE_DUPLICATE' }, 'same shape, other name');
  assert.equal(r.find('GET', '/users/1').route.path, '/users/:id');
  r.post('/users/:id', noop); // another method: fine
  r.get('/users/:id(\\d+)', noop); // another constraint: fine
  assert.throws(() => r.get('/users/:n(\\d+)', noop), { code: 'ERR_ROUTE_DUPLICATE' });
  r.get('/files/*', noop);
  assert.throws(() => r.get('/files/*', noop), { code: 'ERR_ROUTE_DUPLICATE' });
  r.get('/files/', noop); // the exact path is not the wildcard
  r.all('/any', noop);
  assert.throws(() => r.all('/any', noop), { code: 'ERR_ROUTE_DUPLICATE', message: 'Route already registered: ALL /any' });
  r.get('/any', noop); // a method route beside an all() route: fine
  assert.throws(() => r.on(['PUT', 'PUT'], '/twice', noop), { code: 'ERR_ROUTE_DUPLICATE' });
  r.post('/taken', noop);
  assert.throws(() => r.on(['GET', 'POST'], '/taken', noop), { code: 'ERR_ROUTE_DUPLICATE', message: 'Route already registered: POST /taken' });
  assert.equal(r.find('GET', '/taken'), null, 'all or nothing');
  assert.equal(r.find('PUT', '/twice'), null);
  assert.throws(() => r.get('/%75sers/:x', noop), { code: 'ERR_ROUTE_DUPLICATE' }, 'static text compares decoded');
});

test('invalid paths throw ERR_ROUTE_INVALID_PATH (a TypeError)', () => {
  const r = createRouter();
  const bad = [
    '',
    'users',
    '*',
    '/a*b',
    '/a/*/b',
    '/:',
    '/a/:/b',
    '/:id:other',
    '/:id-:other',
    '/:id.json',
    '/:a/:a',
    '/:__proto__',
    '/a?b',
    '/a#b',
    '/:id(\\d+',
    '/:id([)',
    '/:id([^/]+)',
    '/%zz',
  ];
  for (const path of bad) assert.throws(() => r.get(path, noop), { code: 'ERR_ROUTE_INVALID_PATH', name: 'TypeError' }, JSON.stringify(path));
  for (const path of [undefined, null, 42, {}]) assert.throws(() => r.get(path, noop), { code: 'ERR_ROUTE_INVALID_PATH' });
  // valid oddities
  r.get('/a::b', noop);
  assert.equal(r.find('GET', '/a:b').route.path, '/a::b');
  r.get('/:id(a|b)/x', noop);
  r.get('/:id((?:c|d)\\))', noop);
  assert.equal(r.find('GET', '/d)').params.id, 'd)');
  r.get('/static*', noop);
  assert.equal(r.find('GET', '/static-files/x').params['*'], '-files/x');
  assert.deepEqual(r.routes().length, 4);
});

test('methods: tokens, upper-cased; lists; invalid ones throw ERR_ROUTE_INVALID_METHOD', () => {
  const r = createRouter();
  r.on('get', '/a', noop);
  r.on(['POST', 'put'], '/a', noop);
  r.on('M-SEARCH', '/a', noop);
  assert.deepEqual(r.routes(), [
    { method: 'GET', path: '/a' },
    { method: 'POST', path: '/a' },
    { method: 'PUT', path: '/a' },
    { method: 'M-SEARCH', path: '/a' },
  ]);
  for (const method of ['', 'GE T', 'GET\r\n', 'ÄÖ', 42, null, undefined, [1]]) {
    assert.throws(() => r.on(method, '/b', noop), { code: 'ERR_ROUTE_INVALID_METHOD', name: 'TypeError' }, String(method));
  }
});

test('handlers and middleware must be functions (ERR_INVALID_ARG_TYPE)', () => {
  const r = createRouter();
  assert.throws(() => r.get('/a'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => r.get('/a', 'nope'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => r.get('/a', noop, null), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => r.all('/a', {}), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => r.use(), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => r.use('/p'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => r.use(noop, 1), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.deepEqual(r.routes(), []);
});

test('use() prefixes are literal paths', () => {
  const r = createRouter();
  for (const prefix of ['api', '/:id', '/a/*', '/a?b', '/%zz']) assert.throws(() => r.use(prefix, noop), { code: 'ERR_ROUTE_INVALID_PATH' }, prefix);
  r.use('/api/', noop);
  r.use('/', noop);
});

test('options are type-checked (ERR_INVALID_ARG_TYPE)', () => {
  assert.throws(() => createRouter(null), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => createRouter('x'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => createRouter({ caseSensitive: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => createRouter({ ignoreTrailingSlash: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => createRouter({ notFound: 'x' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => createRouter({ methodNotAllowed: {} }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => createRouter({ onError: true }), { code: 'ERR_INVALID_ARG_TYPE' });
  createRouter({});
  createRouter(undefined);
});

test('registration methods chain; routes() lists them in order, "*" for all()', () => {
  const r = createRouter()
    .get('/', noop)
    .post('/p', noop)
    .put('/p', noop)
    .patch('/p', noop)
    .delete('/p', noop)
    .head('/h', noop)
    .options('/o', noop)
    .all('/all', noop)
    .use(noop);
  assert.deepEqual(
    r.routes().map((x) => `${x.method} ${x.path}`),
    ['GET /', 'POST /p', 'PUT /p', 'PATCH /p', 'DELETE /p', 'HEAD /h', 'OPTIONS /o', '* /all'],
  );
});

test('routes added after the router started serving are found at once', () => {
  const r = createRouter();
  r.get('/users/:id', noop);
  assert.equal(r.find('GET', '/users/me').route.path, '/users/:id');
  r.get('/users/me', noop);
  assert.equal(r.find('GET', '/users/me').route.path, '/users/me');
  r.get('/users/m', noop);
  r.get('/users/mee', noop);
  assert.equal(r.find('GET', '/users/me').route.path, '/users/me');
  assert.equal(r.find('GET', '/users/mee').route.path, '/users/mee');
  assert.equal(r.find('GET', '/users/m').route.path, '/users/m');
  assert.equal(r.find('GET', '/users/meee').route.path, '/users/:id');
});
