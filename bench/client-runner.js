// One client benchmark run (started by bench/client.js, pinned with taskset):
//
//   node bench/client-runner.js <client> <url> <durationMs> <inflight> [warmupMs]
//
// Keeps exactly <inflight> requests in flight (<inflight> loops, each awaiting one request at a
// time) against <url> (GET, expects 200 "Hello World"): first for a warm-up (default 1000 ms,
// not counted), then for <durationMs>. Prints one JSON line on stdout:
//
//   {"client", "requests", "errors", "seconds", "rps", "errorSamples", "pending", "warmup"}
//
// requests = correct responses completed inside the measured window; errors = every failed
// request of the run (thrown, wrong status or wrong body; warm-up and the final drain included,
// any error means the client is not trustworthy), plus requests still pending 5 s after the end;
// measuredErrors = the failures inside the measured window.
// If the client cannot be loaded it prints {"client", "unavailable": "<why>"} and exits 0.
//
// Clients:
//   undici-request     undici Pool { connections: inflight }, pool.request(), body.text()
//   undici-pipelining  undici Pool { connections: 5, pipelining: 10 }
//   node-agent         node:http request() with Agent { keepAlive: true, maxSockets: inflight }
//   fetch              the global fetch (Node's bundled undici), res.text()
//   keel-request       keel's http.request() with keel's Agent { keepAlive, maxSockets: inflight }
//   keel-promise       Pool from 'keel/client' { connections: inflight }, pool.request(), body.text()

import nodeHttp from 'node:http';

const EXPECTED_STATUS = 200;
const EXPECTED_BODY = 'Hello World';
const DRAIN_MS = 5000;

const CLIENTS = ['undici-request', 'undici-pipelining', 'node-agent', 'fetch', 'keel-request', 'keel-promise'];

class Unavailable extends Error {}

function check(status, body) {
  if (status !== EXPECTED_STATUS) throw new Error(`status ${status}, expected ${EXPECTED_STATUS}`);
  if (body !== EXPECTED_BODY) throw new Error(`body ${JSON.stringify(String(body).slice(0, 80))}, expected ${JSON.stringify(EXPECTED_BODY)}`);
}

