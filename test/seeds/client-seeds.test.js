// Runs the CLIENT-side examples of the seed documents (examples/seeds/, Keel's node-compatible
// client: http.request / http.get from 'keel') unchanged, each in its own child process preloaded
// with port-shim.cjs. The examples name fixed hosts (localhost:80, api.example.com); the shim's
// SEED_HOST_MAP redirects those connects to a server started by the test on an ephemeral port,
// and SEED_TRACE_CONNECT=1 makes it report every connect, so the test can check that nothing
// escaped the map.
//
//   npm run build && node --test test/seeds/client-seeds.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { sleep, startExample, waitUntil, withExample } from './harness.js';

const T = { timeout: 15000 };
const lines = (text) => text.split('\n');

/**
 * A node:http server recording every request it reads: { method, url, headers, rawHeaders, body }.
 * `respond(req, res, body)` answers.
 */
async function startRecordingServer(respond) {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const info = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(info);
      respond(req, res, info);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    seen,
    port: server.address().port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Start a client example (it does not listen) with `map` as SEED_HOST_MAP and connect tracing. */
function startClient(file, map) {
  return startExample(file, { listens: false, env: { SEED_HOST_MAP: map, SEED_TRACE_CONNECT: '1' } });
}

/** Run `fn(ex)` against a started client example; always kill it afterwards. */
async function withClient(file, map, fn) {
  const ex = await startClient(file, map);
  try {
    await fn(ex);
  } catch (err) {
    throw ex.annotate(err);
  } finally {
    await ex.stop();
  }
}

function assertConnects(ex, expected) {
  const connects = lines(ex.stderr).filter((l) => l.startsWith('SEED_CONNECT '));
  assert.ok(connects.length > 0, 'the example connected somewhere');
  for (const line of connects) assert.equal(line, `SEED_CONNECT ${expected}`);
}

// ---------------------------------------------------------------------------
// Seed 002_7166d7bc8f0fc95a.txt: "HTTP Client–Server Communication in Node.js"
// ---------------------------------------------------------------------------

test('002-http-client + 002-hello-server: the server logs the POST and "Hi i am client"; the client logs "Hello from HTTP Server"', T, async () => {
  await withExample('002-hello-server.mjs', {}, async (server) => {
    await server.waitForStdout('Server is listening on port 80');
    await withClient('002-http-client.mjs', `localhost:80=127.0.0.1:${server.port}`, async (client) => {
      await client.waitForStdout('Hello from HTTP Server');
      await server.waitForStdout('Hi i am client');
      const log = lines(server.stdout);
      const at = log.indexOf('got the request');
      assert.ok(at >= 0, 'the server logged "got the request"');
      assert.deepEqual(log.slice(at, at + 4), ['got the request', 'POST', '/', 'Hi i am client']);
      assert.deepEqual(lines(client.stdout.trim()), ['Hello from HTTP Server']);
      assertConnects(client, `localhost:80 -> 127.0.0.1:${server.port}`);
      assert.equal(client.stderr.includes('Error'), false, client.stderr);
    });
  });
});

test('002-http-client: sends POST / to localhost with "Hi i am client" chunked; logs each response chunk', T, async () => {
  const s = await startRecordingServer(async (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('Hello from ');
    await sleep(50);
    res.end('the test server');
  });
  try {
    await withClient('002-http-client.mjs', `localhost:80=127.0.0.1:${s.port}`, async (client) => {
      await client.waitForStdout('the test server');
      assert.equal(s.seen.length, 1);
      const [req] = s.seen;
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/');
      assert.equal(req.headers.host, 'localhost'); // port 80 is the default: not in Host
      // write() then end(): the length is unknown when the head goes out, so chunked, as Node.
      assert.equal(req.headers['transfer-encoding'], 'chunked');
      assert.equal(req.headers['content-length'], undefined);
      assert.equal(req.body, 'Hi i am client');
      assert.equal(req.headers.connection, 'keep-alive'); // the globalAgent
      // One console.log per 'data' event: the two writes arrive as two chunks.
      assert.deepEqual(lines(client.stdout.trim()), ['Hello from ', 'the test server']);
      assertConnects(client, `localhost:80 -> 127.0.0.1:${s.port}`);
    });
  } finally {
    await s.close();
  }
});

// ---------------------------------------------------------------------------
// Seed 003_fe9f17a5a20ce7db.txt: "How does the HTTP module work in Node.js?"
// ---------------------------------------------------------------------------

function apiExample(req, res, info) {
  if (req.method === 'GET' && req.url === '/data') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ users: ['Alice', 'Bob'], count: 2 }));
  } else if (req.method === 'POST' && req.url === '/users') {
    const user = JSON.parse(info.body);
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: 42, ...user }));
  } else {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"error":"not found"}');
  }
}

