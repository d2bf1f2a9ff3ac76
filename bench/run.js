// Keel benchmark runner (`npm run bench`; see bench/README.md).
//
//   node bench/run.js [--server] [--client] [--duration S] [--rounds N]
//                     [--scenario NAME] [--connections N] [--impls LIST] [--clients LIST] [--inflight N]
//                     [--report]
//
// --report alone measures nothing: it writes bench/RESULTS.md and bench/chart.svg from the result
// files (bench/report.js). With other options it runs the selected sections first, then writes
// the report from the fresh results.
//
// Two sections, both by default: the server benchmark (Keel vs node:http under wrk, below)
// first, then the client benchmark (bench/client.js: Keel's clients vs undici / node:http /
// fetch against nginx). --server / --client select one. --duration and --rounds apply to both;
// --scenario / --connections only to the server section and --clients / --inflight only to the
// client section (given without --server / --client, they select their own section only).
//
// Server section:
// For every scenario and round, for keel then node:http (alternating), it
// starts a fresh `taskset -c 0 node bench/server.js <impl> <scenario> <port>`,
// waits for `ready`, checks the responses are correct, runs a discarded 1 s
// wrk warm-up, then the measured `taskset -c 1 wrk -t1 -c<N> -d<S>s --latency`,
// and kills the server. The reported figure is the median req/s of the rounds.
// Results: markdown table on stdout, full data in bench/results.json.
//
// The `api` scenario (router + JSON API, 20 routes) compares frameworks instead: the same REST
// API (bench/apps/<impl>.js) on Keel with keel/router + keel/body, Fastify, Hono on
// @hono/node-server, Express and plain node:http, `POST /api/items/<id>` with a 1 KiB JSON body
// (lua/api-post.lua); rounds alternate the five (order rotated every round) and it gets its own
// table: impl | req/s | Keel / impl. When keel/router or keel/body cannot be loaded, the Keel row
// falls back to `keel (no batteries)` (bench/apps/keel-bare.js) and says so.
//
// Exit status: 0 ok; 1 bad usage / missing tools / runner failure;
// 2 if Keel had wrk errors (non-2xx, socket errors), failed a correctness
// check or crashed, or a client of the client section had errors (results
// are still printed and written).

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CLIENTS, clientPreflight, runClientBench } from './client.js';
import { writeReport } from './report.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const LUA_DIR = path.join(BENCH_DIR, 'lua');
const SERVER = path.join(BENCH_DIR, 'server.js');
const RESULTS = path.join(BENCH_DIR, 'results.json');
const JSON_BODY_FILE = path.join(LUA_DIR, 'body-1k.json');

const HOST = '127.0.0.1'; // all traffic stays on loopback
const SERVER_CPU = '0';
const WRK_CPU = '1';
const WARMUP_SECONDS = 1;
const PIPELINE_DEPTH = 16;
const IMPLS = ['keel', 'node'];
const IMPL_LABEL = {
  keel: 'keel',
  node: 'node:http',
  'keel-bare': 'keel (no batteries)',
  fastify: 'fastify',
  hono: 'hono',
  express: 'express',
};
// The `api` scenario's implementations (bench/apps/<impl>.js), in table order; --impls picks a
// subset (keel-bare, Keel without keel/router + keel/body, may be added).
const API_IMPLS = ['keel', 'fastify', 'hono', 'express', 'node'];
const API_IMPL_CHOICES = [...API_IMPLS, 'keel-bare'];
// lua/api-post.lua cycles over these ids (passed as its second argument); the correctness check
// POSTs each of them.
const API_IDS = [1, 42, 317, 4711, 65536, 1000000];

// id: used for --scenario and passed to bench/server.js (which maps it to a handler).
// connections: per-scenario default, overridden for all scenarios by --connections.
const SCENARIOS = [
  { id: 'keepalive', name: 'keep-alive GET', wrkArgs: [] },
  {
    id: 'pipeline',
    name: `pipelined GET x${PIPELINE_DEPTH}`,
    script: 'pipeline.lua',
    scriptArgs: [String(PIPELINE_DEPTH)],
    // wrk only samples latency for part of a pipelined batch, and its percentiles
    // come out as 0 / nonsense: keep req/s, drop latency for this scenario.
    noLatency: true,
  },
  { id: 'json', name: '1 KiB JSON POST echo', script: 'post-json.lua', scriptArgs: [JSON_BODY_FILE] },
  { id: 'close', name: 'Connection: close', wrkArgs: ['-H', 'Connection: close'], connections: 20 },
  // Frameworks compared on one API: see bench/apps/ and the `api` section of bench/README.md.
  { id: 'api', name: 'router + JSON API (20 routes)', script: 'api-post.lua', scriptArgs: [JSON_BODY_FILE, API_IDS.join(',')], frameworks: true },
];

// ---------------------------------------------------------------- options

