// HTTP client benchmark: Keel's clients vs undici, node:http and fetch, against one real nginx
// (part of `npm run bench`; see bench/README.md).
//
//   node bench/client.js [--duration S] [--rounds N] [--clients a,b,...] [--inflight N]
//
// Starts ONE nginx process (test/support/nginx.js) pinned to CPU 1. For every round and client
// (alternating, the order rotated each round) it runs
//   taskset -c 0 node bench/client-runner.js <client> http://127.0.0.1:<port>/hello <ms> <inflight>
// which keeps exactly <inflight> GETs in flight for a 1 s warm-up and then the measured
// duration, checking every response (200 "Hello World"), and prints {requests, errors, seconds}.
// Reported: median req/s over the rounds and the ratios to undici's request() and to node:http
// with a keep-alive Agent. Results: markdown table on stdout, full data in bench/client-results.json.
// Keel's clients that cannot be loaded yet get a "not available yet" row instead of numbers.
//
// Exit status: 0 ok; 1 bad usage / missing tools / runner failure; 2 if a measured client had
// errors (results are still printed and written).
//
// Also used by bench/run.js (`--client`), through runClientBench() / clientPreflight().

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HELLO_BODY, nginxInfo, startNginx } from '../test/support/nginx.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const RUNNER = path.join(BENCH_DIR, 'client-runner.js');
const RESULTS = path.join(BENCH_DIR, 'client-results.json');

const CLIENT_CPU = '0';
const NGINX_CPU = '1';
const WARMUP_MS = 1000;
const TARGET_PATH = '/hello';
// nginx's default (1000 requests per connection) would make every client reconnect every few
// seconds; a benchmark of steady-state per-request cost keeps connections open.
const KEEPALIVE_REQUESTS = 10_000_000;

export const CLIENTS = [
  { id: 'undici-request', label: (n) => `undici request (Pool, ${n} conns)` },
  { id: 'undici-pipelining', label: () => 'undici request (Pool, 5 conns x pipelining 10)' },
  { id: 'node-agent', label: (n) => `node:http request + Agent keepAlive, maxSockets ${n}` },
  { id: 'fetch', label: () => `fetch (global, Node's undici ${process.versions.undici ?? '?'})` },
  { id: 'keel-request', label: (n) => `keel http.request + Agent keepAlive, maxSockets ${n}` },
  { id: 'keel-promise', label: (n) => `keel/client Pool.request (${n} conns)` },
];
const BASELINE_UNDICI = 'undici-request';
const BASELINE_NODE = 'node-agent';

// ---------------------------------------------------------------- options

const USAGE = [
  'usage: node bench/client.js [options]',
  '',
  '  --duration S       measured seconds per client run (default 3; plus a 1 s warm-up)',
  '  --rounds N         rounds per client; the median is reported (default 5)',
  `  --clients LIST     comma-separated subset of: ${CLIENTS.map((c) => c.id).join(', ')}`,
  '  --inflight N       requests kept in flight (default 50)',
  '  -h, --help         this text',
  '',
].join('\n');

class UsageError extends Error {}

