// Pipelining floods: a client writes 10,000 pipelined requests at once and does not read. The
// server stops dispatching (responses it cannot write, or at most 64 requests ahead of their
// responses) and stops reading the socket, so what it holds stays bounded; once the client reads,
// every response arrives, in order. (node:http has no pipeline depth: with a handler that holds
// its responses it dispatches all 10,000 requests and reads every byte.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage, resourceCounts, serve, settleResources, sleep, waitForNoConnections, waitForStall, waitUntil } from './hostile.js';

const N = 10_000;
const MiB = 1024 * 1024;
const T = { timeout: 20_000 };
const PIPELINE_DEPTH = 64; // README, "Limits and defaults"

/** 10,000 GET requests for /0 … /9999, back to back. */
function flood(n = N) {
  let bytes = '';
  for (let i = 0; i < n; i++) bytes += `GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
  return bytes;
}

/**
 * Responses of equal length whose body starts with the request's index (6 digits): check that
 * `data` holds exactly `n` of them, in request order, without re-parsing 40 MB n times.
 */
function assertInOrder(data, n, bodySize) {
  const first = data.indexOf('\r\n\r\n') + 4;
  const length = first + bodySize;
  assert.equal(data.length, n * length, `received ${data.length} bytes, expected ${n} responses of ${length}`);
  for (let i = 0; i < n; i++) {
    const at = i * length;
    assert.equal(data.toString('latin1', at, at + 15), 'HTTP/1.1 200 OK', `response #${i}`);
    assert.equal(data.toString('latin1', at + first, at + first + 6), String(i).padStart(6, '0'), `body of response #${i}`);
  }
}

test('10,000 pipelined requests with 4 KiB responses and a client that does not read: the server stops reading; then all arrive in order', T, async () => {
  const SIZE = 4096;
  let serverSocket = null;
  const h = await serve((req, res) => {
    serverSocket = req.socket;
    res.end(String(req.url.slice(1)).padStart(6, '0').padEnd(SIZE, '.'));
  }, { keepAliveTimeout: 10_000 });
  try {
    const baseline = resourceCounts();
    await collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    const requests = flood();
    const c = await h.connect();
    c.socket.pause();
    await c.write(requests);

    const dispatched = await waitForStall(() => h.calls, 300, 5000);
    const bytesRead = serverSocket.bytesRead;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    if (process.env.KEEL_TEST_DEBUG) console.log({ dispatched, bytesRead, queued: serverSocket.writableLength, heapGrowth });
    assert.ok(dispatched < N / 2, `${dispatched} of ${N} requests dispatched to a client that does not read`);
    assert.ok(bytesRead < requests.length / 2, `the server read ${bytesRead} of ${requests.length} bytes`);
    assert.ok(serverSocket.writableLength <= 256 * 1024, `${serverSocket.writableLength} bytes queued on the socket`);
    assert.ok(heapGrowth < 32 * MiB, `heap grew by ${(heapGrowth / MiB).toFixed(1)} MiB`);
    await sleep(200);
    assert.equal(h.calls, dispatched, 'nothing dispatched while the client does not read');
    assert.equal(serverSocket.bytesRead, bytesRead, 'nothing read while the client does not read');

    c.socket.resume();
    await waitUntil(() => c.length >= N * (SIZE + 100), 10_000, 'every response');
    await sleep(50);
    assert.equal(h.calls, N);
    assertInOrder(c.data, N, SIZE);
    c.destroy();
    await waitForNoConnections(h.server);
    await settleResources(baseline);
  } finally {
    await h.close();
  }
});

test('10,000 pipelined requests whose handler holds every response: at most 64 are dispatched and the server stops reading; released, all are answered in order', T, async () => {
  const SIZE = 16;
  let serverSocket = null;
  let holding = true;
  const held = [];
  const answer = (req, res) => res.end(String(req.url.slice(1)).padStart(6, '0').padEnd(SIZE, '.'));
  const h = await serve((req, res) => {
    serverSocket = req.socket;
    if (holding) held.push([req, res]);
    else answer(req, res);
  }, { keepAliveTimeout: 10_000 });
  try {
    const requests = flood();
    const c = await h.connect();
    await c.write(requests); // this client reads: only the pipeline depth holds the server back

    const dispatched = await waitForStall(() => h.calls, 300, 5000);
    const bytesRead = serverSocket.bytesRead;
    if (process.env.KEEL_TEST_DEBUG) console.log({ dispatched, bytesRead, total: requests.length });
    assert.ok(dispatched > 0 && dispatched <= PIPELINE_DEPTH, `${dispatched} requests dispatched ahead of their responses`);
    assert.ok(bytesRead < requests.length / 2, `the server read ${bytesRead} of ${requests.length} bytes`);
    assert.equal(c.length, 0);

    // Answer the held ones last first: the responses still go out in request order.
    holding = false;
    for (const [req, res] of held.reverse()) answer(req, res);
    await waitUntil(() => c.length >= N * (SIZE + 100), 10_000, 'every response');
    await sleep(50);
    assert.equal(h.calls, N);
    assertInOrder(c.data, N, SIZE);
  } finally {
    await h.close();
  }
});
