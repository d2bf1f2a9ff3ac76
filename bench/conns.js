// Memory per idle keep-alive connection: Keel vs node:http (`npm run bench:conns`; see the
// "Memory per idle connection" section of bench/README.md).
//
//   node bench/conns.js [--conns N] [--rounds N] [--json] [--heap-snapshot[=DIR]]   (after `npm run build`)
//
// An "idle keep-alive connection" is one that completed one request (GET / -> 200 "Hello World")
// and is waiting for the next. For every round, keel then node:http (alternating), this runner:
//
//   1. spawns a fresh server child, `node --expose-gc bench/conns.js --child server <impl>`
//      (pinned to CPU 0), with the same "Hello World" handler and the same settings for both:
//      defaults, except keepAliveTimeout = 120 s on both (node:http's default of 5 s would close
//      the idle connections in the middle of the measurement);
//   2. warms it up (200 short connections with one request each, then 500 keep-alive requests)
//      so that one-time costs (JIT code, lazy initialisation) are not counted per connection;
//   3. has the server gc() and report process.memoryUsage() and its CPU time: the baseline;
//   4. spawns a holder child (`--child holder`, pinned to CPU 1) that opens N connections (at most
//      CONNECT_CONCURRENCY at a time), sends one request on each, checks the response and keeps
//      the socket open without sending anything more;
//   5. has the server gc() and report again: (after - baseline) / connections open on the server
//      gives RSS, heapUsed, external and arrayBuffers per connection;
//   6. leaves the connections idle for IDLE_MS and reads the server's CPU time again (the cost of
//      merely keeping N idle connections: timers, sweeps);
//   7. from this process, on one fresh keep-alive connection, sends NORMAL_REQUESTS sequential
//      requests and records their success and latency (the server must keep serving while it holds
//      N idle connections);
//   8. checks that the server still has all N connections and the holder still holds them, then
//      tears everything down.
//
// Memory is measured inside the server (so the holder's sockets and this process do not pollute
// it). The table shows the median over the rounds. Full data: bench/conns-results.json.
//
// --heap-snapshot (a profiling aid, slow: use it with --conns 2000 or so) also has each server
// write a V8 heap snapshot at the baseline and, at the end of the round, with the N connections
// open; the runner then prints, per implementation, which objects the connections added:
// count and self size per connection, by constructor / closure / internal type (heapCensus()).
//
// Exit status: 0 ok; 1 bad usage / setup failure (file-descriptor limit, ports, missing build);
// 2 if Keel failed to open or keep connections, or failed normal-client requests (results are
// still printed and written).

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const SELF = fileURLToPath(import.meta.url);
const KEEL_ENTRY = path.join(ROOT, 'dist', 'index.js');
const RESULTS = path.join(BENCH_DIR, 'conns-results.json');

const HOST = '127.0.0.1'; // all traffic stays on loopback
const IMPLS = ['keel', 'node'];
const IMPL_LABEL = { keel: 'keel', node: 'node:http' };
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

/** keepAliveTimeout set on both servers: longer than a whole round, so no idle connection expires. */
const KEEP_ALIVE_MS = 120_000;
/** Connections the holder has in the middle of being opened at any time (well under the backlog). */
const CONNECT_CONCURRENCY = 128;
/** Warm-up before the baseline: short connections (one request each), then keep-alive requests. */
const WARMUP_CONNECTIONS = 200;
const WARMUP_REQUESTS = 500;
/** How long the N connections stay idle before the idle-CPU reading. */
const IDLE_MS = 2000;
/** The normal client: sequential requests on one fresh keep-alive connection. */
const NORMAL_REQUESTS = 1000;
const REQUEST_TIMEOUT_MS = 5000;
const NORMAL_DEADLINE_MS = 30_000;
/** File descriptors each child needs beyond its N sockets (node itself, pipes, the warm-up). */
const FD_MARGIN = 1024;

// ---------------------------------------------------------------- shared: responses off a socket

/**
 * Splits the bytes of one connection into HTTP/1.1 responses (Content-Length or chunked bodies),
 * incrementally: push() returns the responses completed by the new bytes, as { status, body }.
 */
class ResponseReader {
  #buf = Buffer.alloc(0);

  push(chunk) {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out = [];
    for (;;) {
      const r = this.#one();
      if (r === null) break;
      out.push(r);
    }
    return out;
  }