export function parseClientArgs(argv) {
  const opts = { duration: 3, rounds: 5, clients: null, inflight: 50 };
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
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    const positiveInt = (v, name) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    switch (arg) {
      case '--duration':
        opts.duration = positiveInt(next(), '--duration');
        break;
      case '--rounds':
        opts.rounds = positiveInt(next(), '--rounds');
        break;
      case '--inflight':
        opts.inflight = positiveInt(next(), '--inflight');
        break;
      case '--clients': {
        const ids = next().split(',').map((s) => s.trim()).filter(Boolean);
        for (const id of ids) {
          if (!CLIENTS.some((c) => c.id === id)) throw new UsageError(`unknown client ${JSON.stringify(id)}; one of: ${CLIENTS.map((c) => c.id).join(', ')}`);
        }
        opts.clients = ids;
        break;
      }
      case '-h':
      case '--help':
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  return opts;
}

// ---------------------------------------------------------------- preflight

/** Problems that prevent the client benchmark from running (empty array: ok). */
export function clientPreflight() {
  const problems = [];
  if (!nginxInfo()) {
    problems.push(
      'nginx is not installed (the client benchmark runs against a real nginx).\n' +
        '  Debian/Ubuntu: apt-get install -y nginx-light   (or set NGINX_BIN to the binary)',
    );
  }
  const ts0 = spawnSync('taskset', ['-c', CLIENT_CPU, 'true'], { encoding: 'utf8' });
  if (ts0.error) {
    problems.push('taskset is not installed (needed to pin nginx and the clients to separate CPUs).\n  apt-get install -y util-linux');
  } else {
    const ts1 = spawnSync('taskset', ['-c', NGINX_CPU, 'true'], { encoding: 'utf8' });
    if (ts0.status !== 0 || ts1.status !== 0) {
      problems.push(
        `cannot pin to CPUs ${CLIENT_CPU} and ${NGINX_CPU} (this benchmark needs at least 2 usable CPUs):\n  ` +
          ((ts0.stderr || '') + (ts1.stderr || '')).trim(),
      );
    }
  }
  return problems;
}

// ---------------------------------------------------------------- child processes

const runners = new Set();

function killRunners() {
  for (const child of runners) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}
// nginx itself is killed by test/support/nginx.js's own exit / signal hooks.
process.on('exit', killRunners);

function runRunner(clientId, url, opts) {
  const durationMs = opts.duration * 1000;
  const argv = ['-c', CLIENT_CPU, process.execPath, RUNNER, clientId, url, String(durationMs), String(opts.inflight), String(WARMUP_MS)];
  const limitMs = durationMs + WARMUP_MS + 30000;
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', argv, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KEEL_BENCH_EXIT_ON_STDIN_EOF: '1' },
    });
    runners.add(child);
    child.stdin.on('error', () => {});
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      runners.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      runners.delete(child);
      const command = ['taskset', ...argv.map((a) => (a === process.execPath ? 'node' : a === RUNNER ? path.relative(ROOT, RUNNER) : a))].join(' ');
      if (timedOut) return reject(new Error(`${clientId}: runner did not finish within ${limitMs / 1000} s${stderr ? `:\n${stderr.trim()}` : ''}`));
      const line = stdout.trim().split('\n').pop();
      let result;
      try {
        result = JSON.parse(line);
      } catch {
        return reject(new Error(`${clientId}: runner exited with ${code ?? signal} and no result${stderr || stdout ? `:\n${(stderr + stdout).trim()}` : ''}`));
      }
      if (code !== 0) return reject(new Error(`${clientId}: runner exited with ${code ?? signal}: ${stderr.trim()}`));
      result.command = command;
      if (stderr.trim()) result.stderr = stderr.trim();
      resolve(result);
    });
  });
}

// ---------------------------------------------------------------- nginx

const STATUS_PATH = '/nginx_status';

function rawGet(port, reqPath, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let data = '';
    sock.setEncoding('latin1');
    const timer = setTimeout(() => sock.destroy(new Error(`GET ${reqPath}: no response within ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(`GET ${reqPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    sock.on('data', (d) => (data += d));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const i = data.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : 0, body: i === -1 ? '' : data.slice(i + 4) });
    });
  });
}

