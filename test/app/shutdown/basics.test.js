// keel/shutdown basics on real sockets: idle keep-alive connections close at once, a request in
// flight finishes with `Connection: close` and nothing after it is accepted, new connections are
// refused, the signal / event / report / hook contract, option checks, and node:http servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shutdown, gracefulShutdown, shutdownSignal, DEFAULT_TIMEOUT_MS, DEFAULT_SIGNALS } from 'keel/shutdown';
import { RawClient, connectOutcome, sleep, startServer, waitUntil, withTimeout } from './helpers.js';

const hello = (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 5 });
  res.end('hello');
};

test('idle keep-alive connections are closed at once; the report is graceful', async () => {
  const h = await startServer(hello);
  const stop = shutdown(h.server, { signals: false });
  try {
    const clients = [new RawClient(h.port), new RawClient(h.port), new RawClient(h.port)];
    for (const c of clients) c.get('/');
    await waitUntil(() => clients.every((c) => c.responses().length === 1), 3000, 'three responses');
    for (const c of clients) assert.equal(c.responses()[0].headers.connection, 'keep-alive');
    assert.equal(stop.state, 'running');
    const started = Date.now();
    const report = await withTimeout(stop(), 1000, 'the shutdown');
    assert.ok(Date.now() - started < 500, 'closed at once, not at the keep-alive timeout');
    assert.deepEqual({ ...report, durationMs: 0 }, { graceful: true, destroyed: 0, durationMs: 0, signal: null });
    assert.equal(stop.state, 'stopped');
    await Promise.all(clients.map((c) => c.whenClosed(1000)));
    for (const c of clients) assert.equal(c.ended, true, 'a FIN, not a reset');
    assert.equal(h.server.listening, false);
  } finally {
    h.kill();
  }
});

test('a request in flight completes with Connection: close; requests after it on that connection are not accepted', async () => {
  const seen = [];
  const h = await startServer((req, res) => {
    seen.push(req.url);
    setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`done ${req.url}`);
    }, 300);
  });
  const stop = shutdown(h.server, { signals: false });
  try {
    const c = new RawClient(h.port);
    c.get('/slow');
    await waitUntil(() => seen.length === 1, 2000, 'the request to arrive');
    const stopping = stop();
    assert.equal(stop.state, 'stopping');
    // Sent after the shutdown started, on the same connection: never dispatched.
    c.get('/after');
    const report = await withTimeout(stopping, 3000, 'the shutdown');
    assert.equal(report.graceful, true);
    assert.equal(report.destroyed, 0);
    assert.ok(report.durationMs >= 200, `waited for the response (${report.durationMs} ms)`);
    await c.whenClosed(1000);
    const responses = c.responses();
    assert.equal(responses.length, 1);
    assert.equal(responses[0].status, 200);
    assert.equal(responses[0].body, 'done /slow');
    assert.equal(responses[0].headers.connection, 'close');
    assert.deepEqual(seen, ['/slow']);
  } finally {
    h.kill();
  }
});

test('new connections are refused once the shutdown started (ECONNREFUSED)', async () => {
  let release;
  const h = await startServer((req, res) => {
    release = () => res.end('late');
  });
  const stop = shutdown(h.server, { signals: false });
  try {
    assert.equal(await connectOutcome(h.port), 'connected');
    const c = new RawClient(h.port);
    c.get('/hold');
    await waitUntil(() => release !== undefined, 2000, 'the request');
    const stopping = stop();
    assert.equal(await connectOutcome(h.port), 'ECONNREFUSED');
    assert.equal(await connectOutcome(h.port), 'ECONNREFUSED');
    release();
    assert.equal((await withTimeout(stopping, 2000, 'the shutdown')).graceful, true);
    await c.whenClosed(1000);
    assert.equal(c.responses()[0].body, 'late');
  } finally {
    h.kill();
  }
});

test('a response ended but still being flushed when the shutdown starts arrives whole', async () => {
  const size = 16 * 1024 * 1024;
  const h = await startServer((req, res) => {
    res.writeHead(200, { 'Content-Length': size });
    res.end(Buffer.alloc(size, 'a'));
  });
  const stop = shutdown(h.server, { signals: false });
  try {
    const c = new RawClient(h.port);
    c.socket.pause(); // the client does not read yet: most of the body waits in the server
    c.get('/big');
    await sleep(200);
    const stopping = stop();
    await sleep(50);
    c.socket.resume();
    const report = await withTimeout(stopping, 5000, 'the shutdown');
    await c.whenClosed(2000);
    const [response] = c.responses();
    assert.equal(response?.body.length, size, 'the whole body');
    assert.equal(c.error, null);
    assert.equal(report.graceful, true);
  } finally {
    h.kill();
  }
});

