// keel/body with a body that is gone: req.body already set, a stream already read or being read by
// someone else (a prompt 500 ERR_BODY_CONSUMED, never a hang), and a client that aborts mid-body
// (ECONNRESET 'aborted', and the response is never left hanging).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json, raw, text, bodyParser, sendError } from 'keel/body';
import { withServer, request, post, head, deferred, within } from './support.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

test('consumed: a req.body set by an earlier parser is returned as is, without reading', async () => {
  await withServer(async (req, res) => {
    req.body = { earlier: true };
    const value = await json(req);
    res.end(JSON.stringify({ value, same: value === req.body, ended: req.readableEnded }));
  }, async (h) => {
    const r = await request(h, post('/', JSON_TYPE, '{"later":true}'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { value: { earlier: true }, same: true, ended: false });
  });
});

test('consumed: a body already read to the end is 500 ERR_BODY_CONSUMED at once', async () => {
  const outcome = deferred();
  await withServer(async (req, res) => {
    for await (const chunk of req) void chunk;
    try {
      await within(json(req), 1000, 'json() on a read body');
      outcome.resolve('resolved');
    } catch (err) {
      outcome.resolve(err);
      sendError(res, err);
    }
  }, async (h) => {
    const r = await request(h, post('/', JSON_TYPE, '{"a":1}'));
    assert.equal(r.status, 500);
    const err = await outcome.promise;
    assert.equal(err.code, 'ERR_BODY_CONSUMED');
    assert.equal(err.expose, false);
    assert.match(err.message, /already read/);
    assert.equal(JSON.parse(r.body).error.message, 'Internal Server Error', 'a 500 hides its message');
  });
});

test('consumed: a body someone else is reading, or a second parser call, is ERR_BODY_CONSUMED, not a hang', async () => {
  const outcomes = [];
  await withServer(async (req, res) => {
    if (req.url === '/listener') {
      req.on('data', () => {});
      outcomes.push(await within(json(req).catch((err) => err), 1000, 'json() beside a data listener'));
    } else {
      const first = await text(req, { type: '*/*' });
      outcomes.push(first);
      outcomes.push(await within(text(req, { type: '*/*' }).catch((err) => err), 1000, 'a second text()'));
    }
    res.end();
  }, async (h) => {
    assert.equal((await request(h, post('/listener', JSON_TYPE, '{}'))).status, 200);
    assert.equal((await request(h, post('/twice', JSON_TYPE, 'body'))).status, 200);
    assert.equal(outcomes[0].code, 'ERR_BODY_CONSUMED');
    assert.equal(outcomes[1], 'body');
    assert.equal(outcomes[2].code, 'ERR_BODY_CONSUMED');
  });
});

test('abort: the client going away mid-body rejects with ECONNRESET "aborted" (400)', async () => {
  const outcome = deferred();
  await withServer(async (req) => {
    try {
      await json(req);
      outcome.resolve('parsed');
    } catch (err) {
      outcome.resolve(err);
    }
  }, async (h) => {
    const client = await h.connect();
    await client.write(head('POST', '/', { ...JSON_TYPE, 'Content-Length': 100000 }) + '{"a":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.socket.destroy();
    const err = await within(outcome.promise, 3000, 'the parser to reject');
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(err.message, 'aborted');
    assert.equal(err.status, 400);
  });
});

test('abort: a chunked gzip body aborted mid-stream rejects with ECONNRESET', async () => {
  const outcome = deferred();
  await withServer(async (req) => {
    raw(req).then(() => outcome.resolve('parsed'), (err) => outcome.resolve(err));
  }, async (h) => {
    const client = await h.connect();
    await client.write(head('POST', '/', { 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' }) + '4\r\n\x1f\x8b\x08\x00\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.socket.destroy();
    const err = await within(outcome.promise, 3000, 'the parser to reject');
    assert.equal(err.code, 'ECONNRESET');
  });
});

test('abort: the middleware never leaves the response hanging (without next: it ends; with next: next(err))', async () => {
  const states = [];
  const done = deferred();
  const parse = bodyParser.json();
  await withServer(async (req, res) => {
    if (req.url === '/plain') {
      const goOn = await parse(req, res);
      states.push({ goOn, finished: res.writableEnded || res.destroyed });
    } else {
      await parse(req, res, (err) => states.push({ nextErr: err?.code }));
    }
    if (states.length === 2) done.resolve();
  }, async (h) => {
    for (const path of ['/plain', '/next']) {
      const client = await h.connect();
      await client.write(head('POST', path, { ...JSON_TYPE, 'Content-Length': 5000 }) + '[1,');
      await new Promise((resolve) => setTimeout(resolve, 30));
      client.socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await within(done.promise, 3000, 'both middlewares to finish');
    assert.deepEqual(states, [{ goOn: false, finished: true }, { nextErr: 'ECONNRESET' }]);
  });
});
