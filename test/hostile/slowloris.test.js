// Slowloris: many connections that trickle a request head one byte at a time (or send nothing at
// all) hold a connection for at most headersTimeout, counted from the accept / first byte — each
// then gets a 408 and is closed — while a normal client keeps being served during the attack. The
// same attack against node:http (with a short connectionsCheckingInterval, since node:http checks
// deadlines every 30 s by default) ends the same way. An attacker that ignores the server's FIN
// and keeps trickling is discarded, then cut for good after the lingering close (5 s).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  CANNED_408,
  connectionCount,
  get,
  keel,
  nodeHttp,
  openMany,
  resourceCounts,
  serve,
  settleResources,
  sleep,
  waitForNoConnections,
  waitUntil,
} from './hostile.js';

const HEADERS_TIMEOUT = 500;
const TRICKLE_MS = 100;
// Keel's sweep runs every headersTimeout / 4; the upper bound leaves room for a loaded machine.
const CUT_MIN = HEADERS_TIMEOUT - 50;
const CUT_MAX = HEADERS_TIMEOUT + 2000;
const OPTIONS = { headersTimeout: HEADERS_TIMEOUT, requestTimeout: 10_000, keepAliveTimeout: 10_000 };
const T = { timeout: 20_000 };

/**
 * Open `n` attackers on `h`; each sends `prefix`, then one more header byte every TRICKLE_MS until
 * the server closes the connection. Resolves once every attacker was closed, with per-attacker
 * { text, elapsed } (elapsed: ms from the connect to the server's close).
 */
async function slowloris(h, n, prefix = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ') {
  const clients = await openMany(h, n);
  const connectedAt = Date.now();
  const trickles = clients.map(async (c) => {
    if (prefix !== '') {
      await c.write(prefix);
      await c.trickle('a'.repeat(Math.ceil((CUT_MAX * 2) / TRICKLE_MS)), TRICKLE_MS);
    }
    await c.waitForClose(CUT_MAX * 2);
  });
  return {
    clients,
    done: Promise.all(trickles).then(() => clients.map((c) => ({ text: c.text, elapsed: c.endedAt - connectedAt }))),
  };
}

/** Normal traffic until `stop()`: a fresh connection per request, one request every 25 ms. */
async function normalClient(h, stop) {
  const results = [];
  while (!stop()) {
    const startedAt = Date.now();
    const c = await h.connect();
    await c.write(get('/normal'));
    const [r] = await c.waitForResponses(1, 5000);
    c.destroy();
    results.push({ status: r.status, body: r.body.toString(), at: Date.now(), ms: Date.now() - startedAt });
    await sleep(25);
  }
  return results;
}

function assertAllCut(results, what) {
  assert.equal(results.length > 0, true);
  for (const [i, r] of results.entries()) {
    assert.equal(r.text, CANNED_408, `${what} #${i} received ${JSON.stringify(r.text)}`);
    assert.ok(r.elapsed >= CUT_MIN && r.elapsed <= CUT_MAX, `${what} #${i} cut after ${r.elapsed} ms`);
  }
}

test('150 slowloris connections trickling a header byte every 100 ms: each gets 408 at ~headersTimeout, a normal client is served throughout', T, async () => {
  const h = await serve((req, res) => res.end(`served ${req.url}`), OPTIONS);
  try {
    const baseline = resourceCounts();
    const attack = await slowloris(h, 150);
    let over = false;
    const normal = normalClient(h, () => over);
    const results = await attack.done;
    const firstCut = Math.min(...attack.clients.map((c) => c.endedAt));
    over = true;
    const served = await normal;

    assertAllCut(results, 'slowloris connection');
    // Served during the attack, not after it: several complete exchanges before the first cut.
    const duringAttack = served.filter((r) => r.at < firstCut);
    assert.ok(duringAttack.length >= 3, `only ${duringAttack.length} normal requests completed before the first cut`);
    for (const r of served) assert.deepEqual([r.status, r.body], [200, 'served /normal']);
    assert.equal(h.calls, served.length, 'no slowloris request reached the handler');

    await waitForNoConnections(h.server);
    await settleResources(baseline);
  } finally {
    await h.close();
  }
});

test('150 connections that send nothing: each gets 408 at ~headersTimeout and is closed', T, async () => {
  const h = await serve((req, res) => res.end('served'), OPTIONS);
  try {
    const baseline = resourceCounts();
    const attack = await slowloris(h, 150, '');
    await waitUntil(() => h.accepted === 150, 3000, 'the server to accept all 150');
    assert.equal(await connectionCount(h.server), 150); // all held open until their deadline
    assertAllCut(await attack.done, 'idle connection');
    assert.equal(h.calls, 0);
    await waitForNoConnections(h.server);
    await settleResources(baseline);
  } finally {
    await h.close();
  }
});

test('parity: the same slowloris attack (50 connections) against node:http and Keel ends the same way', T, async () => {
  for (const impl of [nodeHttp, keel]) {
    const name = impl === keel ? 'keel' : 'node:http';
    const h = await serve((req, res) => res.end('served'), { ...OPTIONS, connectionsCheckingInterval: 50 }, impl);
    try {
      const attack = await slowloris(h, 50);
      const results = await attack.done;
      assertAllCut(results, `${name}: slowloris connection`);
      await waitUntil(() => h.sockets.size === 0, 3000, `${name}: every server-side socket closed`);
    } finally {
      await h.close();
    }
  }
});

test("slowloris connections that ignore the 408 and the server's FIN and keep trickling: their sockets are destroyed after the 5 s lingering close", T, async () => {
  const LINGER_MS = 5000; // ServerConnection's lingering close (nginx's lingering_timeout)
  const h = await serve((req, res) => res.end('served'), OPTIONS);
  const lifetimes = [];
  h.server.on('connection', (socket) => {
    const acceptedAt = Date.now();
    socket.on('close', () => lifetimes.push(Date.now() - acceptedAt));
  });
  const attackers = [];
  try {
    for (let i = 0; i < 20; i++) {
      // allowHalfOpen: the server's FIN does not end our side; we go on writing regardless.
      const socket = net.connect({ port: h.port, host: '127.0.0.1', allowHalfOpen: true });
      const attacker = { socket, text: '' };
      attackers.push(attacker);
      socket.on('data', (d) => (attacker.text += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('connect', () => {
        socket.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ');
        const timer = setInterval(() => (socket.writable ? socket.write('a') : clearInterval(timer)), TRICKLE_MS);
        socket.on('close', () => clearInterval(timer));
      });
    }
    await waitUntil(() => lifetimes.length === 20, HEADERS_TIMEOUT + LINGER_MS + 4000, 'the server to destroy every attacker');
    for (const [i, a] of attackers.entries()) assert.equal(a.text, CANNED_408, `attacker #${i}`);
    for (const ms of lifetimes) {
      assert.ok(ms >= CUT_MIN && ms <= HEADERS_TIMEOUT + LINGER_MS + 2000, `a server-side socket lived ${ms} ms`);
    }
    await waitForNoConnections(h.server);
  } finally {
    for (const a of attackers) a.socket.destroy();
    await h.close();
  }
});
