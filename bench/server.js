// Benchmark server: node bench/server.js <impl> <scenario> <port>
//
//   impl      keel  -> import http from 'keel'   (this package, via self-reference; needs `npm run build`)
//             node  -> import http from 'node:http'
//   scenario  a handler name (hello | json) or a bench/run.js scenario id
//             (keepalive | pipeline | close -> hello, json -> json), or api
//   port      TCP port on 127.0.0.1
//
// The handlers below are shared verbatim by both implementations; only the
// module that provides createServer() differs. Prints `ready` once listening.
//
// Scenario `api` (the 20-route JSON API of bench/run.js) is different: impl is one of
// keel | keel-bare | fastify | hono | express | node, and bench/apps/<impl>.js serves it
// (each app module exports start(port, host), resolving with the server once it listens).

const USAGE =
  'usage: node bench/server.js <keel|node> <hello|json|keepalive|pipeline|close> <port>\n' +
  '       node bench/server.js <keel|keel-bare|fastify|hono|express|node> api <port>';
const API_IMPLS = ['keel', 'keel-bare', 'fastify', 'hono', 'express', 'node'];

const [impl, scenario, portArg] = process.argv.slice(2);

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
if (isApi ? !API_IMPLS.includes(impl) : impl !== 'keel' && impl !== 'node') fail(`unknown impl ${JSON.stringify(impl)}`);
const handlerName = HANDLER_FOR[scenario];
if (!handlerName && !isApi) fail(`unknown scenario ${JSON.stringify(scenario)}`);
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
  const mod = impl === 'keel' ? await import('keel') : await import('node:http');
  const http = mod.default ?? mod;
  const handler = handlerName === 'json' ? json : hello;
  const server = http.createServer(handler);
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

await (isApi ? startApi() : startClassic());
