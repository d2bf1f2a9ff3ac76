// keel/body json(): values, strict mode, reviver, empty bodies, syntax errors with positions,
// prototype-poisoning keys, charsets and media types, over real sockets with exact statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json, sendError, HttpError } from 'keel/body';
import { withServer, request, post, head } from './support.js';

/** A server answering 200 with the parsed JSON, or the error via sendError. */
function jsonServer(options) {
  return async (req, res) => {
    try {
      const value = await json(req, options);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ value }));
    } catch (err) {
      sendError(res, err);
    }
  };
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

test('json: an object and an array parse; the media type ignores case and parameters', async () => {
  await withServer(jsonServer(), async (h) => {
    let r = await request(h, post('/', JSON_TYPE, '{"a":1,"b":[true,null,"x"]}'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, { a: 1, b: [true, null, 'x'] });
    r = await request(h, post('/', { 'Content-Type': 'Application/JSON ; Charset="UTF-8"' }, '[1,2]'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, [1, 2]);
    r = await request(h, post('/', { 'Content-Type': 'application/vnd.api+json' }, '{"ok":true}'));
    assert.equal(r.status, 200, 'a +json type is JSON by default');
  });
});

test('json: strict mode refuses a top-level primitive with 400 ERR_INVALID_JSON; strict: false accepts it', async () => {
  await withServer(jsonServer(), async (h) => {
    const r = await request(h, post('/', JSON_TYPE, '"just a string"'));
    assert.equal(r.status, 400);
    const { error } = JSON.parse(r.body);
    assert.equal(error.code, 'ERR_INVALID_JSON');
    assert.match(error.message, /object or an array/);
  });
  await withServer(jsonServer({ strict: false }), async (h) => {
    for (const [text, value] of [['"s"', 's'], ['42', 42], ['null', null], ['true', true]]) {
      const r = await request(h, post('/', JSON_TYPE, text));
      assert.equal(r.status, 200, text);
      assert.deepEqual(JSON.parse(r.body).value, value);
    }
  });
});

test('json: the reviver is applied', async () => {
  const reviver = (key, value) => (key === 'when' ? `date:${value}` : value);
  await withServer(jsonServer({ reviver }), async (h) => {
    const r = await request(h, post('/', JSON_TYPE, '{"when":"2024-01-01","n":1}'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, { when: 'date:2024-01-01', n: 1 });
  });
});

test('json: malformed JSON is 400 ERR_INVALID_JSON with the position, line and column', async () => {
  const cases = [
    ['{"a":}', /position 5 \(line 1, column 6\): unexpected '}', expected a value/],
    ['{"a":1', /position 6 \(line 1, column 7\): unexpected end of input, expected ',' or '}'/],
    ['{\n  "a": 1,\n  b: 2\n}', /position 14 \(line 3, column 3\): unexpected 'b', expected a property name/],
    ['[1, 2] x', /position 7 \(line 1, column 8\): unexpected 'x' after the JSON value/],
    ['{"a":"\u0001"}', /position 6 .*control character U\+0001/],
    ['{"a":tru}', /position 5 .*unexpected 't'/],
    ['   ', /position 3 .*end of input, expected a value/],
  ];
  await withServer(jsonServer(), async (h) => {
    for (const [text, message] of cases) {
      const r = await request(h, post('/', JSON_TYPE, text));
      assert.equal(r.status, 400, text);
      const { error } = JSON.parse(r.body);
      assert.equal(error.code, 'ERR_INVALID_JSON', text);
      assert.match(error.message, message, text);
      assert.equal(r.headers.connection, 'keep-alive', 'a fully read body keeps the connection');
    }
  });
});

test('json: an empty body is 400 ERR_EMPTY_BODY by default and {} with allowEmpty', async () => {
  await withServer(jsonServer(), async (h) => {
    let r = await request(h, post('/', JSON_TYPE, ''));
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error.code, 'ERR_EMPTY_BODY');
    r = await request(h, head('POST', '/', {}));
    assert.equal(r.status, 400, 'no content at all is empty too (no type check)');
    assert.equal(JSON.parse(r.body).error.code, 'ERR_EMPTY_BODY');
  });
  await withServer(jsonServer({ allowEmpty: true }), async (h) => {
    let r = await request(h, post('/', JSON_TYPE, ''));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, {});
    r = await request(h, head('GET', '/', {}));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, {});
  });
});