/** nginx's accepted-connection counter (stub_status), or null if unavailable. */
async function nginxAccepts(ngx) {
  if (!ngx.hasStatus) return null;
  try {
    const r = await rawGet(ngx.port, STATUS_PATH);
    const m = /server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)/.exec(r.body);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function startBenchNginx() {
  const info = nginxInfo();
  const hasStatus = info.configure.includes('--with-http_stub_status_module');
  const ngx = await startNginx({
    cpu: NGINX_CPU,
    keepaliveRequests: KEEPALIVE_REQUESTS,
    workerConnections: 4096,
    locations: hasStatus ? `    location = ${STATUS_PATH} { stub_status; }` : '',
  });
  ngx.hasStatus = hasStatus;
  ngx.version = info.versionText;
  const r = await rawGet(ngx.port, TARGET_PATH).catch((err) => ({ status: 0, body: err.message }));
  if (r.status !== 200 || r.body !== HELLO_BODY) {
    await ngx.stop();
    throw new Error(`nginx sanity check failed: GET ${TARGET_PATH} -> ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`);
  }
  return ngx;
}

// ---------------------------------------------------------------- stats / output

function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fmtRps = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const fmtRatio = (x) => (x == null ? '—' : x.toFixed(2));

function problemsOf(s) {
  const p = [];
  if (s.errors) {
    const samples = Object.entries(s.errorSamples).slice(0, 3).map(([m, n]) => `${n}x ${m}`);
    p.push(`${s.errors} error(s)${samples.length ? ` (${samples.join('; ')})` : ''}`);
  }
  if (s.failedRounds) p.push(`${s.failedRounds} failed round(s): ${s.rounds.filter((r) => r.failed).map((r) => r.failed).join('; ')}`);
  return p;
}

function table(results) {
  const lines = [
    '| client | req/s | ratio vs undici request | ratio vs node:http Agent | errors |',
    '|---|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const name = `${r.id} — ${r.label}`;
    if (r.unavailable) {
      lines.push(`| ${name} | not available yet | — | — | skipped: ${r.unavailable.replace(/\|/g, '\\|')} |`);
      continue;
    }
    const p = problemsOf(r);
    lines.push(
      `| ${p.length ? '⚠️ ' : ''}${name} | ${fmtRps(r.medianRps)} | ${fmtRatio(r.ratioVsUndici)} | ${fmtRatio(r.ratioVsNodeAgent)} | ${p.length ? `**${p.join('; ').replace(/\|/g, '\\|')}**` : '—'} |`,
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

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- main

/** Runs the client benchmark; resolves to the exit status (0 ok, 2 a client had errors). */
export async function runClientBench(opts, log = (s) => process.stderr.write(s)) {
  const clients = opts.clients ? CLIENTS.filter((c) => opts.clients.includes(c.id)) : CLIENTS;
  const perRun = opts.duration + WARMUP_MS / 1000 + 1;
  log(
    `keel client bench: ${clients.length} client(s) x ${opts.rounds} round(s), ${opts.duration} s each ` +
      `(+${WARMUP_MS / 1000} s warm-up), ${opts.inflight} requests in flight; ~${Math.ceil((clients.length * opts.rounds * perRun) / 60)} min\n`,
  );
  const gitAtStart = gitInfo();
  const ngx = await startBenchNginx();
  const state = new Map(clients.map((c) => [c.id, { id: c.id, label: c.label(opts.inflight), rounds: [], unavailable: null }]));
  try {
    const url = `${ngx.url}${TARGET_PATH}`;
    log(
      `server: taskset -c ${NGINX_CPU} nginx (one process, ${ngx.version.replace(/^nginx version: /, '')}) ${url}; ` +
        `clients: taskset -c ${CLIENT_CPU} node ${path.relative(ROOT, RUNNER)}\n`,
    );
    for (let round = 0; round < opts.rounds; round++) {
      const order = clients.map((_, i) => clients[(i + round) % clients.length]); // rotate each round
      for (const c of order) {
        const s = state.get(c.id);
        if (s.unavailable) continue;
        const before = await nginxAccepts(ngx);
        let r;
        try {
          r = await runRunner(c.id, url, opts);
        } catch (err) {
          r = { failed: err.message, errors: 0, errorSamples: {} };
        }
        if (!ngx.alive()) {
          throw new Error(`nginx died during the ${c.id} run:\n${ngx.errorLog().trim()}`);
        }
        if (r.unavailable) {
          s.unavailable = r.unavailable;
          log(`  round ${round + 1}/${opts.rounds} ${c.id.padEnd(17)} not available yet: ${r.unavailable}\n`);
          continue;
        }
        const after = await nginxAccepts(ngx);
        // connections nginx accepted during the run (minus the stub_status probe's own)
        if (before !== null && after !== null) r.connectionsOpened = after - before - 1;
        s.rounds.push(r);
        const status = r.failed
          ? `FAILED: ${r.failed}`
          : `${fmtRps(r.rps)} req/s` +
            (r.connectionsOpened != null ? `, ${r.connectionsOpened} connection(s)` : '') +
            (r.errors ? `, ${r.errors} ERROR(S): ${Object.keys(r.errorSamples).slice(0, 2).join('; ')}` : '');
        log(`  round ${round + 1}/${opts.rounds} ${c.id.padEnd(17)} ${status}\n`);
      }
    }
  } finally {
    await ngx.stop();
  }

  const results = [];
  for (const s of state.values()) {
    if (s.unavailable) {
      results.push({ id: s.id, label: s.label, unavailable: s.unavailable });
      continue;
    }
    const good = s.rounds.filter((r) => !r.failed);
    const errorSamples = {};
    for (const r of s.rounds) for (const [m, n] of Object.entries(r.errorSamples || {})) errorSamples[m] = (errorSamples[m] || 0) + n;
    results.push({
      id: s.id,
      label: s.label,
      medianRps: median(good.map((r) => r.rps)),
      errors: s.rounds.reduce((a, r) => a + (r.errors || 0), 0),
      errorSamples,
      failedRounds: s.rounds.length - good.length,
      medianConnections: median(good.map((r) => r.connectionsOpened).filter((x) => x != null)),
      rounds: s.rounds,
    });
  }
  const baseline = (id) => results.find((r) => r.id === id && !r.unavailable && r.medianRps)?.medianRps ?? null;
  const undiciRps = baseline(BASELINE_UNDICI);
  const nodeRps = baseline(BASELINE_NODE);
  for (const r of results) {
    if (r.unavailable) continue;
    r.ratioVsUndici = undiciRps && r.medianRps != null ? Number((r.medianRps / undiciRps).toFixed(4)) : null;
    r.ratioVsNodeAgent = nodeRps && r.medianRps != null ? Number((r.medianRps / nodeRps).toFixed(4)) : null;
  }

  const cpus = os.cpus();
  const gitAtEnd = gitInfo();
  const gitChanged = JSON.stringify(gitAtStart) !== JSON.stringify(gitAtEnd);
  if (gitChanged) {
    log(`\nwarning: the git commit / src state changed during the run (${JSON.stringify(gitAtStart)} -> ${JSON.stringify(gitAtEnd)}): Keel's rounds may have measured different builds\n`);
  }
  const report = {
    date: new Date().toISOString(),
    git: gitAtStart,
    ...(gitChanged ? { gitAtEnd } : {}),
    node: process.version,
    undici: packageVersion('undici'),
    fetchUndici: process.versions.undici ?? null,
    nginx: ngx.version,
    machine: {
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpu: cpus[0]?.model ?? 'unknown',
      cpus: cpus.length,
      pinning: { clients: `cpu ${CLIENT_CPU}`, nginx: `cpu ${NGINX_CPU}` },
    },
    options: {
      duration: opts.duration,
      rounds: opts.rounds,
      warmupMs: WARMUP_MS,
      inflight: opts.inflight,
      target: `GET ${TARGET_PATH} -> 200 text/plain "${HELLO_BODY}"`,
      nginx: { processes: 1, keepaliveRequests: KEEPALIVE_REQUESTS },
    },
    clients: results,
  };
  writeFileSync(RESULTS, JSON.stringify(report, null, 2) + '\n');

  process.stdout.write(
    `\n${table(results)}\n\n` +
      `Median of ${opts.rounds} round(s), ${opts.duration} s each, ${opts.inflight} requests in flight, GET ${TARGET_PATH} from nginx ` +
      `(one process on CPU ${NGINX_CPU}); clients on CPU ${CLIENT_CPU}; node ${process.version}, undici ${report.undici ?? '?'}` +
      (report.git ? `, commit ${report.git.commit}${report.git.srcDirty ? ' (src/ dirty)' : ''}` : '') +
      `.\nFull results: ${path.relative(process.cwd(), RESULTS) || RESULTS}\n`,
  );

  const bad = results.filter((r) => !r.unavailable && problemsOf(r).length);
  if (bad.length) {
    const bar = '!'.repeat(78);
    log(
      `\n${bar}\n!!! CLIENT ERRORS - the numbers of these clients are NOT trustworthy:\n` +
        bad.map((r) => `!!!   ${r.id}: ${problemsOf(r).join('; ')}`).join('\n') +
        `\n${bar}\n`,
    );
    return 2;
  }
  return 0;
}

// ---------------------------------------------------------------- CLI

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench/client.js: ${sig}, stopping nginx and the clients\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143); // exit hooks kill the runners and nginx
    });
  }
  let opts;
  try {
    opts = parseClientArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench/client.js: ${err.message}\n\n${USAGE}`);
    process.exit(1);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const problems = clientPreflight();
  if (problems.length) {
    process.stderr.write('bench/client.js: cannot run the client benchmark:\n\n' + problems.map((p) => '- ' + p).join('\n\n') + '\n');
    process.exit(1);
  }
  runClientBench(opts).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`bench/client.js: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}
