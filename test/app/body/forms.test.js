// keel/body urlencoded(), text() and raw(): repeated names as arrays, strict percent-decoding,
// parameterLimit, charsets (latin1, utf-16le), and raw bytes, over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { urlencoded, text, raw, sendError } from 'keel/body';
import { withServer, request, post, head } from './support.js';

function answering(read) {
  return async (req, res) => {
    try {
      const value = await read(req);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ value: Buffer.isBuffer(value) ? [...value] : value, proto: Object.getPrototypeOf(value) === null }));
    } catch (err) {
      sendError(res, err);
    }
  };
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

test('urlencoded: pairs, repeated names as arrays, + and percent-escapes, empty pairs skipped', async () => {
  await withServer(answering((req) => urlencoded(req)), async (h) => {
    const r = await request(h, post('/', FORM, 'a=1&b=two+words&a=2&&c=%C3%A9%26%3D&flag&a=3&empty='));
    assert.equal(r.status, 200);
    const { value, proto } = JSON.parse(r.body);
    assert.deepEqual(value, { a: ['1', '2', '3'], b: 'two words', c: 'é&=', flag: '', empty: '' });
    assert.equal(proto, true, 'a null-prototype object');
  });
});

test('urlencoded: __proto__ is just a field name', async () => {
  let seen;
  await withServer(async (req, res) => {
    seen = await urlencoded(req);
    res.end();
  }, async (h) => {
    assert.equal((await request(h, post('/', FORM, '__proto__=x&constructor=y'))).status, 200);
    assert.equal(seen.__proto__, 'x');
    assert.equal(seen.constructor, 'y');
    assert.equal({}.x, undefined);
  });
});

test('urlencoded: a malformed percent-escape is 400 ERR_INVALID_URLENCODED with its offset; invalid utf-8 is 400', async () => {
  await withServer(answering((req) => urlencoded(req)), async (h) => {
    for (const [body, message] of [
      ['a=1&b=%zz', /malformed percent-escape at byte 6/],
      ['a=%4', /malformed percent-escape at byte 2/],
      ['%=1', /malformed percent-escape at byte 0/],
      ['a=%FF', /not valid utf-8/],
    ]) {
      const r = await request(h, post('/', FORM, body));
      assert.equal(r.status, 400, body);
      const { error } = JSON.parse(r.body);
      assert.equal(error.code, 'ERR_INVALID_URLENCODED', body);
      assert.match(error.message, message, body);
    }
  });
});

test('urlencoded: more than parameterLimit pairs is 413 ERR_TOO_MANY_PARAMETERS', async () => {
  await withServer(answering((req) => urlencoded(req, { parameterLimit: 3 })), async (h) => {
    assert.equal((await request(h, post('/', FORM, 'a=1&b=2&c=3'))).status, 200);
    const r = await request(h, post('/', FORM, 'a=1&b=2&c=3&d=4'));
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body).error.code, 'ERR_TOO_MANY_PARAMETERS');
  });
  await withServer(answering((req) => urlencoded(req)), async (h) => {
    const body = Array.from({ length: 1001 }, (_, i) => `k${i}=v`).join('&');
    assert.equal((await request(h, post('/', FORM, body))).status, 413, 'the default is 1000');
  });
  assert.throws(() => urlencoded(null, { parameterLimit: 0 }), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('urlencoded: the charset applies to the percent-decoded bytes (latin1)', async () => {
  await withServer(answering((req) => urlencoded(req)), async (h) => {
    const r = await request(h, post('/', { 'Content-Type': 'application/x-www-form-urlencoded; charset=ISO-8859-1' }, 'name=Jos%E9&city=K%F6ln'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, { name: 'José', city: 'Köln' });
  });
});

test('urlencoded: no content gives {}; the wrong type is 415', async () => {
  await withServer(answering((req) => urlencoded(req)), async (h) => {
    let r = await request(h, head('GET', '/'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, {});
    r = await request(h, post('/', { 'Content-Type': 'application/json' }, '{}'));
    assert.equal(r.status, 415);
    assert.equal(JSON.parse(r.body).error.code, 'ERR_UNSUPPORTED_MEDIA_TYPE');
  });
});

test('text: utf-8 by default, the charset parameter (latin1, utf-16le), defaultCharset, unknown charset 415', async () => {
  await withServer(answering((req) => text(req)), async (h) => {
    let r = await request(h, post('/', { 'Content-Type': 'text/plain' }, 'héllo wörld'));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).value, 'héllo wörld');
    r = await request(h, post('/', { 'Content-Type': 'text/plain; charset=latin1' }, Buffer.from('café crème', 'latin1')));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).value, 'café crème');
    r = await request(h, post('/', { 'Content-Type': 'text/plain; charset="utf-16le"' }, Buffer.from('Grüße ✓', 'utf16le')));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).value, 'Grüße ✓');
    r = await request(h, post('/', { 'Content-Type': 'text/plain' }, Buffer.from([0x61, 0xff, 0x62])));
    assert.equal(JSON.parse(r.body).value, 'a\ufffdb', 'text is decoded leniently');
    r = await request(h, post('/', { 'Content-Type': 'text/plain; charset=x-unknown-9' }, 'x'));
    assert.equal(r.status, 415);
    assert.equal(JSON.parse(r.body).error.code, 'ERR_UNSUPPORTED_CHARSET');
    r = await request(h, post('/', { 'Content-Type': 'text/html' }, '<p>'));
    assert.equal(r.status, 415);
    r = await request(h, head('GET', '/'));
    assert.equal(JSON.parse(r.body).value, '');
  });
  await withServer(answering((req) => text(req, { defaultCharset: 'latin1', type: 'text/*' })), async (h) => {
    const r = await request(h, post('/', { 'Content-Type': 'text/html' }, Buffer.from('<p>é</p>', 'latin1')));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).value, '<p>é</p>');
  });
});

test('raw: the exact bytes as a Buffer; no Content-Type counts as application/octet-stream', async () => {
  const bytes = Buffer.from([0, 1, 2, 254, 255, 13, 10]);
  await withServer(answering((req) => raw(req)), async (h) => {
    let r = await request(h, post('/', { 'Content-Type': 'application/octet-stream' }, bytes));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).value, [...bytes]);
    r = await request(h, post('/', {}, bytes));
    assert.equal(r.status, 200);
    r = await request(h, post('/', { 'Content-Type': 'image/png' }, bytes));
    assert.equal(r.status, 415);
    r = await request(h, head('GET', '/'));
    assert.deepEqual(JSON.parse(r.body).value, []);
  });
  await withServer(answering((req) => raw(req, { type: '*/*' })), async (h) => {
    assert.equal((await request(h, post('/', { 'Content-Type': 'image/png' }, bytes))).status, 200);
  });
});
