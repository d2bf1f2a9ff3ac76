// Real clients against a keel server: curl, node:http's own client with a keep-alive Agent, and
// the global fetch (undici).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import nodeHttp from 'node:http';
import { withServer, readAll, splitResponses } from './raw.js';

const T = { timeout: 10000 };

function curl(args) {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '--max-time', '5', ...args], { encoding: 'latin1', timeout: 8000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** The responses in curl -i output (headers of every response, then the body). */
const parseCurl = (stdout) => splitResponses(Buffer.from(stdout, 'latin1'), { closed: true }).responses;

const echo = async (req, res) => {
  const body = await readAll(req);
  res.setHeader('Content-Type', 'application/json');
  res.end(
    JSON.stringify({
      method: req.method,
      url: req.url,
      httpVersion: req.httpVersion,
      contentType: req.headers['content-type'] ?? null,
      expect: req.headers.expect ?? null,
      length: body.length,
      body: body.length <= 100 ? body.toString() : null,
    }),
  );
};

test('curl -i GET', T, async () => {
  await withServer(echo, {}, async (h) => {
    const { stdout } = await curl(['-i', `http://127.0.0.1:${h.port}/hello?x=1`]);
    const [r] = parseCurl(stdout);
    assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r.headers['content-type'], 'application/json');
    const json = JSON.parse(r.body.toString());
    assert.deepEqual([json.method, json.url, json.httpVersion], ['GET', '/hello?x=1', '1.1']);
  });
});

test('curl -i POST --data', T, async () => {
  await withServer(echo, {}, async (h) => {
    const { stdout } = await curl(['-i', '--data', 'a=1&b=2', `http://127.0.0.1:${h.port}/form`]);
    const [r] = parseCurl(stdout);
    assert.equal(r.status, 200);
    const json = JSON.parse(r.body.toString());
    assert.equal(json.method, 'POST');
    assert.equal(json.body, 'a=1&b=2');
    assert.equal(json.contentType, 'application/x-www-form-urlencoded');
  });
});

test('curl --http1.0', T, async () => {
  const handler = (req, res) => {
    res.write(`version ${req.httpVersion};`); // streamed: until close for HTTP/1.0
    res.end('done');
  };
  await withServer(handler, {}, async (h) => {
    const { stdout } = await curl(['-i', '--http1.0', `http://127.0.0.1:${h.port}/`]);
    const [r] = parseCurl(stdout);
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.equal(r.body.toString(), 'version 1.0;done');
  });
});

test("curl -H 'Expect: 100-continue' with a 2 KB body gets 100 Continue, then the answer", T, async () => {
  await withServer(echo, {}, async (h) => {
    const body = 'e'.repeat(2048);
    const started = Date.now();
    const { stdout } = await curl(['-i', '-H', 'Expect: 100-continue', '--data-binary', body, `http://127.0.0.1:${h.port}/expect`]);
    const rs = parseCurl(stdout);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 100 Continue');
    assert.equal(rs.at(-1).status, 200);
    const json = JSON.parse(rs.at(-1).body.toString());
    assert.equal(json.length, 2048);
    assert.equal(json.expect, '100-continue');
    // curl waits up to 1 s for the 100 before sending anyway: it must not have had to.
    assert.ok(Date.now() - started < 900, `took ${Date.now() - started} ms`);
  });
});

test('curl reuses one connection for two URLs', T, async () => {
  await withServer(echo, {}, async (h) => {
    let connections = 0;
    h.server.on('connection', () => connections++);
    const base = `http://127.0.0.1:${h.port}`;
    const { stdout } = await curl([`${base}/a`, `${base}/b`]);
    assert.match(stdout, /"url":"\/a"/);
    assert.match(stdout, /"url":"\/b"/);
    assert.equal(connections, 1);
  });
});

test('node:http client with a keep-alive Agent: 20 sequential requests on one socket', T, async () => {
  await withServer((req, res) => res.end(`n=${req.url.slice(1)}`), {}, async (h) => {
    let connections = 0;
    h.server.on('connection', () => connections++);
    const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set();
      for (let i = 0; i < 20; i++) {
        const body = await new Promise((resolve, reject) => {
          const req = nodeHttp.request({ host: '127.0.0.1', port: h.port, path: `/${i}`, agent }, (res) => {
            sockets.add(res.socket);
            assert.equal(res.statusCode, 200);
            assert.equal(res.headers.connection, 'keep-alive');
            readAll(res).then((b) => resolve(b.toString()), reject);
          });
          req.setTimeout(3000, () => req.destroy(new Error('request timed out')));
          req.on('error', reject);
          req.end();
        });
        assert.equal(body, `n=${i}`);
      }
      assert.equal(connections, 1);
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });
});

test('node:http client POST with a chunked body and a trailer', T, async () => {
  const handler = async (req, res) => {
    const body = await readAll(req);
    res.end(JSON.stringify({ body: body.toString(), te: req.headers['transfer-encoding'], trailers: req.trailers }));
  };
  await withServer(handler, {}, async (h) => {
    const json = await new Promise((resolve, reject) => {
      const req = nodeHttp.request({ host: '127.0.0.1', port: h.port, method: 'POST', path: '/', agent: false, headers: { Trailer: 'X-Sum' } }, (res) => {
        readAll(res).then((b) => resolve(JSON.parse(b.toString())), reject);
      });
      req.on('error', reject);
      req.write('part1,');
      req.write('part2');
      req.addTrailers({ 'X-Sum': '42' });
      req.end();
    });
    assert.equal(json.body, 'part1,part2');
    assert.equal(json.te, 'chunked');
    assert.deepEqual(json.trailers, { 'x-sum': '42' });
  });
});

test('fetch GET and POST JSON', T, async () => {
  await withServer(echo, {}, async (h) => {
    const base = `http://127.0.0.1:${h.port}`;
    const r1 = await fetch(`${base}/items?id=7`, { signal: AbortSignal.timeout(3000) });
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('content-type'), 'application/json');
    const j1 = await r1.json();
    assert.deepEqual([j1.method, j1.url], ['GET', '/items?id=7']);

    const payload = { name: 'keel', n: [1, 2, 3], nested: { ok: true } };
    const r2 = await fetch(`${base}/items`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(3000),
    });
    const j2 = await r2.json();
    assert.equal(j2.method, 'POST');
    assert.equal(j2.contentType, 'application/json');
    assert.deepEqual(JSON.parse(j2.body), payload);
  });
});

test('fetch POST with a streamed (chunked) body', T, async () => {
  await withServer(echo, {}, async (h) => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('stream-'));
        controller.enqueue(new TextEncoder().encode('body'));
        controller.close();
      },
    });
    const r = await fetch(`http://127.0.0.1:${h.port}/s`, { method: 'POST', body: stream, duplex: 'half', signal: AbortSignal.timeout(3000) });
    const j = await r.json();
    assert.equal(j.body, 'stream-body');
  });
});
