// WebSockets over Keel: the server's 'upgrade' event hands (req, socket, head) to `ws`
// (`new WebSocketServer({ noServer: true })` + `wss.handleUpgrade`), exercised with a real `ws`
// client and with raw sockets; and Keel's client 'upgrade' event (res, socket, head) against it.
//
// ws has no public API to wrap an already-upgraded socket as a *client* WebSocket
// (`new WebSocket(null)` + the undocumented `setSocket()` always make a server-side, unmasked
// endpoint), so the Keel-client tests speak the frames by hand (RFC 6455 §5).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import http from 'keel';
import WebSocket, { WebSocketServer } from 'ws';

const T = { timeout: 5000 };
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(check, ms = 3000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolve with the event's arguments; reject on 'error' (unless it is the awaited event) or after `ms`. */
function once(emitter, event, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms waiting for '${event}'`)), ms);
    const onEvent = (...args) => done(null, args);
    const onError = (err) => done(err);
    function done(err, args) {
      clearTimeout(timer);
      emitter.removeListener(event, onEvent);
      if (event !== 'error') emitter.removeListener('error', onError);
      if (err) reject(err);
      else resolve(args);
    }
    emitter.on(event, onEvent);
    if (event !== 'error') emitter.on('error', onError);
  });
}

const acceptFor = (key) => crypto.createHash('sha1').update(key + GUID).digest('base64');
const newKey = () => crypto.randomBytes(16).toString('base64');

/** One WebSocket frame; `mask` true for client → server frames. */
function frame(payload, { opcode = 0x1, mask = true, fin = true } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = data.length;
  let header;
  if (len < 126) {
    header = Buffer.alloc(2);
    header[1] = len;
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (!mask) return Buffer.concat([header, data]);
  header[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([header, key, masked]);
}

/** Parse the complete frames at the start of `buf`: { frames: [{ fin, opcode, masked, payload }], rest }. */
function parseFrames(buf) {
  const frames = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const b0 = buf[off];
    const b1 = buf[off + 1];
    let len = b1 & 0x7f;
    let pos = off + 2;
    if (len === 126) {
      if (buf.length - pos < 2) break;
      len = buf.readUInt16BE(pos);
      pos += 2;
    } else if (len === 127) {
      if (buf.length - pos < 8) break;
      len = Number(buf.readBigUInt64BE(pos));
      pos += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key = null;
    if (masked) {
      if (buf.length - pos < 4) break;
      key = buf.subarray(pos, pos + 4);
      pos += 4;
    }
    if (buf.length - pos < len) break;
    let payload = Buffer.from(buf.subarray(pos, pos + len));
    if (masked) for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
    frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, masked, payload });
    off = pos + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** A raw client socket that records every byte; `head()` / `after()` split at the first blank line. */
async function rawConnect(port) {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  const c = {
    socket,
    buf: Buffer.alloc(0),
    closed: false,
    get text() {
      return c.buf.toString('latin1');
    },
  };
  socket.on('data', (d) => {
    c.buf = Buffer.concat([c.buf, d]);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    c.closed = true;
  });
  return c;
}

const upgradeRequest = (path, key, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
  `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

/**
 * A Keel server whose 'upgrade' listener hands the socket to a `ws` WebSocketServer in noServer
 * mode (or to `opts.onUpgrade`); every server-side WebSocket echoes what it receives.
 * Returns { server, wss, port, url, conns (server-side sockets), events, close() }.
 */
async function startWs(opts = {}) {
  const wss = new WebSocketServer({ noServer: true, ...(opts.wss ?? {}) });
  const h = { wss, conns: [], received: [], httpRequests: 0, tcpConnections: 0, clients: new Set() };
  const server = http.createServer((req, res) => {
    h.httpRequests++;
    res.setHeader('Content-Type', 'text/plain');
    res.end(`http:${req.url}`);
  });
  h.server = server;
  const sockets = new Set();
  server.on('connection', (socket) => {
    h.tcpConnections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    sockets.add(socket);
    if (opts.onUpgrade) return opts.onUpgrade(req, socket, head, h);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws, req) => {
    h.conns.push(ws);
    ws.upgradeReq = req;
    ws.on('error', () => {});
    if (opts.onConnection) return opts.onConnection(ws, req, h);
    ws.on('message', (data, isBinary) => {
      h.received.push({ data, isBinary });
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.port = server.address().port;
  h.url = `ws://127.0.0.1:${h.port}`;
  h.client = (path = '/chat', protocols, options) => {
    const ws = new WebSocket(`${h.url}${path}`, protocols, options);
    h.clients.add(ws);
    return ws;
  };
  h.close = async () => {
    for (const ws of h.clients) ws.terminate();
    for (const ws of wss.clients) ws.terminate();
    for (const socket of sockets) socket.destroy();
    wss.close();
    await new Promise((resolve) => server.close(() => resolve()));
  };
  return h;
}

async function withWs(opts, fn) {
  const h = await startWs(opts);
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

/** Collect the next `n` messages of a ws client. */
function messages(ws, n, ms = 3000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => {
      ws.removeListener('message', on);
      reject(new Error(`timed out: ${got.length}/${n} messages`));
    }, ms);
    const on = (data, isBinary) => {
      got.push({ data, isBinary });
      if (got.length === n) {
        clearTimeout(timer);
        ws.removeListener('message', on);
        resolve(got);
      }
    };
    ws.on('message', on);
  });
}

// ---- a real ws client against Keel + ws -----------------------------------------------------------

test('ws client ↔ Keel + WebSocketServer(noServer): text echo; the upgrade request reaches the listener intact', T, async () => {
  await withWs({}, async (h) => {
    const ws = h.client('/chat?room=1');
    const upgraded = once(ws, 'upgrade');
    const opened = once(ws, 'open'); // 'open' follows 'upgrade' synchronously
    const [res] = await upgraded;
    assert.equal(res.statusCode, 101);
    await opened;
    const reply = messages(ws, 2);
    ws.send('hello');
    ws.send('wörld ✓');
    const got = await reply;
    assert.deepEqual(got.map((m) => [m.data.toString(), m.isBinary]), [['hello', false], ['wörld ✓', false]]);
    const req = h.conns[0].upgradeReq;
    assert.equal(req.url, '/chat?room=1');
    assert.equal(req.method, 'GET');
    assert.equal(req.headers.upgrade, 'websocket');
    assert.equal(req.headers['sec-websocket-version'], '13');
    assert.equal(h.httpRequests, 0, "the 'request' listener is not called for an upgrade");
  });
});

test('binary frames: a 1 MiB Buffer round-trips byte-exact (and as binary)', T, async () => {
  await withWs({}, async (h) => {
    const ws = h.client();
    await once(ws, 'open');
    const big = crypto.randomBytes(1024 * 1024);
    const small = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    const reply = messages(ws, 2, 4000);
    ws.send(big);
    ws.send(small);
    const got = await reply;
    assert.equal(got[0].isBinary, true);
    assert.equal(got[0].data.length, big.length);
    assert.ok(got[0].data.equals(big), '1 MiB echo is byte-exact');
    assert.equal(got[1].isBinary, true);
    assert.ok(got[1].data.equals(small));
    assert.ok(h.received[0].data.equals(big), 'the server received it exactly too');
  });
});

test('1000 small messages arrive in order, both ways', T, async () => {
  await withWs({}, async (h) => {
    const ws = h.client();
    await once(ws, 'open');
    const N = 1000;
    const reply = messages(ws, N, 4000);
    for (let i = 0; i < N; i++) ws.send(`m${i}`);
    const got = await reply;
    assert.deepEqual(got.map((m) => m.data.toString()), Array.from({ length: N }, (_, i) => `m${i}`));
    assert.deepEqual(h.received.map((m) => m.data.toString()), Array.from({ length: N }, (_, i) => `m${i}`));
  });
});

test('ping/pong both ways (payloads preserved)', T, async () => {
  await withWs({}, async (h) => {
    const ws = h.client();
    await once(ws, 'open');
    const server = h.conns[0];
    const serverPing = once(server, 'ping');
    const clientPong = once(ws, 'pong');
    ws.ping('from-client');
    const [pingData] = await serverPing;
    assert.equal(pingData.toString(), 'from-client');
    const [pongData] = await clientPong;
    assert.equal(pongData.toString(), 'from-client');

    const clientPing = once(ws, 'ping');
    const serverPong = once(server, 'pong');
    server.ping(Buffer.from('from-server'));
    assert.equal((await clientPing)[0].toString(), 'from-server');
    assert.equal((await serverPong)[0].toString(), 'from-server');
  });
});

test('close codes: the client closes with 4001 "bye" → the server sees 4001/"bye"', T, async () => {
  await withWs({}, async (h) => {
    const ws = h.client();
    await once(ws, 'open');
    const serverClose = once(h.conns[0], 'close');
    const clientClose = once(ws, 'close');
    ws.close(4001, 'bye');
    const [code, reason] = await serverClose;
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'bye');
    const [ccode, creason] = await clientClose;
    assert.equal(ccode, 4001); // the server echoed the close frame
    assert.equal(creason.toString(), 'bye');
  });
});

test('close codes: the server closes with 1001 → the client sees 1001', T, async () => {
  await withWs({}, async (h) => {
    const ws = h.client();
    await once(ws, 'open');
    const clientClose = once(ws, 'close');
    const serverClose = once(h.conns[0], 'close');
    h.conns[0].close(1001, 'going away');
    const [code, reason] = await clientClose;
    assert.equal(code, 1001);
    assert.equal(reason.toString(), 'going away');
    assert.equal((await serverClose)[0], 1001);
  });
});

test('subprotocol negotiation: Sec-WebSocket-Protocol picked by handleProtocols', T, async () => {
  let offered = null;
  const wss = {
    handleProtocols: (protocols) => {
      offered = [...protocols];
      return protocols.has('chat.v2') ? 'chat.v2' : false;
    },
  };
  await withWs({ wss }, async (h) => {
    const ws = h.client('/chat', ['chat.v1', 'chat.v2']);
    const upgraded = once(ws, 'upgrade');
    const opened = once(ws, 'open');
    const [res] = await upgraded;
    assert.equal(res.headers['sec-websocket-protocol'], 'chat.v2');
    await opened;
    assert.equal(ws.protocol, 'chat.v2');
    assert.equal(h.conns[0].protocol, 'chat.v2');
    assert.deepEqual(offered, ['chat.v1', 'chat.v2']);
    assert.equal(h.conns[0].upgradeReq.headers['sec-websocket-protocol'], 'chat.v1,chat.v2'); // as ws sends it
    const reply = messages(ws, 1);
    ws.send('proto');
    assert.equal((await reply)[0].data.toString(), 'proto');

    // No protocol offered → none selected.
    const ws2 = h.client('/chat');
    await once(ws2, 'open');
    assert.equal(ws2.protocol, '');
  });
});

async function rejectedUpgrade(onUpgrade) {
  await withWs({ onUpgrade }, async (h) => {
    const ws = h.client('/chat');
    const opened = [];
    ws.on('open', () => opened.push(1));
    const [req, res] = await once(ws, 'unexpected-response');
    ws.on('error', () => {}); // the aborted request may surface as an error afterwards
    req.destroy(); // as ws expects of an 'unexpected-response' listener
    assert.equal(res.statusCode, 401);
    assert.equal(res.statusMessage, 'Unauthorized');
    assert.equal(opened.length, 0);
    assert.notEqual(ws.readyState, WebSocket.OPEN);
    assert.equal(h.conns.length, 0);
  });
}

test('rejected upgrade: the listener writes 401 and ends the socket → ws client gets unexpected-response 401', T, async () => {
  await rejectedUpgrade((req, socket) => {
    socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
  });
});

// Regression test, fixed: the socket handed to the 'upgrade' listener is still corked. ServerConnection#onData
// wraps the parse loop in socket.cork()/uncork(), and #finishUpgrade emits 'upgrade' from inside
// it, so `socket.write(...)` is only buffered and a following `socket.destroy()` throws it away:
// the client sees a bare close ('socket hang up') instead of the 401. node:http hands over an
// uncorked socket (writableCorked === 0) and the 401 arrives. This is the exact pattern of ws's
// README ("socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n'); socket.destroy();").
// Minimal repro:
//   const s = http.createServer(); s.on('upgrade', (req, sock) => {
//     console.log(sock.writableCorked);                 // keel: 1, node:http: 0
//     sock.write('HTTP/1.1 401 Unauthorized\r\n\r\n'); sock.destroy(); });
//   → new WebSocket(url) gets 'error' socket hang up (node:http: 'unexpected-response' 401).
test('rejected upgrade: the listener writes 401 and destroys → ws client gets unexpected-response 401', {
  ...T,
}, async () => {
  let corked = null;
  await rejectedUpgrade((req, socket) => {
    corked = socket.writableCorked;
    socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
    socket.destroy();
  });
  assert.equal(corked, 0, 'the socket is handed over uncorked, as node:http does');
});

test('permessage-deflate on both sides: compressed text echo (RSV1 set on the wire)', T, async () => {
  const wss = { perMessageDeflate: { threshold: 0 } };
  await withWs({ wss }, async (h) => {
    const ws = h.client('/chat', undefined, { perMessageDeflate: { threshold: 0 } });
    const upgraded = once(ws, 'upgrade');
    const opened = once(ws, 'open');
    const [res] = await upgraded;
    assert.match(res.headers['sec-websocket-extensions'], /^permessage-deflate/);
    await opened;
    assert.match(ws.extensions, /permessage-deflate/);
    // Watch the raw bytes the server writes (after the 101): the data frame must carry RSV1.
    const wire = [];
    const origWrite = h.conns[0]._socket.write.bind(h.conns[0]._socket);
    h.conns[0]._socket.write = (chunk, ...rest) => {
      wire.push(Buffer.from(chunk));
      return origWrite(chunk, ...rest);
    };
    const text = 'compress me '.repeat(2000);
    const reply = messages(ws, 2);
    ws.send(text);
    ws.send('short ✓');
    const got = await reply;
    assert.equal(got[0].data.toString(), text);
    assert.equal(got[1].data.toString(), 'short ✓');
    const { frames } = parseFrames(Buffer.concat(wire));
    assert.ok(frames.length >= 1);
    assert.equal(frames[0].rsv1, true, 'the echoed frame is compressed');
    assert.ok(frames[0].payload.length < text.length / 10, 'and much smaller than the text');
  });
});

test('keep-alive HTTP requests on the same server still work while WebSockets are open', T, async () => {
  await withWs({}, async (h) => {
    const sockets = [h.client('/a'), h.client('/b'), h.client('/c')];
    await Promise.all(sockets.map((ws) => once(ws, 'open')));
    const before = h.tcpConnections;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports = [];
      for (let i = 0; i < 5; i++) {
        const body = await new Promise((resolve, reject) => {
          const req = http.request({ port: h.port, host: '127.0.0.1', path: `/plain/${i}`, agent }, (res) => {
            assert.equal(res.statusCode, 200);
            assert.notEqual(res.headers.connection, 'close');
            ports.push(req.socket.localPort);
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (data += d));
            res.on('end', () => resolve(data));
          });
          req.on('error', reject);
          req.end();
        });
        assert.equal(body, `http:/plain/${i}`);
        // interleave WebSocket traffic
        const reply = messages(sockets[i % 3], 1);
        sockets[i % 3].send(`ws${i}`);
        assert.equal((await reply)[0].data.toString(), `ws${i}`);
      }
      assert.equal(new Set(ports).size, 1, 'one kept-alive connection served all five requests');
      assert.equal(h.tcpConnections - before, 1);
      assert.equal(h.httpRequests, 5);
    } finally {
      agent.destroy();
    }
    assert.ok(sockets.every((ws) => ws.readyState === WebSocket.OPEN));
  });
});

// ---- raw sockets: head and pipelining ----------------------------------------------------------------

test('first frame in the same TCP write as the upgrade request: reaches ws via head', T, async () => {
  await withWs({}, async (h) => {
    const c = await rawConnect(h.port);
    const key = newKey();
    const payload = Buffer.concat([
      Buffer.from(upgradeRequest('/chat', key), 'latin1'),
      frame('early bird'),
      frame(Buffer.from([9, 8, 7]), { opcode: 0x2 }),
    ]);
    c.socket.write(payload); // ONE write
    await waitUntil(() => c.text.includes('\r\n\r\n'), 3000, 'the 101');
    const end = c.text.indexOf('\r\n\r\n') + 4;
    const head = c.text.slice(0, end);
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head, new RegExp(`\r\nSec-WebSocket-Accept: ${acceptFor(key).replace(/[+/]/g, '\\$&')}\r\n`, 'i'));
    await waitUntil(() => parseFrames(c.buf.subarray(end)).frames.length >= 2, 3000, 'the echoes');
    const { frames } = parseFrames(c.buf.subarray(end));
    assert.equal(frames[0].opcode, 0x1);
    assert.equal(frames[0].masked, false);
    assert.equal(frames[0].payload.toString(), 'early bird');
    assert.equal(frames[1].opcode, 0x2);
    assert.deepEqual([...frames[1].payload], [9, 8, 7]);
    assert.deepEqual(h.received.map((m) => m.data.toString('latin1')), ['early bird', '\x09\x08\x07']);
    c.socket.destroy();
  });
});