function usage(code) {
  const out = code === 0 ? process.stdout : process.stderr;
  out.write(
    [
      'usage: node bench/run.js [options]        (or: npm run bench -- [options])',
      '',
      '  --server           run the server section (Keel vs node:http under wrk)',
      '  --client           run the client section (bench/client.js: clients against nginx)',
      '                     (default: both, server first; see below for implied sections)',
      '  --duration S       measured seconds per wrk / client run (default 5)',
      '  --rounds N         rounds per implementation / client; the median is reported (default 3)',
      '',
      'server section:',
      '  --scenario NAME    run only one scenario: ' + SCENARIOS.map((s) => s.id).join(' | ') +
        ' (or its full name)',
      '  --connections N    wrk connections for every scenario (default 50; Connection: close uses 20',
      '                     unless --connections is given)',
      '  --impls LIST       api scenario: comma-separated subset of ' + API_IMPL_CHOICES.join(', '),
      '                     (default ' + API_IMPLS.join(',') + '; keel-bare = Keel without its batteries)',
      '',
      'client section:',
      '  --clients LIST     comma-separated subset of: ' + CLIENTS.map((c) => c.id).join(', '),
      '  --inflight N       requests kept in flight (default 50)',
      '',
      'report:',
      '  --report           write bench/RESULTS.md and bench/chart.svg (bench/report.js); alone, from the',
      '                     existing result files without measuring; with other options, after the run',
      '',
      '  -h, --help         this text',
      '',
      'Given without --server / --client, --scenario / --connections / --impls imply --server and',
      '--clients / --inflight imply --client.',
      '',
    ].join('\n'),
  );
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { duration: 5, rounds: 3, scenario: null, connections: null, impls: null, server: false, client: false, clients: null, inflight: 50, report: false, reportOnly: false };
  if (argv.length && argv.every((a) => a === '--report')) {
    opts.report = opts.reportOnly = true;
    return opts;
  }
  const implied = { server: false, client: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) die(`${arg} needs a value`);
      return argv[++i];
    };
    const positiveInt = (v, name) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) die(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    switch (arg) {
      case '--duration':
        opts.duration = positiveInt(next(), '--duration');
        break;
      case '--rounds':
        opts.rounds = positiveInt(next(), '--rounds');
        break;
      case '--connections':
        opts.connections = positiveInt(next(), '--connections');
        implied.server = true;
        break;
      case '--impls': {
        const ids = next().split(',').map((x) => x.trim()).filter(Boolean);
        if (!ids.length) die('--impls needs at least one implementation');
        for (const id of ids) {
          if (!API_IMPL_CHOICES.includes(id)) die(`unknown implementation ${JSON.stringify(id)}; one of: ${API_IMPL_CHOICES.join(', ')}`);
        }
        opts.impls = [...new Set(ids)];
        implied.server = true;
        break;
      }
      case '--server':
        opts.server = true;
        break;
      case '--report':
        opts.report = true;
        break;
      case '--client':
        opts.client = true;
        break;
      case '--inflight':
        opts.inflight = positiveInt(next(), '--inflight');
        implied.client = true;
        break;
      case '--clients': {
        const ids = next().split(',').map((x) => x.trim()).filter(Boolean);
        for (const id of ids) {
          if (!CLIENTS.some((c) => c.id === id)) die(`unknown client ${JSON.stringify(id)}; one of: ${CLIENTS.map((c) => c.id).join(', ')}`);
        }
        opts.clients = ids;
        implied.client = true;
        break;
      }
      case '--scenario': {
        const v = next();
        const s = SCENARIOS.find((x) => x.id === v || x.name.toLowerCase() === v.toLowerCase());
        if (!s) die(`unknown scenario ${JSON.stringify(v)}; one of: ${SCENARIOS.map((x) => x.id).join(', ')}`);
        opts.scenario = s.id;
        implied.server = true;
        break;
      }
      case '-h':
      case '--help':
        usage(0);
        break;
      default:
        process.stderr.write(`bench/run.js: unknown argument ${JSON.stringify(argv[i])}\n\n`);
        usage(1);
    }
  }
  if (!opts.server && !opts.client) {
    // Section-specific options select their section; nothing at all selects both.
    opts.server = implied.server || !implied.client;
    opts.client = implied.client || !implied.server;
  }
  if (implied.server && !opts.server) process.stderr.write('bench/run.js: note: --scenario / --connections / --impls ignored (server section not selected)\n');
  if (opts.impls && opts.scenario && opts.scenario !== 'api') die('--impls applies to the api scenario only');
  if (implied.client && !opts.client) process.stderr.write('bench/run.js: note: --clients / --inflight ignored (client section not selected)\n');
  return opts;
}

