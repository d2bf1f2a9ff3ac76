// keel/shutdown under steady load: 20 keep-alive clients (node:http with a keep-alive Agent) loop
// requests while the shutdown starts mid-way. Every request the server accepted (its handler saw
// the request id) completes with a 2xx, responses rendered after the start carry Connection:
// close; the others were never accepted: refused connections, or the client's keep-alive race.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import { shutdown } from 'keel/shutdown';
import { sleep, startServer, withTimeout } from './helpers.js';

const CLIENTS = 20;

/** One request with `id`; resolves { ok, status, connection } or { ok: false, code, message }. */
function send(agent, port, id, method) {
  return new Promise((resolve) => {
    const body = method === 'POST' ? JSON.stringify({ id, pad: 'x'.repeat(Number(id.split('-')[1]) % 2000) }) : null;
    const headers = { 'x-request-id': id };
    if (body !== null) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = nodeHttp.request({ agent, host: '127.0.0.1', port, method, path: `/r/${id}`, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', (err) => resolve({ ok: false, code: err.code, message: err.message, phase: 'body' }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const ok = res.statusCode >= 200 && res.statusCode < 300 && res.complete && text === `ok ${id}`;
        resolve({ ok, status: res.statusCode, connection: res.headers.connection, code: ok ? undefined : 'BAD_RESPONSE', message: text });
      });
    });
    req.on('error', (err) => resolve({ ok: false, code: err.code, message: err.message, phase: 'request' }));
    req.end(body ?? undefined);
  });
}

/** Run the load for `durationMs`, starting the shutdown at `shutdownAtMs`; returns what happened. */
async function loadRound(shutdownAtMs, durationMs) {
  const received = new Set(); // ids whose request reached the handler: accepted
  const renderedClosing = new Set(); // ids whose response head was rendered after the start
  let stop;
  const h = await startServer((req, res) => {
    const id = req.headers['x-request-id'];
    received.add(id);
    const respond = () => {
      if (stop.state !== 'running') renderedClosing.add(id);
      const text = `ok ${id}`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const delay = (Number(id.split('-')[1]) % 4) * 4; // 0, 4, 8 or 12 ms
    req.resume();
    req.on('end', () => (delay === 0 ? respond() : setTimeout(respond, delay)));
  });
  stop = shutdown(h.server, { signals: false, timeout: 5000 });
  const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const results = new Map();
  let seq = 0;
  const end = Date.now() + durationMs;
  const loop = async (n) => {
    while (Date.now() < end) {
      const id = `${n}-${seq++}`;
      const result = await send(agent, h.port, id, seq % 3 === 0 ? 'POST' : 'GET');
      results.set(id, result);
      if (result.code === 'ECONNREFUSED') return; // the server is gone for this client
      // Think time on half the clients: their connections sit idle in the pool now and then, so
      // the shutdown finds idle connections (closed at once) as well as busy ones.
      if (n % 2 === 1) await sleep(seq % 4);
    }
  };
  let stopping;
  const timer = setTimeout(() => { stopping = stop(); }, shutdownAtMs);
  try {
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => loop(n)));
    const report = await withTimeout(stopping, 6000, 'the shutdown');
    const failures = [];
    const counts = { ok: 0, refused: 0, race: 0, accepted: received.size, raceCodes: {} };
    for (const [id, r] of results) {
      if (r.ok) {
        counts.ok++;
        if (renderedClosing.has(id) && r.connection !== 'close') failures.push({ id, why: 'no Connection: close after the start', ...r });
      } else if (received.has(id)) {
        failures.push({ id, why: 'accepted but not completed', ...r });
      } else if (r.code === 'ECONNREFUSED') {
        counts.refused++;
      } else {
        // A pooled socket the server closed while idle: the request never reached the handler.
        counts.race++;
        counts.raceCodes[r.code] = (counts.raceCodes[r.code] ?? 0) + 1;
      }
    }
    for (const id of received) if (!results.has(id)) failures.push({ id, why: 'accepted, no result' });
    return { report, counts, failures, renderedClosing: renderedClosing.size };
  } finally {
    clearTimeout(timer);
    agent.destroy();
    h.kill();
  }
}

test('under load: every accepted request completes with a 2xx, the rest were never accepted; zero resets', async (t) => {
  for (const [shutdownAt, duration] of [[1000, 2000], [600, 1400], [900, 1600]]) {
    const { report, counts, failures, renderedClosing } = await loadRound(shutdownAt, duration);
    t.diagnostic(`shutdown at ${shutdownAt} ms: ${JSON.stringify({ ...counts, renderedClosing, report })}`);
    assert.deepEqual(failures, [], 'accepted requests that did not complete');
    assert.ok(counts.ok > 200, `steady load before the shutdown (${counts.ok} completed)`);
    assert.equal(counts.ok, counts.accepted, 'every accepted request completed');
    assert.ok(counts.refused >= 1, 'new connections were refused');
    assert.equal(report.graceful, true);
    assert.equal(report.destroyed, 0);
  }
});
