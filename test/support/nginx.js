// A real nginx for tests and benchmarks (deliberately not named *.test.js).
//
//   import { startNginx, hasNginx } from '../support/nginx.js';
//   const ngx = await startNginx();            // { port, url, dir, stop(), errorLog(), ... }
//   await fetch(`${ngx.url}/hello`);           // 200 "Hello World"
//   await ngx.stop();
//
// Every instance runs from a fresh temp dir with a generated config: one process
// (`daemon off; master_process off; worker_processes 1`) that serves 127.0.0.1:<free port>,
// runs as the current user and writes nothing outside its dir (pid, lock file, error log and
// every *_temp_path are in it; access_log off). startNginx() resolves once nginx has written
// its pid file (it has bound the port) and the port accepts connections; if nginx fails to
// start it throws with nginx's error output (and the generated config).
//
// Default locations (`defaultLocations: false` leaves them out):
//   GET /hello        200 text/plain "Hello World" (Content-Length)
//   GET /json         200 application/json JSON_BODY
//   GET /close        200 text/plain "bye" with Connection: close (keepalive_timeout 0)
//   GET /chunked      200 text/plain CHUNKED_BODY with Transfer-Encoding: chunked (an SSI page
//                     that includes /static/1k, so it arrives as several chunks)
//   GET /static/<n>   the generated files STATIC_FILES (1k, 64k, 1m), content staticContent(size)
//
// Options:
//   locations          string of nginx config placed in the server block, after the defaults
//                      (server-level directives such as client_max_body_size work too)
//   defaultLocations   false to leave the default locations (and generated files) out
//   keepaliveTimeout   number = milliseconds (0 disables keep-alive), or an nginx time string
//                      ('75s'); default nginx's (75 s)
//   keepaliveRequests  max requests per connection; default nginx's (1000)
//   upstreams          a string placed in the http block, or { name: servers } where servers is
//                      'host:port', ['host:port', ...] or { servers: [...], keepalive: N };
//                      use proxyLocation() to generate a matching `location`
//   http               extra string placed in the http block
//   workerConnections  events.worker_connections (default 1024)
//   cpu                pin nginx to this CPU list (spawned as `taskset -c <cpu> nginx ...`)
//   startTimeoutMs     default 10000
//
// Cleanup: stop() sends SIGQUIT (graceful), SIGKILL after 2 s, then removes the temp dir. If the
// process exits or is stopped by SIGINT / SIGTERM / SIGHUP while instances are running, they are
// killed and their dirs removed (the signal then keeps its default effect unless the program has
// its own handler for it).

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { freePort, installHooks, killNow, removeHooks, running, sleep } from './daemons.js';
import os from 'node:os';
import path from 'node:path';

export const HOST = '127.0.0.1';
export const HELLO_BODY = 'Hello World';
export const CLOSE_BODY = 'bye';
export const JSON_BODY = '{"hello":"world","n":42,"list":[1,2,3]}';
export const STATIC_FILES = Object.freeze({ '1k': 1024, '64k': 64 * 1024, '1m': 1024 * 1024 });

const STATIC_PATTERN = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_\n'; // 64 bytes

/** The exact bytes of a generated static file of `size` bytes (the 64-byte pattern, repeated). */
export function staticContent(size) {
  return Buffer.alloc(size, STATIC_PATTERN, 'latin1');
}

const CHUNKED_HEAD = 'first chunk\n';
const CHUNKED_TAIL = '\nlast chunk\n';
/** The body of GET /chunked once de-chunked. */
export const CHUNKED_BODY = CHUNKED_HEAD + staticContent(STATIC_FILES['1k']).toString('latin1') + CHUNKED_TAIL;

// ---------------------------------------------------------------- finding nginx

let binaryCache;
let infoCache;

/** Path of the nginx binary ($NGINX_BIN, else PATH, else the usual sbin dirs), or null. */
export function nginxBinary() {
  if (binaryCache !== undefined) return binaryCache;
  const candidates = [];
  if (process.env.NGINX_BIN) candidates.push(process.env.NGINX_BIN);
  for (const dir of (process.env.PATH || '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'nginx'));
  for (const dir of ['/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/local/nginx/sbin', '/opt/homebrew/bin', '/usr/local/bin']) {
    candidates.push(path.join(dir, 'nginx'));
  }
  binaryCache = null;
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      binaryCache = c;
      break;
    } catch {
      // next
    }
  }
  return binaryCache;
}

