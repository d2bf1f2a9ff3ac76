// The servers of the server section (bench/run.js): which implementations exist, and starting /
// stopping one of them for a measured run, pinned to the server CPU (`taskset -c 0`).
//
//   node processes   `taskset -c 0 node bench/server.js <impl> <scenario> <port> [root]`
//                    (keel, node, fastify, hono, express, keel-bare, keel-stream, and the bare-net
//                    ceiling)
//   bun              `taskset -c 0 node_modules/.bin/bun bench/apps/bun-serve.js <scenario> <port>`
//                    (the Bun.serve ceiling; $BUN_BIN overrides the binary)
//   nginx            one nginx process (test/support/nginx.js: master_process off,
//                    worker_processes 1, a temp dir and config of its own), `taskset -c 0`:
//                    `return 200 "Hello World"` for the GET scenarios (a ceiling), the static
//                    file with `sendfile on` for the static scenario (the target's baseline)
//
// startServer() resolves once the server answers connections (node / bun print `ready`; nginx has
// written its pid file and accepts), with a handle { impl, port, pid, alive(), deathNote(),
// output(), stop() }. The Node and Bun children exit when their stdin (a pipe from this process)
// closes, so a runner killed outright leaves no server behind; nginx instances and the static
// file's temp dir are removed when the runner exits or is interrupted.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nginxInfo, startNginx, staticContent } from '../test/support/nginx.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const SERVER = path.join(BENCH_DIR, 'server.js');
const BUN_APP = path.join(BENCH_DIR, 'apps', 'bun-serve.js');
const BUN_BIN = process.env.BUN_BIN || path.join(ROOT, 'node_modules', '.bin', 'bun');

export const HOST = '127.0.0.1'; // all traffic stays on loopback
export const SERVER_CPU = '0';
const READY_TIMEOUT_MS = 15000;
// nginx's default (1000 requests per connection) would make wrk reconnect every 1000 requests;
// Keel, node:http and Bun have no such limit, so nginx gets none either.
const NGINX_KEEPALIVE_REQUESTS = 10_000_000;

/** Every implementation: its label in tables and how it is started. */
export const IMPLS = {
  keel: { label: 'keel', via: 'node' },
  'keel-bare': { label: 'keel (no batteries)', via: 'node' },
  'keel-stream': { label: 'keel (no cache)', via: 'node' },
  node: { label: 'node:http', via: 'node' },
  fastify: { label: 'fastify', via: 'node' },
  hono: { label: 'hono', via: 'node' },
  express: { label: 'express', via: 'node' },
  nginx: { label: 'nginx', via: 'nginx' },
  bun: { label: 'Bun.serve', via: 'bun' },
  'bare-net': { label: 'bare node:net', via: 'node' },
};

// ---------------------------------------------------------------- child process bookkeeping

const children = new Set();

/** Registers a child process to be killed when the runner exits or is interrupted. */
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every tracked child (servers, wrk). nginx is killed by test/support/nginx.js's own hooks. */
export function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

export function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

// ---------------------------------------------------------------- ports

// Server ports are picked below the kernel's ephemeral range, so they never collide with wrk's
// client ports (the Connection: close scenario burns through tens of thousands of them) or with
// their TIME_WAIT leftovers. (nginx picks its own port, retrying when it is taken.)
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

// ---------------------------------------------------------------- availability

let bunVersionCache;

/** Bun's version (`bun --version`), or null when the binary is missing or does not run. */
export function bunVersion() {
  if (bunVersionCache !== undefined) return bunVersionCache;
  const r = existsSync(BUN_BIN) ? spawnSync(BUN_BIN, ['--version'], { encoding: 'utf8', timeout: 10000 }) : null;
  bunVersionCache = r && !r.error && r.status === 0 ? r.stdout.trim() : null;
  return bunVersionCache;
}

/** Why `impl` cannot run on this machine (missing nginx or Bun), or null. */
export function unavailableReason(impl) {
  if (IMPLS[impl]?.via === 'nginx' && !nginxInfo()) return 'nginx is not installed (apt-get install -y nginx-light, or set NGINX_BIN)';
  if (IMPLS[impl]?.via === 'bun' && !bunVersion()) return `bun does not run (${path.relative(ROOT, BUN_BIN)}: npm install, or set BUN_BIN)`;
  return null;
}

