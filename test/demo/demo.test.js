// The demo (npm start) over real sockets: static files with MIME types and traversal protection,
// the JSON API with its limits, server-sent events, the worker thread, graceful shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startDemo } from './demo-process.js';

const publicFile = (name) => readFileSync(new URL(`../../demo/public/${name}`, import.meta.url));
let demo;

before(async () => {
  demo = await startDemo();
});
after(async () => {
  await demo?.stop();
});

/** Send raw bytes (fetch would normalise "..") and return the whole reply as text. */
function raw(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      reply += d;
      if (/\r\n\r\n/.test(reply)) {
        const length = /content-length: (\d+)/i.exec(reply);
        const head = reply.indexOf('\r\n\r\n') + 4;
        if (length && reply.length >= head + Number(length[1])) socket.end();
      }
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout')));
  });
}

test('/ and /index.html serve the index page as text/html', async () => {
  for (const path of ['/', '/index.html']) {
    const res = await fetch(`${demo.url}${path}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await res.text();
    assert.match(html, /<title>Keel demo<\/title>/);
    assert.equal(html, publicFile('index.html').toString());
  }
});

test('CSS, JS, SVG and PNG come with their MIME types and their exact bytes', async () => {
  const cases = [
    ['style.css', 'text/css; charset=utf-8'],
    ['app.js', 'text/javascript; charset=utf-8'],
    ['logo.svg', 'image/svg+xml'],
    ['favicon.png', 'image/png'],
  ];
  for (const [name, type] of cases) {
    const res = await fetch(`${demo.url}/${name}`);
    assert.equal(res.status, 200, name);
    assert.equal(res.headers.get('content-type'), type, name);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), publicFile(name), name);
  }
});

test('missing files are 404, other methods 405, HEAD has headers but no body', async () => {
  assert.equal((await fetch(`${demo.url}/nope.html`)).status, 404);
  const post = await fetch(`${demo.url}/style.css`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  const reply = await raw(demo.port, 'HEAD /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(reply, new RegExp(`Content-Length: ${publicFile('style.css').length}\r\n`, 'i'));
  assert.ok(reply.endsWith('\r\n\r\n'), 'no body after the head');
});

test('directory traversal never reaches files outside demo/public', async () => {
  const attempts = ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/..%5cpackage.json', '/%00', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/%E0%A4%A'];
  for (const target of attempts) {
    const reply = await raw(demo.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const status = Number(reply.slice(9, 12));
    assert.ok([400, 403, 404].includes(status), `${target} → ${status}`);
    assert.doesNotMatch(reply, /"name": "keel"|root:/, target);
  }
});

test('GET and POST /api/users: 201 with the new user, 400 for invalid JSON or name, 415, 413 over the cap', async () => {
  const list = await (await fetch(`${demo.url}/api/users`)).json();
  assert.deepEqual(list.slice(0, 2), [{ id: 1, name: 'Alice' }, { id: 2, name: 'Bob' }]);

  const post = (body, type = 'application/json') => fetch(`${demo.url}/api/users`, { method: 'POST', headers: { 'content-type': type }, body });
  const created = await post(JSON.stringify({ name: 'Dora' }));
  assert.equal(created.status, 201);
  const user = await created.json();
  assert.equal(user.name, 'Dora');
  assert.equal(created.headers.get('location'), `/api/users/${user.id}`);
  assert.ok((await (await fetch(`${demo.url}/api/users`)).json()).some((u) => u.id === user.id));

  const invalid = await post('{"name": ');
  assert.equal(invalid.status, 400);
  assert.equal((await invalid.json()).error.code, 'ERR_INVALID_JSON');
  assert.equal((await post(JSON.stringify({ name: '' }))).status, 400);
  assert.equal((await post('name=x', 'application/x-www-form-urlencoded')).status, 415);

  const big = JSON.stringify({ name: 'x'.repeat(20 * 1024) });
  const tooLarge = await post(big);
  assert.equal(tooLarge.status, 413);
  assert.equal((await tooLarge.json()).error.code, 'ERR_BODY_TOO_LARGE');
});

test('413 also when a chunked body grows past the cap (no Content-Length)', async () => {
  const head = 'POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  const chunk = 'a'.repeat(8192);
  const body = `${(8192).toString(16)}\r\n${chunk}\r\n`.repeat(3);
  const reply = await raw(demo.port, head + body);
  assert.match(reply, /^HTTP\/1\.1 413 /);
  assert.match(reply, /Connection: close/i);
});

test('/events sends hello, then a tick every second', async () => {
  const controller = new AbortController();
  const res = await fetch(`${demo.url}/events`, { signal: controller.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + 3000;
  while (!/event: tick/.test(text) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  controller.abort();
  assert.match(text, /^event: hello\ndata: \{"users":\d+\}\n\n/);
  assert.match(text, /event: tick\ndata: \{"time":"[^"]+"\}\n\n/);
});

test('/slow runs on a worker thread while /fast answers at once', async () => {
  const slow = fetch(`${demo.url}/slow?n=35`).then(async (r) => ({ body: await r.json(), at: Date.now() }));
  await new Promise((r) => setTimeout(r, 20));
  const fast = await fetch(`${demo.url}/fast`).then(async (r) => ({ body: await r.json(), at: Date.now() }));
  const slowResult = await slow;
  assert.equal(fast.body.fast, true);
  assert.equal(slowResult.body.result, 9227465); // fibonacci(35)
  assert.ok(fast.at <= slowResult.at, '/fast answered before /slow finished');
});

test('SIGTERM shuts down gracefully: exit code 0 within 6 s, open event streams ended', async () => {
  const own = await startDemo();
  try {
    const res = await fetch(`${own.url}/events`);
    const reader = res.body.getReader();
    await reader.read();
    own.child.kill('SIGTERM');
    const { code } = await Promise.race([own.exited, new Promise((_, reject) => setTimeout(() => reject(new Error('no exit in 6 s')), 6000))]);
    assert.equal(code, 0);
    assert.match(own.output(), /SIGTERM: shutting down/);
  } finally {
    await own.stop();
  }
});
