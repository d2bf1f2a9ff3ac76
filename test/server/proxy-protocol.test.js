// The server's proxyProtocol option over real sockets: raw bytes with a v1 or v2 header before the
// HTTP request → the handler's req.socket.remoteAddress / remotePort / remoteFamily and
// socket.proxyAddress are the header's source (UNKNOWN / LOCAL: the real peer); the bytes after the
// header are served intact however they are split (to a TLS wrapper too); a missing or malformed
// header closes the connection with no response (a 'proxyProtocolError' event, ERR_PROXY_PROTOCOL),
// and so does a slow one at headersTimeout; close() drops connections still waiting for a header.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import http from 'keel';
import { ProxyHeaderReader, inheritProxyAddress } from '../../dist/server/proxy-protocol-socket.js';
import { withServer, post, get, sleep, waitUntil } from './raw.js';

const T = { timeout: 8000 };
const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** v2 PROXY TCP4 header (with optional TLV bytes). */
function v2tcp4(src, dst, sport, dport, tlvs = Buffer.alloc(0)) {
  const block = Buffer.concat([Buffer.from(src.split('.').map(Number)), Buffer.from(dst.split('.').map(Number)), u16(sport), u16(dport), tlvs]);
  return Buffer.concat([SIG, Buffer.from([0x21, 0x11]), u16(block.length), block]);
}
/** v2 PROXY TCP6 header from 8-word addresses. */
function v2tcp6(srcWords, dstWords, sport, dport) {
  const block = Buffer.concat([...srcWords.map(u16), ...dstWords.map(u16), u16(sport), u16(dport)]);
  return Buffer.concat([SIG, Buffer.from([0x21, 0x21]), u16(block.length), block]);
}
const V2_LOCAL = Buffer.concat([SIG, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
const u16 = (n) => Buffer.from([n >> 8, n & 0xff]);
const tlv = (type, value) => Buffer.concat([Buffer.from([type]), u16(value.length), Buffer.from(value)]);

/** Answers what the request's socket says about its peer. */
function whoAmI(req, res) {
  const s = req.socket;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ address: s.remoteAddress, port: s.remotePort, family: s.remoteFamily, proxy: 'proxyAddress' in s ? s.proxyAddress : 'unset', url: req.url }));
}

/** Record every 'proxyProtocolError' of h's server. */
function errorsOf(h) {
  const errors = [];
  h.server.on('proxyProtocolError', (err, socket) => errors.push({ err, destroyed: socket.destroyed }));
  return errors;
}

async function ask(h, bytes, n = 1) {
  const c = await h.connect();
  await c.write(bytes);
  const rs = await c.waitForResponses(n, 3000);
  return { c, rs, bodies: rs.map((r) => JSON.parse(r.body.toString())) };
}

test('v1 TCP4 header + request in one write: the handler sees the header source', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
    const { bodies, c } = await ask(h, `PROXY TCP4 203.0.113.7 198.51.100.1 56324 443\r\n${get('/v1')}`);
    assert.deepEqual(bodies[0], {
      address: '203.0.113.7', port: 56324, family: 'IPv4', url: '/v1',
      proxy: { address: '203.0.113.7', port: 56324, family: 'IPv4' },
    });
    assert.equal(h.requests[0].socket.localPort, h.port, 'the local side is untouched');
    assert.ok(await c.staysOpen(50), 'keep-alive');
  });
});

test('v1 TCP6 header: canonical IPv6 text', T, async () => {
  await withServer(whoAmI, { proxyProtocol: 'v1' }, async (h) => {
    const { bodies } = await ask(h, `PROXY TCP6 2001:DB8:0:0:0:0:0:7 2001:db8::1 1111 2222\r\n${get()}`);
    assert.deepEqual([bodies[0].address, bodies[0].port, bodies[0].family], ['2001:db8::7', 1111, 'IPv6']);
  });
});