/** Versions of the servers that are not this package (for the results file). */
export function serverVersions(impls) {
  const versions = {};
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return 'unknown';
    }
  };
  if (impls.has('fastify')) versions.fastify = pkg('fastify');
  if (impls.has('hono')) {
    versions.hono = pkg('hono');
    versions['@hono/node-server'] = pkg('@hono/node-server');
  }
  if (impls.has('express')) versions.express = pkg('express');
  if (impls.has('bun') && bunVersion()) versions.bun = bunVersion();
  if (impls.has('nginx') && nginxInfo()) versions.nginx = nginxInfo().versionText.replace(/^nginx version: (nginx\/)?/, '');
  return versions;
}

// ---------------------------------------------------------------- the static scenario's file

const staticRoots = new Set();
process.on('exit', () => {
  for (const dir of staticRoots) rmSync(dir, { recursive: true, force: true });
});

/**
 * Writes one file of `size` bytes (test/support/nginx.js's staticContent(): a repeated 64-byte
 * pattern) into a fresh temp dir: { dir, name, urlPath, bytes, remove() }. Removed at exit if
 * remove() was not called.
 */
export function makeStaticRoot(size, name) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keel-bench-static-'));
  staticRoots.add(dir);
  const bytes = staticContent(size);
  writeFileSync(path.join(dir, name), bytes);
  return {
    dir,
    name,
    urlPath: `/${name}`,
    bytes,
    remove() {
      rmSync(dir, { recursive: true, force: true });
      staticRoots.delete(dir);
    },
  };
}

// ---------------------------------------------------------------- starting servers

/** Spawns `cmd argv` pinned to the server CPU and waits for it to print `ready`. */
async function spawnReady(impl, port, cmd, argv) {
  const child = track(
    spawn('taskset', ['-c', SERVER_CPU, cmd, ...argv], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KEEL_BENCH_EXIT_ON_STDIN_EOF: '1' },
    }),
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  child.stdin.on('error', () => {});
  await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => finish(new Error(`${impl} server did not print "ready" within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
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
        () => finish(new Error(`${impl} server exited before "ready" (code ${code}, signal ${signal})` + (stderr ? `:\n${stderr.trim()}` : ''))),
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
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  child.stdout.resume(); // keep draining anything else the server prints

  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    impl,
    port,
    pid: child.pid, // taskset execs the server: same process
    alive,
    deathNote: () => (child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`),
    output: () => stderr.trim(),
    async stop() {
      if (!alive()) return;
      child.kill('SIGTERM');
      if (!(await waitExit(child, 3000))) {
        child.kill('SIGKILL');
        await waitExit(child, 3000);
      }
    },
  };
}

function nginxLocations(scenarioId, staticRoot) {
  if (scenarioId === 'static') {
    return `    location / { root ${JSON.stringify(staticRoot.dir)}; sendfile on; }`;
  }
  return '    location = / { default_type text/plain; return 200 "Hello World"; }';
}

async function startBenchNginx(scenarioId, staticRoot) {
  const ngx = await startNginx({
    cpu: SERVER_CPU,
    defaultLocations: false,
    keepaliveRequests: NGINX_KEEPALIVE_REQUESTS,
    workerConnections: 4096,
    locations: nginxLocations(scenarioId, staticRoot),
  });
  return {
    impl: 'nginx',
    port: ngx.port,
    pid: ngx.pid,
    alive: ngx.alive,
    deathNote: () => (ngx.child.signalCode ? `signal ${ngx.child.signalCode}` : `exit code ${ngx.child.exitCode}`),
    output: () => ngx.errorLog().trim(),
    stop: () => ngx.stop(),
  };
}

/**
 * Starts `impl` for `scenarioId` (staticRoot: makeStaticRoot()'s result, for the static scenario);
 * resolves with its handle once it accepts connections.
 */
export async function startServer(impl, scenarioId, { staticRoot = null } = {}) {
  const via = IMPLS[impl]?.via;
  if (via === 'nginx') return startBenchNginx(scenarioId, staticRoot);
  const port = await freePort();
  if (via === 'bun') return spawnReady(impl, port, BUN_BIN, [BUN_APP, scenarioId, String(port)]);
  if (via === 'node') {
    const argv = [SERVER, impl, scenarioId, String(port)];
    if (scenarioId === 'static') argv.push(staticRoot.dir);
    return spawnReady(impl, port, process.execPath, argv);
  }
  throw new Error(`unknown implementation ${JSON.stringify(impl)}`);
}