/** { bin, version: [major, minor, patch], versionText, configure } or null if nginx is missing. */
export function nginxInfo() {
  if (infoCache !== undefined) return infoCache;
  infoCache = null;
  const bin = nginxBinary();
  if (!bin) return null;
  const r = spawnSync(bin, ['-V'], { encoding: 'utf8', timeout: 10000 });
  if (r.error || r.status !== 0) return null;
  const out = `${r.stdout}${r.stderr}`;
  const m = /nginx version: \S*?\/(\d+)\.(\d+)\.(\d+)/.exec(out);
  infoCache = {
    bin,
    version: m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0],
    versionText: (out.split('\n')[0] || '').trim(),
    configure: (/configure arguments:(.*)/.exec(out) || ['', ''])[1],
  };
  return infoCache;
}

/** True if an nginx binary is installed and runs. */
export function hasNginx() {
  return nginxInfo() !== null;
}

function hasModule(info, name) {
  return !info.configure.includes(`--without-http_${name}_module`);
}

function versionAtLeast(info, ...want) {
  for (let i = 0; i < want.length; i++) {
    if (info.version[i] !== want[i]) return info.version[i] > want[i];
  }
  return true;
}

// ---------------------------------------------------------------- config

/** A `location` that proxies to an upstream from the `upstreams` option, with keep-alive to it. */
export function proxyLocation(location, upstream, extra = '') {
  return [
    `location ${location} {`,
    `    proxy_pass http://${upstream};`,
    '    proxy_http_version 1.1;',
    '    proxy_set_header Connection "";',
    '    proxy_set_header Host $http_host;',
    extra ? `    ${extra}` : null,
    '  }',
  ]
    .filter((l) => l !== null)
    .join('\n');
}

function timeValue(v, name) {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new TypeError(`${name} must be a non-negative number of milliseconds`);
    return `${Math.round(v)}ms`;
  }
  if (typeof v === 'string' && /^\d+(ms|s|m|h|d)?$/.test(v)) return v;
  throw new TypeError(`${name} must be milliseconds or an nginx time string like '75s', got ${JSON.stringify(v)}`);
}

function upstreamsConfig(upstreams) {
  if (upstreams == null) return '';
  if (typeof upstreams === 'string') return upstreams;
  const blocks = [];
  for (const [name, spec] of Object.entries(upstreams)) {
    const def = typeof spec === 'string' || Array.isArray(spec) ? { servers: spec } : spec;
    const servers = [].concat(def.servers || []);
    if (!servers.length) throw new TypeError(`upstream ${name}: no servers`);
    blocks.push(
      [
        `  upstream ${name} {`,
        ...servers.map((s) => `    server ${s};`),
        `    keepalive ${def.keepalive ?? 16};`,
        '  }',
      ].join('\n'),
    );
  }
  return blocks.join('\n');
}

