// keel/workers offload() on a real Keel server: /slow computes Fibonacci on a worker pool while
// /fast stays responsive; a full pool answers 503 + Retry-After; a client that disconnects has its
// task aborted (queued: dropped; running: its worker replaced); failures answer 500.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWorkerPool, offload } from 'keel/workers';
import { FIB, get, rawGet, sleep, startServer, waitUntil, withTimeout } from './helpers.js';

/** fib(50) takes minutes: a task that never finishes within a test. */
const FOREVER = 50;

/**
 * A server with /slow?n=N[&fail] offloaded to `pool` and /fast answered inline. `outcomes`
 * collects what each /slow handler resolved to, in completion order.
 */
async function fibServer(pool, options = {}) {
  const outcomes = [];
  const slow = offload(
    pool,
    (req) => {
      const url = new URL(req.url, 'http://localhost');
      const n = Number(url.searchParams.get('n'));
      if (!Number.isInteger(n) || n < 0) throw Object.assign(new Error('bad n'), { status: 400 });
      return { n, fail: url.searchParams.has('fail') };
    },
    (res, result) => {
      const body = JSON.stringify(result);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    },
    options,
  );
  const h = await startServer(async (req, res) => {
    if (req.url.startsWith('/slow')) {
      outcomes.push(await slow(req, res));
    } else {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 4 });
      res.end('fast');
    }
  });
  return { h, outcomes };
}

test('/fast answers quickly while /slow requests saturate the pool', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1, maxQueue: 3 });
  const { h } = await fibServer(pool);
  try {
    await get(h.port, '/slow?n=1'); // warm: the worker is up
    const slows = [get(h.port, '/slow?n=36'), get(h.port, '/slow?n=36'), get(h.port, '/slow?n=36')];
    await waitUntil(() => pool.pending === 3, 3000, 'three tasks in the pool');
    const fast = [];
    while (pool.pending > 0 && fast.length < 20) {
      const r = await get(h.port, '/fast');
      assert.equal(r.status, 200);
      assert.equal(r.body, 'fast');
      fast.push({ ms: r.ms, busy: pool.pending > 0 });
    }
    const slowResults = await withTimeout(Promise.all(slows), 20000, 'the slow requests');
    for (const r of slowResults) {
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).value, 14930352);
    }
    const duringSaturation = fast.filter((f) => f.busy);
    assert.ok(duringSaturation.length >= 3, `only ${duringSaturation.length} /fast requests while the pool was busy`);
    // Generous, relative bounds: the typical /fast is a small fraction of a /slow, the worst well under it.
    const slowest = Math.max(...slowResults.map((r) => r.ms));
    const fastMs = duringSaturation.map((f) => f.ms).sort((x, y) => x - y);
    const median = fastMs[Math.floor(fastMs.length / 2)];
    const worst = fastMs[fastMs.length - 1];
    assert.ok(median < slowest / 10, `median /fast ${median.toFixed(1)} ms vs slowest /slow ${slowest.toFixed(1)} ms`);
    assert.ok(worst < slowest / 2, `worst /fast ${worst.toFixed(1)} ms vs slowest /slow ${slowest.toFixed(1)} ms`);
  } finally {
    await h.close();
    await pool.destroy();
  }
});

test('a full pool answers 503 Service Unavailable with Retry-After; /fast still answers; room comes back', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1, maxQueue: 1 });
  const { h, outcomes } = await fibServer(pool, { retryAfter: 3 });
  const clients = [];
  try {
    await get(h.port, '/slow?n=1');
    outcomes.length = 0;
    clients.push(rawGet(h.port, `/slow?n=${FOREVER}`), rawGet(h.port, `/slow?n=${FOREVER}`));
    await waitUntil(() => pool.pending === 2, 3000, 'a running and a queued task');
    const full = await get(h.port, '/slow?n=1');
    assert.equal(full.status, 503);
    assert.equal(full.headers['retry-after'], '3');
    assert.equal(full.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(full.body, 'Service Unavailable\n');
    assert.deepEqual(outcomes, ['queue-full']);
    assert.equal((await get(h.port, '/fast')).status, 200);
    // The two clients leave: their tasks are aborted and the pool is free again.
    for (const c of clients) c.socket.destroy();
    await waitUntil(() => outcomes.length === 3, 2000, 'both tasks aborted');
    assert.deepEqual(outcomes.slice(1), ['aborted', 'aborted']);
    assert.equal(pool.pending, 0);
    const again = await get(h.port, '/slow?n=20', { timeout: 5000 });
    assert.equal(again.status, 200);
    assert.equal(JSON.parse(again.body).value, 6765);
    for (const c of clients) assert.equal(c.received.length, 0, 'nothing was written to a client that left');
  } finally {
    for (const c of clients) c.socket.destroy();
    await h.close();
    await pool.destroy();
  }
});

