// keel/static: precompressed siblings (file.br / file.gz) chosen by Accept-Encoding with q-values,
// br preferred on ties, with Content-Encoding and Vary: Accept-Encoding; never for Range requests;
// a sibling that is a link out of the root is never used.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { serveStatic } from 'keel/static';
import { makeTree, request, serving } from './fixtures.js';

const SOURCE = 'export const answer = 42;\n'.repeat(40);
const BR = zlib.brotliCompressSync(SOURCE);
const GZ = zlib.gzipSync(SOURCE);

let tree;
before(() => {
  tree = makeTree({
    'app.js': SOURCE,
    'app.js.br': BR,
    'app.js.gz': GZ,
    'only-gz.css': 'body { color: red }\n',
    'only-gz.css.gz': zlib.gzipSync('body { color: red }\n'),
    'leaky.txt': 'identity of leaky\n',
    'plain.txt': 'no siblings\n',
  });
  symlinkSync(tree.secret, join(tree.root, 'leaky.txt.gz'));
});
after(() => tree.cleanup());

function get(target, headers, { method = 'GET', options = { precompressed: true } } = {}) {
  return serving(serveStatic(tree.root, options), (port) => request(port, target, { method, headers }));
}

describe('choosing a sibling', () => {
  const cases = [
    ['gzip, deflate, br', 'br'],
    ['br', 'br'],
    ['gzip', 'gzip'],
    ['GZIP', 'gzip'],
    ['x-gzip', 'gzip'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0.8, gzip;q=0.8', 'br'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['identity', null],
    ['identity;q=1, gzip;q=0.5', null],
    ['', null],
    ['br;q=0, gzip;q=0', null],
    ['deflate', null],
    [undefined, null],
  ];
  for (const [accept, coding] of cases) {
    test(`Accept-Encoding: ${accept === undefined ? '(none)' : JSON.stringify(accept)} → ${coding ?? 'identity'}`, async () => {
      const res = await get('/app.js', accept === undefined ? {} : { 'Accept-Encoding': accept });
      assert.equal(res.status, 200);
      assert.equal(res.headers.vary, 'Accept-Encoding');
      assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(res.headers['content-encoding'], coding ?? undefined);
      const expected = coding === 'br' ? BR : coding === 'gzip' ? GZ : Buffer.from(SOURCE);
      assert.equal(res.headers['content-length'], String(expected.length));
      assert.deepEqual(res.body, expected);
      if (coding === null) assert.equal(res.headers['accept-ranges'], 'bytes');
      else assert.equal(res.headers['accept-ranges'], undefined);
    });
  }

  test('the best coding whose sibling exists: br wanted, only .gz there', async () => {
    const res = await get('/only-gz.css', { 'Accept-Encoding': 'br, gzip' });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(res.body).toString(), 'body { color: red }\n');
    const brOnly = await get('/only-gz.css', { 'Accept-Encoding': 'br' });
    assert.equal(brOnly.headers['content-encoding'], undefined);
    assert.equal(brOnly.body.toString(), 'body { color: red }\n');
    assert.equal(brOnly.headers.vary, 'Accept-Encoding');
  });

  test('the server order is an option: precompressed: ["gzip", "br"] prefers gzip on ties', async () => {
    const res = await get('/app.js', { 'Accept-Encoding': 'br, gzip' }, { options: { precompressed: ['gzip', 'br'] } });
    assert.equal(res.headers['content-encoding'], 'gzip');
  });

  test('each representation has its own validators; If-None-Match with the br ETag gives 304 for br', async () => {
    const br = await get('/app.js', { 'Accept-Encoding': 'br' });
    const plain = await get('/app.js', {});
    assert.notEqual(br.headers.etag, plain.headers.etag);
    const again = await get('/app.js', { 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag });
    assert.equal(again.status, 304);
    assert.equal(again.headers.vary, 'Accept-Encoding');
    assert.equal(again.headers['content-encoding'], undefined);
  });

  test('HEAD: the sibling\'s head, no body', async () => {
    const res = await get('/app.js', { 'Accept-Encoding': 'gzip' }, { method: 'HEAD' });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['content-length'], String(GZ.length));
    assert.equal(res.body.length, 0);
  });
});

describe('never for ranges, never outside the root, off by default', () => {
  test('a Range request gets the identity bytes (206), even when br is accepted', async () => {
    const res = await get('/app.js', { 'Accept-Encoding': 'br, gzip', Range: 'bytes=0-5' });
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.headers['content-range'], `bytes 0-5/${SOURCE.length}`);
    assert.equal(res.body.toString(), SOURCE.slice(0, 6));
  });

  test('a sibling that links out of the root is ignored', async () => {
    const res = await get('/leaky.txt', { 'Accept-Encoding': 'gzip' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.body.toString(), 'identity of leaky\n');
  });

  test('precompressed is off by default: no sibling, no Vary', async () => {
    const res = await get('/app.js', { 'Accept-Encoding': 'br, gzip' }, { options: {} });
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.headers.vary, undefined);
    assert.equal(res.body.toString(), SOURCE);
  });

  test('an existing Vary is extended, not replaced', async () => {
    const handler = serveStatic(tree.root, { precompressed: true });
    await serving((req, res) => {
      res.setHeader('Vary', 'Origin');
      handler(req, res);
    }, async (port) => {
      const res = await request(port, '/plain.txt', { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(res.headers.vary, 'Origin, Accept-Encoding');
    });
  });

  test('a sibling newer on disk than its source is still served as is (the operator builds them)', async () => {
    writeFileSync(join(tree.root, 'fresh.txt'), 'fresh\n');
    writeFileSync(join(tree.root, 'fresh.txt.gz'), zlib.gzipSync('fresh\n'));
    const res = await get('/fresh.txt', { 'Accept-Encoding': 'gzip' });
    assert.equal(zlib.gunzipSync(res.body).toString(), 'fresh\n');
  });
});