  /** One complete response off the front of the buffer, or null when it is not all there yet. */
  #one() {
    const buf = this.#buf;
    const headEnd = buf.indexOf('\r\n\r\n', 0, 'latin1');
    if (headEnd === -1) return null;
    const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) /.exec(lines[0]);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0].slice(0, 100))}`);
    let length = null;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = /chunked/i.test(value);
    }
    let pos = headEnd + 4;
    let body;
    if (chunked) {
      const parts = [];
      for (;;) {
        const le = buf.indexOf('\r\n', pos, 'latin1');
        if (le === -1) return null;
        const size = parseInt(buf.subarray(pos, le).toString('latin1'), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size line');
        pos = le + 2;
        if (size === 0) {
          const end = buf.indexOf('\r\n\r\n', pos - 2, 'latin1'); // end of the (usually empty) trailers
          if (end === -1) return null;
          pos = end + 4;
          break;
        }
        if (buf.length < pos + size + 2) return null;
        parts.push(buf.subarray(pos, pos + size));
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      if (length === null || !Number.isInteger(length)) throw new Error('response without Content-Length or chunked framing');
      if (buf.length < pos + length) return null;
      body = buf.subarray(pos, pos + length);
      pos += length;
    }
    this.#buf = buf.subarray(pos);
    return { status: Number(m[1]), body: body.toString('utf8') };
  }
}

const requestBytes = (port) => Buffer.from(`GET / HTTP/1.1\r\nHost: ${HOST}:${port}\r\n\r\n`, 'latin1');

function checkHello(r) {
  if (r.status !== 200) return `status ${r.status}`;
  if (r.body !== 'Hello World') return `body ${JSON.stringify(r.body.slice(0, 60))}`;
  return null;
}

/** Open-file limits of this process, from /proc/self/limits ({ soft, hard }; null if unknown). */
function fileLimits() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line.trim().split(/\s+/).slice(3, 5).map((x) => (x === 'unlimited' ? Infinity : Number(x)));
    return { soft, hard };
  } catch {
    return null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- child: the server

// The handler, identical for both implementations (as bench/server.js's `hello`).
function hello(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('Hello World');
}

async function serverChild(impl) {
  if (typeof globalThis.gc !== 'function') throw new Error('the server child needs --expose-gc');
  const mod = impl === 'keel' ? await import(pathToFileURL(KEEL_ENTRY).href) : await import('node:http');
  const http = mod.default ?? mod;
  const server = http.createServer(hello);
  // The only setting changed from the defaults, identically on both (see KEEP_ALIVE_MS).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on('error', (err) => {
    process.stderr.write(`server error: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
  await new Promise((resolve) => server.listen(0, HOST, resolve));

  const connections = () => new Promise((resolve) => server.getConnections((err, n) => resolve(err ? null : n)));
  const cpuUs = () => {
    const c = process.cpuUsage();
    return c.user + c.system;
  };

  process.on('message', async (msg) => {
    if (msg.type === 'measure') {
      // CPU time is read before and after the forced collections, so that phases between two
      // measurements can exclude the gc() calls made for measuring.
      const cpuAtUs = cpuUs();
      for (let i = 0; i < 4; i++) {
        globalThis.gc();
        await new Promise((resolve) => setImmediate(resolve)); // let weak callbacks / finalizers run
      }
      const m = process.memoryUsage();
      process.send({
        id: msg.id,
        rss: m.rss,
        heapTotal: m.heapTotal,
        heapUsed: m.heapUsed,
        external: m.external, // includes arrayBuffers
        arrayBuffers: m.arrayBuffers,
        connections: await connections(),
        cpuAtUs,
        cpuAfterGcUs: cpuUs(),
        at: Date.now(),
      });
    } else if (msg.type === 'snapshot') {
      // --heap-snapshot: the whole heap (v8 collects garbage first), for heapCensus()
      process.send({ id: msg.id, file: v8.writeHeapSnapshot(msg.file) });
    } else if (msg.type === 'exit') {
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0)); // the runner is gone: do not linger
  process.send({ type: 'ready', port: server.address().port, limits: fileLimits(), pid: process.pid });
}

// ---------------------------------------------------------------- child: the holder of idle connections

