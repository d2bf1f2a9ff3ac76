// Reference ceiling "Bun.serve": the benchmark's handlers on Bun's built-in HTTP server (Zig and
// uWebSockets, no Node.js). Run by Bun, not Node:
//
//   taskset -c 0 node_modules/.bin/bun bench/apps/bun-serve.js <scenario> <port>
//
// scenario: keepalive | pipeline | close -> GET: 200 text/plain "Hello World";
//           json -> POST: the body parsed with req.json() and answered 200 application/json with
//           JSON.stringify of it (400 for invalid JSON), as bench/server.js's json handler.
// Prints `ready` once listening. Like bench/server.js, with KEEL_BENCH_EXIT_ON_STDIN_EOF=1 it
// exits when its stdin (a pipe from bench/run.js) closes, so a dead runner leaves no server behind.

const HELLO_SCENARIOS = ['keepalive', 'pipeline', 'close'];
const [scenario, portArg] = process.argv.slice(2);
const port = Number(portArg);
if ((!HELLO_SCENARIOS.includes(scenario) && scenario !== 'json') || !Number.isInteger(port)) {
  process.stderr.write(`usage: bun bench/apps/bun-serve.js <${[...HELLO_SCENARIOS, 'json'].join('|')}> <port>\n`);
  process.exit(1);
}

const helloHeaders = { 'Content-Type': 'text/plain' };
const closeHeaders = { 'Content-Type': 'text/plain', Connection: 'close' };
const jsonHeaders = { 'Content-Type': 'application/json' };

function hello() {
  return new Response('Hello World', { headers: helloHeaders });
}

// Bun closes a connection whose request said `Connection: close`, but without saying so in the
// response; wrk then writes its next request on it and counts a read error per request. The
// handler says it (as Keel, node:http and nginx do), which Bun passes through.
function helloOrClose(req) {
  const close = req.headers.get('connection')?.toLowerCase() === 'close';
  return new Response('Hello World', { headers: close ? closeHeaders : helloHeaders });
}

async function json(req) {
  let value;
  try {
    value = await req.json();
  } catch {
    return new Response('Bad JSON', { status: 400, headers: helloHeaders });
  }
  return new Response(JSON.stringify(value), { headers: jsonHeaders });
}

Bun.serve({
  hostname: '127.0.0.1',
  port,
  development: false,
  fetch: scenario === 'json' ? json : scenario === 'close' ? helloOrClose : hello,
  error(err) {
    process.stderr.write(`bench/apps/bun-serve.js: ${err && err.stack ? err.stack : err}\n`);
    return new Response('Internal Server Error', { status: 500 });
  },
});
process.stdout.write('ready\n');

if (process.env.KEEL_BENCH_EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
