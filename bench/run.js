// Keel benchmark runner (`npm run bench`; see bench/README.md).
//
//   node bench/run.js [--server] [--client] [--duration S] [--rounds N]
//                     [--scenario NAME] [--connections N] [--impls LIST] [--no-ceilings]
//                     [--clients LIST] [--inflight N] [--report]
//
// --report alone measures nothing: it writes bench/RESULTS.md and bench/chart.svg from the result
// files (bench/report.js). With other options it runs the selected sections first, then writes
// the report from the fresh results.
//
// Two sections, both by default: the server benchmark (below) first, then the client benchmark
// (bench/client.js: Keel's clients vs undici / node:http / fetch against nginx). --server /
// --client select one. --duration and --rounds apply to both; --scenario / --connections /
// --impls / --no-ceilings only to the server section and --clients / --inflight only to the
// client section (given without --server / --client, they select their own section only).
//
// Server section: every scenario has its implementations — Keel and the peers its targets are
// measured against — and, for the GET and JSON scenarios, reference ceilings (nginx `return 200`,
// Bun.serve, a bare node:net server; reported, never targets; --no-ceilings leaves them out).
// For every round and implementation (the order rotated every round) it starts a fresh server
// pinned to CPU 0 (bench/launch.js), checks its answers (bench/checks.js), runs a discarded 1 s
// wrk warm-up, then the measured `taskset -c 1 wrk -t1 -c<N> -d<S>s --latency`, and stops the
// server. The reported figure is the median req/s of the rounds, with Keel's ratio to every other
// implementation. Results: one markdown table per scenario on stdout, full data in
// bench/results.json.
//
//   keepalive, pipeline, json, close   Keel vs node:http and Fastify (the same handlers)
//   api      router + JSON API (20 routes): the same REST API (bench/apps/<impl>.js) on Keel with
//            keel/router + keel/body, Fastify, Hono, Express and node:http; when keel/router or
//            keel/body cannot be loaded, the Keel row falls back to `keel (no batteries)`
//   static   one 1 MiB file generated into a temp dir: keel/static vs node:http
//            (fs.createReadStream) vs nginx (sendfile on), req/s and MiB/s
//
// Exit status: 0 ok; 1 bad usage / missing tools / runner failure; 2 if Keel had wrk errors
// (non-2xx, socket errors), failed a correctness check or crashed, or a client of the client
// section had errors (results are still printed and written). Errors of the peers and the
// ceilings are reported, and do not change the exit status.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkServer } from './checks.js';
import { CLIENTS, clientPreflight, runClientBench } from './client.js';
import { HOST, IMPLS, SERVER_CPU, killAll, makeStaticRoot, serverVersions, startServer, track, unavailableReason } from './launch.js';
import { writeReport } from './report.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const LUA_DIR = path.join(BENCH_DIR, 'lua');
const RESULTS = path.join(BENCH_DIR, 'results.json');
const JSON_BODY_FILE = path.join(LUA_DIR, 'body-1k.json');

const WRK_CPU = '1';
const WARMUP_SECONDS = 1;
// Starting, checking and stopping a server around each run, roughly (for the time estimate).
const RUN_OVERHEAD_SECONDS = 0.5;
const PIPELINE_DEPTH = 16;
// The static scenario's file, generated into a temp dir for the run.
const STATIC_SIZE = 1024 * 1024;
const STATIC_NAME = 'file-1mib.bin';
const MIB = 1024 * 1024;

// Keel and the peers of its targets, for the GET and JSON scenarios (same handlers in each).
const BASIC_IMPLS = ['keel', 'node', 'fastify'];
// The reference ceilings of the GET scenarios (bench/launch.js): not targets.
const HELLO_CEILINGS = ['nginx', 'bun', 'bare-net'];
// The `api` scenario's implementations (bench/apps/<impl>.js), in table order; keel-bare (Keel
// without keel/router + keel/body) may be asked for with --impls.
const API_IMPLS = ['keel', 'fastify', 'hono', 'express', 'node'];
// lua/api-post.lua cycles over these ids (passed as its second argument); the correctness check
// POSTs each of them.
const API_IDS = [1, 42, 317, 4711, 65536, 1000000];