test('the upgrade request split byte by byte still upgrades, and a frame split mid-way arrives whole', T, async () => {
  await withWs({}, async (h) => {
    const c = await rawConnect(h.port);
    const key = newKey();
    const bytes = Buffer.concat([Buffer.from(upgradeRequest('/chat', key), 'latin1'), frame('split')]);
    for (let i = 0; i < bytes.length; i += 7) {
      c.socket.write(bytes.subarray(i, i + 7));
      await sleep(0);
    }
    await waitUntil(() => h.received.length === 1, 3000, 'the message');
    assert.equal(h.received[0].data.toString(), 'split');
    c.socket.destroy();
  });
});

test('upgrade pipelined after a normal GET (one write): the GET is answered first, then the 101', T, async () => {
  await withWs({}, async (h) => {
    const c = await rawConnect(h.port);
    const key = newKey();
    c.socket.write(Buffer.concat([
      Buffer.from('GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' + upgradeRequest('/chat', key), 'latin1'),
      frame('after pipelining'),
    ]));
    await waitUntil(() => h.received.length === 1, 3000, 'the message');
    await waitUntil(() => c.text.includes('101 Switching'), 3000, 'the 101');
    const text = c.text;
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    const first = text.indexOf('http:/first');
    const switching = text.indexOf('HTTP/1.1 101 Switching Protocols\r\n');
    assert.ok(first > 0 && switching > first, text);
    assert.equal(switching, first + 'http:/first'.length, 'the 101 follows the GET response directly');
    const end = text.indexOf('\r\n\r\n', switching) + 4;
    await waitUntil(() => parseFrames(c.buf.subarray(end)).frames.length >= 1, 3000, 'the echo');
    assert.equal(parseFrames(c.buf.subarray(end)).frames[0].payload.toString(), 'after pipelining');
    assert.equal(h.received[0].data.toString(), 'after pipelining');
    assert.equal(h.httpRequests, 1);
    c.socket.destroy();
  });
});

