// keel/shutdown's signal wiring in a child process (fixture-server.js): SIGTERM finishes the
// request in flight and exits 0 (exit: true); a second signal forces the exit with 1; without
// `exit`, the process ends by itself with exitCode untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RawClient, sleep, waitUntil, withTimeout } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixture-server.js', import.meta.url));

/** Start the fixture with `env`; resolves with the child, its port and the JSON lines it prints. */
async function startFixture(env) {
  const child = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
  const exited = once(child, 'exit');
  const { port } = await withTimeout(waitUntil(() => lines.find((l) => l.port), 5000, 'the fixture to listen'), 6000, 'the fixture');
  return { child, port, lines, exited };
}

test('SIGTERM: the request in flight finishes with Connection: close, then the process exits 0', async () => {
  const f = await startFixture({ SHUTDOWN_EXIT: '1', SLOW_MS: '400' });
  try {
    const c = new RawClient(f.port);
    c.get('/slow');
    await sleep(100);
    f.child.kill('SIGTERM');
    const [code, signal] = await withTimeout(f.exited, 5000, 'the exit');
    assert.deepEqual([code, signal], [0, null]);
    await c.whenClosed(1000);
    const [response] = c.responses();
    assert.equal(response.status, 200);
    assert.equal(response.body, 'done');
    assert.equal(response.headers.connection, 'close');
    const { report } = f.lines.find((l) => l.report);
    assert.deepEqual([report.graceful, report.destroyed, report.signal], [true, 0, 'SIGTERM']);
    assert.ok(report.durationMs >= 250, `waited for the request (${report.durationMs} ms)`);
  } finally {
    f.child.kill('SIGKILL');
  }
});

test('a second signal forces the shutdown at once: exit 1', async () => {
  const f = await startFixture({ SHUTDOWN_EXIT: '1', SHUTDOWN_TIMEOUT: '10000' });
  try {
    const c = new RawClient(f.port);
    c.get('/hang');
    await waitUntil(() => c.received.length > 0, 2000, 'the response to start');
    const started = Date.now();
    f.child.kill('SIGINT');
    await sleep(200);
    assert.equal(f.child.exitCode, null, 'still waiting for the hanging response');
    f.child.kill('SIGTERM');
    const [code] = await withTimeout(f.exited, 3000, 'the exit');
    assert.equal(code, 1);
    assert.ok(Date.now() - started < 3000, 'long before the 10 s deadline');
    const { report } = f.lines.find((l) => l.report);
    assert.deepEqual([report.graceful, report.destroyed, report.signal], [false, 1, 'SIGINT']);
    await c.whenClosed(1000);
  } finally {
    f.child.kill('SIGKILL');
  }
});

test('without exit: the process ends on its own after SIGTERM, exit code 0 untouched', async () => {
  const f = await startFixture({ SLOW_MS: '100' });
  try {
    const c = new RawClient(f.port);
    c.get('/slow');
    await sleep(30);
    f.child.kill('SIGTERM');
    const [code, signal] = await withTimeout(f.exited, 5000, 'the exit');
    assert.deepEqual([code, signal], [0, null]);
    await c.whenClosed(1000);
    assert.equal(c.responses()[0].body, 'done');
  } finally {
    f.child.kill('SIGKILL');
  }
});