// id: used for --scenario and passed to the servers (bench/server.js maps it to a handler).
// impls: Keel and its peers, in table order; optional: run only when --impls names them;
// ceilings: reference-only servers, run unless --no-ceilings (or --impls leaves them out).
// baseline: the peer of the scenario's main ratio (shown in the chart).
// connections: per-scenario default, overridden for all scenarios by --connections.
const SCENARIOS = [
  { id: 'keepalive', name: 'keep-alive GET', impls: BASIC_IMPLS, ceilings: HELLO_CEILINGS, baseline: 'node', request: 'GET / -> 200 text/plain "Hello World"' },
  {
    id: 'pipeline',
    name: `pipelined GET x${PIPELINE_DEPTH}`,
    script: 'pipeline.lua',
    scriptArgs: [String(PIPELINE_DEPTH)],
    // wrk only samples latency for part of a pipelined batch, and its percentiles
    // come out as 0 / nonsense: keep req/s, drop latency for this scenario.
    noLatency: true,
    impls: BASIC_IMPLS,
    ceilings: HELLO_CEILINGS,
    baseline: 'node',
    request: `${PIPELINE_DEPTH} GET / per write`,
  },
  {
    id: 'json',
    name: '1 KiB JSON POST echo',
    script: 'post-json.lua',
    scriptArgs: [JSON_BODY_FILE],
    impls: BASIC_IMPLS,
    ceilings: ['bun'],
    baseline: 'node',
    request: 'POST / with a 1 KiB JSON body, parsed and echoed',
  },
  {
    id: 'close',
    name: 'Connection: close',
    wrkArgs: ['-H', 'Connection: close'],
    connections: 20,
    impls: BASIC_IMPLS,
    ceilings: HELLO_CEILINGS,
    baseline: 'node',
    request: 'GET / with Connection: close, a new connection per request',
  },
  // Frameworks compared on one API: see bench/apps/ and the `api` section of bench/README.md.
  {
    id: 'api',
    name: 'router + JSON API (20 routes)',
    script: 'api-post.lua',
    scriptArgs: [JSON_BODY_FILE, API_IDS.join(',')],
    frameworks: true,
    impls: API_IMPLS,
    optional: ['keel-bare'],
    baseline: 'fastify',
    request: `POST /api/items/<id> (ids ${API_IDS.join(', ')}), 1 KiB JSON body`,
  },
  {
    id: 'static',
    name: 'static 1 MiB file',
    path: `/${STATIC_NAME}`,
    connections: 20,
    impls: ['keel', 'keel-stream', 'node', 'nginx'],
    baseline: 'nginx',
    bytesPerResponse: STATIC_SIZE,
    request: `GET /${STATIC_NAME} (1 MiB, generated into a temp dir): keel/static with its memory cache (keel) and without (keel-stream), node:http fs.createReadStream, nginx sendfile on`,
  },
];

const IMPL_CHOICES = [...new Set(SCENARIOS.flatMap((s) => [...s.impls, ...(s.optional ?? []), ...(s.ceilings ?? [])]))];
const label = (impl) => IMPLS[impl]?.label ?? impl;
const isKeel = (impl) => impl === 'keel' || impl === 'keel-bare' || impl === 'keel-stream';
const roleOf = (scenario, impl) => (isKeel(impl) ? 'keel' : scenario.ceilings?.includes(impl) ? 'ceiling' : 'peer');

// ---------------------------------------------------------------- options

function usage(code) {
  const out = code === 0 ? process.stdout : process.stderr;
  out.write(
    [
      'usage: node bench/run.js [options]        (or: npm run bench -- [options])',
      '',
      '  --server           run the server section (Keel vs node:http, Fastify, ... under wrk)',
      '  --client           run the client section (bench/client.js: clients against nginx)',
      '                     (default: both, server first; see below for implied sections)',
      '  --duration S       measured seconds per wrk / client run (default 3)',
      '  --rounds N         rounds per implementation / client; the median is reported (default 5)',
      '',
      'server section:',
      '  --scenario NAME    run only one scenario: ' + SCENARIOS.map((s) => s.id).join(' | ') +
        ' (or its full name)',
      '  --connections N    wrk connections for every scenario (default 50; Connection: close and static',
      '                     use 20 unless --connections is given)',
      '  --impls LIST       only these implementations, in every scenario that has them; comma-separated',
      '                     subset of ' + IMPL_CHOICES.join(', '),
      '                     (keel-bare = Keel without its batteries, api scenario only;',
      '                     keel-stream = keel/static without its memory cache, static scenario only)',
      '  --no-ceilings      leave out the reference ceilings (' + HELLO_CEILINGS.join(', ') + ')',
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
      'Given without --server / --client, --scenario / --connections / --impls / --no-ceilings imply',
      '--server and --clients / --inflight imply --client.',
      '',
    ].join('\n'),
  );
  process.exit(code);
}

