// keel/proxy: bodies stream through, both ways, with backpressure: a chunked upload reaches the
// upstream before the client finished sending it; an 8 MiB download to a client that stops
// reading holds the upstream back instead of piling up in the proxy; bodies arrive intact.
//
//   npm run build && node --test test/app/proxy/streaming.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import nodeHttp from 'node:http';
import http from 'keel';

import { sleep, startProxy, startUpstream, waitUntil } from './helpers.js';

const T = { timeout: 20_000 };
const MiB = 1024 * 1024;
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

test('a chunked upload is streamed: the upstream reads the first chunk before the client sends the last', T, async () => {
  const received = [];
  let upstreamHeaders = null;
  const upstream = await startUpstream((req, res) => {
    upstreamHeaders = req.headers;
    req.on('data', (chunk) => received.push(chunk.toString()));
    req.on('end', () => res.end(`got ${received.join('').length} bytes`));
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const response = new Promise((resolve, reject) => {
      const req = nodeHttp.request({ port: front.port, host: '127.0.0.1', method: 'POST', path: '/upload', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      req.write('first-chunk;');
      // The rest is sent only once the upstream has seen the first chunk: nothing is buffered whole.
      waitUntil(() => received.join('') === 'first-chunk;', 3000, 'the first chunk upstream').then(() => {
        req.write('second-chunk;');
        req.end('last');
      }, reject);
    });
    const { status, body } = await response;
    assert.equal(status, 200);
    assert.equal(received.join(''), 'first-chunk;second-chunk;last');
    assert.equal(body, `got ${'first-chunk;second-chunk;last'.length} bytes`);
    assert.equal(upstreamHeaders['transfer-encoding'], 'chunked');
    assert.equal(upstreamHeaders['content-length'], undefined);
  } finally {
    await front.close();
    await upstream.close();
  }
});

/**
 * Download `total` bytes through the proxy to a client that stops reading for 800 ms; returns
 * what the upstream had sent by then. Checks the proxy's own buffering and the bytes received.
 */
async function stalledDownload(total) {
  const payload = randomBytes(total);
  let accepted = 0; // bytes the upstream's response has taken (write() callbacks run)
  const upstream = await startUpstream((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total });
    let offset = 0;
    const pump = () => {
      while (offset < total) {
        const chunk = payload.subarray(offset, offset + 64 * 1024);
        offset += chunk.length;
        const ok = res.write(chunk, () => (accepted += chunk.length));
        if (!ok) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  // Sample how much the proxy holds on its client side (response buffer + socket buffer).
  let maxHeld = 0;
  let sampler = null;
  const front = await startProxy({ target: upstream.url }, {
    wrap: (proxy) => (req, res) => {
      sampler = setInterval(() => {
        const held = res.writableLength + (res.socket?.writableLength ?? 0);
        if (held > maxHeld) maxHeld = held;
      }, 2);
      res.once('close', () => clearInterval(sampler));
      proxy(req, res);
    },
  });
  try {
    const res = await new Promise((resolve, reject) => {
      const req = nodeHttp.get({ port: front.port, host: '127.0.0.1', path: '/big', agent: false }, resolve);
      req.on('error', reject);
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], String(total));
    res.pause();
    await sleep(600);
    const acceptedWhilePaused = accepted;
    await sleep(200);
    // Stalled: nothing more was taken from the upstream while the client did not read.
    assert.equal(accepted, acceptedWhilePaused, 'the upstream kept sending while the client did not read');
    const hash = createHash('sha256');
    let length = 0;
    res.on('data', (chunk) => {
      hash.update(chunk);
      length += chunk.length;
    });
    res.resume();
    await new Promise((resolve, reject) => {
      res.on('end', resolve);
      res.on('error', reject);
    });
    assert.equal(length, total);
    assert.equal(hash.digest('hex'), sha256(payload));
    assert.ok(maxHeld < 512 * 1024, `the proxy held up to ${maxHeld} bytes for the client`);
    return acceptedWhilePaused;
  } finally {
    clearInterval(sampler);
    await front.close();
    await upstream.close();
  }
}

// Loopback socket buffers (proxy -> client and upstream -> proxy) can take about 10 MB here
// before anything pushes back, so 8 MiB may fit in them whole: the 8 MiB run checks the proxy's
// own buffering and the bytes; the 32 MiB run also checks that the upstream is held back.
test('an 8 MiB download to a client that stops reading: the proxy buffers little, the body arrives intact', T, async () => {
  await stalledDownload(8 * MiB);
});

test('a 32 MiB download to a client that stops reading holds the upstream back', T, async () => {
  const total = 32 * MiB;
  const sent = await stalledDownload(total);
  assert.ok(sent < total / 2, `the upstream sent ${sent} of ${total} bytes to a client that did not read`);
});

test('an 8 MiB upload to an upstream that stops reading: the proxy buffers little, the body arrives intact', T, async () => {
  // Loopback socket buffers can hold megabytes on each hop, so what is measured is what the proxy
  // itself holds: its request's readable buffer plus its upstream socket's write buffer.
  const total = 8 * MiB;
  const payload = randomBytes(total);
  let upstreamReq = null;
  const upstream = await startUpstream((req, res) => {
    upstreamReq = req;
    req.pause();
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on('end', () => res.end(JSON.stringify({ length, sha: hash.digest('hex') })));
  });
  const agent = new http.Agent({ keepAlive: true });
  let maxHeld = 0;
  let sampler = null;
  const front = await startProxy({ target: upstream.url, agent }, {
    wrap: (proxy) => (req, res) => {
      sampler = setInterval(() => {
        let held = req.readableLength;
        for (const sockets of Object.values(agent.sockets)) for (const socket of sockets) held += socket.writableLength;
        if (held > maxHeld) maxHeld = held;
      }, 2);
      res.once('close', () => clearInterval(sampler));
      proxy(req, res);
    },
  });
  try {
    let written = 0;
    const result = new Promise((resolve, reject) => {
      const req = nodeHttp.request({ port: front.port, host: '127.0.0.1', method: 'PUT', path: '/up', agent: false, headers: { 'Content-Length': total } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      let offset = 0;
      const pump = () => {
        while (offset < total) {
          const chunk = payload.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          const ok = req.write(chunk, () => (written += chunk.length));
          if (!ok) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    await waitUntil(() => upstreamReq !== null, 3000, 'the upstream request');
    await sleep(600);
    const writtenWhilePaused = written;
    await sleep(200);
    assert.equal(written, writtenWhilePaused, 'the client kept sending while the upstream did not read');
    assert.equal(upstreamReq.headers['content-length'], String(total));
    upstreamReq.resume();
    const { status, body } = await result;
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(body), { length: total, sha: sha256(payload) });
    assert.ok(maxHeld < 512 * 1024, `the proxy held up to ${maxHeld} bytes of the upload`);
  } finally {
    clearInterval(sampler);
    await front.close();
    await upstream.close();
    agent.destroy();
  }
});

test('trailer fields are relayed both ways with chunked bodies', T, async () => {
  let upstreamTrailers = null;
  const upstream = await startUpstream(async (req, res) => {
    req.resume();
    await new Promise((resolve) => req.once('end', resolve));
    upstreamTrailers = req.trailers;
    res.writeHead(200, { Trailer: 'X-Digest' });
    res.write('body');
    res.addTrailers({ 'X-Digest': 'sha-256=xyz' });
    res.end();
  });
  const front = await startProxy({ target: upstream.url });
  try {
    const res = await new Promise((resolve, reject) => {
      const req = nodeHttp.request({ port: front.port, host: '127.0.0.1', method: 'POST', agent: false, headers: { Trailer: 'X-Checksum' } }, resolve);
      req.on('error', reject);
      req.write('chunk');
      req.addTrailers({ 'X-Checksum': 'abc' });
      req.end();
    });
    res.resume();
    await new Promise((resolve) => res.once('end', resolve));
    assert.equal(upstreamTrailers['x-checksum'], 'abc');
    assert.equal(res.headers.trailer, 'X-Digest');
    assert.equal(res.trailers['x-digest'], 'sha-256=xyz');
  } finally {
    await front.close();
    await upstream.close();
  }
});
