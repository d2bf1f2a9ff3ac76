// keel/body's fast path: a body that arrived with its request head (the usual small JSON POST) is
// taken whole from Keel's IncomingMessage, without making the request a flowing stream. It must
// give the same results as the stream path: the value, the limit (413, connection still usable),
// a consumed body afterwards; and a body that arrives later, or with a Content-Encoding, still goes
// through the stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { json, raw, sendError } from 'keel/body';
import { withServer, request, post, head, sleep } from './support.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

/** A handler that parses JSON and reports how: the value, and whether the request became a flowing stream. */
function reporting(options) {
  return async (req, res) => {
    try {
      const value = await json(req, options);
      const flowing = req.readableFlowing; // null: never read as a stream; true: the stream path
      res.end(JSON.stringify({ value, flowing }));
    } catch (err) {
      sendError(res, err);
    }
  };
}

test('a JSON body that came with its head is taken whole: the request never flows as a stream', async () => {
  await withServer(reporting(), async (h) => {
    const r = await request(h, post('/', JSON_TYPE, '{"a":[1,2,3],"b":"é"}'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { value: { a: [1, 2, 3], b: 'é' }, flowing: null });
  });
});

test('the same body sent after a pause goes through the stream and gives the same value', async () => {
  await withServer(reporting(), async (h) => {
    const body = '{"a":[1,2,3],"b":"é"}';
    const client = await h.connect();
    await client.write(head('POST', '/', { ...JSON_TYPE, 'Content-Length': Buffer.byteLength(body) }));
    await sleep(50);
    await client.write(body);
    const r = await client.response();
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { value: { a: [1, 2, 3], b: 'é' }, flowing: true });
  });
});

test('a whole body over the limit is 413 ERR_BODY_TOO_LARGE and the connection stays usable (nothing left to drain)', async () => {
  await withServer(reporting({ limit: 100 }), async (h) => {
    const client = await h.connect();
    await client.write(Buffer.concat([post('/', JSON_TYPE, JSON.stringify({ big: 'x'.repeat(200) })), post('/', JSON_TYPE, '{"small":1}')]));
    const first = await client.response(1);
    assert.equal(first.status, 413);
    assert.equal(JSON.parse(first.body).error.code, 'ERR_BODY_TOO_LARGE');
    assert.match(JSON.parse(first.body).error.message, /of 210 bytes \(Content-Length\) exceeds the limit of 100 bytes/);
    assert.notEqual(first.headers.connection, 'close');
    const second = await client.response(2);
    assert.equal(second.status, 200);
    assert.deepEqual(JSON.parse(second.body).value, { small: 1 });
  });
});

test('a gzip body that came with its head is still decoded (stream path)', async () => {
  await withServer(reporting(), async (h) => {
    const r = await request(h, post('/', { ...JSON_TYPE, 'Content-Encoding': 'gzip' }, gzipSync('{"zipped":true}')));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { value: { zipped: true }, flowing: true });
  });
});

test('after the body was taken whole, a second parser gets ERR_BODY_CONSUMED and a late reader finds the stream ended, with nothing left', async () => {
  const seen = {};
  await withServer(async (req, res) => {
    const first = await raw(req, { type: '*/*' });
    seen.first = first.toString();
    seen.second = await raw(req, { type: '*/*' }).catch((err) => err.code);
    let late = 0;
    for await (const chunk of req) late += chunk.length;
    seen.late = late;
    res.end('ok');
  }, async (h) => {
    const r = await request(h, post('/', { 'Content-Type': 'application/octet-stream' }, 'bytes'));
    assert.equal(r.status, 200);
  });
  assert.deepEqual(seen, { first: 'bytes', second: 'ERR_BODY_CONSUMED', late: 0 });
});

test('a request whose stream getters were asked first (no reader yet) is not taken for consumed: it parses through the stream', async () => {
  await withServer(async (req, res) => {
    const before = [req.readableLength, req.destroyed, req.readableFlowing]; // creates the stream state
    await sleep(50); // the first half of the body is pushed meanwhile (and Readable calls _read on its own)
    try {
      const value = await json(req);
      res.end(JSON.stringify({ before, value }));
    } catch (err) {
      sendError(res, err);
    }
  }, async (h) => {
    const body = '{"late":"' + 'x'.repeat(100) + '"}';
    const client = await h.connect();
    await client.write(head('POST', '/', { ...JSON_TYPE, 'Content-Length': body.length }) + body.slice(0, 50));
    await sleep(100);
    await client.write(body.slice(50));
    const r = await client.response();
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { before: [0, false, null], value: { late: 'x'.repeat(100) } });
  });
});