function parseArgs(argv) {
  const opts = {
    duration: 3,
    rounds: 5,
    scenario: null,
    connections: null,
    impls: null,
    ceilings: true,
    server: false,
    client: false,
    clients: null,
    inflight: 50,
    report: false,
    reportOnly: false,
  };
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
          if (!IMPL_CHOICES.includes(id)) die(`unknown implementation ${JSON.stringify(id)}; one of: ${IMPL_CHOICES.join(', ')}`);
        }
        opts.impls = [...new Set(ids)];
        implied.server = true;
        break;
      }
      case '--no-ceilings':
        opts.ceilings = false;
        implied.server = true;
        break;
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
  if (implied.server && !opts.server) process.stderr.write('bench/run.js: note: --scenario / --connections / --impls / --no-ceilings ignored (server section not selected)\n');
  if (implied.client && !opts.client) process.stderr.write('bench/run.js: note: --clients / --inflight ignored (client section not selected)\n');
  return opts;
}

function die(msg) {
  process.stderr.write(`bench/run.js: ${msg}\n`);
  process.exit(1);
}

/**
 * The implementations of `scenario` for this run, in table order (Keel and the peers, then the
 * ceilings), and the ones left out because they cannot run here ({ impl: reason }).
 */
function implsFor(scenario, opts, keelFallback) {
  let impls = [...scenario.impls, ...(scenario.ceilings ?? [])];
  if (opts.impls) impls = [...impls, ...(scenario.optional ?? [])].filter((impl) => opts.impls.includes(impl));
  if (!opts.ceilings) impls = impls.filter((impl) => roleOf(scenario, impl) !== 'ceiling');
  // the api scenario's Keel falls back to Keel without batteries when they fail to load
  if (scenario.frameworks && keelFallback !== null) impls = [...new Set(impls.map((impl) => (impl === 'keel' ? 'keel-bare' : impl)))];
  const unavailable = {};
  for (const impl of impls) {
    const why = unavailableReason(impl);
    if (why) unavailable[impl] = why;
  }
  return { impls: impls.filter((impl) => !unavailable[impl]), unavailable };
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

// ---------------------------------------------------------------- interruption

process.on('exit', () => killAll('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench/run.js: ${sig}, stopping servers and wrk\n`);
    killAll('SIGKILL');
    process.exit(sig === 'SIGINT' ? 130 : 143); // 'exit' hooks stop nginx and remove temp dirs
  });
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

// ---------------------------------------------------------------- wrk

function wrkArgv(scenario, port, seconds, connections) {
  const argv = ['-c', WRK_CPU, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(scenario.wrkArgs || [])];
  if (scenario.script) argv.push('-s', path.join(LUA_DIR, scenario.script));
  argv.push(`http://${HOST}:${port}${scenario.path ?? '/'}`);
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

// ctx: { staticRoot } for the static scenario (bench/launch.js's makeStaticRoot()).
async function runRound(scenario, impl, opts, connections, ctx) {
  const round = { ok: false };
  let server;
  try {
    server = await startServer(impl, scenario.id, { staticRoot: ctx.staticRoot });
    try {
      await checkServer(scenario, server.port, {
        jsonBodyFile: JSON_BODY_FILE,
        apiIds: API_IDS,
        pipelineDepth: PIPELINE_DEPTH,
        staticPath: ctx.staticRoot?.urlPath,
        staticBytes: ctx.staticRoot?.bytes,
      });
      round.check = 'ok';
    } catch (err) {
      round.check = `FAILED: ${err.message}`;
    }
    await runWrk(wrkArgv(scenario, server.port, WARMUP_SECONDS, connections), WARMUP_SECONDS);
    if (!server.alive()) throw new Error(`server died during warm-up (${server.deathNote()})`);
    const argv = wrkArgv(scenario, server.port, opts.duration, connections);
    round.command = ['taskset', ...argv].join(' ');
    const cpuBefore = processCpuNs(server.pid);
    const wallBefore = process.hrtime.bigint();
    const wrkOut = await runWrk(argv, opts.duration);
    const cpuAfter = processCpuNs(server.pid);
    Object.assign(round, parseWrk(wrkOut));
    // CPU the server used during the measured run, in CPUs (1 = its core all the time, GC
    // threads included); well below 1 means something else held it back (a busy machine, or for
    // the fastest servers wrk itself on its one core).
    if (cpuBefore !== null && cpuAfter !== null) {
      round.serverCpu = Number(((cpuAfter - cpuBefore) / Number(process.hrtime.bigint() - wallBefore)).toFixed(3));
    }
    if (scenario.noLatency) round.latencyMs = {};
    if (!server.alive()) throw new Error(`server died during the measured run (${server.deathNote()})`);
    round.ok = true;
  } catch (err) {
    round.error = err.message;
  } finally {
    if (server) {
      await server.stop();
      // A failed round, or one with error responses or socket errors: keep what the server said.
      const hadErrors = round.non2xx > 0 || Object.values(round.socketErrors ?? {}).some((n) => n > 0);
      if ((!round.ok || hadErrors) && server.output()) round.serverStderr = server.output();
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

// bytesPerResponse (static scenario): adds the median throughput of file data, MiB/s.
function summarize(rounds, bytesPerResponse = null) {
  const good = rounds.filter((r) => r.ok);
  const sum = (f) => good.reduce((a, r) => a + f(r), 0);
  const socketErrors = { connect: 0, read: 0, write: 0, timeout: 0 };
  for (const r of good) for (const k of Object.keys(socketErrors)) socketErrors[k] += r.socketErrors[k];
  const medianRps = median(good.map((r) => r.rps));
  return {
    medianRps,
    ...(bytesPerResponse ? { medianMiBps: medianRps == null ? null : Number(((medianRps * bytesPerResponse) / MIB).toFixed(1)) } : {}),
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

// One table per scenario: impl | req/s | (MiB/s) | Keel / impl | server CPU | req/s per CPU | errors.
function scenarioTable(r) {
  const mib = r.bytesPerResponse != null;
  const lines = [
    `| impl | req/s |${mib ? ' MiB/s |' : ''} Keel / impl | server CPU | req/s per CPU | errors |`,
    `|---|---:|${mib ? '---:|' : ''}---:|---:|---:|---|`,
  ];
  for (const impl of r.impls) {
    const s = r.results[impl];
    const p = problems(s);
    const keel = impl === r.keelImpl;
    const name = (keel && p.length ? '⚠️ ' : '') + r.labels[impl] + (r.roles[impl] === 'ceiling' ? ' (ceiling)' : '');
    const ratio = r.ratios[impl];
    const errs = p.length ? (keel ? `**KEEL: ${p.join('; ')}**` : p.join('; ')) : '—';
    const cpu = s.medianServerCpu == null ? 'n/a' : `${Math.round(s.medianServerCpu * 100)} %`;
    lines.push(
      `| ${name} | ${fmtRps(s.medianRps)} |${mib ? ` ${s.medianMiBps == null ? 'n/a' : s.medianMiBps.toFixed(0)} |` : ''} ` +
        `${ratio == null ? 'n/a' : ratio.toFixed(2)} | ${cpu} | ${fmtRps(s.medianRpsPerCpu)} | ${errs} |`,
    );
  }
  return lines.join('\n');
}

// Runs in which Keel or a peer used less than 90 % of its CPU: it was held back (the VM busy with
// other work, or wrk starved), so their req/s say more about the machine than the server. The
// ceilings are left out: the fastest of them are expected to leave CPU idle, wrk being the limit.
const CONTENDED_CPU = 0.9;
function contentionNote(r) {
  const all = r.impls
    .filter((impl) => r.roles[impl] !== 'ceiling')
    .flatMap((impl) => r.results[impl].rounds.filter((x) => x.ok && x.serverCpu != null));
  const low = all.filter((x) => x.serverCpu < CONTENDED_CPU);
  if (!low.length) return '';
  const why = r.bytesPerResponse
    ? 'wrk, copying the responses on its one core, or other work on the machine was the limit (compare req/s per CPU)'
    : 'the machine was busy, treat the ratios with care';
  return `⚠️ ${low.length} of ${all.length} measured runs of Keel and its peers had the server below ${CONTENDED_CPU * 100} % of its CPU (serverCpu in the JSON): ${why}.\n`;
}

// Ceilings that left more than 10 % of their core idle: something else was the limit (wrk, one
// thread on one core, or other work on the machine), so the ceiling is at least that.
function ceilingNote(r) {
  const bound = r.impls.filter((impl) => r.roles[impl] === 'ceiling' && r.results[impl].medianServerCpu != null && r.results[impl].medianServerCpu < CONTENDED_CPU);
  if (!bound.length) return '';
  return `Ceilings below ${CONTENDED_CPU * 100} % server CPU (${bound.map((impl) => r.labels[impl]).join(', ')}): the limit was elsewhere (wrk on its one core, or a busy machine); they can do more.\n`;
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

// ---------------------------------------------------------------- server section

/** Measures one scenario: every round runs each implementation once (order rotated). */
async function runScenario(scenario, impls, opts, connections, ctx) {
  const labelWidth = Math.max(9, ...impls.map((impl) => label(impl).length));
  const rounds = Object.fromEntries(impls.map((impl) => [impl, []]));
  for (let i = 1; i <= opts.rounds; i++) {
    for (const impl of rotate(impls, i - 1)) {
      const r = await runRound(scenario, impl, opts, connections, ctx);
      rounds[impl].push(r);
      const status = r.ok
        ? `${fmtRps(r.rps)} req/s` +
          (scenario.bytesPerResponse ? ` (${Math.round((r.rps * scenario.bytesPerResponse) / MIB)} MiB/s)` : '') +
          (scenario.noLatency ? '' : `, p50 ${r.latencyMs.p50 ?? '?'} ms, p99 ${r.latencyMs.p99 ?? '?'} ms`) +
          (r.non2xx ? `, ${r.non2xx} non-2xx` : '') +
          (socketErrorTotal(r.socketErrors) ? `, socket errors ${JSON.stringify(r.socketErrors)}` : '') +
          (r.serverCpu != null ? `, server CPU ${Math.round(r.serverCpu * 100)}%` : '')
        : `FAILED: ${r.error}`;
      const check = r.check && r.check !== 'ok' ? `  [check ${r.check}]` : '';
      const role = roleOf(scenario, impl) === 'ceiling' ? ' (ceiling)' : '';
      process.stderr.write(`  ${scenario.name} (c=${connections}) round ${i}/${opts.rounds} ${(label(impl) + role).padEnd(labelWidth + 10)} ${status}${check}\n`);
      if (!r.ok && r.serverStderr) process.stderr.write(`    server stderr: ${r.serverStderr.split('\n').join('\n    ')}\n`);
    }
  }
  return rounds;
}

async function serverSection(opts, wrkVersion) {
  const selected = opts.scenario ? SCENARIOS.filter((s) => s.id === opts.scenario) : SCENARIOS;
  const connFor = (s) => opts.connections ?? s.connections ?? 50;

  // The api scenario's Keel: with its batteries, else (loud) Keel without them.
  let keelFallback = null;
  const apiSelected = selected.find((s) => s.frameworks);
  if (apiSelected && implsFor(apiSelected, opts, null).impls.includes('keel')) {
    keelFallback = keelBatteriesProblem();
    if (keelFallback !== null) {
      const bar = '!'.repeat(78);
      process.stderr.write(
        `${bar}\n!!! keel/router or keel/body is not usable (${keelFallback}):\n` +
          `!!! the api scenario's Keel row runs bench/apps/keel-bare.js, labelled "keel (no batteries)"\n${bar}\n`,
      );
    }
  }

  const plan = [];
  for (const scenario of selected) {
    const { impls, unavailable } = implsFor(scenario, opts, keelFallback);
    for (const [impl, why] of Object.entries(unavailable)) {
      process.stderr.write(`bench/run.js: note: ${scenario.name}: ${label(impl)} left out: ${why}\n`);
    }
    if (!impls.length) {
      if (opts.scenario || !opts.impls) process.stderr.write(`bench/run.js: note: ${scenario.name}: no implementation to run, skipped\n`);
      continue;
    }
    plan.push({ scenario, impls, unavailable });
  }
  if (!plan.length) die('nothing to measure: no selected scenario has any of the selected implementations');

  const perRun = opts.duration + WARMUP_SECONDS + RUN_OVERHEAD_SECONDS;
  const runs = plan.reduce((sum, p) => sum + opts.rounds * p.impls.length, 0);
  process.stderr.write(
    `keel bench: ${plan.length} scenario(s), ${runs} runs (${plan.map((p) => `${p.scenario.id} ${p.impls.length}`).join(', ')} impls x ${opts.rounds} round(s)), ` +
      `${opts.duration} s each (+${WARMUP_SECONDS} s warm-up); ~${Math.ceil((runs * perRun) / 60)} min\n` +
      `servers: taskset -c ${SERVER_CPU} (bench/launch.js); load: taskset -c ${WRK_CPU} wrk -t1 (${wrkVersion})\n`,
  );

  const results = [];
  for (const { scenario, impls, unavailable } of plan) {
    const connections = connFor(scenario);
    const ctx = { staticRoot: scenario.bytesPerResponse ? makeStaticRoot(scenario.bytesPerResponse, STATIC_NAME) : null };
    let rounds;
    try {
      rounds = await runScenario(scenario, impls, opts, connections, ctx);
    } finally {
      ctx.staticRoot?.remove();
    }
    const summaries = Object.fromEntries(impls.map((impl) => [impl, summarize(rounds[impl], scenario.bytesPerResponse)]));
    const keelImpl = impls.find(isKeel) ?? null;
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
      request: scenario.request,
      impls,
      labels: Object.fromEntries(impls.map((impl) => [impl, label(impl)])),
      roles: Object.fromEntries(impls.map((impl) => [impl, roleOf(scenario, impl)])), // keel | peer | ceiling
      keelImpl,
      baseline: scenario.baseline,
      ...(scenario.frameworks && keelFallback !== null ? { keelFallback } : {}),
      ...(scenario.bytesPerResponse ? { bytesPerResponse: scenario.bytesPerResponse } : {}),
      ...(Object.keys(unavailable).length ? { unavailable } : {}),
      results: summaries,
      ratios, // Keel's median req/s / the impl's (> 1: Keel is faster)
    });
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
    options: { duration: opts.duration, rounds: opts.rounds, warmup: WARMUP_SECONDS, wrkThreads: 1, ceilings: opts.ceilings },
    versions: serverVersions(new Set(results.flatMap((r) => r.impls))),
    scenarios: results,
  };
  writeFileSync(RESULTS, JSON.stringify(report, null, 2) + '\n');

  const commitNote = report.git ? `, commit ${report.git.commit}${report.git.srcDirty ? ' (src/ dirty)' : ''}` : '';
  const versions = Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ');
  let out = '';
  for (const r of results) {
    out +=
      `\n${r.name} (c=${r.connections}): ${r.request}\n\n` +
      `${scenarioTable(r)}\n\n` +
      (r.keelFallback ? `⚠️ keel/router or keel/body was not usable (${r.keelFallback}): the Keel row is "keel (no batteries)".\n` : '') +
      contentionNote(r) +
      ceilingNote(r);
  }
  out +=
    `\nMedian of ${opts.rounds} round(s), ${opts.duration} s each, wrk -t1, order rotated every round; server on CPU ${SERVER_CPU}, wrk on CPU ${WRK_CPU}; ` +
    `node ${process.version}${commitNote}${versions ? `; ${versions}` : ''}. Keel / impl > 1 means Keel is faster; ` +
    `(ceiling) rows are reference ceilings, not targets. Server CPU: median share of its core the server used; req/s per CPU: median of req/s / server CPU.\n` +
    `Full results: ${path.relative(process.cwd(), RESULTS) || RESULTS}\n`;
  process.stdout.write(out);

  // Keel's problems make the exit status 2; the others' are notes.
  const keelOf = (r) => (r.keelImpl ? r.results[r.keelImpl] : null);
  for (const r of results) {
    const bad = r.impls.filter((impl) => impl !== r.keelImpl && problems(r.results[impl]).length);
    if (bad.length) {
      process.stderr.write(
        `\nnote: in ${r.name}: ${bad.map((impl) => `${r.labels[impl]}${r.roles[impl] === 'ceiling' ? ' (ceiling)' : ''} had errors (${problems(r.results[impl]).join('; ')})`).join(', ')}\n`,
      );
    }
  }
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
  return 0;
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