test('v2 TCP4 and TCP6 headers', T, async () => {
  await withServer(whoAmI, { proxyProtocol: 'v2' }, async (h) => {
    const four = await ask(h, Buffer.concat([v2tcp4('192.0.2.44', '10.0.0.1', 40000, 80), Buffer.from(get('/4'))]));
    assert.deepEqual(four.bodies[0], { address: '192.0.2.44', port: 40000, family: 'IPv4', url: '/4', proxy: { address: '192.0.2.44', port: 40000, family: 'IPv4' } });
    const six = await ask(h, Buffer.concat([v2tcp6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99], [0, 0, 0, 0, 0, 0, 0, 1], 65535, 8080), Buffer.from(get('/6'))]));
    assert.deepEqual([six.bodies[0].address, six.bodies[0].port, six.bodies[0].family], ['2001:db8::99', 65535, 'IPv6']);
  });
});

test('v2 header with TLVs, written one byte at a time, then a POST with a body', T, async () => {
  await withServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    res.end(JSON.stringify({ address: req.socket.remoteAddress, port: req.socket.remotePort, body: Buffer.concat(chunks).toString() }));
  }, { proxyProtocol: true }, async (h) => {
    const header = v2tcp4('198.51.100.23', '10.0.0.1', 1234, 80, Buffer.concat([tlv(0x01, 'http/1.1'), tlv(0x03, [1, 2, 3, 4]), tlv(0xea, Buffer.alloc(200, 1))]));
    const c = await h.connect();
    for (const byte of header) await c.write(Buffer.from([byte]));
    await sleep(20);
    assert.equal(h.calls, 0);
    await c.write(post('/up', 'hello body'));
    const [r] = await c.waitForResponses(1);
    assert.deepEqual(JSON.parse(r.body.toString()), { address: '198.51.100.23', port: 1234, body: 'hello body' });
  });
});

test('header and request split at every offset of their bytes: always the same answer', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
    for (const header of [Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n'), v2tcp4('1.2.3.4', '5.6.7.8', 1111, 2222)]) {
      const bytes = Buffer.concat([header, Buffer.from(get('/split'))]);
      for (let cut = 1; cut < bytes.length; cut += 3) {
        const c = await h.connect();
        await c.write(bytes.subarray(0, cut));
        await sleep(1);
        await c.write(bytes.subarray(cut));
        const [r] = await c.waitForResponses(1);
        assert.deepEqual(JSON.parse(r.body.toString()).address, '1.2.3.4', `cut at ${cut}`);
        c.destroy();
      }
    }
  });
});

test('keep-alive and pipelining after the header: every request sees the header source', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
    const { c, bodies } = await ask(h, `PROXY TCP4 192.0.2.9 192.0.2.1 5555 80\r\n${get('/a')}${get('/b')}`, 2);
    await c.write(get('/c'));
    const rs = await c.waitForResponses(3);
    const all = [...bodies, JSON.parse(rs[2].body.toString())];
    assert.deepEqual(all.map((b) => [b.url, b.address, b.port]), [['/a', '192.0.2.9', 5555], ['/b', '192.0.2.9', 5555], ['/c', '192.0.2.9', 5555]]);
    assert.equal(new Set(h.requests.map((r) => r.socket)).size, 1, 'one connection');
  });
});

test('v1 UNKNOWN and v2 LOCAL: the real peer, proxyAddress null', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
    for (const header of [Buffer.from('PROXY UNKNOWN\r\n'), Buffer.from('PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n'), V2_LOCAL]) {
      const { c, bodies } = await ask(h, Buffer.concat([header, Buffer.from(get())]));
      assert.deepEqual(bodies[0], { address: '127.0.0.1', port: c.socket.localPort, family: 'IPv4', proxy: null, url: '/' });
    }
  });
});

test('no header: closed with no response, proxyProtocolError ERR_PROXY_PROTOCOL, handler never called', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
    const errors = errorsOf(h);
    const c = await h.connect();
    await c.write(get());
    await c.waitForClose();
    assert.equal(c.length, 0, 'no response bytes');
    assert.equal(h.calls, 0);
    await waitUntil(() => errors.length === 1);
    assert.equal(errors[0].err.code, 'ERR_PROXY_PROTOCOL');
    assert.equal(errors[0].err.offset, 0);
    assert.equal(errors[0].destroyed, true);
  });
});