function die(msg) {
  process.stderr.write(`bench/run.js: ${msg}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------- preflight

function preflight(opts) {
  const problems = [];
  const wrk = opts.server ? spawnSync('wrk', ['--version'], { encoding: 'utf8' }) : { stdout: '', stderr: '' };
  if (wrk.error) {
    problems.push(
      'wrk is not installed (needed to generate load).\n' +
        '  Debian/Ubuntu: apt-get install -y wrk\n' +
        '  macOS: brew install wrk   (but note taskset is Linux-only)',
    );
  }
  const ts = spawnSync('taskset', ['-c', SERVER_CPU, 'true'], { encoding: 'utf8' });
  if (ts.error) {
    problems.push(
      'taskset is not installed (needed to pin the server and wrk to separate CPUs).\n' +
        '  It is part of util-linux: apt-get install -y util-linux',
    );
  } else {
    const ts1 = spawnSync('taskset', ['-c', WRK_CPU, 'true'], { encoding: 'utf8' });
    if (ts.status !== 0 || ts1.status !== 0) {
      problems.push(
        `cannot pin to CPUs ${SERVER_CPU} and ${WRK_CPU} (this benchmark needs at least 2 usable CPUs):\n  ` +
          ((ts.stderr || '') + (ts1.stderr || '')).trim(),
      );
    }
  }
  if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    problems.push('dist/index.js is missing: run `npm run build` first (or use `npm run bench`).');
  }
  if (opts.client) {
    // the client section's own checks (nginx; taskset again, reported once)
    for (const p of clientPreflight()) if (!p.startsWith('taskset') && !p.startsWith('cannot pin')) problems.push(p);
  }
  if (problems.length) {
    process.stderr.write('bench/run.js: cannot run the benchmark:\n\n' + problems.map((p) => '- ' + p).join('\n\n') + '\n');
    process.exit(1);
  }
  return (wrk.stdout + wrk.stderr).split('\n')[0].trim();
}

// ---------------------------------------------------------------- child process bookkeeping

const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => killAll('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench/run.js: ${sig}, stopping servers and wrk\n`);
    killAll('SIGKILL');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

// ---------------------------------------------------------------- server

// Server ports are picked below the kernel's ephemeral range, so they never
// collide with wrk's client ports (the Connection: close scenario burns
// through tens of thousands of them) or with their TIME_WAIT leftovers.
function ephemeralLow() {
  try {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(lo) ? lo : null;
  } catch {
    return null;
  }
}

function tryListen(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.once('error', () => resolve(null));
    s.listen(port, HOST, () => {
      const actual = s.address().port;
      s.close(() => resolve(actual));
    });
  });
}

async function freePort() {
  const lo = ephemeralLow();
  const min = 10000;
  const max = lo && lo > min + 1000 ? lo - 1 : null;
  if (max) {
    for (let i = 0; i < 50; i++) {
      const port = min + Math.floor(Math.random() * (max - min));
      if ((await tryListen(port)) !== null) return port;
    }
  }
  const port = await tryListen(0);
  if (port === null) throw new Error('could not find a free port on ' + HOST);
  return port;
}

async function startServer(impl, scenarioId) {
  const port = await freePort();
  const child = track(
    spawn('taskset', ['-c', SERVER_CPU, process.execPath, SERVER, impl, scenarioId, String(port)], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KEEL_BENCH_EXIT_ON_STDIN_EOF: '1' },
    }),
  );
  const server = { impl, port, child, stderr: '' };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    server.stderr = (server.stderr + d).slice(-4000);
  });
  child.stdin.on('error', () => {});
  await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => finish(new Error(`${impl} server did not print "ready" within 15 s`)), 15000);
    function finish(err) {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolve();
    }
    function onData(d) {
      buf += d;
      if (buf.split('\n').some((l) => l.trim() === 'ready')) finish();
    }
    function onExit(code, signal) {
      // let the stderr pipe drain before reporting
      setTimeout(
        () =>
          finish(
            new Error(
              `${impl} server exited before "ready" (code ${code}, signal ${signal})` +
                (server.stderr ? `:\n${server.stderr.trim()}` : ''),
            ),
          ),
        50,
      );
    }
    function onError(err) {
      finish(err);
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  child.stdout.resume(); // keep draining anything else the server prints
  return server;
}

// Nanoseconds of CPU a process has run (all its threads; /proc/<pid>/task/*/schedstat), or null
// where that is not available.
function processCpuNs(pid) {
  try {
    let total = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // a thread that just exited
      }
    }
    return total;
  } catch {
    return null;
  }
}

function serverAlive(server) {
  return server.child.exitCode === null && server.child.signalCode === null;
}

function deathNote(server) {
  const { exitCode, signalCode } = server.child;
  return signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`;
}

async function stopServer(server) {
  const { child } = server;
  if (!serverAlive(server)) return;
  child.kill('SIGTERM');
  if (!(await waitExit(child, 3000))) {
    child.kill('SIGKILL');
    await waitExit(child, 3000);
  }
}

// ---------------------------------------------------------------- correctness checks (raw sockets)

function rawExchange(port, payload, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: HOST, port });
    const chunks = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms (got ${Buffer.concat(chunks).length} bytes)`));
    }, timeoutMs);
    // No half-close: the last request carries `Connection: close`, so the server ends the stream.
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

