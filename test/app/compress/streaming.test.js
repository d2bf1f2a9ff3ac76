// keel/compress while streaming: res.flush() pushes compressed bytes out before the body ends,
// server-sent events are never compressed (nor held back), backpressure reaches the producer when
// the client stops reading, a client that goes away stops the compression, write after end errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import nodeHttp from 'node:http';
import net from 'node:net';
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { compress } from 'keel/compress';
import { waitUntil, sleep } from '../../server/raw.js';
import { serving, settled } from '../static/fixtures.js';

function behind(handler, options) {
  const middleware = compress(options);
  return (req, res) => middleware(req, res, () => handler(req, res));
}

/** GET with node:http, decoding the body per Content-Encoding as it arrives; `text()` is what arrived so far. */
function streamingGet(port, headers) {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.get({ host: '127.0.0.1', port, path: '/', headers, agent: false }, (res) => {
      const coding = res.headers['content-encoding'];
      const decoder = coding === 'gzip' ? zlib.createGunzip() : coding === 'br' ? zlib.createBrotliDecompress() : null;
      const out = decoder ?? res;
      if (decoder) res.pipe(decoder);
      let received = '';
      let ended = false;
      out.on('data', (chunk) => {
        received += chunk.toString();
      });
      out.on('end', () => {
        ended = true;
      });
      resolve({ res, text: () => received, ended: () => ended, destroy: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

for (const coding of ['gzip', 'br']) {
  test(`res.flush() sends what was written so far (${coding}), before the body ends`, async () => {
    let finish = null;
    await serving(behind((req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.write('part one;');
      res.flush();
      finish = () => res.end('part two');
    }), async (port) => {
      const client = await streamingGet(port, { 'Accept-Encoding': coding });
      try {
        assert.equal(client.res.headers['content-encoding'], coding);
        await waitUntil(() => client.text() === 'part one;', 2000, 'the flushed part');
        assert.equal(client.ended(), false);
        finish();
        await waitUntil(() => client.ended(), 2000, 'the end');
        assert.equal(client.text(), 'part one;part two');
      } finally {
        client.destroy();
      }
    });
  });
}

test('without flush() a small write stays inside zlib (what flush() is for)', async () => {
  let finish = null;
  await serving(behind((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.write('held;');
    finish = () => res.end('done');
  }), async (port) => {
    const client = await streamingGet(port, { 'Accept-Encoding': 'gzip' });
    try {
      await sleep(150);
      assert.equal(client.text(), '');
      finish();
      await waitUntil(() => client.ended(), 2000, 'the end');
      assert.equal(client.text(), 'held;done');
    } finally {
      client.destroy();
    }
  });
});

test('res.flush() is a harmless no-op on responses that are not compressed', async () => {
  await serving(behind((req, res) => {
    res.setHeader('Content-Type', 'image/png');
    res.write('abc');
    res.flush();
    res.flush(() => res.end('def'));
  }), async (port) => {
    const client = await streamingGet(port, { 'Accept-Encoding': 'gzip' });
    await waitUntil(() => client.ended(), 2000, 'the end');
    assert.equal(client.res.headers['content-encoding'], undefined);
    assert.equal(client.text(), 'abcdef');
  });
});

test('server-sent events: never compressed, each event arrives at once', async () => {
  let send = null;
  await serving(behind((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write('data: first\n\n');
    send = (line) => (line === null ? res.end() : res.write(line));
  }), async (port) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let raw = '';
    socket.on('data', (chunk) => {
      raw += chunk.toString('latin1');
    });
    try {
      socket.write('GET /events HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, br\r\n\r\n');
      await waitUntil(() => raw.includes('data: first\n\n'), 2000, 'the first event, in clear');
      assert.ok(!/content-encoding/i.test(raw.slice(0, raw.indexOf('\r\n\r\n'))));
      assert.ok(/Content-Type: text\/event-stream/.test(raw));
      send('data: second\n\n');
      await waitUntil(() => raw.includes('data: second\n\n'), 2000, 'the second event');
      send(null);
      await waitUntil(() => raw.endsWith('0\r\n\r\n'), 2000, 'the last chunk');
    } finally {
      socket.destroy();
    }
  });
});

test('backpressure: a client that stops reading stops the producer; reading again completes the body', async () => {
  const CHUNK = 64 * 1024;
  const TOTAL_CHUNKS = 600; // ~38 MiB of base64 text: ~28 MiB once gzipped
  const block = randomBytes((CHUNK * 3) / 4).toString('base64');
  let produced = 0;
  const expectedHash = createHash('sha256');
  for (let i = 0; i < TOTAL_CHUNKS; i++) expectedHash.update(`${String(i).padStart(6, '0')}${block.slice(6)}`);
  const expected = expectedHash.digest('hex');
  await serving(behind((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    const source = Readable.from((function* generate() {
      for (let i = 0; i < TOTAL_CHUNKS; i++) {
        produced++;
        yield `${String(i).padStart(6, '0')}${block.slice(6)}`;
      }
    })(), { objectMode: false });
    pipeline(source, res, () => {});
  }, { encodings: ['gzip'] }), async (port) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.pause();
      socket.write('GET / HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n');
      const stalledAt = await settled(() => produced);
      assert.ok(stalledAt < TOTAL_CHUNKS / 2, `produced ${stalledAt} of ${TOTAL_CHUNKS} chunks for a client that reads nothing`);
      const chunks = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.resume();
      await new Promise((resolve) => socket.once('close', resolve));
      const raw = Buffer.concat(chunks);
      const headEnd = raw.indexOf('\r\n\r\n');
      assert.ok(/Content-Encoding: gzip/.test(raw.subarray(0, headEnd).toString()));
      const body = dechunk(raw.subarray(headEnd + 4));
      const text = zlib.gunzipSync(body);
      assert.equal(text.length, TOTAL_CHUNKS * CHUNK);
      assert.equal(createHash('sha256').update(text).digest('hex'), expected);
    } finally {
      socket.destroy();
    }
  });
});

/** Decode a complete chunked body (no trailers expected). */
function dechunk(buf) {
  const parts = [];
  let p = 0;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', p);
    const size = parseInt(buf.subarray(p, lineEnd).toString('latin1'), 16);
    if (size === 0) break;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    p = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

test('a client that goes away: the producer is destroyed, nothing throws', async () => {
  let sourceClosed = false;
  let pipelineError = null;
  await serving(behind((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    const source = new Readable({
      read() {
        this.push('endless text that compresses well '.repeat(2000));
      },
    });
    source.on('close', () => {
      sourceClosed = true;
    });
    pipeline(source, res, (err) => {
      pipelineError = err;
    });
  }), async (port) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET / HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br\r\n\r\n');
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
    });
    await waitUntil(() => received > 1000, 2000, 'some compressed bytes');
    socket.destroy();
    await waitUntil(() => sourceClosed, 2000, 'the source to be destroyed');
    assert.ok(pipelineError, 'the pipeline ends with an error (premature close)');
  });
});

test('write after end: ERR_STREAM_WRITE_AFTER_END to the callback and as an error event', async () => {
  const errors = [];
  await serving(behind((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.on('error', (err) => errors.push(`event:${err.code}`));
    res.write('x'.repeat(2000));
    res.end();
    res.write('late', (err) => errors.push(`callback:${err?.code}`));
  }), async (port) => {
    const client = await streamingGet(port, { 'Accept-Encoding': 'gzip' });
    await waitUntil(() => client.ended(), 2000, 'the end');
    assert.equal(client.text(), 'x'.repeat(2000));
    await waitUntil(() => errors.length === 2, 1000, 'both errors');
    assert.deepEqual(errors.sort(), ['callback:ERR_STREAM_WRITE_AFTER_END', 'event:ERR_STREAM_WRITE_AFTER_END']);
  });
});
