// No per-connection leak: abrupt resets at every phase (phases.js) leave no server-side socket,
// request or response reachable after a full garbage collection, and 1500 resets with requests in
// every state do not grow the heap (after GC). The same must hold when the application listens to
// 'clientError' (as node:http's documentation recommends) and answers failed requests itself.
// (gc() comes from hostile.js, through v8.setFlagsFromString('--expose-gc').)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  get,
  heapAfterGc,
  keel,
  openMany,
  resourceCounts,
  serve,
  settleResources,
  tracker,
  waitForNoConnections,
  waitUntil,
} from './hostile.js';
import { CHUNKED_HEAD, CL_BODY_HEAD, CONTINUE_HEAD, PHASES, UPGRADE_HEAD, phaseServer, runPhase, serverSocketOf } from './phases.js';

const KiB = 1024;
const T = { timeout: 30_000 };

/** Track every server-side socket, request and response of `server` in `objects`. */
function trackServer(server, objects) {
  server.on('connection', (socket) => objects.add(socket, `socket :${socket.remotePort}`));
  server.on('request', (req, res) => {
    objects.add(req, `req ${req.url}`);
    objects.add(res, `res ${req.url}`);
  });
}

test('every phase, RST and FIN, twice: no server-side socket, req or res survives a full GC', T, async () => {
  const objects = tracker();
  const h = await phaseServer(keel);
  trackServer(h.server, objects);
  try {
    for (let round = 0; round < 2; round++) {
      for (const phase of PHASES) for (const mode of ['rst', 'fin']) await runPhase(h, phase, mode);
    }
    await waitForNoConnections(h.server);
    assert.ok(objects.size >= 2 * 2 * PHASES.length + 2 * 2 * 17, `${objects.size} objects tracked`); // sockets + 17 req/res pairs a round
    assert.deepEqual(await objects.alive(), [], 'server-side objects still reachable after a full GC');
  } finally {
    await h.close();
  }
});

/** What a connection of a batch sends before it leaves: every state a connection can be cut in. */
const PIPELINE = Array.from({ length: 10 }, (_, i) => `GET /pipe/${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
const STATES = [
  '',
  'GET /wai',
  'GET /wait HTTP/1.1\r\nHost: a\r\nX-Partial: yes',
  CL_BODY_HEAD + 'b'.repeat(1000),
  `${CHUNKED_HEAD}3e8\r\n${'c'.repeat(1000)}\r\n400\r\nccc`,
  'GET /wait HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /stream HTTP/1.1\r\nHost: a\r\n\r\n',
  PIPELINE,
  CONTINUE_HEAD,
  UPGRADE_HEAD,
];

/** 50 connections at once, in every state of STATES, read by the server, then RST / FIN. */
async function resetBatch(h) {
  const clients = await openMany(h, 50);
  const state = (i) => STATES[i % STATES.length];
  for (const [i, c] of clients.entries()) if (state(i).startsWith('GET /stream')) c.socket.pause(); // a few MiB, not all it can get
  await Promise.all(clients.map((c, i) => state(i) && c.write(state(i))));
  await waitUntil(() => clients.every((c, i) => (serverSocketOf(h, c)?.bytesRead ?? -1) >= state(i).length), 3000, 'the server to read every batch');
  for (const [i, c] of clients.entries()) {
    if (i % 2 === 0) c.socket.resetAndDestroy();
    else c.destroy();
  }
  await waitUntil(() => h.sockets.size === 0, 3000, 'every server-side socket to close');
  h.log.length = 0; // the logs would count as growth
  h.upgrades.length = 0;
}

test('1500 abrupt resets in batches of 50, in every state: the heap after GC does not grow', T, async () => {
  const WARMUP = 20; // the first ~1000 connections grow the heap by a few hundred KiB, on node:http too
  const BATCHES = 30;
  const h = await phaseServer(keel);
  try {
    const baseline = resourceCounts();
    for (let i = 0; i < WARMUP; i++) await resetBatch(h); // code compiled, pools and caches filled
    const heapBefore = await heapAfterGc();
    for (let i = 0; i < BATCHES; i++) await resetBatch(h);
    await waitForNoConnections(h.server);
    await settleResources(baseline);
    const heapAfter = await heapAfterGc();
    const growth = heapAfter - heapBefore;
    if (process.env.KEEL_TEST_DEBUG) console.log({ growth });
    // Keeping only the closed server-side sockets would cost ~1.3 KiB each, a whole connection more.
    assert.ok(growth < 1024 * KiB, `heap grew by ${(growth / KiB).toFixed(0)} KiB over ${BATCHES * 50} connections`);
  } finally {
    await h.close();
  }
});

// Regression test (bug fixed in the engine): ServerConnection#fail detached every socket listener,
// 'close' included, before emitting 'clientError', so the Server kept each refused connection (and
// its socket) in its set forever.
test('with a clientError listener: connections refused with 400 / 408 / 431 are released (no socket survives a GC)', T, async () => {
  const objects = tracker();
  const errors = [];
  const h = await serve((req, res) => res.end('served'), { headersTimeout: 300, maxHeaderSize: 1024 });
  trackServer(h.server, objects);
  // node:http's documented pattern.
  h.server.on('clientError', (err, socket) => {
    errors.push(err.code);
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  try {
    const baseline = resourceCounts();
    const clients = await openMany(h, 60);
    await Promise.all(clients.map((c, i) => {
      if (i % 3 === 0) return c.write('GET / HTTP/1.1\r\nBad Header: x\r\n\r\n'); // 400
      if (i % 3 === 1) return c.write(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'x'.repeat(2000)}\r\n\r\n`); // 431
      return c.write('GET / HTTP/1.1\r\nHost: a\r\n'); // 408 at headersTimeout
    }));
    await Promise.all(clients.map((c) => c.waitForClose(3000)));
    const ok = await h.connect();
    await ok.write(get('/'));
    await ok.waitForResponses(1, 3000);
    ok.destroy();
    await waitUntil(() => errors.length === 60, 3000, "60 'clientError' events");
    await waitForNoConnections(h.server);
    await settleResources(baseline);
    const alive = (await objects.alive()).filter((label) => label.startsWith('socket'));
    assert.deepEqual(alive, [], 'server-side sockets still reachable after a full GC');
  } finally {
    await h.close();
  }
});