test('json: __proto__ and constructor.prototype keys are 400 ERR_FORBIDDEN_JSON_KEY; remove / ignore', async () => {
  const poisoned = '{"a":{"__proto__":{"admin":true}},"b":{"constructor":{"prototype":{"x":1}}}}';
  await withServer(jsonServer(), async (h) => {
    let r = await request(h, post('/', JSON_TYPE, poisoned));
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error.code, 'ERR_FORBIDDEN_JSON_KEY');
    r = await request(h, post('/', JSON_TYPE, '{"\\u005f_proto__":{}}'));
    assert.equal(r.status, 400, 'an escaped key is the same key');
    r = await request(h, post('/', JSON_TYPE, '{"constructor":"fine"}'));
    assert.equal(r.status, 200);
  });
  await withServer(jsonServer({ protoAction: 'remove' }), async (h) => {
    const r = await request(h, post('/', JSON_TYPE, poisoned));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, { a: {}, b: {} });
  });
  let seen;
  await withServer(async (req, res) => {
    seen = await json(req, { protoAction: 'ignore' });
    res.end();
  }, async (h) => {
    const r = await request(h, post('/', JSON_TYPE, '{"__proto__":{"admin":true}}'));
    assert.equal(r.status, 200);
    assert.equal(Object.getPrototypeOf(seen), Object.prototype, 'JSON.parse never sets a prototype');
    assert.equal({}.admin, undefined);
  });
});

test('json: charsets: utf-16le and latin1 decode, invalid utf-8 is 400, an unknown charset is 415 ERR_UNSUPPORTED_CHARSET', async () => {
  await withServer(jsonServer(), async (h) => {
    let r = await request(h, post('/', { 'Content-Type': 'application/json; charset=utf-16le' }, Buffer.from('{"k":"é€"}', 'utf16le')));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, { k: 'é€' });
    r = await request(h, post('/', { 'Content-Type': 'application/json; charset=ISO-8859-1' }, Buffer.from('{"k":"é"}', 'latin1')));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, { k: 'é' });
    r = await request(h, post('/', JSON_TYPE, Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])));
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error.code, 'ERR_INVALID_JSON');
    assert.match(JSON.parse(r.body).error.message, /not valid utf-8/);
    r = await request(h, post('/', { 'Content-Type': 'application/json; charset=klingon' }, '{}'));
    assert.equal(r.status, 415);
    assert.equal(JSON.parse(r.body).error.code, 'ERR_UNSUPPORTED_CHARSET');
  });
});

test('json: the wrong or a missing Content-Type is 415 ERR_UNSUPPORTED_MEDIA_TYPE; the type option widens it', async () => {
  await withServer(jsonServer(), async (h) => {
    for (const fields of [{ 'Content-Type': 'text/plain' }, {}, { 'Content-Type': 'application/jsonx' }, { 'Content-Type': 'nonsense' }]) {
      const r = await request(h, post('/', fields, '{}'));
      assert.equal(r.status, 415, JSON.stringify(fields));
      assert.equal(JSON.parse(r.body).error.code, 'ERR_UNSUPPORTED_MEDIA_TYPE');
      assert.equal(r.headers.connection, 'keep-alive', 'a small refused body is drained');
    }
  });
  await withServer(jsonServer({ type: ['text/plain', 'json'] }), async (h) => {
    assert.equal((await request(h, post('/', { 'Content-Type': 'TEXT/PLAIN; charset=utf-8' }, '{}'))).status, 200);
    assert.equal((await request(h, post('/', JSON_TYPE, '{}'))).status, 200, "an extension ('json') names its type");
    assert.equal((await request(h, post('/', { 'Content-Type': 'application/vnd.x+json' }, '{}'))).status, 415);
  });
  await withServer(jsonServer({ type: (req) => req.headers['x-json'] === 'yes' }), async (h) => {
    assert.equal((await request(h, post('/', { 'X-Json': 'yes', 'Content-Type': 'text/whatever' }, '{}'))).status, 200);
    assert.equal((await request(h, post('/', JSON_TYPE, '{}'))).status, 415);
  });
});

test('json: a refused request leaves the connection usable for the next request', async () => {
  await withServer(jsonServer(), async (h) => {
    const client = await h.connect();
    await client.write(Buffer.concat([post('/', { 'Content-Type': 'text/plain' }, 'hello'), post('/', JSON_TYPE, '{"n":2}')]));
    const first = await client.response(1);
    const second = await client.response(2);
    assert.equal(first.status, 415);
    assert.equal(second.status, 200);
    assert.deepEqual(JSON.parse(second.body).value, { n: 2 });
  });
});

test('HttpError: status, statusCode, code, expose and headers', () => {
  const err = new HttpError(413, 'ERR_BODY_TOO_LARGE', 'too big', { headers: { connection: 'close' } });
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'HttpError');
  assert.equal(err.status, 413);
  assert.equal(err.statusCode, 413);
  assert.equal(err.code, 'ERR_BODY_TOO_LARGE');
  assert.equal(err.expose, true);
  assert.deepEqual(err.headers, { connection: 'close' });
  assert.equal(new HttpError(500, 'X', 'secret').expose, false);
  assert.throws(() => new HttpError(200, 'X', 'no'), RangeError);
});
