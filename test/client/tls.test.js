// keel/client over TLS: a self-signed certificate made with openssl at test time, a node:https
// server, and Keel's Pool / request on https: origins — certificate verification (ca, no ca,
// rejectUnauthorized: false, the wrong name), ALPN http/1.1, SNI, keep-alive, bodies both ways,
// client certificates, redirects. Only 127.0.0.1 (the name "localhost" resolves to it).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Pool, Client, request } from 'keel/client';
import { listen, readAll, rejection, shut } from './promise-support.js';

const T = { timeout: 10_000 };

// Keel's node-compatible https client (src/keel-https.ts → `keel/https`).
const keelHttps = (await import('keel/https')).default;

/** A self-signed certificate for localhost and 127.0.0.1 in a temp dir; { dir, key, cert }. */
function makeCertificate(cn = 'localhost', san = 'DNS:localhost,IP:127.0.0.1') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keel-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    '-days', '1', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`,
  ], { stdio: 'pipe' });
  return { dir, key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

const DOWNLOAD = crypto.randomBytes(1024 * 1024);

describe('keel/client over TLS against node:https', () => {
  let pem;
  let other;
  let server;
  let origin; // https://localhost:PORT
  let ipOrigin; // https://127.0.0.1:PORT
  let port;
  const sniNames = [];
  let secureConnections = 0;

  before(async () => {
    pem = makeCertificate();
    other = makeCertificate('someone-else', 'DNS:someone-else');
    const context = tls.createSecureContext({ key: pem.key, cert: pem.cert, ca: [pem.cert] }); // (the ca verifies client certificates)
    server = https.createServer({
      key: pem.key,
      cert: pem.cert,
      ALPNProtocols: ['http/1.1'],
      SNICallback: (servername, callback) => {
        sniNames.push(servername);
        callback(null, context);
      },
      requestCert: true,
      rejectUnauthorized: false, // a client certificate is optional; /whoami reports it
      ca: [pem.cert],
    }, async (req, res) => {
      const body = await readAll(req);
      if (req.url === '/download') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(DOWNLOAD);
        return;
      }
      if (req.url.startsWith('/r302')) {
        res.writeHead(302, { location: req.url.slice(5) || '/final' });
        res.end();
        return;
      }
      const peer = req.socket.getPeerCertificate();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        method: req.method,
        url: req.url,
        host: req.headers.host,
        alpn: req.socket.alpnProtocol,
        servername: req.socket.servername,
        authorized: req.socket.authorized,
        clientCN: peer && peer.subject ? peer.subject.CN : null,
        length: body.length,
        sha256: sha256(body),
        te: req.headers['transfer-encoding'] ?? null,
      }));
    });
    server.on('secureConnection', () => secureConnections++);
    ipOrigin = await listen(server, 'https:');
    port = server.address().port;
    origin = `https://localhost:${port}`;
  });

  after(async () => {
    if (server) await shut(server);
    for (const p of [pem, other]) if (p) rmSync(p.dir, { recursive: true, force: true });
  });

  test('Pool(https://localhost, { tls: { ca } }): verified, ALPN http/1.1, SNI localhost', T, async () => {
    const pool = new Pool(origin, { tls: { ca: pem.cert } });
    try {
      const before = sniNames.length;
      const res = await pool.request({ path: '/info?x=1' });
      assert.equal(res.statusCode, 200);
      const seen = await res.body.json();
      assert.equal(seen.url, '/info?x=1');
      assert.equal(seen.host, `localhost:${port}`);
      assert.equal(seen.alpn, 'http/1.1');
      assert.equal(seen.servername, 'localhost');
      assert.deepEqual(sniNames.slice(before), ['localhost']);
    } finally {
      await pool.close();
    }
  });

  test('without the ca: rejected, the self-signed certificate is not trusted', T, async () => {
    const pool = new Pool(origin);
    try {
      const err = await rejection(pool.request({ path: '/info' }));
      assert.ok(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'].includes(err.code), `${err.code}: ${err.message}`);
    } finally {
      await pool.destroy();
    }
  });

  test('with another certificate as ca: rejected', T, async () => {
    const pool = new Pool(origin, { tls: { ca: other.cert } });
    try {
      const err = await rejection(pool.request({ path: '/info' }));
      assert.ok(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'].includes(err.code), `${err.code}: ${err.message}`);
    } finally {
      await pool.destroy();
    }
  });

  test('tls: { rejectUnauthorized: false } accepts the untrusted certificate', T, async () => {
    const pool = new Pool(origin, { tls: { rejectUnauthorized: false } });
    try {
      const seen = await (await pool.request({ path: '/info' })).body.json();
      assert.equal(seen.alpn, 'http/1.1');
    } finally {
      await pool.close();
    }
  });

  test('a name the certificate does not cover (servername: example.com) → ERR_TLS_CERT_ALTNAME_INVALID', T, async () => {
    const pool = new Pool(ipOrigin, { tls: { ca: pem.cert, servername: 'example.com' } });
    try {
      const err = await rejection(pool.request({ path: '/info' }));
      assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await pool.destroy();
    }
  });

  test('https://127.0.0.1: verified against the IP subjectAltName, no SNI (RFC 6066: no IP literals)', T, async () => {
    const pool = new Pool(ipOrigin, { tls: { ca: pem.cert } });
    try {
      const before = sniNames.length;
      const seen = await (await pool.request({ path: '/info' })).body.json();
      assert.equal(seen.host, `127.0.0.1:${port}`);
      assert.equal(seen.servername, false);
      assert.deepEqual(sniNames.slice(before), []);
    } finally {
      await pool.close();
    }
  });

  test('https://127.0.0.1 with tls.servername: localhost sends that SNI', T, async () => {
    const pool = new Pool(ipOrigin, { tls: { ca: pem.cert, servername: 'localhost' } });
    try {
      const before = sniNames.length;
      const seen = await (await pool.request({ path: '/info' })).body.json();
      assert.equal(seen.servername, 'localhost');
      assert.deepEqual(sniNames.slice(before), ['localhost']);
    } finally {
      await pool.close();
    }
  });

  test('keep-alive: 10 sequential requests over one TLS connection', T, async () => {
    const client = new Client(origin, { tls: { ca: pem.cert } });
    try {
      const before = secureConnections;
      for (let i = 0; i < 10; i++) {
        const seen = await (await client.request({ path: `/n${i}` })).body.json();
        assert.equal(seen.url, `/n${i}`);
      }
      assert.equal(secureConnections - before, 1);
    } finally {
      await client.close();
    }
  });

  test('bodies over TLS: a 1 MiB download and a 2 MiB streamed upload exact; 20 concurrent on connections: 4', T, async () => {
    const pool = new Pool(origin, { tls: { ca: pem.cert }, connections: 4 });
    try {
      const down = Buffer.from(await (await pool.request({ path: '/download' })).body.bytes());
      assert.equal(down.length, DOWNLOAD.length);
      assert.ok(down.equals(DOWNLOAD));

      const up = crypto.randomBytes(2 * 1024 * 1024);
      async function* gen() {
        for (let i = 0; i < up.length; i += 100_000) yield up.subarray(i, i + 100_000);
      }
      const seen = await (await pool.request({ method: 'POST', path: '/upload', body: gen() })).body.json();
      assert.equal(seen.te, 'chunked');
      assert.equal(seen.length, up.length);
      assert.equal(seen.sha256, sha256(up));

      const before = secureConnections;
      const all = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await pool.request({ method: 'PUT', path: `/c${i}`, body: `body ${i}` })).body.json()));
      all.forEach((s, i) => {
        assert.equal(s.url, `/c${i}`);
        assert.equal(s.sha256, sha256(Buffer.from(`body ${i}`)));
      });
      assert.ok(secureConnections - before <= 3, `${secureConnections - before} new connections (4 at most in all)`);
    } finally {
      await pool.close();
    }
  });

  test('a client certificate (tls: { cert, key }) reaches the server', T, async () => {
    const pool = new Pool(origin, { tls: { ca: pem.cert, cert: pem.cert, key: pem.key } });
    try {
      const seen = await (await pool.request({ path: '/whoami' })).body.json();
      assert.equal(seen.authorized, true);
      assert.equal(seen.clientCN, 'localhost');
    } finally {
      await pool.close();
    }
    const anonymous = new Pool(origin, { tls: { ca: pem.cert } });
    try {
      const seen = await (await anonymous.request({ path: '/whoami' })).body.json();
      assert.equal(seen.authorized, false);
    } finally {
      await anonymous.close();
    }
  });

  test('request(url, { tls }) over the shared pools', T, async () => {
    const res = await request(`${origin}/shared?q=1`, { tls: { ca: pem.cert } });
    const seen = await res.body.json();
    assert.equal(seen.url, '/shared?q=1');
    assert.equal(seen.alpn, 'http/1.1');
  });

  // Regression test (bug fixed in the engine): redirect hops go through the shared pools of request(url), which are created
  // without the Pool's tls options: a Pool trusting a private CA cannot follow a redirect on its
  // own https origin (the hop fails with DEPTH_ZERO_SELF_SIGNED_CERT).
  test('a same-origin redirect on an https Pool with a private ca is followed', { ...T }, async () => {
    // (a port of its own so that no shared pool from another test already exists for the origin)
    const solo = https.createServer({ key: pem.key, cert: pem.cert }, (req, res) => {
      if (req.url === '/start') res.writeHead(302, { location: '/final' }).end();
      else res.end(`final ${req.url}`);
    });
    await listen(solo, 'https:');
    const pool = new Pool(`https://localhost:${solo.address().port}`, { tls: { ca: pem.cert } });
    try {
      const res = await pool.request({ path: '/start', maxRedirections: 1 });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'final /final');
    } finally {
      await pool.destroy();
      await shut(solo);
    }
  });

  // Regression test (bug fixed in the engine): request(url, opts) keys its shared pools by origin alone, and the pool is created
  // with the tls options of the first request to that origin: a later request without
  // `rejectUnauthorized: false` (or with another ca) silently inherits them — here a request with
  // default verification accepts the untrusted certificate.
  test('request(url): tls options of one call do not leak into another call to the same origin', { ...T }, async () => {
    const solo = https.createServer({ key: pem.key, cert: pem.cert }, (req, res) => res.end('ok'));
    await listen(solo, 'https:');
    const url = `https://localhost:${solo.address().port}/`;
    try {
      const insecure = await request(url, { tls: { rejectUnauthorized: false } });
      assert.equal(insecure.statusCode, 200);
      await insecure.body.dump();
      const err = await rejection(request(url));
      assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      await shut(solo);
    }
  });

  // Keel's node-compatible https client (`keel/https`, src/keel-https.ts).

  test('keel/https: https.get with ca, ALPN and SNI', { ...T }, async () => {
    const seen = await new Promise((resolve, reject) => {
      const req = keelHttps.get(`${origin}/compat`, { ca: pem.cert }, (res) => {
        readAll(res).then((b) => resolve({ status: res.statusCode, json: JSON.parse(b.toString()) }), reject);
      });
      req.on('error', reject);
    });
    assert.equal(seen.status, 200);
    assert.equal(seen.json.url, '/compat');
    assert.equal(seen.json.alpn, 'http/1.1');
    assert.equal(seen.json.servername, 'localhost');
  });

  test('keel/https: an Agent with keepAlive and ca reuses one TLS connection; a POST body arrives', { ...T }, async () => {
    const agent = new keelHttps.Agent({ keepAlive: true, ca: pem.cert });
    const send = (method, path, body) => new Promise((resolve, reject) => {
      const req = keelHttps.request({ hostname: 'localhost', port, path, method, agent }, (res) => {
        readAll(res).then((b) => resolve(JSON.parse(b.toString())), reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    try {
      const before = secureConnections;
      for (let i = 0; i < 5; i++) assert.equal((await send('GET', `/k${i}`)).url, `/k${i}`);
      const seen = await send('POST', '/post', 'hello over tls');
      assert.equal(seen.method, 'POST');
      assert.equal(seen.sha256, sha256(Buffer.from('hello over tls')));
      assert.equal(seen.alpn, 'http/1.1');
      assert.equal(secureConnections - before, 1);
    } finally {
      agent.destroy();
    }
  });

  test('keel/https: rejectUnauthorized: false', { ...T }, async () => {
    const status = await new Promise((resolve, reject) => {
      const req = keelHttps.get(`${origin}/insecure`, { rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
    });
    assert.equal(status, 200);
  });

  test('keel/https: without ca the request errors with DEPTH_ZERO_SELF_SIGNED_CERT', { ...T }, async () => {
    const err = await new Promise((resolve, reject) => {
      const req = keelHttps.get(`${origin}/compat`, () => reject(new Error('expected an error')));
      req.on('error', resolve);
    });
    assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});

// Regression test, fixed (keel/https): HttpsAgent#getName keys a Buffer ca / cert / key by its first 64 bytes
// (base64) and any other value by the first 64 characters of its JSON: every `ca: [buffer]` gives
// the same key ('[{"type":"Buffer","data":[45,45,45,45,45,...' is the PEM header), so a request
// that trusts only another CA reuses a keep-alive connection verified against the first one.
// (node:https's Agent keys by the whole value.)
describe('keel/https Agent pool keys', () => {
  test('a request with ca: [other] does not reuse a connection verified with ca: [cert]', { ...T }, async () => {
    const pem = makeCertificate();
    const other = makeCertificate('someone-else', 'DNS:someone-else');
    const server = https.createServer({ key: pem.key, cert: pem.cert }, (req, res) => res.end('ok'));
    const port = Number(new URL(await listen(server, 'https:')).port);
    const agent = new keelHttps.Agent({ keepAlive: true });
    const get = (opts) => new Promise((resolve) => {
      const req = keelHttps.get({ host: 'localhost', port, path: '/', agent, ...opts }, (res) => {
        res.resume();
        res.on('end', () => resolve(`status ${res.statusCode}`));
      });
      req.on('error', (err) => resolve(err.code));
    });
    try {
      assert.equal(await get({ ca: [pem.cert] }), 'status 200');
      assert.equal(await get({ ca: [other.cert] }), 'DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      agent.destroy();
      await shut(server);
      rmSync(pem.dir, { recursive: true, force: true });
      rmSync(other.dir, { recursive: true, force: true });
    }
  });
});
