// keel/shutdown and long-lived connections: an event stream that listens to 'shutdown' ends
// itself (graceful), a response or an upgraded socket that ignores it is destroyed at the deadline
// (graceful: false, counted in `destroyed`), force(), and a shutdown without a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sse } from 'keel/sse';
import { shutdown } from 'keel/shutdown';
import { RawClient, sleep, startServer, waitUntil, withTimeout } from './helpers.js';

/** A response that streams a chunk every 20 ms until something ends it. */
function ticker(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  const timer = setInterval(() => res.write('tick\n'), 20);
  res.on('close', () => clearInterval(timer));
  return timer;
}

test("an event stream that listens to 'shutdown' closes itself; the shutdown is graceful", async () => {
  const streams = [];
  let h;
  h = await startServer((req, res) => {
    const stream = sse(req, res, { heartbeat: 0 });
    streams.push(stream);
    const onShutdown = () => {
      stream.send({ event: 'bye', data: 'server restarting' });
      stream.close();
    };
    h.server.on('shutdown', onShutdown);
    stream.on('close', () => h.server.removeListener('shutdown', onShutdown));
  });
  const stop = shutdown(h.server, { signals: false, timeout: 3000 });
  try {
    const clients = [new RawClient(h.port), new RawClient(h.port)];
    for (const c of clients) c.get('/events', 'Accept: text/event-stream\r\n');
    await waitUntil(() => streams.length === 2, 2000, 'two streams');
    streams[0].send('hello');
    const report = await withTimeout(stop(), 2000, 'the shutdown');
    assert.equal(report.graceful, true);
    assert.equal(report.destroyed, 0);
    assert.ok(report.durationMs < 1000);
    for (const c of clients) {
      await c.whenClosed(1000);
      assert.equal(c.error, null);
      const [response] = c.responses();
      assert.match(response.body, /event: bye\ndata: server restarting\n\n$/);
    }
    assert.match(clients[0].responses()[0].body, /^data: hello\n\n/);
    assert.equal(h.server.listenerCount('shutdown'), 0);
  } finally {
    h.kill();
  }
});

test('a stream that watches stop.signal ends itself too', async () => {
  let stop;
  const h = await startServer((req, res) => {
    const timer = ticker(req, res);
    stop.signal.addEventListener('abort', () => {
      clearInterval(timer);
      res.end('bye\n');
    }, { once: true });
  });
  stop = shutdown(h.server, { signals: false, timeout: 3000 });
  try {
    const c = new RawClient(h.port);
    c.get('/ticks');
    await waitUntil(() => c.received.length > 0, 2000, 'the first tick');
    const report = await withTimeout(stop(), 2000, 'the shutdown');
    assert.equal(report.graceful, true);
    await c.whenClosed(1000);
    assert.match(c.responses()[0].body, /bye\n$/);
  } finally {
    h.kill();
  }
});

test('a response that ignores the shutdown is destroyed at the deadline (graceful: false)', async () => {
  const h = await startServer(ticker);
  const stop = shutdown(h.server, { signals: false, timeout: 300 });
  try {
    const ignoring = [new RawClient(h.port), new RawClient(h.port)];
    for (const c of ignoring) c.get('/forever');
    await waitUntil(() => ignoring.every((c) => c.received.length > 0), 2000, 'the ticks');
    const report = await withTimeout(stop(), 2000, 'the shutdown');
    assert.equal(report.graceful, false);
    assert.equal(report.destroyed, 2);
    assert.ok(report.durationMs >= 290 && report.durationMs < 1000, `at the deadline (${report.durationMs} ms)`);
    for (const c of ignoring) await c.whenClosed(1000);
  } finally {
    h.kill();
  }
});

/** A server whose 'upgrade' listener answers 101 and keeps the raw socket; returns the sockets. */
async function upgradeServer(handler = (req, res) => res.end('plain')) {
  const upgraded = [];
  const h = await startServer(handler);
  h.server.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => {});
    upgraded.push(socket);
  });
  return { h, upgraded };
}

const upgradeRequest = (c) => c.send('GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');

test('an upgraded socket that ignores the shutdown is destroyed at the deadline', async () => {
  const { h, upgraded } = await upgradeServer();
  const stop = shutdown(h.server, { signals: false, timeout: 300 });
  try {
    const c = new RawClient(h.port);
    upgradeRequest(c);
    await waitUntil(() => upgraded.length === 1, 2000, 'the upgrade');
    c.send('ping');
    await waitUntil(() => c.received.toString().endsWith('ping'), 2000, 'the echo');
    const report = await withTimeout(stop(), 2000, 'the shutdown');
    assert.equal(report.graceful, false);
    assert.equal(report.destroyed, 1);
    assert.ok(report.durationMs >= 290, `at the deadline (${report.durationMs} ms)`);
    await c.whenClosed(1000);
    assert.equal(upgraded[0].destroyed, true);
  } finally {
    h.kill();
  }
});

test("an upgraded socket that listens to 'shutdown' closes itself: graceful", async () => {
  const { h, upgraded } = await upgradeServer();
  h.server.on('shutdown', () => {
    for (const socket of upgraded) socket.end('going away');
  });
  const stop = shutdown(h.server, { signals: false, timeout: 3000 });
  try {
    const c = new RawClient(h.port);
    upgradeRequest(c);
    await waitUntil(() => upgraded.length === 1, 2000, 'the upgrade');
    const report = await withTimeout(stop(), 2000, 'the shutdown');
    assert.deepEqual([report.graceful, report.destroyed], [true, 0]);
    await c.whenClosed(1000);
    assert.match(c.received.toString(), /going away$/);
  } finally {
    h.kill();
  }
});

test('force() destroys at once; with timeout: Infinity nothing is forced before it', async () => {
  const { h, upgraded } = await upgradeServer(ticker);
  const stop = shutdown(h.server, { signals: false, timeout: Infinity });
  try {
    const streaming = new RawClient(h.port);
    streaming.get('/forever');
    const raw = new RawClient(h.port);
    upgradeRequest(raw);
    await waitUntil(() => upgraded.length === 1 && streaming.received.length > 0, 2000, 'both connections');
    const stopping = stop();
    await sleep(300);
    assert.equal(stop.state, 'stopping');
    assert.equal(streaming.closed || raw.closed, false);
    const forced = stop.force();
    assert.equal(forced, stopping);
    const report = await withTimeout(forced, 2000, 'the forced shutdown');
    assert.deepEqual([report.graceful, report.destroyed], [false, 2]);
    await Promise.all([streaming.whenClosed(1000), raw.whenClosed(1000)]);
  } finally {
    h.kill();
  }
});