// Splits a byte stream into HTTP/1.1 responses (Content-Length or chunked bodies).
function parseResponses(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd === -1) throw new Error(`truncated response head: ${JSON.stringify(buf.subarray(pos, pos + 200).toString('latin1'))}`);
    const lines = buf.subarray(pos, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let p = headEnd + 4;
    let body;
    if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      for (;;) {
        const le = buf.indexOf('\r\n', p, 'latin1');
        if (le === -1) throw new Error('truncated chunked body');
        const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        p = le + 2;
        if (size === 0) {
          const te = buf.indexOf('\r\n\r\n', p - 2, 'latin1');
          if (te === -1) throw new Error('truncated chunked trailer');
          p = te + 4;
          break;
        }
        parts.push(buf.subarray(p, p + size));
        p += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = buf.subarray(p, p + n);
      if (body.length !== n) throw new Error('truncated body');
      p += n;
    } else {
      body = buf.subarray(p);
      p = buf.length;
    }
    out.push({ status: Number(m[1]), headers, body: body.toString('utf8') });
    pos = p;
  }
  return out;
}

function expectHello(r, what) {
  if (r.status !== 200) throw new Error(`${what}: status ${r.status}, expected 200`);
  if (!/^text\/plain/.test(r.headers['content-type'] || '')) throw new Error(`${what}: content-type ${JSON.stringify(r.headers['content-type'])}`);
  if (r.body !== 'Hello World') throw new Error(`${what}: body ${JSON.stringify(r.body.slice(0, 100))}`);
}

// The JSON API (all frameworks): on one connection, pipelined, POST /api/items/<id> with the
// 1 KiB body for every id lua/api-post.lua uses (200, application/json, exactly
// {"id":<id>,"received":<keys>,"ok":true}), then GET /api/users/42 (200, {"id":42,...}: the
// routes are really routed) and GET /api/nope (404).
async function checkApi(port) {
  const host = `Host: ${HOST}:${port}\r\n`;
  const body = readFileSync(JSON_BODY_FILE);
  const received = Object.keys(JSON.parse(body.toString('utf8'))).length;
  const parts = [];
  for (const id of API_IDS) {
    parts.push(
      Buffer.from(`POST /api/items/${id} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`),
      body,
    );
  }
  parts.push(Buffer.from(`GET /api/users/42 HTTP/1.1\r\n${host}\r\n`));
  parts.push(Buffer.from(`GET /api/nope HTTP/1.1\r\n${host}Connection: close\r\n\r\n`));
  const rs = parseResponses(await rawExchange(port, Buffer.concat(parts)));
  const expected = API_IDS.length + 2;
  if (rs.length !== expected) throw new Error(`API: got ${rs.length} responses to ${expected} pipelined requests`);
  const jsonOf = (r, what) => {
    if (r.status !== 200) throw new Error(`${what}: status ${r.status}, expected 200 (body ${JSON.stringify(r.body.slice(0, 100))})`);
    if (!/^application\/json/.test(r.headers['content-type'] || '')) throw new Error(`${what}: content-type ${JSON.stringify(r.headers['content-type'])}`);
    try {
      return JSON.parse(r.body);
    } catch {
      throw new Error(`${what}: body is not JSON: ${JSON.stringify(r.body.slice(0, 100))}`);
    }
  };
  API_IDS.forEach((id, i) => {
    const what = `POST /api/items/${id}`;
    const got = jsonOf(rs[i], what);
    const want = { id, received, ok: true };
    if (!isDeepStrictEqual(got, want)) throw new Error(`${what}: body ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  });
  const user = jsonOf(rs[API_IDS.length], 'GET /api/users/42');
  if (user === null || typeof user !== 'object' || user.id !== 42) throw new Error(`GET /api/users/42: body ${JSON.stringify(user)}, expected id 42`);
  const missing = rs[API_IDS.length + 1];
  if (missing.status !== 404) throw new Error(`GET /api/nope: status ${missing.status}, expected 404`);
}

async function checkServer(scenario, port) {
  const host = `Host: ${HOST}:${port}\r\n`;
  if (scenario.id === 'api') {
    await checkApi(port);
  } else if (scenario.id === 'json') {
    const body = readFileSync(JSON_BODY_FILE);
    const req = Buffer.concat([
      Buffer.from(
        `POST / HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ]);
    const rs = parseResponses(await rawExchange(port, req));
    if (rs.length !== 1) throw new Error(`JSON POST: got ${rs.length} responses, expected 1`);
    const r = rs[0];
    if (r.status !== 200) throw new Error(`JSON POST: status ${r.status}`);
    if (!/^application\/json/.test(r.headers['content-type'] || '')) throw new Error(`JSON POST: content-type ${JSON.stringify(r.headers['content-type'])}`);
    if (r.body !== body.toString('utf8')) throw new Error('JSON POST: echoed body differs from the request body');
  } else if (scenario.id === 'pipeline') {
    const one = `GET / HTTP/1.1\r\n${host}\r\n`;
    const req = one.repeat(PIPELINE_DEPTH) + `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`;
    const rs = parseResponses(await rawExchange(port, req));
    if (rs.length !== PIPELINE_DEPTH + 1) throw new Error(`pipelined GET: got ${rs.length} responses, expected ${PIPELINE_DEPTH + 1}`);
    rs.forEach((r, i) => expectHello(r, `pipelined GET #${i + 1}`));
  } else {
    const rs = parseResponses(await rawExchange(port, `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`));
    if (rs.length !== 1) throw new Error(`GET: got ${rs.length} responses, expected 1`);
    expectHello(rs[0], 'GET');
  }
}