test('upgrade pipelined behind a slow response: bytes sent while waiting still reach ws', T, async () => {
  await withWs({}, async (h) => {
    // Replace the request listener with a slow one.
    h.server.removeAllListeners('request');
    h.server.on('request', (req, res) => setTimeout(() => res.end('slow'), 100));
    const c = await rawConnect(h.port);
    const key = newKey();
    c.socket.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n' + upgradeRequest('/chat', key));
    await sleep(20);
    c.socket.write(frame('sent while the GET was pending'));
    await waitUntil(() => h.received.length === 1, 3000, 'the message');
    assert.equal(h.received[0].data.toString(), 'sent while the GET was pending');
    await waitUntil(() => c.text.includes('101 Switching'), 3000, 'the 101');
    const text = c.text;
    assert.ok(text.indexOf('slow') < text.indexOf('101 Switching'), text);
    c.socket.destroy();
  });
});

// ---- Keel's client -----------------------------------------------------------------------------

function keelUpgrade(port, extraHeaders = {}, waitForUpgrade = true) {
  const key = newKey();
  const req = http.request({
    port,
    host: '127.0.0.1',
    path: '/chat',
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
      ...extraHeaders,
    },
  });
  const result = waitForUpgrade ? once(req, 'upgrade') : null;
  req.end();
  return { key, req, result };
}