async function holderChild() {
  const sockets = new Set();
  let closedAfterResponse = 0;
  let unexpectedBytes = 0;

  // Opens one connection, sends one request and waits for its response; resolves with null when
  // the connection is now idle and held, else with an error message (the socket is then closed).
  function openOne(port, request) {
    return new Promise((resolve) => {
      const socket = net.connect({ host: HOST, port });
      const reader = new ResponseReader();
      let settled = false; // answered (and held) or failed
      const timer = setTimeout(() => fail(`no response within ${REQUEST_TIMEOUT_MS} ms`), REQUEST_TIMEOUT_MS);
      function fail(message) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(message);
      }
      socket.on('connect', () => socket.write(request));
      socket.on('data', (chunk) => {
        if (settled) {
          unexpectedBytes += chunk.length; // an idle connection should receive nothing
          return;
        }
        let responses;
        try {
          responses = reader.push(chunk);
        } catch (err) {
          fail(err.message);
          return;
        }
        if (responses.length === 0) return;
        const problem = responses.length > 1 ? `${responses.length} responses to one request` : checkHello(responses[0]);
        if (problem !== null) {
          fail(problem);
          return;
        }
        settled = true;
        clearTimeout(timer);
        sockets.add(socket);
        resolve(null);
      });
      socket.on('error', (err) => fail(err.code ?? err.message));
      socket.on('close', () => {
        if (sockets.delete(socket)) closedAfterResponse++;
        else fail('closed before the response');
      });
    });
  }

  process.on('message', async (msg) => {
    if (msg.type === 'open') {
      const request = requestBytes(msg.port);
      const started = Date.now();
      let next = 0;
      let failed = 0;
      const errors = {};
      // CONNECT_CONCURRENCY workers, each opening connections one after the other.
      const worker = async () => {
        while (next < msg.conns) {
          next++;
          const problem = await openOne(msg.port, request);
          if (problem !== null) {
            failed++;
            errors[problem] = (errors[problem] ?? 0) + 1;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, msg.conns) }, worker));
      process.send({ id: msg.id, held: sockets.size, failed, errors, ms: Date.now() - started });
    } else if (msg.type === 'status') {
      process.send({ id: msg.id, held: sockets.size, closedAfterResponse, unexpectedBytes });
    } else if (msg.type === 'exit') {
      // A reset leaves no TIME_WAIT behind, so rounds do not accumulate kernel state.
      for (const socket of sockets) socket.resetAndDestroy();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', limits: fileLimits(), pid: process.pid });
}

// ---------------------------------------------------------------- runner: child processes

const children = new Set();

process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

let hasTaskset = null;
function tasksetAvailable() {
  if (hasTaskset === null) {
    const r = spawnSync('taskset', ['-c', SERVER_CPU, 'true']);
    const r1 = spawnSync('taskset', ['-c', CLIENT_CPU, 'true']);
    hasTaskset = !r.error && r.status === 0 && !r1.error && r1.status === 0;
  }
  return hasTaskset;
}

const ULIMIT_FAILED = 97; // exit status of the shell wrapper when it cannot raise the limit

/**
 * Spawns `node [nodeArgs] bench/conns.js --child <role>` with an IPC channel, pinned to `cpu`
 * when taskset works, with at least `fds` open files allowed (through `sh -c 'ulimit ...; exec'`
 * when this process's soft limit is lower). Resolves with a handle once the child says `ready`.
 */
async function spawnChild(role, args, { cpu, fds, nodeArgs = [] }) {
  let argv = [process.execPath, ...nodeArgs, SELF, '--child', role, ...args];
  const limits = fileLimits();
  if (limits === null || limits.soft < fds) {
    // (Node raises its own soft limit to the hard one at startup, so in practice this matters when
    // the hard limit is too low.) -S raises the soft limit only (allowed up to the hard one); above the hard limit both must
    // be raised, which needs privileges: the wrapper then exits with ULIMIT_FAILED.
    const flag = limits !== null && fds <= limits.hard ? '-S ' : '';
    argv = ['sh', '-c', `ulimit ${flag}-n "$1" 2>/dev/null || exit ${ULIMIT_FAILED}; shift; exec "$@"`, 'sh', String(fds), ...argv];
  }
  if (tasksetAvailable()) argv = ['taskset', '-c', cpu, ...argv];
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  children.add(child);
  const handle = { role, child, stderr: '', pending: new Map(), nextId: 1, exited: null };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    handle.stderr = (handle.stderr + d).slice(-4000);
  });
  child.on('message', (msg) => {
    const key = msg.type === 'ready' ? 0 : msg.id; // `ready` carries no id: it answers id 0
    const p = handle.pending.get(key);
    if (p) {
      handle.pending.delete(key);
      p.resolve(msg);
    }
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    handle.exited = { code, signal };
    // give the stderr pipe a moment to drain before reporting
    setTimeout(() => {
      const error = new Error(code === ULIMIT_FAILED
        ? `cannot raise the open-file limit to ${fds} (soft ${limits?.soft}, hard ${limits?.hard}): ` +
          `run with a higher limit (\`ulimit -n ${fds}\` as a user allowed to) or use a smaller --conns`
        : `${role} child exited (code ${code}, signal ${signal})${handle.stderr ? `:\n${handle.stderr.trim()}` : ''}`);
      error.setupProblem = code === ULIMIT_FAILED;
      for (const p of handle.pending.values()) p.reject(error);
      handle.pending.clear();
    }, 50);
  });
  handle.ready = await new Promise((resolve, reject) => {
    handle.pending.set(0, { resolve, reject });
    setTimeout(() => reject(new Error(`${role} child not ready within 15 s${handle.stderr ? `:\n${handle.stderr.trim()}` : ''}`)), 15_000).unref();
  });
  handle.pending.delete(0);
  if (handle.ready.limits && handle.ready.limits.soft < fds) {
    throw new Error(`${role} child has an open-file limit of ${handle.ready.limits.soft}, needs ${fds}`);
  }
  return handle;
}

/** Sends `msg` to a child and resolves with its answer (matched by id). */
function call(handle, msg, timeoutMs) {
  if (handle.exited) return Promise.reject(new Error(`${handle.role} child has exited`));
  const id = handle.nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      handle.pending.delete(id);
      reject(new Error(`${handle.role} child did not answer ${msg.type} within ${timeoutMs} ms`));
    }, timeoutMs);
    handle.pending.set(id, {
      resolve: (m) => {
        clearTimeout(timer);
        resolve(m);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
    handle.child.send({ ...msg, id });
  });
}