test('malformed headers and the wrong version: closed with no response', T, async () => {
  const cases = [
    ['v1 bad port', true, 'PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n'],
    ['v1 LF only', true, 'PROXY TCP4 1.2.3.4 5.6.7.8 1 80\n'],
    ['v1 too long', true, `PROXY UNKNOWN ${'x'.repeat(120)}\r\n`],
    ['v2 bad version', true, Buffer.concat([SIG, Buffer.from([0x11, 0x11, 0, 0])])],
    ['v2 length over 4096', true, Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0x10, 0x01])])],
    ['v2 on a v1-only server', 'v1', v2tcp4('1.2.3.4', '5.6.7.8', 1, 2)],
    ['v1 on a v2-only server', 'v2', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
  ];
  for (const [name, option, header] of cases) {
    await withServer(whoAmI, { proxyProtocol: option }, async (h) => {
      const errors = errorsOf(h);
      const c = await h.connect();
      await c.write(Buffer.concat([Buffer.from(header), Buffer.from(get())]));
      await c.waitForClose();
      assert.equal(c.length, 0, name);
      assert.equal(h.calls, 0, name);
      await waitUntil(() => errors.length === 1, 2000, name);
      assert.equal(errors[0].err.code, 'ERR_PROXY_PROTOCOL', name);
    });
  }
});

test('slowloris header: closed at headersTimeout with no response', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true, headersTimeout: 300 }, async (h) => {
    const errors = errorsOf(h);
    // Half a header, then silence.
    const a = await h.connect();
    const sentAt = Date.now();
    await a.write('PROXY TCP4 1.2');
    // A header trickled a byte every 20 ms (it would take 2 s): the deadline does not move.
    const b = await h.connect();
    const trickle = b.trickle(`PROXY UNKNOWN ${'x'.repeat(90)}\r\n`, 20);
    await a.waitForClose(2000);
    await b.waitForClose(2000);
    await trickle;
    for (const c of [a, b]) {
      const elapsed = c.endedAt - sentAt;
      assert.ok(elapsed >= 250 && elapsed < 1300, `closed after ${elapsed} ms`);
      assert.equal(c.length, 0);
    }
    await waitUntil(() => errors.length === 2);
    assert.deepEqual(errors.map((e) => e.err.code), ['ERR_PROXY_PROTOCOL', 'ERR_PROXY_PROTOCOL']);
    assert.equal(h.calls, 0);
  });
});

test('the HTTP headersTimeout counts from the end of the PROXY header', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true, headersTimeout: 300 }, async (h) => {
    const c = await h.connect();
    await sleep(200);
    await c.write('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'); // within 300 ms of the connection
    await sleep(200); // 400 ms since the connection, 200 since the header
    assert.equal(c.ended, false);
    await c.write(get());
    const [r] = await c.waitForResponses(1);
    assert.equal(JSON.parse(r.body.toString()).address, '1.2.3.4');
  });
});

test('a client that connects and leaves without a byte: no error event', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
    const errors = errorsOf(h);
    const c = await h.connect();
    c.socket.end();
    await c.waitForClose();
    await sleep(30);
    assert.deepEqual(errors, []);
  });
});

test('header + request + FIN in one go: the response is still written', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
    const c = await h.connect();
    c.socket.end(`PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n${get('/fin', 'Connection: close\r\n')}`);
    await c.waitForClose();
    const [r] = c.responses();
    assert.equal(JSON.parse(r.body.toString()).address, '1.2.3.4');
  });
});