// ---------------------------------------------------------------- wrk

function wrkArgv(scenario, port, seconds, connections) {
  const argv = ['-c', WRK_CPU, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(scenario.wrkArgs || [])];
  if (scenario.script) argv.push('-s', path.join(LUA_DIR, scenario.script));
  argv.push(`http://${HOST}:${port}/`);
  if (scenario.scriptArgs) argv.push('--', ...scenario.scriptArgs);
  return argv;
}

function runWrk(argv, seconds) {
  return new Promise((resolve, reject) => {
    const child = track(spawn('taskset', argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, (seconds + 15) * 1000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return reject(new Error(`wrk did not finish within ${seconds + 15} s`));
      if (code !== 0) return reject(new Error(`wrk exited with ${code ?? signal}: ${(stderr + stdout).trim()}`));
      resolve(stdout);
    });
  });
}

function toMs(value, unit) {
  const v = Number(value);
  switch (unit) {
    case 'us':
      return v / 1000;
    case 'ms':
      return v;
    case 's':
      return v * 1000;
    case 'm':
      return v * 60000;
    case 'h':
      return v * 3600000;
    default:
      return NaN;
  }
}

function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const rpsMatch = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rpsMatch) throw new Error(`could not parse wrk output:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const latency = {};
  for (const m of out.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$/gm)) {
    const ms = toMs(m[2], m[3]);
    // wrk prints 0.00us for percentiles it has no samples for
    if (ms > 0) latency[`p${m[1]}`] = Number(ms.toFixed(3));
  }
  const socketErrors = sock
    ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  return {
    rps: Number(rpsMatch[1]),
    requests: num(/(\d+) requests in/),
    latencyMs: latency,
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/),
    socketErrors,
  };
}

const socketErrorTotal = (e) => e.connect + e.read + e.write + e.timeout;

// ---------------------------------------------------------------- one round

async function runRound(scenario, impl, opts, connections) {
  const round = { ok: false };
  let server;
  try {
    server = await startServer(impl, scenario.id);
    try {
      await checkServer(scenario, server.port);
      round.check = 'ok';
    } catch (err) {
      round.check = `FAILED: ${err.message}`;
    }
    await runWrk(wrkArgv(scenario, server.port, WARMUP_SECONDS, connections), WARMUP_SECONDS);
    if (!serverAlive(server)) throw new Error(`server died during warm-up (${deathNote(server)})`);
    const argv = wrkArgv(scenario, server.port, opts.duration, connections);
    round.command = ['taskset', ...argv].join(' ');
    const cpuBefore = processCpuNs(server.child.pid);
    const wallBefore = process.hrtime.bigint();
    const wrkOut = await runWrk(argv, opts.duration);
    const cpuAfter = processCpuNs(server.child.pid);
    Object.assign(round, parseWrk(wrkOut));
    // CPU the server used during the measured run, in CPUs (1 = its core all the time, GC
    // threads included); well below 1 means something else held it back (a busy machine).
    if (cpuBefore !== null && cpuAfter !== null) {
      round.serverCpu = Number(((cpuAfter - cpuBefore) / Number(process.hrtime.bigint() - wallBefore)).toFixed(3));
    }
    if (scenario.noLatency) round.latencyMs = {};
    if (!serverAlive(server)) throw new Error(`server died during the measured run (${deathNote(server)})`);
    round.ok = true;
  } catch (err) {
    round.error = err.message;
  } finally {
    if (server) {
      await stopServer(server);
      if (!round.ok && server.stderr.trim()) round.serverStderr = server.stderr.trim();
    }
  }
  return round;
}

// ---------------------------------------------------------------- stats / output

function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function summarize(rounds) {
  const good = rounds.filter((r) => r.ok);
  const sum = (f) => good.reduce((a, r) => a + f(r), 0);
  const socketErrors = { connect: 0, read: 0, write: 0, timeout: 0 };
  for (const r of good) for (const k of Object.keys(socketErrors)) socketErrors[k] += r.socketErrors[k];
  return {
    medianRps: median(good.map((r) => r.rps)),
    medianLatencyP50Ms: median(good.map((r) => r.latencyMs.p50).filter((x) => x !== undefined)),
    medianLatencyP99Ms: median(good.map((r) => r.latencyMs.p99).filter((x) => x !== undefined)),
    medianServerCpu: median(good.map((r) => r.serverCpu).filter((x) => x !== undefined)),
    // req/s per CPU the server used: less sensitive to a busy machine than req/s
    medianRpsPerCpu: median(good.filter((r) => r.serverCpu > 0).map((r) => Math.round(r.rps / r.serverCpu))),
    non2xx: sum((r) => r.non2xx),
    socketErrors,
    failedRounds: rounds.filter((r) => !r.ok).length,
    failedChecks: rounds.filter((r) => r.check && r.check !== 'ok').length,
    rounds,
  };
}

function problems(s) {
  const p = [];
  if (s.non2xx) p.push(`${s.non2xx} non-2xx`);
  const se = socketErrorTotal(s.socketErrors);
  if (se) {
    const parts = Object.entries(s.socketErrors)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k} ${v}`);
    p.push(`socket errors: ${parts.join(', ')}`);
  }
  if (s.failedChecks) p.push(`${s.failedChecks} failed correctness check(s)`);
  if (s.failedRounds) p.push(`${s.failedRounds} failed round(s)`);
  return p;
}