async function stopChild(handle) {
  if (!handle || handle.exited) return;
  const exited = new Promise((resolve) => handle.child.once('exit', resolve));
  try {
    handle.child.send({ type: 'exit' });
  } catch {
    // channel already closed
  }
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------- runner: the normal client

/**
 * Sends `count` sequential GET / on one keep-alive connection (a new one after an error) and
 * checks each response. Returns { ok, total, latenciesMs, errors }.
 */
async function normalClient(port, count) {
  const request = requestBytes(port);
  const latenciesMs = [];
  const errors = {};
  let ok = 0;
  let conn = null;
  const deadline = Date.now() + NORMAL_DEADLINE_MS;

  // A connection with a one-response-at-a-time interface: exchange() -> the next response.
  function connect() {
    const socket = net.connect({ host: HOST, port });
    socket.setNoDelay(true);
    const reader = new ResponseReader();
    const c = { socket, waiting: null, dead: null };
    const settle = (err, r) => {
      const w = c.waiting;
      c.waiting = null;
      if (w) err ? w.reject(err) : w.resolve(r);
    };
    socket.on('data', (chunk) => {
      let rs;
      try {
        rs = reader.push(chunk);
      } catch (err) {
        c.dead = err;
        socket.destroy();
        settle(err);
        return;
      }
      if (rs.length > 1) settle(new Error(`${rs.length} responses to one request`));
      else if (rs.length === 1) settle(null, rs[0]);
    });
    socket.on('error', (err) => {
      c.dead = err;
      settle(err);
    });
    socket.on('close', () => {
      c.dead ??= new Error('connection closed');
      settle(c.dead);
    });
    c.exchange = () =>
      new Promise((resolve, reject) => {
        if (c.dead) {
          reject(c.dead);
          return;
        }
        c.waiting = { resolve, reject };
        socket.write(request);
      });
    return c;
  }

  let consecutiveFailures = 0;
  for (let i = 0; i < count; i++) {
    if (Date.now() > deadline || consecutiveFailures >= 10) {
      errors[consecutiveFailures >= 10 ? 'gave up after 10 consecutive failures' : 'deadline'] = count - i;
      break;
    }
    if (conn === null || conn.dead) {
      conn?.socket.destroy();
      conn = connect();
    }
    const started = process.hrtime.bigint();
    let timer;
    try {
      const r = await Promise.race([
        conn.exchange(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no response within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
        }),
      ]);
      const problem = checkHello(r);
      if (problem !== null) throw new Error(problem);
      latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      ok++;
      consecutiveFailures = 0;
    } catch (err) {
      errors[err.code ?? err.message] = (errors[err.code ?? err.message] ?? 0) + 1;
      consecutiveFailures++;
      conn.socket.destroy();
      conn = null;
    } finally {
      clearTimeout(timer);
    }
  }
  conn?.socket.destroy();
  return { ok, total: count, latenciesMs, errors };
}

/** Warm-up: WARMUP_CONNECTIONS one-request connections (20 at a time), then WARMUP_REQUESTS keep-alive. */
async function warmUp(port) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < WARMUP_CONNECTIONS) {
      next++;
      const r = await normalClient(port, 1);
      failed += r.total - r.ok;
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  const r = await normalClient(port, WARMUP_REQUESTS);
  failed += r.total - r.ok;
  if (failed) throw new Error(`${failed} warm-up request(s) failed`);
}

// ---------------------------------------------------------------- runner: one round

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const round3 = (x) => (x == null ? null : Math.round(x * 1000) / 1000);

/** Waits until the server reports `want` connections (it learns of closes asynchronously). */
async function waitConnections(server, want, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = await call(server, { type: 'measure' }, 30_000);
    if (m.connections === want || Date.now() > end) return m;
    await sleep(100);
  }
}

