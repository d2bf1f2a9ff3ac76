// keel/body's bodyParser middleware in a router-style chain: req.body and next(); next(err) with
// Connection: close set when the body was left unread; answering itself without a next; requests
// without content passing through; multipart temp files removed when the response closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rename, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyParser, sendError, HttpError } from 'keel/body';
import { withServer, request, post, head, multipartBody, sleep } from './support.js';

/** A minimal router: run middlewares in order; an error goes to `onError`. */
function chain(middlewares, onError) {
  return (req, res) => {
    let i = 0;
    const next = (err) => {
      if (err !== undefined) return onError(err, req, res);
      const mw = middlewares[i++];
      if (mw) mw(req, res, next);
    };
    next();
  };
}

const echo = (req, res) => {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ body: req.body ?? null, hasBody: req.body !== undefined }));
};

test('middleware: sets req.body and calls next(); a request without content passes with req.body undefined', async () => {
  const errors = [];
  await withServer(chain([bodyParser.json(), echo], (err, req, res) => {
    errors.push(err);
    sendError(res, err);
  }), async (h) => {
    let r = await request(h, post('/', { 'Content-Type': 'application/json' }, '{"x":[1,2]}'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { body: { x: [1, 2] }, hasBody: true });
    r = await request(h, head('GET', '/'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { body: null, hasBody: false });
    r = await request(h, post('/', { 'Content-Type': 'application/json' }, ''));
    assert.equal(r.status, 400, 'Content-Length: 0 is content: an empty JSON body');
    assert.equal(errors.length, 1);
  });
});

test('middleware: errors go to next(err) as HttpError; Connection: close is already set when the body was left unread', async () => {
  const errors = [];
  const onError = (err, req, res) => {
    errors.push({ err, connection: res.getHeader('connection') });
    res.statusCode = err.status;
    res.end(`custom ${err.code}`);
  };
  await withServer(chain([bodyParser.json({ limit: 10 }), echo], onError), async (h) => {
    let r = await request(h, head('POST', '/', { 'Content-Type': 'application/json', 'Content-Length': 1024 * 1024 }));
    assert.equal(r.status, 413);
    assert.equal(r.body, 'custom ERR_BODY_TOO_LARGE');
    assert.equal(r.headers.connection, 'close');
    assert.ok(errors[0].err instanceof HttpError);
    assert.equal(errors[0].connection, 'close');
    r = await request(h, post('/', { 'Content-Type': 'text/plain' }, 'hi'));
    assert.equal(r.status, 415);
    assert.equal(r.headers.connection, 'keep-alive');
    assert.equal(errors[1].connection, undefined);
  });
});

test('middleware: without next it answers the error itself and resolves false; true when the handler may go on', async () => {
  const results = [];
  const parse = bodyParser.urlencoded();
  await withServer(async (req, res) => {
    const goOn = await parse(req, res);
    results.push(goOn);
    if (goOn) res.end(JSON.stringify(req.body));
  }, async (h) => {
    let r = await request(h, post('/', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'a=1&a=2'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { a: ['1', '2'] });
    r = await request(h, post('/', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'a=%'));
    assert.equal(r.status, 400);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(JSON.parse(r.body).error.code, 'ERR_INVALID_URLENCODED');
    assert.deepEqual(results, [true, false]);
  });
});

test('middleware: a req.body set earlier is kept; text and raw set strings and Buffers', async () => {
  const seen = [];
  await withServer(chain([
    (req, res, next) => {
      if (req.url === '/preset') req.body = 'preset';
      next();
    },
    (req, res, next) => (req.url === '/raw' ? bodyParser.raw({ type: '*/*' }) : bodyParser.text())(req, res, next),
    (req, res) => {
      seen.push(req.body);
      res.end();
    },
  ], (err, req, res) => sendError(res, err)), async (h) => {
    assert.equal((await request(h, post('/preset', { 'Content-Type': 'text/plain' }, 'sent'))).status, 200);
    assert.equal((await request(h, post('/text', { 'Content-Type': 'text/plain' }, 'sent'))).status, 200);
    assert.equal((await request(h, post('/raw', { 'Content-Type': 'image/png' }, 'png!'))).status, 200);
    assert.deepEqual(seen.slice(0, 2), ['preset', 'sent']);
    assert.ok(Buffer.isBuffer(seen[2]));
    assert.equal(seen[2].toString(), 'png!');
  });
});

test('middleware: multipart temp files are removed when the response closes; a moved file is kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keel-body-mw-'));
  const kept = join(dir, 'kept.txt');
  try {
    const form = multipartBody([
      { name: 'note', value: 'hello' },
      { name: 'keep', filename: 'k.txt', data: 'keep me' },
      { name: 'drop', filename: 'd.txt', data: 'drop me' },
    ]);
    const paths = [];
    await withServer(chain([bodyParser.multipart({ uploadDir: dir }), async (req, res) => {
      const { fields, files } = req.body;
      paths.push(...files.map((file) => file.path));
      await rename(files[0].path, kept);
      res.end(JSON.stringify({ note: fields.note, count: files.length }));
    }], (err, req, res) => sendError(res, err)), async (h) => {
      const r = await request(h, post('/', { 'Content-Type': form.contentType }, form.body));
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { note: 'hello', count: 2 });
      for (let i = 0; i < 100 && (await readdir(dir)).length > 1; i++) await sleep(10);
      assert.deepEqual(await readdir(dir), ['kept.txt']);
      await assert.rejects(access(paths[1]));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('middleware: options are checked when the middleware is made', () => {
  assert.throws(() => bodyParser.json({ limit: 'huge' }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => bodyParser.multipart({ storage: 'cloud' }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => bodyParser.multipart({ files: -1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => bodyParser.text({ type: 'no-such-extension' }), TypeError);
  assert.throws(() => bodyParser.text({ defaultCharset: 'klingon' }), RangeError);
});
