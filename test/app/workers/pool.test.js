// keel/workers WorkerPool: results from worker threads, the bounded queue (also for abortable
// tasks, which piscina itself does not bound), aborting queued and running tasks (a running
// task's worker is replaced), worker failures, close() and destroy().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { threadId as mainThreadId } from 'node:worker_threads';
import { createWorkerPool, WorkerPool } from 'keel/workers';

const FIB = new URL('./fixtures/fib.js', import.meta.url);
/** fib(50) takes minutes: a task that never finishes within a test. */
const FOREVER = 50;

const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  })]).finally(() => clearTimeout(timer));
}

test('run() computes on a worker thread; filename as a URL or a path; name picks an export', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 2 });
  const byPath = createWorkerPool({ filename: fileURLToPath(FIB), maxThreads: 1 });
  try {
    assert.ok(pool instanceof WorkerPool);
    const result = await pool.run(20);
    assert.deepEqual({ n: result.n, value: result.value }, { n: 20, value: 6765 });
    assert.notEqual(result.threadId, mainThreadId);
    assert.equal((await byPath.run({ n: 10 })).value, 55);
    assert.equal(await pool.run(7, { name: 'square' }), 49);
    assert.equal(pool.pending, 0);
  } finally {
    await Promise.all([pool.close(), byPath.close()]);
  }
});

test("capacity is maxThreads + maxQueue; maxQueue defaults to 'auto' (maxThreads²)", async () => {
  const pools = [createWorkerPool({ filename: FIB, maxThreads: 1, maxQueue: 1 }), createWorkerPool({ filename: FIB, maxThreads: 2 }), createWorkerPool({ filename: FIB, maxThreads: 3, maxQueue: 0 })];
  try {
    assert.deepEqual(pools.map((p) => [p.maxThreads, p.maxQueue, p.capacity]), [[1, 1, 2], [2, 4, 6], [3, 0, 3]]);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
});

for (const abortable of [false, true]) {
  test(`a full pool rejects at once with ERR_WORKER_QUEUE_FULL (${abortable ? 'tasks with an AbortSignal' : 'plain tasks'})`, async () => {
    const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1, maxQueue: 1 });
    const controller = new AbortController();
    const options = abortable ? { signal: controller.signal } : {};
    try {
      await pool.run(1); // warm: the worker is up
      const n = abortable ? FOREVER : 34;
      const running = settle(pool.run(n, options));
      const queued = settle(pool.run(n, options));
      assert.equal(pool.pending, 2);
      const started = Date.now();
      const rejected = await settle(pool.run(1, options));
      assert.equal(rejected.error?.code, 'ERR_WORKER_QUEUE_FULL');
      assert.ok(Date.now() - started < 500, 'rejected at once, not after waiting');
      assert.equal(pool.pending, 2);
      if (abortable) controller.abort();
      const outcomes = await withTimeout(Promise.all([running, queued]), 10000, 'the two tasks');
      if (abortable) assert.deepEqual(outcomes.map((o) => o.error?.code), ['ABORT_ERR', 'ABORT_ERR']);
      else assert.deepEqual(outcomes.map((o) => o.value?.n), [n, n]);
      assert.equal(pool.pending, 0);
      assert.equal((await pool.run(10)).value, 55, 'room again once the tasks settled');
    } finally {
      controller.abort();
      await pool.destroy();
    }
  });
}

test('aborting a running task rejects with ABORT_ERR at once and replaces its worker', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1 });
  try {
    const { threadId: before } = await pool.run(1);
    const controller = new AbortController();
    const task = settle(pool.run(FOREVER, { signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 100)); // it is running now
    const reason = new Error('client gone');
    const started = Date.now();
    controller.abort(reason);
    const { error } = await withTimeout(task, 2000, 'the abort');
    assert.ok(Date.now() - started < 1000);
    assert.equal(error.code, 'ABORT_ERR');
    assert.equal(error.name, 'AbortError');
    assert.equal(error.cause, reason);
    assert.equal(pool.pending, 0);
    // The terminated worker is gone: the next task runs at once, on a new thread.
    const next = await withTimeout(pool.run(20), 5000, 'a task after the abort');
    assert.equal(next.value, 6765);
    assert.notEqual(next.threadId, before);
  } finally {
    await pool.destroy();
  }
});

test('aborting a queued task removes it; the running one goes on, on the same worker', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1, maxQueue: 4 });
  try {
    const { threadId: warm } = await pool.run(1);
    const keep = new AbortController();
    const drop = new AbortController();
    const running = settle(pool.run(33, { signal: keep.signal }));
    const queued = settle(pool.run(20, { signal: drop.signal }));
    drop.abort();
    const first = await Promise.race([queued.then(() => 'queued'), running.then(() => 'running')]);
    assert.equal(first, 'queued', 'the queued task is rejected before the running one ends');
    assert.equal((await queued).error.code, 'ABORT_ERR');
    const { value } = await withTimeout(running, 10000, 'the running task');
    assert.equal(value.n, 33);
    assert.equal(value.threadId, warm, 'its worker was not terminated');
  } finally {
    await pool.destroy();
  }
});

test('an already aborted signal rejects with ABORT_ERR without running anything', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1 });
  try {
    const { error } = await settle(pool.run(FOREVER, { signal: AbortSignal.abort('no') }));
    assert.equal(error.code, 'ABORT_ERR');
    assert.equal(error.cause, 'no');
    assert.equal(pool.pending, 0);
  } finally {
    await pool.destroy();
  }
});

test('a task that throws, or a worker that dies: ERR_WORKER_FAILED with the cause; the pool goes on', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1 });
  try {
    const thrown = await settle(pool.run({ n: 5, fail: true }));
    assert.equal(thrown.error.code, 'ERR_WORKER_FAILED');
    assert.equal(thrown.error.cause.message, 'fib(5) refused on purpose');
    const crashed = await settle(pool.run({ n: 5, crash: true }));
    assert.equal(crashed.error.code, 'ERR_WORKER_FAILED');
    assert.ok(crashed.error.cause instanceof Error);
    assert.equal((await pool.run(12)).value, 144);
  } finally {
    await pool.destroy();
  }
});

test('close() lets running tasks finish and refuses new ones (ERR_WORKER_POOL_CLOSED); destroy() rejects what is left', async () => {
  const pool = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1 });
  await pool.run(1);
  const running = settle(pool.run(30));
  const closing = pool.close();
  assert.equal(pool.closed, true);
  assert.equal((await settle(pool.run(1))).error.code, 'ERR_WORKER_POOL_CLOSED');
  await withTimeout(closing, 10000, 'close()');
  assert.equal((await running).value.value, 832040);

  const other = createWorkerPool({ filename: FIB, maxThreads: 1, minThreads: 1, maxQueue: 2 });
  await other.run(1);
  const tasks = [settle(other.run(FOREVER)), settle(other.run(FOREVER))];
  await withTimeout(other.destroy(), 5000, 'destroy()');
  const outcomes = await withTimeout(Promise.all(tasks), 5000, 'the tasks to settle');
  assert.deepEqual(outcomes.map((o) => o.error?.code), ['ERR_WORKER_POOL_CLOSED', 'ERR_WORKER_POOL_CLOSED']);
});

test('bad options throw: a missing filename is ERR_INVALID_ARG_TYPE', () => {
  assert.throws(() => createWorkerPool({}), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => createWorkerPool(null), { code: 'ERR_INVALID_ARG_TYPE' });
});
