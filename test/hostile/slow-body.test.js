// Slow body senders: connections that send a complete head, then trickle the body (Content-Length
// or chunked) one byte every 100 ms, are cut at requestTimeout — counted from the start of the
// request, so trickling does not extend it — with a 408; the handler's request fails with
// ERR_HTTP_REQUEST_TIMEOUT and both req and res see 'close'; a normal client is served throughout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CANNED_408,
  keel,
  nodeHttp,
  openMany,
  post,
  resourceCounts,
  serve,
  settleResources,
  sleep,
  waitForNoConnections,
  waitUntil,
} from './hostile.js';

const REQUEST_TIMEOUT = 800;
const TRICKLE_MS = 100;
const CUT_MIN = REQUEST_TIMEOUT - 50;
const CUT_MAX = REQUEST_TIMEOUT + 2000;
const OPTIONS = { headersTimeout: 400, requestTimeout: REQUEST_TIMEOUT, keepAliveTimeout: 10_000 };
const T = { timeout: 20_000 };

const CL_HEAD = 'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n';
const CHUNKED_HEAD = 'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';

/** A handler that reads the whole body and logs what happens to each request and response. */
function uploadHandler(log) {
  return (req, res) => {
    if (req.url !== '/upload') {
      req.resume();
      req.on('end', () => res.end('served'));
      return;
    }
    const entry = { error: null, reqClose: false, resClose: false, resFinish: false, aborted: false };
    log.push(entry);
    req.on('error', (err) => (entry.error = err));
    req.on('aborted', () => (entry.aborted = true));
    req.on('close', () => (entry.reqClose = true));
    res.on('close', () => (entry.resClose = true));
    res.on('finish', () => (entry.resFinish = true));
    req.resume();
    req.on('end', () => res.end('complete'));
  };
}

/** `n` connections, alternately Content-Length and chunked, each trickling its body. */
async function slowBodies(h, n) {
  const clients = await openMany(h, n);
  const connectedAt = Date.now();
  const steps = Math.ceil((CUT_MAX * 2) / TRICKLE_MS);
  const done = clients.map(async (c, i) => {
    const chunked = i % 2 === 1;
    await c.write(chunked ? CHUNKED_HEAD : CL_HEAD);
    for (let k = 0; k < steps && !c.ended; k++) {
      await c.write(chunked ? '1\r\nx\r\n' : 'x');
      await sleep(TRICKLE_MS);
    }
    await c.waitForClose(CUT_MAX * 2);
    return { text: c.text, elapsed: c.endedAt - connectedAt, endedAt: c.endedAt, chunked };
  });
  return Promise.all(done);
}

test('100 slow body senders (Content-Length and chunked) are cut at ~requestTimeout with 408 while a normal client is served', T, async () => {
  const log = [];
  const h = await serve(uploadHandler(log), OPTIONS);
  try {
    const baseline = resourceCounts();
    let over = false;
    const attack = slowBodies(h, 100).finally(() => (over = true));
    const served = [];
    while (!over) {
      const c = await h.connect();
      await c.write(post('/normal', 'hello'));
      const [r] = await c.waitForResponses(1, 5000);
      served.push({ status: r.status, body: r.body.toString(), at: Date.now() });
      c.destroy();
      await sleep(25);
    }
    const results = await attack;
    const firstCut = Math.min(...results.map((r) => r.endedAt));

    for (const [i, r] of results.entries()) {
      const kind = r.chunked ? 'chunked' : 'Content-Length';
      assert.equal(r.text, CANNED_408, `${kind} sender #${i} received ${JSON.stringify(r.text)}`);
      assert.ok(r.elapsed >= CUT_MIN && r.elapsed <= CUT_MAX, `${kind} sender #${i} cut after ${r.elapsed} ms`);
    }
    // Served during the attack, not after it: several complete exchanges before the first cut.
    const duringAttack = served.filter((r) => r.at < firstCut);
    assert.ok(duringAttack.length >= 3, `only ${duringAttack.length} normal requests completed before the first cut`);
    for (const r of served) assert.deepEqual([r.status, r.body], [200, 'served']);

    // Every slow request reached the handler and failed the way node:http fails it.
    assert.equal(log.length, 100);
    await waitUntil(() => log.every((e) => e.reqClose && e.resClose), 3000, "'close' on every req and res");
    for (const e of log) {
      assert.equal(e.error?.code, 'ERR_HTTP_REQUEST_TIMEOUT');
      assert.equal(e.aborted, true);
      assert.equal(e.resFinish, false);
    }

    await waitForNoConnections(h.server);
    await settleResources(baseline);
  } finally {
    await h.close();
  }
});

test('parity: 20 slow body senders against node:http and Keel all get 408 at ~requestTimeout', T, async () => {
  for (const impl of [nodeHttp, keel]) {
    const name = impl === keel ? 'keel' : 'node:http';
    const log = [];
    const h = await serve(uploadHandler(log), { ...OPTIONS, connectionsCheckingInterval: 50 }, impl);
    try {
      const results = await slowBodies(h, 20);
      for (const [i, r] of results.entries()) {
        assert.equal(r.text, CANNED_408, `${name}: sender #${i} received ${JSON.stringify(r.text)}`);
        assert.ok(r.elapsed >= CUT_MIN && r.elapsed <= CUT_MAX, `${name}: sender #${i} cut after ${r.elapsed} ms`);
      }
      assert.equal(log.length, 20);
      await waitUntil(() => log.every((e) => e.reqClose && e.resClose), 3000, `${name}: 'close' on every req and res`);
    } finally {
      await h.close();
    }
  }
});