test('a client that disconnects mid-task: the task is aborted, its worker replaced and the result never sent', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1 });
  const { h, outcomes } = await fibServer(pool);
  let client;
  try {
    const { threadId: before } = JSON.parse((await get(h.port, '/slow?n=1')).body);
    outcomes.length = 0;
    client = rawGet(h.port, `/slow?n=${FOREVER}`);
    await waitUntil(() => pool.pending === 1, 3000, 'the task to start');
    await sleep(100);
    const started = Date.now();
    client.socket.destroy();
    await waitUntil(() => outcomes.length === 1, 2000, 'the handler to finish');
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(outcomes, ['aborted']);
    assert.equal(pool.pending, 0);
    // The only worker was busy for minutes; a new request is served at once, by a new worker.
    const next = await get(h.port, '/slow?n=20', { timeout: 5000 });
    assert.equal(next.status, 200);
    const { value, threadId } = JSON.parse(next.body);
    assert.equal(value, 6765);
    assert.notEqual(threadId, before, 'the aborted task’s worker was terminated');
  } finally {
    client?.socket.destroy();
    await h.close();
    await pool.destroy();
  }
});

test('a queued request whose client leaves is dropped from the queue; the running task goes on', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1, maxQueue: 4 });
  const { h, outcomes } = await fibServer(pool);
  const clients = [];
  try {
    await get(h.port, '/slow?n=1');
    outcomes.length = 0;
    const running = get(h.port, '/slow?n=37', { timeout: 20000 });
    await waitUntil(() => pool.pending === 1, 3000, 'the running task');
    clients.push(rawGet(h.port, '/slow?n=30'));
    await waitUntil(() => pool.pending === 2, 3000, 'the queued task');
    clients[0].socket.destroy();
    await waitUntil(() => outcomes.length === 1, 2000, 'the queued handler to finish');
    assert.deepEqual(outcomes, ['aborted']);
    assert.equal(pool.pending, 1);
    const done = await running;
    assert.equal(done.status, 200);
    assert.equal(JSON.parse(done.body).value, 24157817);
    assert.deepEqual(outcomes, ['aborted', 'done']);
  } finally {
    for (const c of clients) c.socket.destroy();
    await h.close();
    await pool.destroy();
  }
});

test('a task that throws answers 500; so does toInput throwing; onError answers instead when given', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1 });
  const { h, outcomes } = await fibServer(pool);
  const seen = [];
  const custom = await fibServer(pool, {
    onError(error, req, res) {
      seen.push(error.code ?? error.message);
      res.writeHead(error.status ?? 502, { 'Content-Length': 0 });
      res.end();
    },
  });
  try {
    const failed = await get(h.port, '/slow?n=5&fail');
    assert.equal(failed.status, 500);
    assert.equal(failed.body, 'Internal Server Error\n');
    const badInput = await get(h.port, '/slow?n=-1');
    assert.equal(badInput.status, 500);
    assert.deepEqual(outcomes, ['failed', 'failed']);
    assert.equal((await get(custom.h.port, '/slow?n=5&fail')).status, 502);
    assert.equal((await get(custom.h.port, '/slow?n=x')).status, 400);
    assert.deepEqual(seen, ['ERR_WORKER_FAILED', 'bad n']);
    assert.deepEqual(custom.outcomes, ['failed', 'failed']);
  } finally {
    await h.close();
    await custom.h.close();
    await pool.destroy();
  }
});

test('offload() validates retryAfter', () => {
  const pool = { run: async () => 0 };
  assert.throws(() => offload(pool, () => 0, () => {}, { retryAfter: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => offload(pool, () => 0, () => {}, { retryAfter: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
});

// Regression test, fixed (engine, src/server/server-connection.ts): after a request with `Connection: close`
// the server stops reading, so a client that disconnects while its response is pending is not
// noticed (no res 'close') until something is written: its task runs on, holding the worker.
test('a Connection: close client that disconnects has its task aborted', {}, async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1 });
  const { h, outcomes } = await fibServer(pool);
  let client;
  try {
    await get(h.port, '/slow?n=1');
    outcomes.length = 0;
    client = rawGet(h.port, `/slow?n=${FOREVER}`, 'Connection: close\r\n');
    await waitUntil(() => pool.pending === 1, 3000, 'the task to start');
    client.socket.destroy();
    await waitUntil(() => outcomes.length === 1, 1000, 'the task to be aborted');
    assert.deepEqual(outcomes, ['aborted']);
  } finally {
    client?.socket.destroy();
    await h.close();
    await pool.destroy();
  }
});
