// Behind a load balancer: two Keel instances (child processes running fixtures/app.js, each with
// keel/shutdown) behind a real nginx reverse proxy + round-robin upstream with keep-alive
// connections to them. 20 keep-alive clients send GETs through nginx for ~6 s while the
// instances are restarted one at a time (SIGTERM the old one, which finishes what is in flight
// and exits 0; start a new one on the same port; wait for `ready`). Not one request may fail:
// every response is a 200 from an instance, and both new instances serve traffic.
//
// What makes zero failures possible is nginx's `proxy_next_upstream error timeout` (its default)
// for idempotent requests: a connect refused by the stopped instance, and a pooled keep-alive
// connection the instance closed just as nginx reused it (the keep-alive race, on nginx's side),
// are both `error`s, and nginx resends the GET to the other instance. nginx's error log shows
// both happening; the test reports the counts.
//
// Fixed engine bug, kept as the second test: a connection accepted just before server.close()
// that had received no byte yet was neither closed nor served, so nginx waited for an answer that
// never came (about 1 run in 10-15). Keel now answers its first request with Connection: close
// within a 1 s grace after close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import nodeHttp from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { hasNginx, startNginx } from '../support/nginx.js';

const APP = fileURLToPath(new URL('./fixtures/app.js', import.meta.url));
const CLIENTS = 20;
const LOAD_MS = 6000;
const required = process.env.KEEL_REQUIRE_NGINX !== '0';
const skip = !hasNginx() && !required ? 'nginx is not installed (apt-get install -y nginx-light)' : false;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The nginx config this test runs (the README's "Behind nginx" example). */
function lbConfig(portA, portB) {
  return {
    upstreams: `  upstream keel {
    server 127.0.0.1:${portA} max_fails=0;
    server 127.0.0.1:${portB} max_fails=0;
    keepalive 16;
  }`,
    locations: `    location / {
      proxy_pass http://keel;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_connect_timeout 1s;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
    }`,
    defaultLocations: false,
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const children = new Set();

/** Spawn fixtures/app.js on `port`; resolves { child, pid, exited } once it printed `ready`. */
function startApp(port, timeoutMs = 5000) {
  const child = spawn(process.execPath, [APP, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stderr });
    });
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`app on ${port} not ready after ${timeoutMs} ms: ${out}${stderr}`)), timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid, port, exited, stderr: () => stderr });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`app on ${port} exited (${code ?? signal}) before ready: ${out}${stderr}`));
    });
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** SIGTERM the instance, wait for its exit, start a new one on the same port. */
async function restart(app) {
  app.child.kill('SIGTERM');
  const exit = await withTimeout(app.exited, 7000, `instance ${app.pid} exiting`);
  const next = await startApp(app.port);
  return { exit, next };
}

/** One GET through nginx; resolves { ok, status, pid } or { ok: false, code, message }. */
function get(agent, port) {
  return new Promise((resolve) => {
    const req = nodeHttp.get({ agent, host: '127.0.0.1', port, path: '/' }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => resolve({ ok: false, code: err.code, message: err.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body = null;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: an nginx error page
        }
        const ok = res.statusCode === 200 && res.complete && body !== null && Number.isInteger(body.pid);
        resolve({ ok, status: res.statusCode, pid: body?.pid, code: ok ? undefined : 'BAD_RESPONSE', message: ok ? undefined : text.slice(0, 200) });
      });
    });
    req.setTimeout(5000, () => req.destroy(Object.assign(new Error('request timed out'), { code: 'TIMEOUT' })));
    req.on('error', (err) => resolve({ ok: false, code: err.code, message: err.message }));
  });
}

test('two Keel instances behind nginx restart one at a time under load with zero failed requests', { skip, timeout: 25000 }, async (t) => {
  let ngx;
  const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    const [portA, portB] = [await freePort(), await freePort()];
    let [a, b] = await Promise.all([startApp(portA), startApp(portB)]);
    const oldPids = [a.pid, b.pid];
    ngx = await startNginx(lbConfig(portA, portB));

    const byPid = new Map();
    const failures = [];
    let total = 0;
    let running = true;
    const loop = async () => {
      while (running) {
        const r = await get(agent, ngx.port);
        total++;
        if (r.ok) byPid.set(r.pid, (byPid.get(r.pid) ?? 0) + 1);
        else failures.push(r);
      }
    };
    const started = Date.now();
    const load = Promise.all(Array.from({ length: CLIENTS }, loop));

    // The restarts, one instance at a time, while the load runs.
    await sleep(1000);
    const ra = await restart(a);
    a = ra.next;
    await sleep(1000);
    const rb = await restart(b);
    b = rb.next;
    await sleep(Math.max(1000, LOAD_MS - (Date.now() - started)));
    running = false;
    await withTimeout(load, 6000, 'the load');

    const log = ngx.errorLog();
    const count = (re) => (log.match(re) || []).length;
    t.diagnostic(
      `${total} requests in ${Date.now() - started} ms; by pid ${JSON.stringify(Object.fromEntries(byPid))}; ` +
        `old ${oldPids.join(',')} new ${a.pid},${b.pid}`,
    );
    t.diagnostic(`old A ${ra.exit.stderr.trim()} (exit ${ra.exit.code}); old B ${rb.exit.stderr.trim()} (exit ${rb.exit.code})`);
    t.diagnostic(
      `nginx retried: connect refused ${count(/connect\(\) failed \(111/g)}, ` +
        `pooled connection closed/reset under it ${count(/prematurely closed|reset by peer|Broken pipe/g)}; ` +
        `error log lines ${log.split('\n').filter(Boolean).length}`,
    );

    assert.deepEqual(
      failures.slice(0, 10),
      [],
      `${failures.length} of ${total} requests failed (old A: ${ra.exit.stderr.trim()}; old B: ${rb.exit.stderr.trim()})`,
    );
    assert.ok(total > 1000, `a steady load (${total} requests)`);
    assert.equal(ra.exit.code, 0, 'old A stopped gracefully');
    assert.equal(rb.exit.code, 0, 'old B stopped gracefully');
    assert.ok(byPid.get(a.pid) > 0, 'the new A served requests');
    assert.ok(byPid.get(b.pid) > 0, 'the new B served requests');
    assert.ok(byPid.get(oldPids[0]) > 0 && byPid.get(oldPids[1]) > 0, 'the old instances served requests');
  } finally {
    agent.destroy();
    for (const child of children) child.kill('SIGKILL');
    await ngx?.stop();
  }
});

// Regression test (bug fixed in the engine): the connection is accepted, the server closes, then
// the first request arrives. Keel answers it with Connection: close (within a 1 s grace after
// close(); a connection that sends nothing in that time is closed without a response).
test('a connection accepted before close() whose first request comes after it is answered or closed', {
  timeout: 5000,
}, async () => {
  const { default: http } = await import('keel');
  const server = http.createServer((req, res) => res.end('ok'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise((resolve) => server.once('connection', resolve));
  const sock = net.connect(server.address().port, '127.0.0.1');
  try {
    sock.on('error', () => {});
    let received = '';
    sock.on('data', (d) => (received += d));
    await accepted;
    server.close();
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const closed = new Promise((resolve) => sock.once('close', resolve));
    await Promise.race([closed, sleep(1000)]);
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n/, `after 1 s: not answered (received ${JSON.stringify(received)})`);
    assert.match(received, /\r\nConnection: close\r\n/);
  } finally {
    sock.destroy();
    server.closeAllConnections();
  }
});
