// keel/proxy: several upstreams. Round-robin distribution; passive health: an upstream that
// fails to connect or times out is skipped for `healthCooldown` ms; an idempotent request that
// could not connect is retried on the next upstream (a POST is not); when every upstream is down
// the next one is tried anyway.
//
//   npm run build && node --test test/app/proxy/balancing.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'keel';

import { closedPort, send, sleep, startProxy, startUpstream } from './helpers.js';

const T = { timeout: 10_000 };

/** Upstreams answering their name; `hits` records which one served each request, in order. */
async function named(names, hits) {
  return Promise.all(names.map((name) => startUpstream((req, res) => {
    hits.push(name);
    res.end(name);
  })));
}

/** Listen on a given port (to bring a "dead" upstream back). */
async function reviveOn(port, name, hits) {
  const server = http.createServer((req, res) => {
    hits.push(name);
    res.end(name);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}

test('round-robin over 3 upstreams: each gets every third request, in turn', T, async () => {
  const hits = [];
  const ups = await named(['a', 'b', 'c'], hits);
  const front = await startProxy({ upstreams: ups.map((u) => u.url) });
  try {
    const bodies = [];
    for (let i = 0; i < 9; i++) {
      const r = await send(front.port, { path: `/${i}` });
      assert.equal(r.status, 200);
      bodies.push(r.body);
    }
    assert.deepEqual(bodies, ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
    assert.deepEqual(hits, bodies);
  } finally {
    await front.close();
    await Promise.all(ups.map((u) => u.close()));
  }
});

test('concurrent requests are spread evenly too', T, async () => {
  const hits = [];
  const ups = await named(['a', 'b', 'c'], hits);
  const front = await startProxy({ upstreams: ups.map((u) => u.url) });
  try {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => send(front.port, { path: `/${i}` })));
    assert.ok(results.every((r) => r.status === 200));
    for (const name of ['a', 'b', 'c']) assert.equal(hits.filter((h) => h === name).length, 10, name);
  } finally {
    await front.close();
    await Promise.all(ups.map((u) => u.close()));
  }
});

test('a dead upstream: the GET that found it is retried on the next one, then it is skipped', T, async () => {
  const hits = [];
  const [a, c] = await named(['a', 'c'], hits);
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const front = await startProxy({ upstreams: [a.url, dead, c.url] });
  try {
    const bodies = [];
    for (let i = 0; i < 6; i++) {
      const r = await send(front.port, { path: `/${i}` });
      assert.equal(r.status, 200, `request ${i}`);
      bodies.push(r.body);
    }
    // a, then dead (retried on c), then a, c, a, c: never dead again.
    assert.deepEqual(bodies, ['a', 'c', 'a', 'c', 'a', 'c']);
    assert.deepEqual(front.proxy.upstreams.map((u) => u.healthy), [true, false, true]);
  } finally {
    await front.close();
    await a.close();
    await c.close();
  }
});

test('a POST that finds a dead upstream is not retried (502); the next one avoids it', T, async () => {
  const hits = [];
  const [a] = await named(['a'], hits);
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const front = await startProxy({ upstreams: [dead, a.url] });
  try {
    const post = (i) => send(front.port, { method: 'POST', path: `/${i}`, headers: { 'Content-Length': 1 } }, 'x');
    const first = await post(0);
    assert.equal(first.status, 502);
    const second = await post(1);
    const third = await post(2);
    assert.equal(second.status, 200);
    assert.equal(third.status, 200);
    assert.deepEqual(hits, ['a', 'a']);
  } finally {
    await front.close();
    await a.close();
  }
});

test('a PUT with a streamed body is not retried either; bodiless GET and DELETE are', T, async () => {
  const hits = [];
  const [a] = await named(['a'], hits);
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const front = await startProxy({ upstreams: [dead, a.url], healthCooldown: 0 });
  try {
    const put = await send(front.port, { method: 'PUT', path: '/p', headers: { 'Content-Length': 2 } }, 'hi');
    assert.equal(put.status, 502);
    const del = await send(front.port, { method: 'DELETE', path: '/d' }); // goes to a (turn)
    assert.equal(del.status, 200);
    const get = await send(front.port, { method: 'GET', path: '/g' }); // dead, retried on a
    assert.equal(get.status, 200);
    assert.deepEqual(hits, ['a', 'a']);
  } finally {
    await front.close();
    await a.close();
  }
});

test('after healthCooldown ms a failed upstream is tried again', T, async () => {
  const hits = [];
  const [a] = await named(['a'], hits);
  const port = await closedPort();
  const front = await startProxy({ upstreams: [`http://127.0.0.1:${port}`, a.url], healthCooldown: 300 });
  let stopRevived = null;
  try {
    assert.equal((await send(front.port, { path: '/0' })).body, 'a'); // dead, retried on a
    assert.deepEqual(front.proxy.upstreams.map((u) => u.healthy), [false, true]);
    stopRevived = await reviveOn(port, 'b', hits);
    assert.equal((await send(front.port, { path: '/1' })).body, 'a'); // still cooling down
    assert.equal((await send(front.port, { path: '/2' })).body, 'a');
    await sleep(350);
    assert.deepEqual(front.proxy.upstreams.map((u) => u.healthy), [true, true]);
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await send(front.port, { path: `/${i}` })).body);
    assert.deepEqual(bodies.sort(), ['a', 'a', 'b', 'b']);
  } finally {
    await front.close();
    await stopRevived?.();
    await a.close();
  }
});

test('when every upstream is down, the next one is tried anyway (and serves if it is back)', T, async () => {
  const hits = [];
  const ports = [await closedPort(), await closedPort()];
  const front = await startProxy({ upstreams: ports.map((p) => `http://127.0.0.1:${p}`) });
  let stopRevived = null;
  try {
    assert.equal((await send(front.port, { path: '/0' })).status, 502); // both tried, both down
    assert.deepEqual(front.proxy.upstreams.map((u) => u.healthy), [false, false]);
    stopRevived = await reviveOn(ports[1], 'b', hits);
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await send(front.port, { path: `/${i}` })).status);
    assert.ok(statuses.includes(200), `statuses ${statuses}`);
    assert.deepEqual(front.proxy.upstreams.map((u) => u.healthy), [false, true]);
    assert.equal((await send(front.port, { path: '/x' })).body, 'b');
  } finally {
    await front.close();
    await stopRevived?.();
  }
});

test('an upstream that times out (504) is skipped for the cooldown', T, async () => {
  const hits = [];
  const slow = await startUpstream((req) => {
    hits.push('slow');
    req.resume();
  });
  const [fast] = await named(['fast'], hits);
  const front = await startProxy({ upstreams: [slow.url, fast.url], timeout: 150 });
  try {
    assert.equal((await send(front.port, { path: '/0' })).status, 504);
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await send(front.port, { path: `/${i}` })).body);
    assert.deepEqual(bodies, ['fast', 'fast', 'fast', 'fast']);
    assert.deepEqual(hits, ['slow', 'fast', 'fast', 'fast', 'fast']);
  } finally {
    await front.close();
    await slow.close();
    await fast.close();
  }
});