async function runRound(impl, roundNo, opts) {
  const fds = opts.conns + FD_MARGIN;
  let server = null;
  let holder = null;
  const result = { impl, ok: false };
  try {
    server = await spawnChild('server', [impl], { cpu: SERVER_CPU, fds, nodeArgs: ['--expose-gc'] });
    const port = server.ready.port;
    holder = await spawnChild('holder', [], { cpu: CLIENT_CPU, fds });
    await warmUp(port);
    // Baseline: the warm-up connections must be gone (closed by the client, seen by the server).
    let before = await waitConnections(server, 0, 5000);
    if (before.connections !== 0) throw new Error(`${before.connections} warm-up connection(s) still open on the server`);
    const snapshots = opts.heapSnapshot ? { dir: opts.heapSnapshot, prefix: `${impl}-${roundNo}` } : null;
    if (snapshots) {
      // the baseline snapshot, then a fresh baseline reading (the snapshot costs time and memory)
      snapshots.before = (await call(server, { type: 'snapshot', file: path.join(snapshots.dir, `${snapshots.prefix}-before.heapsnapshot`) }, 300_000)).file;
      before = await call(server, { type: 'measure' }, 30_000);
    }

    const opened = await call(holder, { type: 'open', port, conns: opts.conns }, 120_000);
    await sleep(500); // let the last responses' bookkeeping settle (keep-alive timers armed, etc.)
    const after = await call(server, { type: 'measure' }, 60_000);
    await sleep(IDLE_MS);
    const idle = await call(server, { type: 'measure' }, 60_000);

    const normal = await normalClient(port, NORMAL_REQUESTS);
    const end = await call(server, { type: 'measure' }, 60_000);
    const held = await call(holder, { type: 'status' }, 10_000);
    if (snapshots) {
      // with the N connections still open (taken last: it would disturb the CPU and latency figures)
      snapshots.after = (await call(server, { type: 'snapshot', file: path.join(snapshots.dir, `${snapshots.prefix}-after.heapsnapshot`) }, 300_000)).file;
      result.snapshots = { before: snapshots.before, after: snapshots.after, connections: after.connections };
    }

    // Per connection: divided by the connections the server actually had (the N held by the
    // holder; any failed ones are reported as errors).
    const n = after.connections || 1;
    const per = (key) => Math.round((after[key] - before[key]) / n);
    const sorted = [...normal.latenciesMs].sort((a, b) => a - b);
    const idleSeconds = (idle.at - after.at) / 1000;
    Object.assign(result, {
      requested: opts.conns,
      opened: opened.held,
      openFailed: opened.failed,
      openErrors: opened.errors,
      openMs: opened.ms,
      serverConnections: { before: before.connections, after: after.connections, idle: idle.connections, end: end.connections },
      heldAtEnd: held.held,
      closedByServer: held.closedAfterResponse,
      unexpectedBytes: held.unexpectedBytes,
      rssPerConn: per('rss'),
      heapPerConn: per('heapUsed'),
      heapTotalPerConn: per('heapTotal'),
      externalPerConn: per('external'),
      arrayBuffersPerConn: per('arrayBuffers'),
      // CPU of the server: accepting the N connections and answering their requests (the holder's
      // whole opening phase), per connection; then while they sat idle, in ms per second.
      cpuOpenMs: round3((after.cpuAtUs - before.cpuAfterGcUs) / 1000),
      cpuPerConnUs: round3((after.cpuAtUs - before.cpuAfterGcUs) / n),
      idleCpuMsPerS: round3((idle.cpuAtUs - after.cpuAfterGcUs) / 1000 / idleSeconds),
      normal: {
        ok: normal.ok,
        total: normal.total,
        p50Ms: round3(percentile(sorted, 50)),
        p99Ms: round3(percentile(sorted, 99)),
        maxMs: round3(sorted.at(-1)),
        errors: normal.errors,
        serverCpuMs: round3((end.cpuAtUs - idle.cpuAfterGcUs) / 1000),
      },
      memory: { before, after, idle, end }, // raw server readings, bytes
    });
    result.ok = true;
  } catch (err) {
    result.error = err.message;
    if (err.setupProblem) result.setupProblem = true;
  } finally {
    await stopChild(holder);
    await stopChild(server);
  }
  result.problems = roundProblems(result);
  return result;
}

/** What went wrong in a round, as short phrases (empty when it is clean). */
function roundProblems(r) {
  if (!r.ok) return [`failed: ${r.error}`];
  const p = [];
  if (r.openFailed) p.push(`${r.openFailed} connection(s) failed to open (${JSON.stringify(r.openErrors)})`);
  const sc = r.serverConnections;
  if (sc.after !== r.requested) p.push(`server had ${sc.after} connections, not ${r.requested}`);
  if (sc.end < r.requested || r.heldAtEnd < r.requested) {
    p.push(`connections dropped while idle (server ${sc.end}, holder ${r.heldAtEnd} of ${r.requested})`);
  }
  if (r.unexpectedBytes) p.push(`${r.unexpectedBytes} unexpected bytes on idle connections`);
  if (r.normal.ok !== r.normal.total) p.push(`normal client ${r.normal.ok}/${r.normal.total} ok (${JSON.stringify(r.normal.errors)})`);
  return p;
}

// ---------------------------------------------------------------- runner: summary and output

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Medians over the rounds of one implementation (bytes as numbers), and the rounds themselves. */
function summarize(rounds) {
  const good = rounds.filter((r) => r.ok);
  const med = (f) => median(good.map(f));
  const bytes = (f) => {
    const m = med(f);
    return m == null ? null : Math.round(m);
  };
  return {
    rssPerConn: bytes((r) => r.rssPerConn),
    heapPerConn: bytes((r) => r.heapPerConn),
    externalPerConn: bytes((r) => r.externalPerConn),
    arrayBuffersPerConn: bytes((r) => r.arrayBuffersPerConn),
    heapTotalPerConn: bytes((r) => r.heapTotalPerConn),
    cpuPerConnUs: round3(med((r) => r.cpuPerConnUs)),
    idleCpuMsPerS: round3(med((r) => r.idleCpuMsPerS)),
    openMs: med((r) => r.openMs),
    // ok / total summed over the rounds (a failed round counts all its requests as failed);
    // latencies are the medians of the rounds' percentiles
    normal: {
      ok: rounds.reduce((sum, r) => sum + (r.ok ? r.normal.ok : 0), 0),
      total: NORMAL_REQUESTS * rounds.length,
      p50Ms: round3(med((r) => r.normal.p50Ms)),
      p99Ms: round3(med((r) => r.normal.p99Ms)),
    },
    problems: rounds.flatMap((r, i) => r.problems.map((p) => `round ${i + 1}: ${p}`)),
    perRound: rounds,
  };
}