/** Collect everything that arrives on `socket` (after `head`) into an accumulator. */
function collect(socket, head) {
  const acc = { buf: Buffer.from(head), ended: false };
  socket.on('data', (d) => {
    acc.buf = Buffer.concat([acc.buf, d]);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    acc.ended = true;
  });
  return acc;
}

test("Keel client: 'upgrade' (res, socket, head) → 101; masked frames echoed by ws; close handshake", T, async () => {
  await withWs({ wss: { handleProtocols: (p) => (p.has('echo') ? 'echo' : false) } }, async (h) => {
    const { key, req, result } = keelUpgrade(h.port, { 'Sec-WebSocket-Protocol': 'echo' });
    let responseEvents = 0;
    req.on('response', () => responseEvents++);
    const [res, socket, head] = await result;
    assert.equal(res.statusCode, 101);
    assert.equal(res.headers.upgrade.toLowerCase(), 'websocket');
    assert.equal(res.headers.connection.toLowerCase(), 'upgrade');
    assert.equal(res.headers['sec-websocket-accept'], acceptFor(key));
    assert.equal(res.headers['sec-websocket-protocol'], 'echo');
    assert.ok(Buffer.isBuffer(head));
    assert.ok(socket instanceof net.Socket);
    assert.equal(responseEvents, 0);
    const acc = collect(socket, head);
    socket.write(frame('hello from keel'));
    socket.write(frame(Buffer.alloc(70000, 0xab), { opcode: 0x2 })); // 64-bit length form
    socket.write(frame('ping?', { opcode: 0x9 }));
    await waitUntil(() => parseFrames(acc.buf).frames.length >= 3, 3000, 'echoes');
    const { frames } = parseFrames(acc.buf);
    assert.equal(frames[0].opcode, 0x1);
    assert.equal(frames[0].masked, false);
    assert.equal(frames[0].payload.toString(), 'hello from keel');
    assert.equal(frames[1].opcode, 0x2);
    assert.ok(frames[1].payload.equals(Buffer.alloc(70000, 0xab)));
    assert.equal(frames[2].opcode, 0xa, 'pong');
    assert.equal(frames[2].payload.toString(), 'ping?');
    // Close handshake: 4001 "bye".
    const serverClose = once(h.conns[0], 'close');
    const closePayload = Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from('bye')]);
    socket.write(frame(closePayload, { opcode: 0x8 }));
    const [code, reason] = await serverClose;
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'bye');
    await waitUntil(() => parseFrames(acc.buf).frames.length >= 4, 3000, 'the close echo');
    const closeEcho = parseFrames(acc.buf).frames[3];
    assert.equal(closeEcho.opcode, 0x8);
    assert.equal(closeEcho.payload.readUInt16BE(0), 4001);
    socket.destroy();
  });
});