const fmtRps = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));

function table(results) {
  const lines = [
    '| scenario | keel req/s | node:http req/s | ratio keel/node | errors |',
    '|---|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const kp = problems(r.keel);
    const np = problems(r.node);
    const errs = [];
    if (kp.length) errs.push(`**KEEL: ${kp.join('; ')}**`);
    if (np.length) errs.push(`node: ${np.join('; ')}`);
    const name = kp.length ? `⚠️ ${r.name}` : r.name;
    lines.push(
      `| ${name} | ${fmtRps(r.keel.medianRps)} | ${fmtRps(r.node.medianRps)} | ${r.ratio == null ? 'n/a' : r.ratio.toFixed(2)} | ${errs.join('<br>') || '—'} |`,
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
    return null;
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.reportOnly) {
    writeReport();
    return 0;
  }
  const wrkVersion = preflight(opts);
  let code = 0;
  if (opts.server) code = await serverSection(opts, wrkVersion);
  if (opts.client) {
    if (opts.server) process.stdout.write('\n');
    const clientCode = await runClientBench({
      duration: opts.duration,
      rounds: opts.rounds,
      clients: opts.clients,
      inflight: opts.inflight,
    });
    code = Math.max(code, clientCode);
  }
  if (opts.report) writeReport();
  return code;
}

// Whether the api scenario's Keel app (keel/router + keel/body) can start: it is imported and
// started on a free port in a child process, then closed. null when usable, else the reason.
function keelBatteriesProblem() {
  const app = pathToFileURL(path.join(BENCH_DIR, 'apps', 'keel.js')).href;
  const code =
    `const { start } = await import(${JSON.stringify(app)});\n` +
    `const server = await start(0, ${JSON.stringify(HOST)});\n` +
    `server.close();\n` +
    `process.exit(0);\n`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 30000 });
  if (r.error) return r.error.message;
  if (r.status === 0) return null;
  const lines = (r.stderr || '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^\w*Error\b/.test(l)) ?? lines[0] ?? `exit status ${r.status ?? r.signal}`;
}

const rotate = (xs, n) => xs.map((_, i) => xs[(i + n) % xs.length]);

function apiTable(r) {
  const lines = ['| impl | req/s | Keel / impl | server CPU | req/s per CPU | errors |', '|---|---:|---:|---:|---:|---|'];
  for (const impl of r.impls) {
    const s = r.results[impl];
    const p = problems(s);
    const isKeel = impl === r.keelImpl;
    const label = isKeel && p.length ? `⚠️ ${r.labels[impl]}` : r.labels[impl];
    const ratio = r.ratios[impl];
    const errs = p.length ? (isKeel ? `**KEEL: ${p.join('; ')}**` : p.join('; ')) : '—';
    const cpu = s.medianServerCpu == null ? 'n/a' : `${Math.round(s.medianServerCpu * 100)} %`;
    lines.push(`| ${label} | ${fmtRps(s.medianRps)} | ${ratio == null ? 'n/a' : ratio.toFixed(2)} | ${cpu} | ${fmtRps(s.medianRpsPerCpu)} | ${errs} |`);
  }
  return lines.join('\n');
}

// Rounds in which the server used less than 90 % of its CPU: it was held back (the VM busy with
// other work, or wrk starved), so their req/s say more about the machine than the server.
const CONTENDED_CPU = 0.9;
function contentionNote(r) {
  const all = r.impls.flatMap((impl) => r.results[impl].rounds.filter((x) => x.ok && x.serverCpu != null));
  const low = all.filter((x) => x.serverCpu < CONTENDED_CPU);
  if (!low.length) return '';
  return (
    `⚠️ ${low.length} of ${all.length} measured runs had the server below ${CONTENDED_CPU * 100} % of its CPU ` +
    `(per-round "server CPU" above and serverCpu in the JSON): the machine was busy, treat the ratios with care.\n`
  );
}

