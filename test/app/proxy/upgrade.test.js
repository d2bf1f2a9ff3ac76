// keel/proxy: upgrades (`server.on('upgrade', proxy.upgrade)`). A real `ws` WebSocketServer as
// the upstream and a `ws` client through the proxy: text and binary echo, close codes both ways;
// bytes read past either head are relayed; a refused upgrade is relayed; 502 / 504 as raw replies.
//
//   npm run build && node --test test/app/proxy/upgrade.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';

import { closedPort, fieldsOf, startProxy, startUpstream, waitUntil } from './helpers.js';

const T = { timeout: 10_000 };

/** A node:http server with a ws echo WebSocketServer; `seen` gets each upgrade request. */
async function startWsEcho({ kind = 'node' } = {}) {
  const seen = [];
  const sockets = [];
  const wss = new WebSocketServer({ noServer: true });
  const upstream = await startUpstream((req, res) => res.end('plain'), { kind });
  upstream.server.on('upgrade', (req, socket, head) => {
    seen.push(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? null : data.toString();
        if (text?.startsWith('close:')) ws.close(Number(text.slice(6)), 'done');
        else ws.send(data, { binary: isBinary });
      });
    });
  });
  return { ...upstream, seen, sockets, wss };
}

function openClient(url, options) {
  const ws = new WebSocket(url, options);
  const messages = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    messages.push({ data, isBinary });
    waiters.shift()?.();
  });
  const next = () => new Promise((resolve, reject) => {
    if (messages.length > 0) resolve(messages.shift());
    else {
      const timer = setTimeout(() => reject(new Error('no message')), 3000);
      waiters.push(() => {
        clearTimeout(timer);
        resolve(messages.shift());
      });
    }
  });
  const opened = new Promise((resolve, reject) => {
    ws.once('upgrade', (res) => (ws.upgradeResponse = res));
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, next, opened, closed };
}

test('WebSocket echo through the proxy: text and binary, the upgrade request carries forwarded fields', T, async () => {
  const upstream = await startWsEcho();
  const front = await startProxy({ target: upstream.url });
  const client = openClient(`ws://127.0.0.1:${front.port}/chat?room=1`);
  try {
    await client.opened;
    client.ws.send('hello');
    const text = await client.next();
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), 'hello');
    const bytes = Buffer.from([0, 1, 2, 3, 254, 255]);
    client.ws.send(bytes);
    const binary = await client.next();
    assert.equal(binary.isBinary, true);
    assert.deepEqual(Buffer.from(binary.data), bytes);
    const big = randomBytes(1024 * 1024);
    client.ws.send(big);
    assert.deepEqual(Buffer.from((await client.next()).data), big);

    const req = upstream.seen[0];
    assert.equal(req.url, '/chat?room=1');
    assert.equal(req.headers.host, `127.0.0.1:${front.port}`);
    assert.equal(req.headers.upgrade, 'websocket');
    assert.equal(req.headers.connection, 'Upgrade');
    assert.equal(req.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(req.headers.forwarded, `for=127.0.0.1;host="127.0.0.1:${front.port}";proto=http`);
    assert.equal(req.headers.via, '1.1 keel');
    assert.ok(req.headers['sec-websocket-key']);
    assert.equal(client.ws.upgradeResponse.statusCode, 101);
    assert.equal(client.ws.upgradeResponse.headers.via, '1.1 keel');
    assert.equal(client.ws.upgradeResponse.headers.upgrade, 'websocket');
  } finally {
    client.ws.terminate();
    await front.close();
    await upstream.close();
  }
});