const fmtBytes = (x) => (x == null ? 'n/a' : `${Math.round(x).toLocaleString('en-US')} B`);
const fmtMs = (x) => (x == null ? 'n/a' : `${x.toFixed(2)} ms`);

function table(report) {
  const lines = [
    '| impl | conns | RSS/conn | heap/conn | external/conn | server CPU: open, idle | normal client ok/total, p50, p99 |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const impl of IMPLS) {
    const s = report.results[impl];
    const bad = s.problems.length > 0;
    const label = bad && impl === 'keel' ? `⚠️ ${IMPL_LABEL[impl]}` : IMPL_LABEL[impl];
    const cpu = s.cpuPerConnUs == null ? 'n/a' : `${s.cpuPerConnUs.toFixed(1)} µs/conn, ${s.idleCpuMsPerS.toFixed(1)} ms/s`;
    const normal = s.normal.ok == null ? 'n/a' : `${s.normal.ok}/${s.normal.total}, ${fmtMs(s.normal.p50Ms)}, ${fmtMs(s.normal.p99Ms)}`;
    lines.push(
      `| ${label} | ${report.conns.toLocaleString('en-US')} | ${fmtBytes(s.rssPerConn)} | ${fmtBytes(s.heapPerConn)} | ${fmtBytes(s.externalPerConn)} | ${cpu} | ${normal} |`,
    );
  }
  return lines.join('\n');
}

function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, srcDirty: dirty };
  } catch {
    return { commit: null, srcDirty: null };
  }
}

// ---------------------------------------------------------------- runner: heap snapshots (--heap-snapshot)

/** Groups a heap snapshot node: JS objects by constructor, closures by function name, the rest by kind. */
function censusKey(type, name) {
  switch (type) {
    case 'object':
      return name; // the constructor: Socket, ServerConnection, Object, Array, Map...
    case 'closure':
      return `closure ${name || '(anonymous)'}`;
    case 'array':
      return name; // V8's backing stores: (object properties), (object elements), ... (unnamed: see heapCensus)
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(strings)';
    case 'number':
      return '(heap numbers)';
    case 'code':
      return '(compiled code)';
    case 'native':
    case 'synthetic':
      return `native: ${name.replace(/ @\d+$/, '')}`; // embedder (C++) objects and off-heap data; not in heapUsed
    default:
      return `(${type}) ${name.replace(/ @\d+$/, '')}`;
  }
}

/** Count and total self size of every group (censusKey) of a .heapsnapshot file. */
function heapCensus(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const iEdges = fields.indexOf('edge_count');
  const { nodes, edges, strings } = snap;
  // V8's unnamed arrays (a Map's hash table, a closure's feedback...) are named after the object
  // holding them: "(array of Map)". Edges are stored node after node; to_node is a node offset.
  const edgeStride = snap.snapshot.meta.edge_fields.length;
  const iTo = snap.snapshot.meta.edge_fields.indexOf('to_node');
  const weak = snap.snapshot.meta.edge_types[0].indexOf('weak');
  const holderOf = new Map();
  for (let i = 0, e = 0; i < nodes.length; i += stride) {
    for (let k = 0; k < nodes[i + iEdges]; k++, e += edgeStride) {
      const to = edges[e + iTo];
      if (edges[e] !== weak && types[nodes[to + iType]] === 'array' && strings[nodes[to + iName]] === '' && !holderOf.has(to)) holderOf.set(to, i);
    }
  }
  const census = new Map();
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + iType]];
    let name = strings[nodes[i + iName]];
    if (type === 'array' && name === '') {
      const h = holderOf.get(i);
      name = `(array of ${h === undefined ? '?' : types[nodes[h + iType]] === 'closure' ? 'a closure' : strings[nodes[h + iName]] || types[nodes[h + iType]]})`;
    }
    const key = censusKey(type, name);
    let c = census.get(key);
    if (c === undefined) census.set(key, (c = { count: 0, bytes: 0, native: type === 'native' || type === 'synthetic' }));
    c.count++;
    c.bytes += nodes[i + iSize];
  }
  return census;
}

/**
 * What the N connections added to the heap: (after - before) / N per group, largest first, the
 * groups under 4 bytes per connection left out; plus the JS total (natives are reported by Node's
 * embedder graph, not part of heapUsed).
 */
