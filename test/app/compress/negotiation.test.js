// keel/compress: which coding a request gets, from its Accept-Encoding and q-values (RFC 9110
// §12.5.3), over real sockets; the body is decompressed and compared each time.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compress } from 'keel/compress';
import { request, serving } from '../static/fixtures.js';
import { decoded, TEXT } from './support.js';

function textHandler(options) {
  const middleware = compress(options);
  return (req, res) => middleware(req, res, () => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(TEXT);
  });
}

const cases = [
  ['gzip', 'gzip'],
  ['br', 'br'],
  ['gzip, deflate, br', 'br'],
  ['br;q=0.5, gzip', 'gzip'],
  ['gzip;q=0.5, br;q=0.6', 'br'],
  ['gzip ; q=0.5 , br ; q=0.4', 'gzip'],
  ['gzip;Q=0.7, br;q=0.4', 'gzip'],
  ['gzip;q=0.001', 'gzip'],
  ['x-gzip', 'gzip'],
  ['GZip', 'gzip'],
  ['*', 'br'],
  ['*;q=0.5, br;q=0', 'gzip'],
  ['gzip;q=0, *', 'br'],
  ['*;q=0', null],
  ['identity;q=0', null],
  ['identity', null],
  ['identity;q=1, gzip;q=0.5', null],
  ['identity;q=0.5, gzip', 'gzip'],
  ['deflate', null],
  ['compress, deflate', null],
  ['gzip;q=1.5', null],
  ['gzip;q=0.5000', null],
  ['gzip;q=', null],
  ['', null],
  [undefined, null],
];

describe('Accept-Encoding → coding (default offer: br, gzip)', () => {
  for (const [accept, coding] of cases) {
    test(`${accept === undefined ? '(no field)' : JSON.stringify(accept)} → ${coding ?? 'identity'}`, async () => {
      await serving(textHandler(), async (port) => {
        const res = await request(port, '/', { headers: accept === undefined ? {} : { 'Accept-Encoding': accept } });
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-encoding'], coding ?? undefined);
        assert.equal(res.headers.vary, 'Accept-Encoding');
        if (coding === null) assert.equal(res.headers['content-length'], String(Buffer.byteLength(TEXT)));
        else assert.equal(res.headers['content-length'], undefined);
        assert.equal(decoded(res).toString(), TEXT);
      });
    });
  }
});

describe('the offer is an option', () => {
  test("encodings: ['gzip'] never answers br", async () => {
    await serving(textHandler({ encodings: ['gzip'] }), async (port) => {
      assert.equal((await request(port, '/', { headers: { 'Accept-Encoding': 'br, gzip' } })).headers['content-encoding'], 'gzip');
      assert.equal((await request(port, '/', { headers: { 'Accept-Encoding': 'br' } })).headers['content-encoding'], undefined);
    });
  });

  test("encodings: ['gzip', 'br'] prefers gzip on equal q, still honours a higher q for br", async () => {
    await serving(textHandler({ encodings: ['gzip', 'br'] }), async (port) => {
      assert.equal((await request(port, '/', { headers: { 'Accept-Encoding': 'br, gzip' } })).headers['content-encoding'], 'gzip');
      assert.equal((await request(port, '/', { headers: { 'Accept-Encoding': 'br, gzip;q=0.9' } })).headers['content-encoding'], 'br');
    });
  });

  test('bad options throw with a code', () => {
    assert.throws(() => compress({ encodings: ['deflate'] }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => compress({ threshold: -1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => compress({ compressible: 'text/*' }), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});