/** A node:http-shaped module's request() through `agent`, consuming the response body. */
function nodeStyleRequester(http, agent, url) {
  const options = { host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', agent };
  return () =>
    new Promise((resolve, reject) => {
      const req = http.request(options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('error', reject);
        res.on('end', () => {
          try {
            check(res.statusCode, body);
            resolve();
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
}

function poolRequester(pool, url) {
  const opts = { path: url.pathname + url.search, method: 'GET' };
  return async () => {
    const { statusCode, body } = await pool.request(opts);
    check(statusCode, await body.text());
  };
}

/** Resolves to { request(): Promise<void>, close(): Promise<void> }; throws Unavailable. */
async function makeClient(name, url, inflight) {
  switch (name) {
    case 'undici-request':
    case 'undici-pipelining': {
      const { Pool } = await import('undici');
      const pool = name === 'undici-request'
        ? new Pool(url.origin, { connections: inflight })
        : new Pool(url.origin, { connections: 5, pipelining: 10 });
      return { request: poolRequester(pool, url), close: () => pool.close() };
    }
    case 'node-agent': {
      const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: inflight });
      return { request: nodeStyleRequester(nodeHttp, agent, url), close: async () => agent.destroy() };
    }
    case 'fetch': {
      if (typeof globalThis.fetch !== 'function') throw new Unavailable('no global fetch in this Node');
      const href = url.href;
      return {
        request: async () => {
          const res = await fetch(href);
          check(res.status, await res.text());
        },
        close: async () => {},
      };
    }
    case 'keel-request': {
      let mod;
      try {
        mod = await import('keel');
      } catch (err) {
        throw new Unavailable(`import('keel') failed: ${err.code || err.message} (run npm run build)`);
      }
      const http = mod.default ?? mod;
      if (typeof http.request !== 'function' || typeof http.Agent !== 'function') {
        throw new Unavailable("'keel' has no request()/Agent");
      }
      // Until Keel's client lands, 'keel' re-exports node:http's client: measuring it would
      // just measure node:http a second time under Keel's name.
      if (http.request === nodeHttp.request || http.Agent === nodeHttp.Agent) {
        throw new Unavailable("keel's http.request/Agent are still node:http's (re-exported until Keel's client lands)");
      }
      const agent = new http.Agent({ keepAlive: true, maxSockets: inflight });
      return { request: nodeStyleRequester(http, agent, url), close: async () => agent.destroy?.() };
    }
    case 'keel-promise': {
      let mod;
      try {
        mod = await import('keel/client');
      } catch (err) {
        throw new Unavailable(`import('keel/client') failed: ${err.code || err.message}`);
      }
      const Pool = mod.Pool ?? mod.default?.Pool;
      if (typeof Pool !== 'function') throw new Unavailable("'keel/client' has no Pool export");
      const pool = new Pool(url.origin, { connections: inflight });
      return { request: poolRequester(pool, url), close: async () => pool.close?.() };
    }
    default:
      throw new Error(`unknown client ${JSON.stringify(name)}; one of: ${CLIENTS.join(', ')}`);
  }
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

async function run(name, href, durationMs, inflight, warmupMs) {
  const url = new URL(href);
  let client;
  try {
    client = await makeClient(name, url, inflight);
  } catch (err) {
    if (err instanceof Unavailable) return { client: name, unavailable: err.message };
    throw err;
  }

  const start = performance.now();
  const measureFrom = start + warmupMs;
  const measureTo = measureFrom + durationMs;
  let requests = 0;
  let errors = 0;
  let measuredErrors = 0;
  let warmupRequests = 0;
  let warmupErrors = 0;
  let pending = 0;
  const errorSamples = new Map(); // message -> count

  async function loop() {
    while (performance.now() < measureTo) {
      pending++;
      let err = null;
      try {
        await client.request();
      } catch (e) {
        err = e;
      }
      pending--;
      const t = performance.now();
      const measured = t >= measureFrom && t < measureTo;
      if (err) {
        errors++;
        if (measured) measuredErrors++;
        else if (t < measureFrom) warmupErrors++;
        const msg = String(err && (err.code ? `${err.code}: ${err.message}` : err.message || err));
        if (errorSamples.size < 10 || errorSamples.has(msg)) errorSamples.set(msg, (errorSamples.get(msg) || 0) + 1);
        await yieldToLoop(); // a client that fails synchronously must not starve the event loop
      } else if (measured) {
        requests++;
      } else if (t < measureFrom) {
        warmupRequests++;
      }
    }
  }

  const loops = Array.from({ length: inflight }, loop);
  const all = Promise.all(loops);
  let drainTimer;
  const drained = await Promise.race([
    all.then(() => true),
    new Promise((resolve) => {
      drainTimer = setTimeout(() => resolve(false), measureTo - performance.now() + DRAIN_MS);
    }),
  ]);
  clearTimeout(drainTimer);
  const stuck = drained ? 0 : pending;
  if (stuck) {
    errors += stuck;
    errorSamples.set(`${stuck} request(s) still pending ${DRAIN_MS} ms after the end`, stuck);
  }
  await Promise.race([Promise.resolve(client.close()).catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);

  const seconds = durationMs / 1000;
  return {
    client: name,
    requests,
    errors,
    measuredErrors,
    seconds,
    rps: Number((requests / seconds).toFixed(1)),
    inflight,
    pending: stuck,
    warmup: { ms: warmupMs, requests: warmupRequests, errors: warmupErrors },
    errorSamples: Object.fromEntries(errorSamples),
  };
}

// ---------------------------------------------------------------- main

const USAGE = 'usage: node bench/client-runner.js <client> <url> <durationMs> <inflight> [warmupMs]';
const [name, href, durationArg, inflightArg, warmupArg = '1000'] = process.argv.slice(2);
const durationMs = Number(durationArg);
const inflight = Number(inflightArg);
const warmupMs = Number(warmupArg);
if (!name || !href || !(durationMs > 0) || !Number.isInteger(inflight) || inflight < 1 || !(warmupMs >= 0)) {
  process.stderr.write(`${USAGE}\nclients: ${CLIENTS.join(', ')}\n`);
  process.exit(1);
}
if (!CLIENTS.includes(name)) {
  process.stderr.write(`bench/client-runner.js: unknown client ${JSON.stringify(name)}\n${USAGE}\nclients: ${CLIENTS.join(', ')}\n`);
  process.exit(1);
}
if (new URL(href).hostname !== '127.0.0.1') {
  process.stderr.write('bench/client-runner.js: only http://127.0.0.1 targets are allowed\n');
  process.exit(1);
}

// Started by bench/client.js, stdin is a pipe from it: if the parent dies (even by SIGKILL) the
// pipe closes and this runner exits too.
if (process.env.KEEL_BENCH_EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

run(name, href, durationMs, inflight, warmupMs).then(
  (result) => {
    process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
  },
  (err) => {
    process.stderr.write(`bench/client-runner.js: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
