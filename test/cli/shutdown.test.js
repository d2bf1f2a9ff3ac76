// Graceful shutdown of a single `keel` process: on SIGTERM /readyz turns 503 (while --drain keeps
// the listener open), a slow request in flight still completes, and the exit status is 0; past
// --grace what is left is cut and the exit status is 1; an idle server exits at once on SIGINT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchRaw, startKeel } from './keel-process.js';

/** An upstream whose /slow answers after `delayMs` (never, with Infinity); resolves `arrived` per request. */
async function slowUpstream(delayMs) {
  let onArrival = () => {};
  const server = http.createServer((req, res) => {
    onArrival();
    if (delayMs === Infinity) return;
    setTimeout(() => res.end('slow done'), delayMs);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${server.address().port}`,
    arrival: () => new Promise((resolve) => (onArrival = resolve)),
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

test('SIGTERM: /readyz 503 during a slow in-flight request, which still completes; exit 0', async (t) => {
  const upstream = await slowUpstream(1500);
  t.after(() => upstream.close());
  const keel = await startKeel(['proxy', '--to', upstream.url, '--port', '0', '--host', '127.0.0.1', '--drain', '1000', '--grace', '5000']);
  t.after(() => keel.stop());

  const arrived = upstream.arrival();
  const slow = fetchRaw(keel.port, '/slow');
  await arrived;
  const signalledAt = Date.now();
  keel.child.kill('SIGTERM');
  await keel.waitFor(/SIGTERM: shutting down \(draining 1000 ms, grace 5000 ms\)/, 'stderr');

  const ready = await fetchRaw(keel.port, '/readyz');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.toString(), 'shutting down\n');
  assert.equal(ready.headers.connection, 'close');
  const healthy = await fetchRaw(keel.port, '/healthz');
  assert.equal(healthy.status, 200);

  const done = await slow;
  assert.equal(done.status, 200);
  assert.equal(done.body.toString(), 'slow done');
  assert.equal(done.headers.connection, 'close');
  const { code, signal } = await keel.exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.ok(Date.now() - signalledAt < 4000);
  assert.match(keel.stdout(), /"GET \/slow HTTP\/1\.1" 200 9 /); // logged before the exit
  assert.match(keel.stdout(), /"GET \/readyz HTTP\/1\.1" 503 /);
});

test('past --grace the request still in flight is cut: exit 1 with a line on stderr', async (t) => {
  const upstream = await slowUpstream(Infinity);
  t.after(() => upstream.close());
  const keel = await startKeel(['proxy', '--to', upstream.url, '--port', '0', '--host', '127.0.0.1', '--grace', '300', '--log', 'off']);
  t.after(() => keel.stop());
  const arrived = upstream.arrival();
  const hanging = fetchRaw(keel.port, '/forever').then(() => 'answered', (err) => err.code);
  await arrived;
  const signalledAt = Date.now();
  keel.child.kill('SIGTERM');
  const { code } = await keel.exited;
  assert.equal(code, 1);
  const elapsed = Date.now() - signalledAt;
  assert.ok(elapsed >= 250 && elapsed < 3000, `${elapsed} ms`);
  assert.match(keel.stderr(), /keel: grace period \(300 ms\) over: 1 connection cut \(pid \d+\)/);
  assert.equal(await hanging, 'ECONNRESET');
});

test('SIGINT on an idle server: exit 0 at once; idle keep-alive connections are closed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-cli-stop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'index.html'), 'hi');
  const keel = await startKeel(['serve', dir, '--port', '0', '--host', '127.0.0.1']);
  t.after(() => keel.stop());
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  assert.equal((await fetchRaw(keel.port, '/', { agent })).status, 200); // leaves an idle connection
  const signalledAt = Date.now();
  keel.child.kill('SIGINT');
  const { code } = await keel.exited;
  assert.equal(code, 0);
  assert.ok(Date.now() - signalledAt < 1500);
  assert.match(keel.stderr(), /keel: SIGINT: shutting down \(grace 10000 ms\)\nkeel: stopped after \d+ ms\n/);
});
