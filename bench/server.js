// Benchmark server: node bench/server.js <impl> <scenario> <port> [root]
//
//   impl      keel      -> import http from 'keel'   (this package, via self-reference; needs `npm run build`)
//             node      -> import http from 'node:http'
//             fastify   -> bench/apps/fastify-basic.js (the same answers on Fastify)
//             bare-net  -> bench/apps/bare-net.js (reference ceiling: node:net, no HTTP parsing;
//                          GET scenarios only)
//   scenario  a handler name (hello | json) or a bench/run.js scenario id
//             (keepalive | pipeline | close -> hello, json -> json), api, or static
//   port      TCP port on 127.0.0.1
//   root      static only: the directory whose files are served
//
// The handlers below are shared verbatim by keel and node; only the module that provides
// createServer() differs. Prints `ready` once listening.
//
// Scenario `api` (the 20-route JSON API of bench/run.js) is different: impl is one of
// keel | keel-bare | fastify | hono | express | node, and bench/apps/<impl>.js serves it
// (each app module exports start(port, host), resolving with the server once it listens).
//
// Scenario `static` (one 1 MiB file): impl keel serves <root> with keel/static's serveStatic() and
// its memory cache on (`cache: true`: files up to 1 MiB held, revalidated by a stat per request);
// keel-stream is serveStatic() as it comes, streaming every response from disk; node answers GET /<name> of a file in <root> with fs.stat + fs.createReadStream piped to the
// response (Content-Type application/octet-stream, Content-Length), 404 otherwise.

import { createReadStream, stat } from 'node:fs';
import path from 'node:path';

const USAGE =
  'usage: node bench/server.js <keel|node|fastify|bare-net> <hello|json|keepalive|pipeline|close> <port>\n' +
  '       node bench/server.js <keel|keel-bare|fastify|hono|express|node> api <port>\n' +
  '       node bench/server.js <keel|keel-stream|node> static <port> <root>';
const API_IMPLS = ['keel', 'keel-bare', 'fastify', 'hono', 'express', 'node'];
const CLASSIC_IMPLS = ['keel', 'node', 'fastify', 'bare-net'];
const STATIC_IMPLS = ['keel', 'keel-stream', 'node'];

const [impl, scenario, portArg, rootArg] = process.argv.slice(2);

const HANDLER_FOR = {
  hello: 'hello',
  json: 'json',
  keepalive: 'hello',
  pipeline: 'hello',
  close: 'hello',
};

function fail(msg) {
  process.stderr.write(`bench/server.js: ${msg}\n${USAGE}\n`);
  process.exit(1);
}

const isApi = scenario === 'api';
const isStatic = scenario === 'static';
const handlerName = HANDLER_FOR[scenario];
if (!handlerName && !isApi && !isStatic) fail(`unknown scenario ${JSON.stringify(scenario)}`);
const implsOk = isApi ? API_IMPLS : isStatic ? STATIC_IMPLS : CLASSIC_IMPLS;
if (!implsOk.includes(impl)) fail(`unknown impl ${JSON.stringify(impl)} for scenario ${scenario}`);
if (impl === 'bare-net' && handlerName !== 'hello') fail('bare-net answers GET requests only (hello scenarios)');
if (isStatic && !rootArg) fail('static needs the root directory');
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad port ${JSON.stringify(portArg)}`);

function onServerError(err) {
  process.stderr.write(`bench/server.js: server error: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

function hello(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('Hello World');
}

function json(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let value;
    try {
      value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('Bad JSON');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(value));
  });
}

async function startClassic() {
  // Fastify and the bare node:net ceiling come from their modules, already listening.
  if (impl === 'fastify' || impl === 'bare-net') {
    let server;
    try {
      if (impl === 'fastify') {
        const app = await import('./apps/fastify-basic.js');
        server = await app.start(port, '127.0.0.1', handlerName);
      } else {
        const app = await import('./apps/bare-net.js');
        server = await app.start(port, '127.0.0.1', { close: scenario === 'close' });
      }
    } catch (err) {
      process.stderr.write(`bench/server.js: ${impl} failed to start: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    }
    server.on('error', onServerError);
    process.stdout.write('ready\n');
    return;
  }
  const mod = impl === 'keel' ? await import('keel') : await import('node:http');
  const http = mod.default ?? mod;
  const handler = handlerName === 'json' ? json : hello;
  const server = http.createServer(handler);
  server.on('error', onServerError);
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write('ready\n');
  });
}

// node:http's static file handler: what a careful hand-written one does (stat for the length,
// a read stream piped to the response, which keeps backpressure).
function nodeStatic(root) {
  return (req, res) => {
    const name = decodeURIComponent(req.url.split('?')[0]).slice(1);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || name === '' || name.includes('/') || name.startsWith('.')) {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 9 });
      res.end('Not Found');
      return;
    }
    const file = path.join(root, name);
    stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 9 });
        res.end('Not Found');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const stream = createReadStream(file);
      stream.on('error', () => res.destroy());
      res.on('close', () => stream.destroy());
      stream.pipe(res);
    });
  };
}

async function startStatic() {
  let server;
  try {
    if (impl === 'keel' || impl === 'keel-stream') {
      const { default: http } = await import('keel');
      const { serveStatic } = await import('keel/static');
      // Without fallthrough, keel/static calls next() only with an error it met (else it answers
      // 500 silently): say which on stderr (bench/run.js keeps it for a round with error responses).
      const serve = serveStatic(rootArg, { fallthrough: false, cache: impl === 'keel' });
      let reported = 0;
      server = http.createServer((req, res) => serve(req, res, (err) => {
        if (reported++ < 5) process.stderr.write(`bench/server.js: keel/static error: ${err && err.stack ? err.stack : err}\n`);
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      }));
    } else {
      const { default: http } = await import('node:http');
      server = http.createServer(nodeStatic(rootArg));
    }
  } catch (err) {
    process.stderr.write(`bench/server.js: the ${impl} static server failed to start: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  }
  server.on('error', onServerError);
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write('ready\n');
  });
}

async function startApi() {
  let server;
  try {
    const app = await import(`./apps/${impl}.js`);
    server = await app.start(port, '127.0.0.1');
  } catch (err) {
    process.stderr.write(`bench/server.js: the ${impl} api app failed to start: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  }
  server.on('error', onServerError);
  process.stdout.write('ready\n');
}

// When started by bench/run.js, stdin is a pipe from the runner: if the runner
// dies (even by SIGKILL) the pipe closes and this server exits, so no orphaned
// servers are left behind. Not enabled when run by hand.
if (process.env.KEEL_BENCH_EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

await (isApi ? startApi() : isStatic ? startStatic() : startClassic());
