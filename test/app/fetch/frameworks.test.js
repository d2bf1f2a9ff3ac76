// Real apps of real frameworks run unchanged on Keel: a Hono app through its fetch (keel/fetch),
// and a Fastify app through Fastify's serverFactory (Keel's createServer), over sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import Fastify from 'fastify';
import http from 'keel';
import { serve } from 'keel/fetch';

test('a Hono app: routes, params, JSON in and out, errors, not found, streaming', async () => {
  const app = new Hono();
  app.get('/', (c) => c.text('hello hono'));
  app.get('/users/:id', (c) => c.json({ id: Number(c.req.param('id')), q: c.req.query('q') ?? null }));
  app.post('/users', async (c) => c.json({ created: await c.req.json() }, 201));
  app.get('/boom', () => {
    throw new Error('kaboom');
  });
  app.onError((err, c) => c.json({ error: err.message }, 500));
  app.get('/stream', (c) => stream(c, async (s) => {
    for (const word of ['a', 'b', 'c']) {
      await s.write(word);
      await s.sleep(10);
    }
  }));
  const server = await serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    assert.equal(await (await fetch(`${base}/`)).text(), 'hello hono');
    assert.deepEqual(await (await fetch(`${base}/users/7?q=x`)).json(), { id: 7, q: 'x' });
    const created = await fetch(`${base}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { created: { name: 'Ada' } });
    const boom = await fetch(`${base}/boom`);
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { error: 'kaboom' });
    assert.equal((await fetch(`${base}/missing`)).status, 404);
    assert.equal(await (await fetch(`${base}/stream`)).text(), 'abc');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('a Fastify app through serverFactory: routes, JSON body, schema validation 400, errors, streams', async () => {
  let keelServer = null;
  const app = Fastify({
    serverFactory: (handler) => {
      keelServer = http.createServer((req, res) => handler(req, res));
      return keelServer;
    },
  });
  app.get('/', async () => ({ hello: 'world' }));
  app.get('/items/:id', async (req) => ({ id: req.params.id }));
  app.post('/echo', {
    schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
  }, async (req, reply) => reply.code(201).send({ got: req.body }));
  app.get('/error', async () => {
    throw new Error('fastify failed');
  });
  app.get('/stream', (req, reply) => reply.type('text/plain').send(Readable.from(['x', 'y', 'z'])));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  try {
    assert.ok(keelServer instanceof http.Server, 'Fastify runs on a Keel server');
    assert.equal(app.server, keelServer);
    const root = await fetch(`${base}/`);
    assert.equal(root.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await root.json(), { hello: 'world' });
    assert.deepEqual(await (await fetch(`${base}/items/42`)).json(), { id: '42' });
    const posted = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
    assert.equal(posted.status, 201);
    assert.deepEqual(await posted.json(), { got: { name: 'Ada' } });
    const invalid = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(invalid.status, 400);
    const broken = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    assert.equal(broken.status, 400);
    const error = await fetch(`${base}/error`);
    assert.equal(error.status, 500);
    assert.equal((await error.json()).message, 'fastify failed');
    assert.equal(await (await fetch(`${base}/stream`)).text(), 'xyz');
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await app.close();
  }
});