function heapObjectsPerConn(beforeFile, afterFile, n) {
  const before = heapCensus(beforeFile);
  const after = heapCensus(afterFile);
  const rows = [];
  let jsBytes = 0;
  for (const [name, a] of after) {
    const b = before.get(name) ?? { count: 0, bytes: 0 };
    const bytesPerConn = (a.bytes - b.bytes) / n;
    if (!a.native) jsBytes += bytesPerConn;
    if (Math.abs(bytesPerConn) < 4) continue;
    rows.push({ name, countPerConn: round3((a.count - b.count) / n), bytesPerConn: Math.round(bytesPerConn) });
  }
  rows.sort((x, y) => y.bytesPerConn - x.bytesPerConn);
  return { jsBytesPerConn: Math.round(jsBytes), objects: rows };
}

function heapObjectsTable(impl, h) {
  const lines = [
    `${IMPL_LABEL[impl]}: ${h.jsBytesPerConn.toLocaleString('en-US')} B of JS heap per connection (self sizes; natives listed apart), from ${h.snapshots.after}`,
    '',
    '| object (constructor / closure / V8 internal) | count/conn | bytes/conn |',
    '|---|---:|---:|',
  ];
  for (const o of h.objects) lines.push(`| ${o.name} | ${o.countPerConn} | ${o.bytesPerConn.toLocaleString('en-US')} |`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- runner: options, preflight, main

function usage(code) {
  (code === 0 ? process.stdout : process.stderr).write(
    [
      'usage: node bench/conns.js [options]        (or: npm run bench:conns -- [options])',
      '',
      `  --conns N     idle keep-alive connections to open (default 10000)`,
      '  --rounds N    rounds per implementation, alternating keel, node; medians reported (default 2)',
      '  --json        print the summary as JSON instead of the markdown table',
      '  --heap-snapshot[=DIR]  also write server heap snapshots (baseline, with the N connections) to DIR',
      '                (default: a new temp dir) and list the objects per connection (slow: try --conns 2000)',
      '  -h, --help    this text',
      '',
      `Full data goes to ${path.relative(ROOT, RESULTS)}.`,
      '',
    ].join('\n'),
  );
  process.exit(code);
}

function die(msg) {
  process.stderr.write(`bench/conns.js: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { conns: 10_000, rounds: 2, json: false, heapSnapshot: null };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const positiveInt = () => {
      const v = value ?? argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) die(`${arg} must be a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    if (arg === '--conns') opts.conns = positiveInt();
    else if (arg === '--rounds') opts.rounds = positiveInt();
    else if (arg === '--json') opts.json = true;
    else if (arg === '--heap-snapshot') {
      opts.heapSnapshot = value ? path.resolve(value) : mkdtempSync(path.join(os.tmpdir(), 'keel-conns-'));
      mkdirSync(opts.heapSnapshot, { recursive: true });
    }
    else if (arg === '-h' || arg === '--help') usage(0);
    else {
      process.stderr.write(`bench/conns.js: unknown argument ${JSON.stringify(argv[i])}\n\n`);
      usage(1);
    }
  }
  return opts;
}

function preflight(opts) {
  const problems = [];
  if (!existsSync(KEEL_ENTRY)) problems.push('dist/index.js is missing: run `npm run build` first (or use `npm run bench:conns`).');
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    // Each held connection takes one ephemeral port on 127.0.0.1; leave room for everything else.
    if (hi - lo + 1 < opts.conns + 2000) {
      problems.push(`the ephemeral port range ${lo}-${hi} has ${hi - lo + 1} ports: too few for ${opts.conns} connections from 127.0.0.1 (use a smaller --conns)`);
    }
  } catch {
    // not Linux: nothing to check
  }
  if (problems.length) {
    process.stderr.write('bench/conns.js: cannot run:\n\n' + problems.map((p) => '- ' + p).join('\n') + '\n');
    process.exit(1);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  preflight(opts);
  const limits = fileLimits();
  process.stderr.write(
    `keel bench:conns: ${opts.conns} idle keep-alive connections x ${opts.rounds} round(s) x ${IMPLS.length} impls` +
      ` (server on CPU ${SERVER_CPU}, connection holder on CPU ${CLIENT_CPU}${tasksetAvailable() ? '' : ': taskset unavailable, not pinned'};` +
      ` open-file limit here ${limits ? `${limits.soft}/${limits.hard}` : 'unknown'}, children get >= ${opts.conns + FD_MARGIN})\n`,
  );

  const rounds = { keel: [], node: [] };
  for (let i = 1; i <= opts.rounds; i++) {
    for (const impl of IMPLS) {
      const r = await runRound(impl, i, opts);
      if (!r.ok && r.setupProblem) die(r.error); // the machine cannot run it: no point going on
      rounds[impl].push(r);
      const status = r.ok
        ? `RSS ${fmtBytes(r.rssPerConn)}/conn, heap ${fmtBytes(r.heapPerConn)}/conn, external ${fmtBytes(r.externalPerConn)}/conn; ` +
          `opened in ${r.openMs} ms, server CPU ${r.cpuPerConnUs.toFixed(1)} µs/conn, idle ${r.idleCpuMsPerS.toFixed(1)} ms/s; ` +
          `normal client ${r.normal.ok}/${r.normal.total}, p50 ${fmtMs(r.normal.p50Ms)}, p99 ${fmtMs(r.normal.p99Ms)}`
        : `FAILED: ${r.error}`;
      process.stderr.write(`  round ${i}/${opts.rounds} ${IMPL_LABEL[impl].padEnd(9)} ${status}\n`);
      for (const p of r.ok ? r.problems : []) process.stderr.write(`    problem: ${p}\n`);
    }
  }

  const git = gitInfo();
  const cpus = os.cpus();
  const report = {
    date: new Date().toISOString(),
    commit: git.commit,
    srcDirty: git.srcDirty,
    node: process.version,
    machine: {
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpu: cpus[0]?.model ?? 'unknown',
      cpus: cpus.length,
      memoryBytes: os.totalmem(),
      pinning: tasksetAvailable() ? { server: `cpu ${SERVER_CPU}`, holder: `cpu ${CLIENT_CPU}` } : null,
    },
    conns: opts.conns,
    rounds: opts.rounds,
    options: {
      keepAliveTimeoutMs: KEEP_ALIVE_MS,
      idleMs: IDLE_MS,
      normalRequests: NORMAL_REQUESTS,
      connectConcurrency: CONNECT_CONCURRENCY,
      warmup: { connections: WARMUP_CONNECTIONS, requests: WARMUP_REQUESTS },
    },
    // Per implementation: medians over the rounds (bytes per connection; external includes
    // arrayBuffers), then every round's data in `perRound`.
    results: { keel: summarize(rounds.keel), node: summarize(rounds.node) },
  };
  // Keel / node:http of the medians (< 1: Keel uses less)
  const ratio = (key) => {
    const a = report.results.keel[key];
    const b = report.results.node[key];
    return a != null && b ? Number((a / b).toFixed(4)) : null;
  };
  report.keelOverNode = { rss: ratio('rssPerConn'), heap: ratio('heapPerConn'), external: ratio('externalPerConn') };
  if (opts.heapSnapshot) {
    for (const impl of IMPLS) {
      const last = rounds[impl].findLast((r) => r.ok && r.snapshots);
      if (!last) continue;
      process.stderr.write(`  reading ${IMPL_LABEL[impl]}'s heap snapshots...\n`);
      const { before, after, connections } = last.snapshots;
      report.results[impl].heapObjects = { snapshots: { before, after }, ...heapObjectsPerConn(before, after, connections) };
    }
  }
  writeFileSync(RESULTS, JSON.stringify(report, null, 2) + '\n');

  if (opts.json) {
    const brief = { ...report, results: Object.fromEntries(IMPLS.map((impl) => [impl, { ...report.results[impl], perRound: undefined }])) };
    process.stdout.write(JSON.stringify(brief, null, 2) + '\n');
  } else {
    const fmtRatio = (x) => (x == null ? 'n/a' : x.toFixed(2));
    process.stdout.write(
      `\n${table(report)}\n\n` +
        `Median of ${opts.rounds} round(s). Bytes per idle keep-alive connection (one request served, waiting for the next), ` +
        `measured in the server after gc(): (with N open - baseline) / N; external includes arrayBuffers. ` +
        `Keel / node:http: RSS ${fmtRatio(report.keelOverNode.rss)}, heap ${fmtRatio(report.keelOverNode.heap)}. ` +
        `Server CPU: to accept and answer the N connections, per connection; then while idle, ms per second. ` +
        `Normal client: ${NORMAL_REQUESTS} sequential requests per round on one fresh keep-alive connection while the N are open (ok/total over all rounds). ` +
        (opts.heapSnapshot ? 'With --heap-snapshot the RSS figures are unreliable (the snapshots inflate the baseline). ' : '') +
        `keepAliveTimeout ${KEEP_ALIVE_MS / 1000} s on both; node ${process.version}, commit ${git.commit}${git.srcDirty ? ' (src/ dirty)' : ''}.\n` +
        `Full results: ${path.relative(process.cwd(), RESULTS) || RESULTS}\n`,
    );
    for (const impl of IMPLS) {
      const h = report.results[impl].heapObjects;
      if (h) process.stdout.write(`\n${heapObjectsTable(impl, h)}\n`);
    }
  }

  const keelProblems = report.results.keel.problems;
  if (keelProblems.length) {
    const bar = '!'.repeat(78);
    process.stderr.write(`\n${bar}\n!!! KEEL HAD PROBLEMS - its numbers are NOT trustworthy:\n${keelProblems.map((p) => `!!!   ${p}`).join('\n')}\n${bar}\n`);
    return 2;
  }
  if (report.results.node.problems.length) process.stderr.write(`\nnote: node:http had problems: ${report.results.node.problems.join('; ')}\n`);
  return 0;
}

// ---------------------------------------------------------------- entry

const [, , first, role, ...rest] = process.argv;
if (first === '--child') {
  const run = role === 'server' ? () => serverChild(rest[0]) : role === 'holder' ? holderChild : null;
  if (run === null) die(`unknown child role ${JSON.stringify(role)}`);
  run().catch((err) => {
    process.stderr.write(`bench/conns.js (${role}): ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
} else {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`bench/conns.js: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}