test("stop.signal aborts and 'shutdown' is emitted at the start; stop() is idempotent; onShutdown gets the report", async () => {
  const h = await startServer(hello);
  const order = [];
  const stop = gracefulShutdown(h.server, {
    signals: false,
    timeout: 4000,
    onShutdown: async (report) => {
      order.push(`hook:${report.graceful}`);
      await sleep(20);
      order.push('hook done');
    },
  });
  try {
    assert.equal(stop.signal, shutdownSignal(h.server), 'one signal per server');
    assert.equal(stop.signal.aborted, false);
    let event;
    h.server.on('shutdown', (e) => {
      event = e;
      order.push(`event:${h.server.listening}:${stop.signal.aborted}`);
    });
    const before = Date.now();
    const first = stop();
    assert.equal(stop(), first, 'the same promise');
    assert.equal(stop.done, first);
    assert.equal(stop.signal.aborted, true);
    assert.equal(stop.signal.reason.code, 'ERR_SERVER_SHUTDOWN');
    assert.equal(event.signal, null);
    assert.equal(event.abortSignal, stop.signal);
    assert.ok(event.deadline >= before + 4000 && event.deadline <= Date.now() + 4000);
    const report = await first;
    order.push('resolved');
    assert.deepEqual(order, ['event:false:true', 'hook:true', 'hook done', 'resolved']);
    assert.equal(report.error, undefined);
  } finally {
    h.kill();
  }
});

test("a throwing 'shutdown' listener or onShutdown does not stop the shutdown: report.error", async () => {
  const h = await startServer(hello);
  const boom = new Error('listener');
  const stop = shutdown(h.server, { signals: false, onShutdown: () => { throw new Error('hook'); } });
  h.server.on('shutdown', () => { throw boom; });
  try {
    const report = await withTimeout(stop(), 2000, 'the shutdown');
    assert.equal(report.graceful, true);
    assert.equal(report.error, boom, 'the first error');
  } finally {
    h.kill();
  }
});

test('works on a server that is not listening, and resolves again for late callers', async () => {
  const h = await startServer(hello);
  await new Promise((resolve) => h.server.close(resolve));
  const stop = shutdown(h.server, { signals: false });
  const report = await withTimeout(stop(), 1000, 'the shutdown');
  assert.equal(report.graceful, true);
  assert.equal(await withTimeout(stop(), 100, 'a second call'), report);
});

test('a node:http server: the same steps, but Node answers in flight with keep-alive and closes when idle', async () => {
  const h = await startServer((req, res) => setTimeout(() => res.end('node'), 100), { kind: 'node' });
  h.server.keepAliveTimeout = 300;
  const stop = shutdown(h.server, { signals: false });
  try {
    const idle = new RawClient(h.port);
    idle.get('/');
    await waitUntil(() => idle.responses().length === 1, 2000, 'the first response');
    const busy = new RawClient(h.port);
    busy.get('/');
    await sleep(30);
    const report = await withTimeout(stop(), 2000, 'the shutdown');
    assert.equal(report.graceful, true);
    assert.ok(report.durationMs >= 250, 'after the keep-alive timeout');
    assert.equal(busy.responses()[0].body, 'node');
    assert.equal(busy.responses()[0].headers.connection, 'keep-alive', "Node's behaviour (Keel says close)");
    await idle.whenClosed(1000);
  } finally {
    h.kill();
  }
});

test('signals: listeners are added per signal and removed when done or on dispose()', async () => {
  const h = await startServer(hello);
  const count = () => process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');
  const before = count();
  const stop = shutdown(h.server);
  assert.equal(count(), before + 2);
  await stop();
  assert.equal(count(), before, 'removed after the shutdown');
  const other = shutdown(h.server, { signals: ['SIGUSR2'] });
  assert.equal(process.listenerCount('SIGUSR2'), 1);
  other.dispose();
  assert.equal(process.listenerCount('SIGUSR2'), 0);
  h.kill();
});

test('options are checked with coded errors; the defaults are exported', () => {
  assert.equal(DEFAULT_TIMEOUT_MS, 10000);
  assert.deepEqual(DEFAULT_SIGNALS, ['SIGTERM', 'SIGINT']);
  const server = { close() {}, on() {}, emit() {}, removeListener() {} };
  const bad = [
    [{ timeout: '1s' }, 'ERR_INVALID_ARG_TYPE'],
    [{ timeout: -1 }, 'ERR_OUT_OF_RANGE'],
    [{ timeout: NaN }, 'ERR_OUT_OF_RANGE'],
    [{ signals: 'SIGTERM' }, 'ERR_INVALID_ARG_TYPE'],
    [{ signals: ['TERM'] }, 'ERR_INVALID_ARG_VALUE'],
    [{ onShutdown: 1 }, 'ERR_INVALID_ARG_TYPE'],
    [{ exit: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
    ['options', 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [options, code] of bad) assert.throws(() => shutdown(server, options), { code }, JSON.stringify(options));
  for (const notServer of [null, undefined, {}, 'server']) assert.throws(() => shutdown(notServer), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a request whose head is half received when the shutdown starts is answered or closed promptly', {
}, async () => {
  const seen = [];
  const h = await startServer((req, res) => {
    seen.push(req.url);
    res.end('ok');
  });
  const stop = shutdown(h.server, { signals: false, timeout: 500 });
  try {
    const c = new RawClient(h.port);
    c.send('GET /half HTTP/1.1\r\nHost: localhost\r\n');
    await sleep(50);
    const stopping = stop();
    c.send('\r\n');
    const report = await withTimeout(stopping, 2000, 'the shutdown');
    assert.equal(report.graceful, true, 'closed before the deadline');
  } finally {
    h.kill();
  }
});
