// keel/https createServer: Keel's server over TLS, with a self-signed certificate generated at test
// time (openssl). ALPN http/1.1, SNI, keep-alive, node:https and Keel clients, handshake failures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import nodeHttps from 'node:https';
import tls from 'node:tls';
import https from 'keel/https';
import http from 'keel';
import { Pool } from 'keel/client';
import { countEnds } from './raw.js';

let dir;
let key;
let cert;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'keel-https-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  key = readFileSync(path.join(dir, 'key.pem'));
  cert = readFileSync(path.join(dir, 'cert.pem'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function withServer(options, handler, fn) {
  const server = https.createServer({ key, cert, ...options }, handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(server, server.address().port);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('serves HTTPS: req.socket is the TLSSocket (encrypted, ALPN http/1.1, SNI), and it is Keel\'s Server', async () => {
  await withServer({}, (req, res) => {
    res.end(JSON.stringify({ encrypted: req.socket.encrypted, alpn: req.socket.alpnProtocol, sni: req.socket.servername, url: req.url }));
  }, async (server, port) => {
    assert.ok(server instanceof http.Server);
    const pool = new Pool(`https://localhost:${port}`, { tls: { ca: cert } });
    const res = await pool.request({ path: '/a?b=1' });
    assert.deepEqual(await res.body.json(), { encrypted: true, alpn: 'http/1.1', sni: 'localhost', url: '/a?b=1' });
    await pool.close();
  });
});

test('node:https clients work, keep-alive reuses one TLS connection; secureConnection fires once per connection', async () => {
  let secure = 0;
  await withServer({}, (req, res) => res.end('ok'), async (server, port) => {
    server.on('secureConnection', () => secure++);
    const agent = new nodeHttps.Agent({ keepAlive: true, ca: cert });
    for (let i = 0; i < 5; i++) {
      const body = await new Promise((resolve, reject) => {
        nodeHttps.get({ host: 'localhost', port, agent }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      assert.equal(body, 'ok');
    }
    agent.destroy();
    assert.equal(secure, 1);
  });
});

test('Connection: close over TLS ends the session through end() (close_notify), never the plain-TCP at-once close', async () => {
  await withServer({}, (req, res) => res.end('bye'), async (server, port) => {
    const ends = [];
    server.on('secureConnection', (socket) => ends.push(countEnds(socket)));
    const text = await new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: cert }, () => {
        socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      });
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (d) => (received += d));
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nConnection: close\r\n/i);
    assert.ok(text.endsWith('\r\n\r\nbye'));
    assert.equal(ends.length, 1);
    assert.equal(ends[0].ends, 1);
  });
});

test('a plaintext request on the TLS port is a tlsClientError, not a crash; the server keeps serving', async () => {
  const errors = [];
  await withServer({}, (req, res) => res.end('ok'), async (server, port) => {
    server.on('tlsClientError', (err) => errors.push(err));
    await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('error', () => {});
      socket.on('close', resolve);
    });
    assert.equal(errors.length, 1);
    const pool = new Pool(`https://localhost:${port}`, { tls: { ca: cert } });
    assert.equal(await (await pool.request({})).body.text(), 'ok');
    await pool.close();
  });
});

test('a handshake that never completes is destroyed after handshakeTimeout', async () => {
  await withServer({ handshakeTimeout: 200 }, (req, res) => res.end('ok'), async (server, port) => {
    const started = Date.now();
    await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1'); // connects, never says hello
      socket.on('error', () => {});
      socket.on('close', resolve);
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 150 && elapsed < 5000, `closed after ${elapsed} ms`);
  });
});

test('SNICallback picks the context; setSecureContext replaces the certificate for new connections', async () => {
  let asked = null;
  await withServer({
    SNICallback: (servername, cb) => {
      asked = servername;
      cb(null, tls.createSecureContext({ key, cert }));
    },
  }, (req, res) => res.end('sni'), async (server, port) => {
    const pool = new Pool(`https://localhost:${port}`, { tls: { ca: cert } });
    assert.equal(await (await pool.request({})).body.text(), 'sni');
    assert.equal(asked, 'localhost');
    await pool.close();
    server.setSecureContext({ key, cert });
    const again = new Pool(`https://localhost:${port}`, { tls: { ca: cert } });
    const res = await again.request({});
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'sni');
    await again.close();
  });
});