async function serverSection(opts, wrkVersion) {
  const scenarios = opts.scenario ? SCENARIOS.filter((s) => s.id === opts.scenario) : SCENARIOS;
  const connFor = (s) => opts.connections ?? s.connections ?? 50;

  // The api scenario's implementations; Keel falls back to keel-bare when its batteries fail.
  let apiImpls = opts.impls ?? API_IMPLS;
  let keelFallback = null;
  if (scenarios.some((s) => s.frameworks) && apiImpls.includes('keel')) {
    keelFallback = keelBatteriesProblem();
    if (keelFallback !== null) {
      apiImpls = [...new Set(apiImpls.map((impl) => (impl === 'keel' ? 'keel-bare' : impl)))];
      const bar = '!'.repeat(78);
      process.stderr.write(
        `${bar}\n!!! keel/router or keel/body is not usable (${keelFallback}):\n` +
          `!!! the api scenario's Keel row runs bench/apps/keel-bare.js, labelled "keel (no batteries)"\n${bar}\n`,
      );
    }
  }
  const implsFor = (s) => (s.frameworks ? apiImpls : IMPLS);

  const perRun = opts.duration + WARMUP_SECONDS + 1;
  const estimate = scenarios.reduce((sum, s) => sum + opts.rounds * implsFor(s).length * perRun, 0);
  const classicCount = scenarios.some((s) => !s.frameworks) ? IMPLS.length : null;
  const implNote = classicCount === null
    ? `${apiImpls.length} impls`
    : `${IMPLS.length} impls` + (scenarios.some((s) => s.frameworks) ? ` (api: ${apiImpls.length})` : '');
  process.stderr.write(
    `keel bench: ${scenarios.length} scenario(s) x ${opts.rounds} round(s) x ${implNote}, ` +
      `${opts.duration} s each (+${WARMUP_SECONDS} s warm-up); ~${Math.ceil(estimate / 60)} min\n` +
      `server: taskset -c ${SERVER_CPU} node ${path.relative(ROOT, SERVER)}; load: taskset -c ${WRK_CPU} wrk -t1 (${wrkVersion})\n`,
  );

  const results = [];
  for (const scenario of scenarios) {
    const connections = connFor(scenario);
    const impls = implsFor(scenario);
    const labelWidth = Math.max(9, ...impls.map((impl) => IMPL_LABEL[impl].length));
    const rounds = Object.fromEntries(impls.map((impl) => [impl, []]));
    for (let i = 1; i <= opts.rounds; i++) {
      // keel, node every round for the classic scenarios; the frameworks' order rotates
      const order = scenario.frameworks ? rotate(impls, i - 1) : impls;
      for (const impl of order) {
        const r = await runRound(scenario, impl, opts, connections);
        rounds[impl].push(r);
        const status = r.ok
          ? `${fmtRps(r.rps)} req/s` +
            (scenario.noLatency ? '' : `, p50 ${r.latencyMs.p50 ?? '?'} ms, p99 ${r.latencyMs.p99 ?? '?'} ms`) +
            (r.non2xx ? `, ${r.non2xx} non-2xx` : '') +
            (socketErrorTotal(r.socketErrors) ? `, socket errors ${JSON.stringify(r.socketErrors)}` : '') +
            (scenario.frameworks && r.serverCpu != null ? `, server CPU ${Math.round(r.serverCpu * 100)}%` : '')
          : `FAILED: ${r.error}`;
        const check = r.check && r.check !== 'ok' ? `  [check ${r.check}]` : '';
        process.stderr.write(`  ${scenario.name} (c=${connections}) round ${i}/${opts.rounds} ${IMPL_LABEL[impl].padEnd(labelWidth)} ${status}${check}\n`);
        if (!r.ok && r.serverStderr) process.stderr.write(`    server stderr: ${r.serverStderr.split('\n').join('\n    ')}\n`);
      }
    }
    if (scenario.frameworks) {
      const summaries = Object.fromEntries(impls.map((impl) => [impl, summarize(rounds[impl])]));
      const keelImpl = impls.includes('keel') ? 'keel' : impls.includes('keel-bare') ? 'keel-bare' : null;
      const keelRps = keelImpl === null ? null : summaries[keelImpl].medianRps;
      const ratios = Object.fromEntries(
        impls.map((impl) => {
          const rps = summaries[impl].medianRps;
          return [impl, keelRps != null && rps ? Number((keelRps / rps).toFixed(4)) : null];
        }),
      );
      results.push({
        id: scenario.id,
        name: scenario.name,
        connections,
        request: `POST /api/items/<id> (ids ${API_IDS.join(', ')}), 1 KiB JSON body`,
        impls,
        labels: Object.fromEntries(impls.map((impl) => [impl, IMPL_LABEL[impl]])),
        keelImpl,
        ...(keelFallback !== null ? { keelFallback } : {}),
        results: summaries,
        ratios, // Keel's median req/s / the impl's (> 1: Keel is faster)
      });
    } else {
      const keel = summarize(rounds.keel);
      const node = summarize(rounds.node);
      const ratio = keel.medianRps != null && node.medianRps ? keel.medianRps / node.medianRps : null;
      results.push({ id: scenario.id, name: scenario.name, connections, keel, node, ratio: ratio == null ? null : Number(ratio.toFixed(4)) });
    }
  }

  const cpus = os.cpus();
  const report = {
    date: new Date().toISOString(),
    git: gitInfo(),
    node: process.version,
    wrk: wrkVersion,
    machine: {
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpu: cpus[0]?.model ?? 'unknown',
      cpus: cpus.length,
      pinning: { server: `cpu ${SERVER_CPU}`, wrk: `cpu ${WRK_CPU}` },
    },
    options: { duration: opts.duration, rounds: opts.rounds, warmup: WARMUP_SECONDS, wrkThreads: 1 },
    ...(results.some((r) => r.impls) ? { versions: frameworkVersions() } : {}),
    scenarios: results,
  };
  writeFileSync(RESULTS, JSON.stringify(report, null, 2) + '\n');

  const classic = results.filter((r) => !r.impls);
  const api = results.filter((r) => r.impls);
  const commitNote = report.git ? `, commit ${report.git.commit}${report.git.srcDirty ? ' (src/ dirty)' : ''}` : '';
  let out = '';
  if (classic.length) {
    const connNote = [...new Set(classic.map((r) => r.connections))].length === 1
      ? `c=${classic[0].connections}`
      : classic.map((r) => `${r.id} c=${r.connections}`).join(', ');
    out +=
      `\n${table(classic)}\n\n` +
      `Median of ${opts.rounds} round(s), ${opts.duration} s each, wrk -t1 ${connNote}; server on CPU ${SERVER_CPU}, wrk on CPU ${WRK_CPU}; ` +
      `node ${process.version}${commitNote}.\n`;
  }
  for (const r of api) {
    const v = report.versions;
    out +=
      `\n${r.name}: POST /api/items/<id> with a 1 KiB JSON body, parsed by each framework's own body parsing\n\n` +
      `${apiTable(r)}\n\n` +
      `Median of ${opts.rounds} round(s), ${opts.duration} s each, wrk -t1 c=${r.connections}, order rotated every round; ` +
      `server on CPU ${SERVER_CPU}, wrk on CPU ${WRK_CPU}; node ${process.version}${commitNote}; ` +
      `fastify ${v.fastify}, hono ${v.hono} + @hono/node-server ${v['@hono/node-server']}, express ${v.express}. ` +
      `Keel / impl > 1 means Keel is faster. Server CPU: median share of its core the server used during the runs; ` +
      `req/s per CPU: median of req/s / server CPU.\n` +
      (r.keelFallback ? `⚠️ keel/router or keel/body was not usable (${r.keelFallback}): the Keel row is "keel (no batteries)".\n` : '') +
      contentionNote(r);
  }
  out += `Full results: ${path.relative(process.cwd(), RESULTS) || RESULTS}\n`;
  process.stdout.write(out);

  const keelOf = (r) => (r.impls ? (r.keelImpl ? r.results[r.keelImpl] : null) : r.keel);
  const keelBad = results.filter((r) => keelOf(r) && problems(keelOf(r)).length);
  if (keelBad.length) {
    const bar = '!'.repeat(78);
    process.stderr.write(
      `\n${bar}\n!!! KEEL HAD ERRORS - its numbers for these scenarios are NOT trustworthy:\n` +
        keelBad.map((r) => `!!!   ${r.name}: ${problems(keelOf(r)).join('; ')}`).join('\n') +
        `\n${bar}\n`,
    );
    return 2;
  }
  const nodeBad = classic.filter((r) => problems(r.node).length);
  if (nodeBad.length) {
    process.stderr.write(
      `\nnote: node:http had errors in: ${nodeBad.map((r) => `${r.name} (${problems(r.node).join('; ')})`).join(', ')}\n`,
    );
  }
  for (const r of api) {
    const bad = r.impls.filter((impl) => impl !== r.keelImpl && problems(r.results[impl]).length);
    if (bad.length) {
      process.stderr.write(
        `\nnote: in ${r.name}: ${bad.map((impl) => `${r.labels[impl]} had errors (${problems(r.results[impl]).join('; ')})`).join(', ')}\n`,
      );
    }
  }
  return 0;
}

function frameworkVersions() {
  const versions = {};
  for (const name of ['fastify', 'hono', '@hono/node-server', 'express']) {
    try {
      versions[name] = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      versions[name] = 'unknown';
    }
  }
  return versions;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench/run.js: ${err && err.stack ? err.stack : err}\n`);
    killAll('SIGKILL');
    process.exit(1);
  },
);
