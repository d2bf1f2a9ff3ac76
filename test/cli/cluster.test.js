// `keel serve --workers 2` (node:cluster): requests are served by two worker processes (seen through
// X-Keel-Worker with KEEL_DEBUG_WORKER=1), a killed worker is replaced, SIGHUP restarts every worker
// under a steady keep-alive load without one failed request, and SIGTERM stops them all (exit 0).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchRaw, startKeel } from './keel-process.js';

let dir;
let keel;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-cli-cluster-'));
  writeFileSync(join(dir, 'index.html'), 'cluster\n');
  keel = await startKeel(['serve', dir, '--port', '0', '--host', '127.0.0.1', '--workers', '2', '--log', 'off'], { env: { KEEL_DEBUG_WORKER: '1' } });
});

after(async () => {
  await keel?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Worker pids answering `count` requests, each on a new connection. */
async function workerPids(count) {
  const pids = new Set();
  for (let i = 0; i < count; i++) {
    const res = await fetchRaw(keel.port, '/');
    assert.equal(res.status, 200);
    pids.add(Number(res.headers['x-keel-worker']));
  }
  return pids;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `clients` loops of back-to-back GETs on a keep-alive Agent (Node's: no retries) until `until` settles. */
async function steadyLoad(clients, until) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const results = { ok: 0, failures: [], seen: [] };
  let isOver = false;
  until.then(() => (isOver = true), () => (isOver = true));
  const one = () => new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: keel.port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) results.ok++;
        else results.failures.push(`status ${res.statusCode}`);
        results.seen.push([Date.now(), Number(res.headers['x-keel-worker'])]);
        resolve();
      });
      res.on('error', (err) => {
        results.failures.push(`response ${err.code ?? err.message}`);
        resolve();
      });
    });
    req.on('error', (err) => {
      results.failures.push(`request ${err.code ?? err.message}`);
      resolve();
    });
  });
  await Promise.all(Array.from({ length: clients }, async () => {
    while (!isOver) await one();
  }));
  agent.destroy();
  return results;
}

test('two workers serve: two distinct pids, the banner says 2 workers', async () => {
  assert.match(keel.stdout(), /^keel serve: http:\/\/127\.0\.0\.1:\d+ \(dir .*, 2 workers\)\n/);
  const pids = await workerPids(6);
  assert.equal(pids.size, 2);
  assert.ok(!pids.has(keel.child.pid));
});

test('a worker that dies is replaced (a new pid answers)', async () => {
  const before = await workerPids(4);
  const [victim] = before;
  process.kill(victim, 'SIGKILL');
  await keel.waitFor(new RegExp(`keel: worker ${victim} died \\(signal SIGKILL\\); starting another in \\d+ ms`), 'stderr');
  let pids = new Set();
  for (let i = 0; i < 50 && ![...pids].some((pid) => !before.has(pid)); i++) {
    pids = await workerPids(4);
    if (pids.size < 2) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(!pids.has(victim));
  assert.ok([...pids].some((pid) => !before.has(pid)), `new pid among ${[...pids]}`);
});

test('SIGHUP: rolling restart under 20 keep-alive clients, zero failed requests, every worker pid new', async () => {
  const old = await workerPids(4);
  assert.equal(old.size, 2);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let hupAt = Infinity;
  const restarted = sleep(500).then(() => {
    hupAt = Date.now();
    keel.child.kill('SIGHUP');
    return keel.waitFor(/keel: rolling restart done \(workers (\d+, \d+)\)/, 'stderr', 15_000);
  });
  // 3 s of load at least, and 500 ms more after the restart is done
  const loading = steadyLoad(20, Promise.all([sleep(3000), restarted.then(() => sleep(500))]));
  const [, pidList] = await restarted;
  const doneAt = Date.now();
  const { ok, failures, seen } = await loading;
  assert.deepEqual(failures, []);
  assert.ok(ok > 200, `${ok} requests`);
  const fresh = pidList.split(', ').map(Number);
  for (const pid of fresh) assert.ok(!old.has(pid), `${pid} is new`);
  for (const pid of old) assert.ok(!isAlive(pid), `${pid} exited`);
  const before = new Set(seen.filter(([t]) => t < hupAt).map(([, pid]) => pid));
  const after = new Set(seen.filter(([t]) => t > doneAt + 100).map(([, pid]) => pid));
  assert.deepEqual([...before].sort(), [...old].sort());
  assert.deepEqual([...after].sort(), fresh.sort());
});

test('SIGTERM stops every worker and the primary exits 0', async () => {
  const pids = await workerPids(4);
  keel.child.kill('SIGTERM');
  const { code } = await keel.exited;
  assert.equal(code, 0);
  assert.match(keel.stderr(), /keel: SIGTERM: shutting down 2 workers/);
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const pid of pids) assert.ok(!isAlive(pid), `${pid} exited`);
});
