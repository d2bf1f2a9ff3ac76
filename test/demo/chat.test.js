// The demo's WebSocket chat (/chat) with real `ws` clients: broadcast to every client, 404 for
// other upgrade paths, 403 for a foreign Origin, 1009 for an oversized message, 1001 on shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startDemo } from './demo-process.js';

let demo;
const sockets = new Set();

before(async () => {
  demo = await startDemo();
});
after(async () => {
  for (const ws of sockets) ws.terminate();
  await demo?.stop();
});

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref())]);

/** A connected `ws` client of `target` (the shared demo unless given) that queues what it receives. */
async function client(target = demo, options) {
  const ws = new WebSocket(`ws://127.0.0.1:${target.port}/chat`, options);
  sockets.add(ws);
  ws.inbox = [];
  ws.waiters = [];
  ws.on('message', (data) => {
    ws.inbox.push(JSON.parse(data.toString()));
    for (const wake of ws.waiters.splice(0)) wake();
  });
  ws.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), 3000, 'open');
  return ws;
}

/** The next message `ws` receives (or one already queued). */
async function next(ws) {
  while (ws.inbox.length === 0) await withTimeout(new Promise((resolve) => ws.waiters.push(resolve)), 3000, 'a message');
  return ws.inbox.shift();
}

/** A raw upgrade request; resolves with everything the server sent before closing. */
function rawUpgrade(port, path, extra = '') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`),
    );
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (reply += d));
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout: the server did not close')));
  });
}

test('a message from one client reaches both as {name, text, time}', async () => {
  const alice = await client();
  const bob = await client();
  const before = Date.now();
  alice.send(JSON.stringify({ name: '  Alice ', text: ' hello <b>Bob</b> ' }));
  for (const ws of [alice, bob]) {
    const message = await next(ws);
    assert.deepEqual(Object.keys(message).sort(), ['name', 'text', 'time']);
    assert.equal(message.name, 'Alice');
    assert.equal(message.text, 'hello <b>Bob</b>', 'sent as data; the page renders it with textContent');
    assert.ok(Date.parse(message.time) >= before - 1000, message.time);
  }
  bob.send(JSON.stringify({ text: 'hi' }));
  assert.deepEqual([(await next(alice)).name, (await next(bob)).name], ['anonymous', 'anonymous']);
  alice.close();
  bob.close();
});

test('invalid JSON, binary frames and empty text are ignored; the connection stays open', async () => {
  const ws = await client();
  ws.send('not json');
  ws.send(Buffer.from([1, 2, 3]), { binary: true });
  ws.send(JSON.stringify({ name: 'x', text: '   ' }));
  ws.send(JSON.stringify({ name: 'x', text: 'after' }));
  assert.equal((await next(ws)).text, 'after');
  assert.equal(ws.inbox.length, 0);
  assert.equal(ws.readyState, WebSocket.OPEN);
  ws.close();
});

test('an upgrade to another path gets 404 and the socket is closed', async () => {
  for (const path of ['/nope', '/chat/x', '/']) {
    const reply = await rawUpgrade(demo.port, path);
    assert.equal(reply, 'HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n', path);
  }
});

test('an upgrade from a foreign Origin gets 403; the same origin is accepted', async () => {
  const reply = await rawUpgrade(demo.port, '/chat', 'Origin: https://evil.example\r\n');
  assert.equal(reply, 'HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
  const ws = await client(demo, { origin: demo.url });
  ws.close();
});

test('a message over 4 KiB closes its sender with 1009; the others stay connected', async () => {
  const sender = await client();
  const other = await client();
  sender.on('error', () => {});
  sender.send(JSON.stringify({ name: 'big', text: 'x'.repeat(5000) }));
  const { code } = await withTimeout(sender.closed, 3000, 'close');
  assert.equal(code, 1009);
  assert.equal(other.readyState, WebSocket.OPEN);
  assert.equal(other.inbox.length, 0, 'nothing was broadcast');
  // Just under the limit still goes through.
  other.send(JSON.stringify({ name: 'ok', text: 'y'.repeat(4000) }));
  assert.equal((await next(other)).text.length, 1000, 'text is capped at 1000 characters');
  other.close();
});

test('chat.html and chat.js are served; the index page links to the chat', async () => {
  for (const [name, type] of [['chat.html', 'text/html; charset=utf-8'], ['chat.js', 'text/javascript; charset=utf-8']]) {
    const res = await fetch(`${demo.url}/${name}`);
    assert.equal(res.status, 200, name);
    assert.equal(res.headers.get('content-type'), type, name);
    assert.equal(await res.text(), readFileSync(new URL(`../../demo/public/${name}`, import.meta.url), 'utf8'));
  }
  assert.match(await (await fetch(demo.url)).text(), /href="\/chat\.html"/);
  const js = readFileSync(new URL('../../demo/public/chat.js', import.meta.url), 'utf8');
  assert.doesNotMatch(js, /innerHTML|insertAdjacentHTML|outerHTML|document\.write/, 'messages are rendered as text only');
});

test('SIGTERM closes chat clients with 1001 and the demo exits 0', async () => {
  const own = await startDemo();
  try {
    const a = await client(own);
    const b = await client(own);
    own.child.kill('SIGTERM');
    const closes = await withTimeout(Promise.all([a.closed, b.closed]), 3000, 'close');
    assert.deepEqual(closes.map((c) => c.code), [1001, 1001]);
    const { code } = await withTimeout(own.exited, 6000, 'exit');
    assert.equal(code, 0);
  } finally {
    await own.stop();
  }
});