test('close codes pass through both ways', T, async () => {
  const upstream = await startWsEcho();
  const front = await startProxy({ target: upstream.url });
  try {
    // The upstream closes.
    const a = openClient(`ws://127.0.0.1:${front.port}/`);
    await a.opened;
    a.ws.send('close:4001');
    assert.deepEqual(await a.closed, { code: 4001, reason: 'done' });
    // The client closes.
    const b = openClient(`ws://127.0.0.1:${front.port}/`);
    await b.opened;
    await waitUntil(() => upstream.sockets.length === 2, 2000, 'the second upstream socket');
    const serverSide = new Promise((resolve) => upstream.sockets[1].once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    b.ws.close(4002, 'bye');
    assert.deepEqual(await serverSide, { code: 4002, reason: 'bye' });
    assert.deepEqual(await b.closed, { code: 4002, reason: 'bye' });
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('a ws upstream on a Keel server, too', T, async () => {
  const upstream = await startWsEcho({ kind: 'keel' });
  const front = await startProxy({ target: upstream.url });
  const client = openClient(`ws://127.0.0.1:${front.port}/`);
  try {
    await client.opened;
    client.ws.send('keel');
    assert.equal((await client.next()).data.toString(), 'keel');
    client.ws.close(1000);
    assert.equal((await client.closed).code, 1000);
  } finally {
    client.ws.terminate();
    await front.close();
    await upstream.close();
  }
});

test('bytes read past either head are relayed: the client\'s early bytes and the upstream\'s', T, async () => {
  const upstream = await startUpstream(() => {});
  upstream.server.on('upgrade', (req, socket, head) => {
    // 101 and the first bytes of the new protocol in one write; then echo.
    socket.write(Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nWELCOME;'), head]));
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('end', () => socket.end());
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const socket = net.connect(front.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (received += chunk));
    socket.write('GET /e HTTP/1.1\r\nHost: e.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nEARLY');
    await waitUntil(() => received.endsWith('EARLY'), 3000, 'the early bytes echoed');
    const [head, rest] = received.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.deepEqual(fieldsOf(head), [['upgrade', 'echo'], ['via', '1.1 keel'], ['connection', 'Upgrade']]);
    assert.equal(rest, 'WELCOME;EARLY');
    socket.write('later');
    await waitUntil(() => received.endsWith('later'), 3000, 'the later bytes echoed');
    socket.end();
    await new Promise((resolve) => socket.once('close', resolve));
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('an upgrade the upstream refuses is relayed as its response, then the connection closes', T, async () => {
  const upstream = await startUpstream(() => {});
  upstream.server.on('upgrade', (req, socket) => {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nX-Why: nope\r\n\r\ndenied');
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${front.port}/`);
    const res = await new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, response) => resolve(response));
      ws.once('open', () => reject(new Error('opened')));
    });
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers['x-why'], 'nope');
    assert.equal(res.headers.via, '1.1 keel');
    assert.equal(res.headers.connection, 'close');
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(body, 'denied');
    ws.on('error', () => {});
    ws.terminate();
  } finally {
    await front.close();
    await upstream.close();
  }
});

test('an upgrade to an unreachable upstream gets 502, one that times out gets 504', T, async () => {
  const port = await closedPort();
  const dead = await startProxy({ target: `http://127.0.0.1:${port}` });
  const silent = await startUpstream(() => {});
  silent.server.on('upgrade', () => {}); // never answers
  const slow = await startProxy({ target: silent.url, timeout: 150 });
  try {
    for (const [front, status] of [[dead, 502], [slow, 504]]) {
      const ws = new WebSocket(`ws://127.0.0.1:${front.port}/`);
      const res = await new Promise((resolve, reject) => {
        ws.once('unexpected-response', (_req, response) => resolve(response));
        ws.once('open', () => reject(new Error('opened')));
      });
      assert.equal(res.statusCode, status);
      assert.equal(res.headers.connection, 'close');
      ws.on('error', () => {});
      ws.terminate();
    }
  } finally {
    await dead.close();
    await slow.close();
    await silent.close();
  }
});

test('a client that goes away before the 101 aborts the upstream upgrade request', T, async () => {
  let upstreamSocket = null;
  let closed = false;
  const upstream = await startUpstream(() => {});
  upstream.server.on('upgrade', (req, socket) => {
    upstreamSocket = socket;
    socket.resume(); // read, or the proxy's FIN goes unseen
    socket.once('end', () => (closed = true));
    socket.once('close', () => (closed = true));
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const socket = net.connect(front.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await waitUntil(() => upstreamSocket !== null, 2000, 'the upstream upgrade');
    socket.destroy();
    await waitUntil(() => closed, 1000, 'the upstream socket to close');
  } finally {
    await front.close();
    await upstream.close();
  }
});
