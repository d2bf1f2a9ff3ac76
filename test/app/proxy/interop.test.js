// keel/proxy with others: mounted in an Express app behind express.json() (the real "proxy after a
// body parser" case), on a node:http server, and reusing its upstream connections (keep-alive)
// across requests. Express runs on node:http here: it replaces the prototypes of req and res with
// its own, built on node:http's classes, so it cannot run on Keel's server (reported).
//
//   npm run build && node --test test/app/proxy/interop.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import express from 'express';
import http from 'keel';
import { createProxy } from 'keel/proxy';

import { collect, send, startUpstream } from './helpers.js';

const T = { timeout: 10_000 };

function startEcho() {
  return startUpstream(async (req, res) => {
    const body = (await collect(req)).toString();
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  });
}

async function serve(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address().port;
}

async function stop(server) {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

test('Express: app.use(express.json()) then app.use("/api", proxy)', T, async () => {
  const upstream = await startEcho();
  const proxy = createProxy({ target: upstream.url });
  const app = express();
  app.use(express.json());
  app.use('/api', proxy);
  const server = nodeHttp.createServer(app);
  const port = await serve(server);
  try {
    const body = JSON.stringify({ name: 'widget', tags: ['a', 'b'] });
    const post = await send(port, { method: 'POST', path: '/api/items?x=1', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, body);
    assert.equal(post.status, 200);
    const seen = JSON.parse(post.body);
    assert.equal(seen.url, '/items?x=1');
    assert.equal(seen.method, 'POST');
    assert.deepEqual(JSON.parse(seen.body), { name: 'widget', tags: ['a', 'b'] });
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
    const get = await send(port, { path: '/api/ping' });
    assert.equal(JSON.parse(get.body).url, '/ping');
  } finally {
    await stop(server);
    proxy.close();
    await upstream.close();
  }
});

test('on a node:http server: requests and bodies are proxied the same way', T, async () => {
  const upstream = await startEcho();
  const proxy = createProxy({ target: upstream.url });
  const server = nodeHttp.createServer(proxy);
  const port = await serve(server);
  try {
    const r = await send(port, { method: 'PUT', path: '/n', headers: { 'Content-Length': 5, Connection: 'keep-alive, X-Hop', 'X-Hop': '1' } }, 'hello');
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body);
    assert.equal(seen.body, 'hello');
    assert.equal(seen.headers['x-hop'], undefined);
    assert.equal(seen.headers.via, '1.1 keel');
    assert.equal(r.headers.via, '1.1 keel');
  } finally {
    await stop(server);
    proxy.close();
    await upstream.close();
  }
});

test('upstream connections are kept alive and reused across requests', T, async () => {
  const upstream = await startEcho();
  let connections = 0;
  upstream.server.on('connection', () => connections++);
  const proxy = createProxy({ target: upstream.url });
  const server = http.createServer(proxy);
  const port = await serve(server);
  const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 10; i++) {
      const r = await send(port, { path: `/${i}`, agent });
      assert.equal(r.status, 200);
    }
    assert.equal(connections, 1);
  } finally {
    agent.destroy();
    await stop(server);
    proxy.close();
    await upstream.close();
  }
});
