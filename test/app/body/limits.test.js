// keel/body size limits and Content-Encoding: 413 from Content-Length before any byte is read,
// 413 while streaming chunked, the zip bomb stopped after about `limit` inflated bytes, the drain
// rule (small rest drained and the connection kept, long rest left unread and the connection
// closed), gzip/deflate/br decoding, 415 for unknown codings and 400 for corrupt ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { json, raw, jsonParser, parseByteSize, sendError, BODY_LIMIT_BYTES, DRAIN_LIMIT_BYTES } from 'keel/body';
import { withServer, request, post, head, chunked, deferred, within } from './support.js';

const KiB = 1024;
const MiB = 1024 * 1024;

/** A server that reads the body with `read(req)`, reports what happened, and answers. */
function reporting(read) {
  const seen = [];
  const handler = async (req, res) => {
    try {
      const value = await read(req);
      seen.push({ ok: true, bytesRead: req.socket.bytesRead });
      res.end(JSON.stringify({ length: Buffer.isBuffer(value) ? value.length : JSON.stringify(value).length }));
    } catch (err) {
      seen.push({ ok: false, code: err.code, status: err.status, headers: err.headers, bytesRead: req.socket.bytesRead });
      sendError(res, err);
    }
  };
  return { handler, seen };
}

test('limits: the default is 1 MiB; the drain limit 64 KiB; sizes parse as binary units', () => {
  assert.equal(BODY_LIMIT_BYTES, MiB);
  assert.equal(DRAIN_LIMIT_BYTES, 64 * KiB);
  assert.equal(parseByteSize('1mb'), MiB);
  assert.equal(parseByteSize('1.5 KiB'), 1536);
  assert.equal(parseByteSize('100b'), 100);
  assert.equal(parseByteSize('2GB'), 2 * 1024 ** 3);
  assert.equal(parseByteSize(0), 0);
  assert.equal(parseByteSize(Infinity), Infinity);
  for (const bad of ['1 parsec', '-1', 'mb', -5, 1.5, NaN, null]) {
    assert.throws(() => parseByteSize(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }, String(bad));
  }
  assert.throws(() => jsonParser({ limit: 'lots' }), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('413 ERR_BODY_TOO_LARGE from Content-Length before reading: Connection: close, nothing read, connection closed', async () => {
  const { handler, seen } = reporting((req) => json(req, { limit: '1kb' }));
  await withServer(handler, async (h) => {
    const client = await h.connect();
    // Only the head: a server that waited for the body would never answer.
    await client.write(head('POST', '/', { 'Content-Type': 'application/json', 'Content-Length': 10 * MiB }));
    const r = await client.response();
    assert.equal(r.status, 413);
    assert.equal(r.headers.connection, 'close');
    const { error } = JSON.parse(r.body);
    assert.equal(error.code, 'ERR_BODY_TOO_LARGE');
    assert.match(error.message, /10485760 bytes \(Content-Length\) exceeds the limit of 1024 bytes/);
    await client.waitForClose();
    assert.equal(seen[0].headers.connection, 'close');
    assert.ok(seen[0].bytesRead < 1024, `read ${seen[0].bytesRead} bytes`);
  });
});

test('413 from Content-Length with a rest small enough to drain: the connection stays usable', async () => {
  const { handler, seen } = reporting((req) => json(req, { limit: 100 }));
  await withServer(handler, async (h) => {
    const client = await h.connect();
    await client.write(Buffer.concat([post('/', { 'Content-Type': 'application/json' }, `[${'1,'.repeat(500)}1]`), post('/', { 'Content-Type': 'application/json' }, '[1]')]));
    const first = await client.response(1);
    const second = await client.response(2);
    assert.equal(first.status, 413);
    assert.equal(first.headers.connection, 'keep-alive');
    assert.equal(second.status, 200);
    assert.deepEqual(seen[0].headers, {});
  });
});

test('limit: exactly `limit` bytes pass, one more is 413 (Content-Length and chunked)', async () => {
  const { handler } = reporting((req) => raw(req, { limit: '1kb' }));
  await withServer(handler, async (h) => {
    assert.equal((await request(h, post('/', {}, Buffer.alloc(1024)))).status, 200);
    assert.equal((await request(h, post('/', {}, Buffer.alloc(1025)))).status, 413);
    const te = { 'Transfer-Encoding': 'chunked' };
    assert.equal((await request(h, Buffer.concat([Buffer.from(head('POST', '/', te)), chunked([Buffer.alloc(1000), Buffer.alloc(24)])]))).status, 200);
    assert.equal((await request(h, Buffer.concat([Buffer.from(head('POST', '/', te)), chunked([Buffer.alloc(1000), Buffer.alloc(25)])]))).status, 413);
  });
});

test('413 while streaming a chunked body; a rest within the drain limit is drained and the connection reused', async () => {
  const { handler, seen } = reporting((req) => raw(req, { limit: 1000 }));
  await withServer(handler, async (h) => {
    const client = await h.connect();
    const body = chunked([Buffer.alloc(800, 1), Buffer.alloc(800, 2), Buffer.alloc(800, 3)]);
    await client.write(Buffer.concat([Buffer.from(head('POST', '/', { 'Transfer-Encoding': 'chunked' })), body, post('/', {}, 'ok')]));
    const first = await client.response(1);
    assert.equal(first.status, 413);
    assert.equal(first.headers.connection, 'keep-alive');
    assert.equal(JSON.parse(first.body).error.code, 'ERR_BODY_TOO_LARGE');
    const second = await client.response(2);
    assert.equal(second.status, 200);
    assert.equal(seen[0].code, 'ERR_BODY_TOO_LARGE');
  });
});

test('413 while streaming an endless chunked body: reading stops within limit + drain limit, Connection: close, closed', async () => {
  const limit = 32 * KiB;
  const { handler, seen } = reporting((req) => raw(req, { limit }));
  await withServer(handler, async (h) => {
    const client = await h.connect();
    await client.write(head('POST', '/', { 'Transfer-Encoding': 'chunked' }));
    const piece = chunked([Buffer.alloc(16 * KiB, 7)]).subarray(0, -5); // one chunk, no last-chunk
    const answered = client.response();
    answered.catch(() => {});
    let sent = 0;
    const gotAnswer = deferred();
    answered.then(gotAnswer.resolve, gotAnswer.resolve);
    while (sent < 8 * MiB && !client.closed && client.responses.length === 0) {
      const written = await Promise.race([client.write(piece), gotAnswer.promise.then(() => 'answered')]);
      if (written !== true) break;
      sent += piece.length;
    }
    const r = await answered;
    assert.equal(r.status, 413);
    assert.equal(r.headers.connection, 'close');
    await client.waitForClose();
    assert.equal(seen.length, 1);
    assert.equal(seen[0].code, 'ERR_BODY_TOO_LARGE');
    assert.equal(seen[0].headers.connection, 'close');
    // At the decision: the limit, the drain allowance, and what the socket had already buffered.
    assert.ok(seen[0].bytesRead <= limit + DRAIN_LIMIT_BYTES + 256 * KiB, `read ${seen[0].bytesRead} bytes of ${sent} sent`);
  });
});

test('zip bomb: 10 MiB of zeros gzipped is 413 after inflating about `limit` bytes, not 10 MiB', async () => {
  const bomb = zlib.gzipSync(Buffer.alloc(10 * MiB));
  assert.ok(bomb.length < 20 * KiB, `the bomb is ${bomb.length} bytes`);
  let inflated = 0;
  // Count what the parser's gunzip stream emits (zlib's exports are read-only but configurable).
  const createGunzip = zlib.createGunzip;
  const counting = (...args) => {
    const stream = createGunzip(...args);
    stream.on('data', (chunk) => {
      inflated += chunk.length;
    });
    return stream;
  };
  Object.defineProperty(zlib, 'createGunzip', { value: counting, configurable: true });
  try {
    const { handler, seen } = reporting((req) => json(req));
    await withServer(handler, async (h) => {
      const r = await request(h, post('/', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, bomb));
      assert.equal(r.status, 413);
      assert.equal(JSON.parse(r.body).error.code, 'ERR_BODY_TOO_LARGE');
      assert.match(JSON.parse(r.body).error.message, /decoded exceeds the limit of 1048576 bytes/);
      assert.equal(r.headers.connection, 'keep-alive', 'the compressed rest was drained');
      assert.equal(seen[0].code, 'ERR_BODY_TOO_LARGE');
    });
  } finally {
    Object.defineProperty(zlib, 'createGunzip', { value: createGunzip, configurable: true });
  }
  assert.ok(inflated > 0 && inflated <= MiB + 64 * KiB, `inflated ${inflated} bytes`);
});

test('Content-Encoding: gzip, x-gzip, deflate, br and identity decode; the limit applies to the decoded size', async () => {
  const value = { list: Array.from({ length: 200 }, (_, i) => `item ${i}`) };
  const text = JSON.stringify(value);
  const { handler } = reporting((req) => json(req, { limit: text.length }));
  await withServer(handler, async (h) => {
    for (const [coding, bytes] of [
      ['gzip', zlib.gzipSync(text)],
      ['x-gzip', zlib.gzipSync(text)],
      ['deflate', zlib.deflateSync(text)],
      ['br', zlib.brotliCompressSync(text)],
      ['identity', Buffer.from(text)],
      ['GZIP', zlib.gzipSync(text)],
    ]) {
      const r = await request(h, post('/', { 'Content-Type': 'application/json', 'Content-Encoding': coding }, bytes));
      assert.equal(r.status, 200, coding);
      assert.equal(JSON.parse(r.body).length, text.length, coding);
    }
    const bigger = zlib.gzipSync(JSON.stringify({ ...value, extra: 1 }));
    const r = await request(h, post('/', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, bigger));
    assert.equal(r.status, 413, 'one decoded byte over');
  });
});

test('Content-Encoding: the limit also caps the encoded bytes (413 before decoding them)', async () => {
  const incompressible = zlib.gzipSync(randomBytes(8 * KiB), { level: 0 });
  const { handler, seen } = reporting((req) => raw(req, { limit: 4 * KiB }));
  await withServer(handler, async (h) => {
    const client = await h.connect();
    await client.write(head('POST', '/', { 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' }));
    await client.write(chunked([incompressible]));
    const r = await client.response();
    assert.equal(r.status, 413);
    assert.match(JSON.parse(r.body).error.message, /received exceeds/);
    assert.equal(seen[0].code, 'ERR_BODY_TOO_LARGE');
  });
});

test('Content-Encoding: unknown or stacked codings are 415 ERR_UNSUPPORTED_ENCODING; corrupt data is 400 ERR_INVALID_CONTENT_ENCODING', async () => {
  const { handler } = reporting((req) => json(req));
  await withServer(handler, async (h) => {
    for (const coding of ['compress', 'zstd', 'gzip, br']) {
      const r = await request(h, post('/', { 'Content-Type': 'application/json', 'Content-Encoding': coding }, '{}'));
      assert.equal(r.status, 415, coding);
      assert.equal(JSON.parse(r.body).error.code, 'ERR_UNSUPPORTED_ENCODING', coding);
      assert.equal(r.headers.connection, 'keep-alive', coding);
    }
    const gz = zlib.gzipSync('{"a":1}');
    for (const [what, bytes] of [
      ['garbage', Buffer.from('definitely not gzip')],
      ['truncated', gz.subarray(0, gz.length - 6)],
    ]) {
      const r = await request(h, post('/', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, bytes));
      assert.equal(r.status, 400, what);
      assert.equal(JSON.parse(r.body).error.code, 'ERR_INVALID_CONTENT_ENCODING', what);
    }
  });
});

test('limits hold for a client that sends faster than the handler reads (no timeout, bounded)', async () => {
  const done = deferred();
  await withServer(async (req, res) => {
    try {
      await raw(req, { limit: 256 * KiB });
      res.end('ok');
    } catch (err) {
      sendError(res, err);
    }
    done.resolve();
  }, async (h) => {
    const r = await request(h, post('/', {}, Buffer.alloc(200 * KiB)));
    assert.equal(r.status, 200);
    await within(done.promise, 2000, 'the handler');
  });
});
