// Express replaces the prototypes of req and res with its own, built on node:http's classes. On Keel
// the documented two-line adaptation gives Express's methods Keel's classes underneath; this test
// keeps that recipe (README, "Deliberate differences") true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import http from 'keel';

/** The README's recipe: Express's request/response methods on top of Keel's classes. */
function onKeel(app) {
  for (const [key, Base] of [['request', http.IncomingMessage], ['response', http.ServerResponse]]) {
    const expressProto = Object.getPrototypeOf(app[key]);
    Object.setPrototypeOf(app[key], Object.create(Base.prototype, Object.getOwnPropertyDescriptors(expressProto)));
  }
  return app;
}

test('an Express app runs on Keel with the prototype recipe: routes, query, JSON body, status, errors, 404', async () => {
  const app = onKeel(express());
  app.use(express.json());
  app.get('/', (req, res) => res.json({ hi: 'express', q: req.query }));
  app.post('/echo', (req, res) => res.status(201).json(req.body));
  app.get('/boom', () => {
    throw new Error('express failed');
  });
  app.use((err, req, res, _next) => res.status(500).json({ error: err.message }));
  const server = http.createServer(app);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const root = await fetch(`${base}/?a=1`);
    assert.equal(root.status, 200);
    assert.deepEqual(await root.json(), { hi: 'express', q: { a: '1' } });
    const echo = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
    assert.equal(echo.status, 201);
    assert.deepEqual(await echo.json(), { x: 1 });
    const boom = await fetch(`${base}/boom`);
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { error: 'express failed' });
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
