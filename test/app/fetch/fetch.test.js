// keel/fetch: fetch-style handlers on Keel's server — WHATWG Request/Response, streaming both
// ways, Set-Cookie, HEAD, errors, and request.signal aborted when the client goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { serve, toNodeHandler } from 'keel/fetch';
import http from 'keel';

async function withServe(options, fn) {
  const server = await serve({ port: 0, hostname: '127.0.0.1', ...options });
  try {
    await fn(`http://127.0.0.1:${server.address().port}`, server);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('serve() resolves to the listening server; Request carries method, url, headers', async () => {
  await withServe({
    fetch: (request) => Response.json({ method: request.method, url: request.url, agent: request.headers.get('x-agent') }),
  }, async (base) => {
    const res = await fetch(`${base}/path?q=1`, { headers: { 'x-agent': 'test' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { method: 'GET', url: `${base}/path?q=1`, agent: 'test' });
  });
});

test('request bodies stream in (5 MiB upload read with arrayBuffer) and responses stream out in pieces', async () => {
  await withServe({
    async fetch(request) {
      if (request.method === 'POST') {
        const bytes = new Uint8Array(await request.arrayBuffer());
        return new Response(`${bytes.length} ${bytes[0]} ${bytes[bytes.length - 1]}`);
      }
      let n = 0;
      const body = new ReadableStream({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 20));
          if (n === 3) controller.close();
          else controller.enqueue(new TextEncoder().encode(`part${n++};`));
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/plain' } });
    },
  }, async (base) => {
    const upload = Buffer.alloc(5 * 1024 * 1024, 7);
    upload[0] = 1;
    upload[upload.length - 1] = 9;
    const posted = await fetch(`${base}/up`, { method: 'POST', body: upload });
    assert.equal(await posted.text(), `${upload.length} 1 9`);

    const res = await fetch(`${base}/stream`);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const reader = res.body.getReader();
    const pieces = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pieces.push(new TextDecoder().decode(value));
    }
    assert.equal(pieces.join(''), 'part0;part1;part2;');
    assert.ok(pieces.length >= 2, 'the body arrived in several pieces, not buffered whole');
  });
});

test('status, statusText, several Set-Cookie fields, HEAD without body', async () => {
  await withServe({
    fetch: () => {
      const headers = new Headers({ 'x-a': '1' });
      headers.append('set-cookie', 'a=1; Path=/');
      headers.append('set-cookie', 'b=2; Path=/');
      return new Response('created!', { status: 201, statusText: 'Made It', headers });
    },
  }, async (base, server) => {
    const raw = await new Promise((resolve) => {
      const socket = net.connect(server.address().port, '127.0.0.1', () => socket.end('HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
    });
    assert.match(raw, /^HTTP\/1\.1 201 Made It\r\n/);
    assert.match(raw, /\r\nset-cookie: a=1; Path=\/\r\nset-cookie: b=2; Path=\/\r\n/);
    assert.ok(raw.endsWith('\r\n\r\n'), 'HEAD: no body');
    const res = await fetch(base);
    assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(await res.text(), 'created!');
  });
});

test('a handler error becomes a 500 (onError can shape it); the process does not crash', async () => {
  const seen = [];
  await withServe({
    fetch: (request) => {
      if (request.url.endsWith('/custom')) throw Object.assign(new Error('nope'), { status: 418 });
      throw new Error('boom');
    },
    onError: (error) => {
      seen.push(error.message);
      return new Response(`handled: ${error.message}`, { status: error.status ?? 500 });
    },
  }, async (base) => {
    const res = await fetch(`${base}/x`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'handled: boom');
    const custom = await fetch(`${base}/custom`);
    assert.equal(custom.status, 418);
    assert.deepEqual(seen, ['boom', 'nope']);
  });
});

test('request.signal aborts when the client disconnects, and that failure is not reported as a 500', async () => {
  let aborted = null;
  let onErrorCalls = 0;
  let rejected = null;
  await withServe({
    fetch: (request) => new Promise((resolve, reject) => {
      request.signal.addEventListener('abort', () => {
        aborted = request.signal.reason;
        rejected = reject;
        reject(new Error('gave up: client gone'));
      });
    }),
    onError: () => {
      onErrorCalls++;
      return new Response('should not be sent', { status: 500 });
    },
  }, async (base, server) => {
    const socket = net.connect(server.address().port, '127.0.0.1');
    await new Promise((r) => socket.on('connect', r));
    socket.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    const deadline = Date.now() + 2000;
    while (aborted === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(aborted instanceof Error, 'signal aborted');
    assert.equal(aborted.code, 'ECONNRESET');
    assert.ok(rejected);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(onErrorCalls, 0);
  });
});

test('toNodeHandler() works with a plain createServer', async () => {
  const server = http.createServer(toNodeHandler(async (request) => new Response(`hi ${new URL(request.url).pathname}`)));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/plain`);
    assert.equal(await res.text(), 'hi /plain');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