function buildConfig(dir, port, opts, info) {
  const p = (name) => path.join(dir, name);
  const q = (s) => JSON.stringify(s); // nginx accepts double-quoted strings with \" escapes
  const ssi = hasModule(info, 'ssi');
  const tempPaths = [`client_body_temp_path ${q(p('client_body'))};`];
  for (const mod of ['proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    if (hasModule(info, mod)) tempPaths.push(`${mod}_temp_path ${q(p(mod))};`);
  }
  const serverLevel = [];
  if (opts.keepaliveTimeout !== undefined) serverLevel.push(`keepalive_timeout ${timeValue(opts.keepaliveTimeout, 'keepaliveTimeout')};`);
  if (opts.keepaliveRequests !== undefined) {
    if (!Number.isInteger(opts.keepaliveRequests) || opts.keepaliveRequests < 0) throw new TypeError('keepaliveRequests must be an integer >= 0');
    serverLevel.push(`keepalive_requests ${opts.keepaliveRequests};`);
  }
  const defaults = opts.defaultLocations === false
    ? []
    : [
        `location = /hello { default_type text/plain; return 200 ${q(HELLO_BODY)}; }`,
        `location = /json { default_type application/json; return 200 ${q(JSON_BODY)}; }`,
        `location = /close { keepalive_timeout 0; default_type text/plain; return 200 ${q(CLOSE_BODY)}; }`,
        ssi ? `location = /chunked { default_type text/plain; ssi on; ssi_types *; alias ${q(p('chunked.txt'))}; }` : null,
        `location /static/ { root ${q(p('www'))}; default_type application/octet-stream; }`,
      ].filter(Boolean);

  return `# generated by test/support/nginx.js
daemon off;
master_process off;
worker_processes 1;
pid ${q(p('nginx.pid'))};
lock_file ${q(p('nginx.lock'))};
error_log ${q(p('error.log'))} warn;

events {
  worker_connections ${opts.workerConnections ?? 1024};
}

http {
  access_log off;
  ${tempPaths.join('\n  ')}
  default_type application/octet-stream;
  gzip off;
${upstreamsConfig(opts.upstreams)}
${opts.http ?? ''}
  server {
    listen ${HOST}:${port};
    server_name localhost;
    ${serverLevel.join('\n    ')}
    ${defaults.join('\n    ')}
${opts.locations ?? ''}
  }
}
`;
}

// ---------------------------------------------------------------- start / stop

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
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

function readIfExists(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

class StartError extends Error {}

async function startOnce(opts, info) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keel-nginx-'));
  const conf = path.join(dir, 'nginx.conf');
  if (opts.defaultLocations !== false) {
    mkdirSync(path.join(dir, 'www', 'static'), { recursive: true });
    for (const [name, size] of Object.entries(STATIC_FILES)) {
      writeFileSync(path.join(dir, 'www', 'static', name), staticContent(size));
    }
    writeFileSync(path.join(dir, 'chunked.txt'), `${CHUNKED_HEAD}<!--# include virtual="/static/1k" -->${CHUNKED_TAIL}`);
  }
  writeFileSync(conf, buildConfig(dir, port, opts, info));

  const args = ['-p', dir + path.sep, '-c', conf];
  if (versionAtLeast(info, 1, 19, 5)) args.push('-e', 'stderr'); // startup errors to stderr, not /var/log
  const [cmd, argv] = opts.cpu !== undefined && opts.cpu !== null
    ? ['taskset', ['-c', String(opts.cpu), info.bin, ...args]]
    : [info.bin, args];
  const child = spawn(cmd, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const inst = { child, dir, port };
  running.add(inst);
  installHooks();

  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => (output = (output + d).slice(-20000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-20000)));
  let spawnError = null;
  child.once('error', (err) => (spawnError = err));

  const fail = async (why) => {
    await waitExit(child, 200); // let the pipes drain
    const text = `${output}${readIfExists(path.join(dir, 'error.log'))}`.trim();
    killNow(inst);
    const err = new StartError(
      `nginx failed to start (${why}): ${cmd} ${argv.join(' ')}\n` +
        (text ? `--- nginx output ---\n${text}\n` : '') +
        `--- nginx.conf ---\n${buildConfig(dir, port, opts, info)}`,
    );
    err.addressInUse = /Address already in use/.test(text);
    return err;
  };

  const timeoutMs = opts.startTimeoutMs ?? 10000;
  const deadline = Date.now() + timeoutMs;
  const pidFile = path.join(dir, 'nginx.pid');
  for (;;) {
    if (spawnError) throw await fail(spawnError.message);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw await fail(child.signalCode ? `killed by ${child.signalCode}` : `exit code ${child.exitCode}`);
    }
    // nginx retries a busy port for ~2.5 s before giving up: don't wait for that
    if (/Address already in use/.test(output)) throw await fail('port already in use');
    // The pid file is written after the listening socket is bound, so a connection that
    // succeeds after it appeared is nginx's (not some other process that owns the port).
    if (readIfExists(pidFile).trim() === String(child.pid) && (await canConnect(port))) break;
    if (Date.now() > deadline) throw await fail(`not accepting connections after ${timeoutMs} ms`);
    await sleep(20);
  }

  let stopping = null;
  return {
    port,
    url: `http://${HOST}:${port}`,
    host: HOST,
    dir,
    pid: child.pid,
    child,
    config: readFileSync(conf, 'utf8'),
    chunked: hasModule(info, 'ssi'),
    /** Contents of nginx's error log so far (warn level and up). */
    errorLog: () => readIfExists(path.join(dir, 'error.log')),
    /** Whether the nginx process is still running. */
    alive: () => child.exitCode === null && child.signalCode === null,
    /** SIGQUIT (graceful), SIGKILL after 2 s, remove the temp dir. Idempotent. */
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            child.kill('SIGQUIT');
          } catch {
            // gone
          }
          if (!(await waitExit(child, 2000))) {
            child.kill('SIGKILL');
            await waitExit(child, 2000);
          }
        }
        killNow(inst);
        if (running.size === 0) removeHooks();
      })();
      return stopping;
    },
  };
}

/** Start nginx; resolves to { port, url, host, dir, pid, config, chunked, errorLog(), alive(), stop() }. */
export async function startNginx(opts = {}) {
  const info = nginxInfo();
  if (!info) {
    throw new Error('nginx is not installed (apt-get install -y nginx-light, or set NGINX_BIN to its path)');
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, info);
    } catch (err) {
      // another process took the free port between our probe and nginx's bind: pick another
      if (err instanceof StartError && err.addressInUse && attempt < 5) continue;
      if (running.size === 0) removeHooks();
      throw err;
    }
  }
}