test("Keel client: a frame the server writes together with the 101 arrives in 'head'", T, async () => {
  const onUpgrade = (req, socket, head) => {
    const key = req.headers['sec-websocket-key'];
    socket.write(Buffer.concat([
      Buffer.from(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
        'latin1',
      ),
      frame('welcome', { mask: false }),
    ]));
    socket.on('data', () => {});
    socket.on('error', () => {});
  };
  await withWs({ onUpgrade }, async (h) => {
    const { key, result } = keelUpgrade(h.port);
    const [res, socket, head] = await result;
    assert.equal(res.statusCode, 101);
    assert.equal(res.headers['sec-websocket-accept'], acceptFor(key));
    const acc = collect(socket, head);
    await waitUntil(() => parseFrames(acc.buf).frames.length >= 1, 3000, 'welcome');
    assert.equal(parseFrames(acc.buf).frames[0].payload.toString(), 'welcome');
    assert.ok(head.length > 0, 'written in one go with the 101 → handed over as head');
    socket.destroy();
  });
});

test("Keel client: a rejected upgrade (401) is a plain 'response', not 'upgrade'", T, async () => {
  const onUpgrade = (req, socket) => {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope');
  };
  await withWs({ onUpgrade }, async (h) => {
    const { req } = keelUpgrade(h.port, {}, false);
    let upgrades = 0;
    req.on('upgrade', (res, socket) => {
      upgrades++;
      socket.destroy();
    });
    const [res] = await once(req, 'response');
    assert.equal(res.statusCode, 401);
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    await once(res, 'end');
    assert.equal(body, 'nope');
    assert.equal(upgrades, 0);
  });
});