test('003-outbound-requests: GET /data and POST /users (JSON, Content-Length) to api.example.com; logs both parsed bodies', T, async () => {
  const s = await startRecordingServer(apiExample);
  try {
    await withClient('003-outbound-requests.cjs', `api.example.com:80=127.0.0.1:${s.port}`, async (client) => {
      await waitUntil(() => s.seen.length === 2 && lines(client.stdout.trim()).length === 2, 5000, 'both responses logged');
      // console.log of the parsed objects (util.inspect); the two requests race, so any order.
      assert.deepEqual(
        lines(client.stdout.trim()).sort(),
        ["{ id: 42, name: 'Alice' }", "{ users: [ 'Alice', 'Bob' ], count: 2 }"],
      );
      const get = s.seen.find((r) => r.method === 'GET');
      assert.equal(get.url, '/data');
      assert.equal(get.headers.host, 'api.example.com');
      assert.equal(get.headers['content-length'], undefined);
      assert.equal(get.headers['transfer-encoding'], undefined);
      assert.equal(get.body, '');
      const post = s.seen.find((r) => r.method === 'POST');
      assert.equal(post.url, '/users');
      assert.equal(post.headers.host, 'api.example.com');
      assert.equal(post.headers['content-type'], 'application/json');
      // The example sets Content-Length itself: sent as given, no chunked framing.
      assert.equal(post.headers['content-length'], '16');
      assert.equal(post.headers['transfer-encoding'], undefined);
      assert.equal(post.body, '{"name":"Alice"}');
      assert.deepEqual(JSON.parse(post.body), { name: 'Alice' });
      assertConnects(client, `api.example.com:80 -> 127.0.0.1:${s.port}`);
      assert.equal(client.stderr.includes('Error'), false, client.stderr);
    });
  } finally {
    await s.close();
  }
});

test('003-outbound-requests: a non-JSON answer makes JSON.parse throw in the end listener (uncaught, exit 1)', T, async () => {
  // What the seed's snippet does when the API does not answer JSON: it has no try/catch.
  const s = await startRecordingServer((req, res) => {
    res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end('Bad gateway');
  });
  try {
    const client = await startClient('003-outbound-requests.cjs', `api.example.com:80=127.0.0.1:${s.port}`);
    try {
      const { code } = await client.waitForExit(5000);
      assert.equal(code, 1);
      assert.match(client.stderr, /SyntaxError: Unexpected token/);
    } catch (err) {
      throw client.annotate(err);
    } finally {
      await client.stop();
    }
  } finally {
    await s.close();
  }
});

test('client examples exit on their own once answered, as with node:http (idle keep-alive sockets do not hold the process)', T, async () => {
  // The server keeps the connections open (node:http's 5 s keepAliveTimeout); node:http's
  // globalAgent unrefs free sockets, so the script exits at once. So must Keel's.
  const s = await startRecordingServer(apiExample);
  try {
    const client = await startClient('003-outbound-requests.cjs', `api.example.com:80=127.0.0.1:${s.port}`);
    try {
      await waitUntil(() => lines(client.stdout.trim()).length === 2, 5000, 'both responses logged');
      const answeredAt = Date.now();
      const { code } = await client.waitForExit(4000);
      assert.equal(code, 0);
      assert.ok(Date.now() - answeredAt < 1000, `exited ${Date.now() - answeredAt} ms after its last response`);
    } catch (err) {
      throw client.annotate(err);
    } finally {
      await client.stop();
    }
  } finally {
    await s.close();
  }
});
