// `keel proxy` over real sockets: round-robin over two upstreams, forwarded fields, a dead upstream
// skipped, WebSocket-style upgrades tunnelled, and the health endpoints answered by keel itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { COMBINED, fetchRaw, linesOf, startKeel } from './keel-process.js';

const upstreams = [];
let keel;

function startUpstream(name) {
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ name, url: req.url, xff: req.headers['x-forwarded-for'], via: req.headers.via }));
  });
  server.on('upgrade', (req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\nX-Upstream: ${name}\r\n\r\n`);
    socket.pipe(socket); // echo
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  upstreams.push(await startUpstream('a'), await startUpstream('b'));
  const to = upstreams.map((s) => `http://127.0.0.1:${s.address().port}`).join(',');
  keel = await startKeel(['proxy', '--to', to, '--port', '0', '--host', '127.0.0.1']);
});

after(async () => {
  await keel?.stop();
  for (const server of upstreams) {
    server.closeAllConnections();
    server.close();
  }
});

test('the banner names the listener and the upstreams', () => {
  const [a, b] = upstreams.map((s) => `http://127.0.0.1:${s.address().port}`);
  assert.match(keel.stdout(), new RegExp(`^keel proxy: http://127\\.0\\.0\\.1:${keel.port} → ${a}, ${b}\n`));
});

test('requests go round-robin to the upstreams with X-Forwarded-For and Via; the access log has them', async () => {
  const names = [];
  for (let i = 0; i < 4; i++) {
    const res = await fetchRaw(keel.port, `/api/${i}?q=1`);
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body);
    assert.equal(body.url, `/api/${i}?q=1`);
    assert.equal(body.xff, '127.0.0.1');
    assert.match(body.via, /1\.1 keel/);
    names.push(body.name);
  }
  assert.deepEqual(names.sort(), ['a', 'a', 'b', 'b']);
  const [line] = await keel.waitFor(/^.*"GET \/api\/3\?q=1 HTTP\/1\.1".*$/m);
  assert.match(line, COMBINED);
  assert.match(line, / 200 \d+ "-" "-"$/);
});

test('/healthz and /readyz are answered by keel, not proxied', async () => {
  const res = await fetchRaw(keel.port, '/healthz');
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'ok\n');
  assert.equal((await fetchRaw(keel.port, '/readyz')).body.toString(), 'ok\n');
});

test('upgrades are tunnelled (server.on("upgrade", proxy.upgrade))', async () => {
  const socket = net.connect(keel.port, '127.0.0.1');
  socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
  let received = '';
  socket.setEncoding('latin1');
  await new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (d) => {
      received += d;
      if (received.includes('\r\n\r\n') && !received.includes('ping')) socket.write('ping');
      if (received.endsWith('ping')) resolve();
    });
  });
  socket.destroy();
  assert.match(received, /^HTTP\/1\.1 101 /);
  assert.match(received, /x-upstream: [ab]/i);
});

test('an upstream that is down: 502 at worst, then requests go to the live one', async () => {
  const dead = net.createServer();
  await new Promise((resolve) => dead.listen(0, '127.0.0.1', resolve));
  const deadPort = dead.address().port;
  await new Promise((resolve) => dead.close(resolve));
  const live = `http://127.0.0.1:${upstreams[0].address().port}`;
  const proxy = await startKeel(['proxy', '--to', `http://127.0.0.1:${deadPort},${live}`, '--port', '0', '--host', '127.0.0.1', '--log', 'off']);
  try {
    for (let i = 0; i < 4; i++) {
      const res = await fetchRaw(proxy.port, '/');
      assert.equal(res.status, 200); // GET is retried on the next upstream when the connect fails
      assert.equal(JSON.parse(res.body).name, 'a');
    }
    assert.equal(linesOf(proxy.stdout()).length, 1); // --log off: the banner only
  } finally {
    await proxy.stop();
  }
});