test('upgrade after the header: the listener sees the header source', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
    h.server.on('upgrade', (req, socket, head) => {
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n${socket.remoteAddress}:${socket.remotePort} ${head}`);
    });
    const c = await h.connect();
    await c.write(`PROXY TCP4 9.8.7.6 5.6.7.8 4321 80\r\n${get('/', 'Connection: Upgrade\r\nUpgrade: x\r\n')}early`);
    await c.waitForClose();
    assert.match(c.text, /\r\n\r\n9\.8\.7\.6:4321 early$/);
  });
});

test('close() drops connections still waiting for their header at once', T, async () => {
  await withServer(whoAmI, { proxyProtocol: true, headersTimeout: 0 }, async (h) => {
    const c = await h.connect();
    await c.write('PROXY TCP4 1.2.3');
    await waitUntil(() => h.sockets.size === 1);
    const startedAt = Date.now();
    const closed = new Promise((resolve) => h.server.close(resolve));
    await c.waitForClose(1000);
    await closed;
    assert.ok(Date.now() - startedAt < 1000);
    assert.equal(c.length, 0);
  });
});

test('closeAllConnections() and closeIdleConnections() drop them too', T, async () => {
  for (const method of ['closeAllConnections', 'closeIdleConnections']) {
    await withServer(whoAmI, { proxyProtocol: true }, async (h) => {
      const c = await h.connect();
      await c.write('PROXY ');
      await waitUntil(() => h.sockets.size === 1);
      h.server[method]();
      await c.waitForClose(1000);
    });
  }
});

test('option values: false (default) serves plain HTTP; anything but a boolean, "v1" or "v2" throws', T, async () => {
  for (const bad of ['v3', 'V1', 1, null, {}]) {
    assert.throws(() => http.createServer({ proxyProtocol: bad }), { code: 'ERR_INVALID_ARG_VALUE' }, String(bad));
  }
  await withServer(whoAmI, { proxyProtocol: false }, async (h) => {
    const { bodies, c } = await ask(h, get());
    assert.deepEqual(bodies[0], { address: '127.0.0.1', port: c.socket.localPort, family: 'IPv4', proxy: 'unset', url: '/' });
  });
  await withServer(whoAmI, {}, async (h) => {
    // Without the option a PROXY line is just a malformed request.
    const c = await h.connect();
    await c.write(`PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n${get()}`);
    await c.waitForClose();
    assert.ok(c.text.startsWith('HTTP/1.1 400 '), c.text);
    assert.equal(h.calls, 0);
  });
});

test('v2 UNIX source: proxyAddress carries the path, the peer getters stay the real ones', T, async () => {
  await withServer(whoAmI, { proxyProtocol: 'v2' }, async (h) => {
    const sunPath = (p) => { const b = Buffer.alloc(108); b.write(p); return b; };
    const block = Buffer.concat([sunPath('/run/client.sock'), sunPath('/run/keel.sock')]);
    const header = Buffer.concat([SIG, Buffer.from([0x21, 0x31]), u16(block.length), block]);
    const { bodies, c } = await ask(h, Buffer.concat([header, Buffer.from(get())]));
    assert.deepEqual(bodies[0], { address: '127.0.0.1', port: c.socket.localPort, family: 'IPv4', url: '/', proxy: { address: '/run/client.sock', port: 0, family: 'unix' } });
  });
});

test('a handle-taking wrapper (tls.TLSSocket) after the header reads the bytes that followed it; inheritProxyAddress', T, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keel-pp-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const secureContext = tls.createSecureContext({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) });
  const server = net.createServer((socket) => {
    new ProxyHeaderReader(socket, 'any', 2000, {
      onHeader(raw) {
        const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
        inheritProxyAddress(raw, secure);
        secure.on('error', () => {});
        secure.once('data', () => secure.end(`${secure.remoteAddress}:${secure.remotePort} ${JSON.stringify(secure.proxyAddress)}`));
      },
      onDropped() {},
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const header = 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n';
  for (const sameSegment of [false, true]) {
    const answer = await new Promise((resolve, reject) => {
      const raw = net.connect(server.address().port, '127.0.0.1');
      let first = true;
      // A JS transport, so that the header and the ClientHello can go out in one write.
      const transport = new Duplex({
        write(chunk, encoding, callback) {
          if (first) {
            first = false;
            if (sameSegment) chunk = Buffer.concat([Buffer.from(header), chunk]);
            else raw.write(header);
          }
          raw.write(chunk, callback);
        },
        read() {},
        final(callback) {
          raw.end();
          callback();
        },
      });
      raw.on('data', (d) => transport.push(d));
      raw.on('end', () => transport.push(null));
      raw.on('error', reject);
      const client = tls.connect({ socket: transport, rejectUnauthorized: false, servername: 'localhost' }, () => client.write('hello'));
      let text = '';
      client.on('data', (d) => (text += d));
      client.on('end', () => resolve(text));
      client.on('error', reject);
    });
    assert.equal(answer, '1.2.3.4:1111 {"address":"1.2.3.4","port":1111,"family":"IPv4"}', sameSegment ? 'same segment' : 'separate');
  }
});
