// keel/static: validators and conditional requests (RFC 9110 §8.8, §13). The fixture's mtime is
// fixed, so ETag and Last-Modified are known exactly; 304s carry the validators and no body.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveStatic } from 'keel/static';
import { makeTree, request, serving, FIXED_MTIME, FIXED_HTTP_DATE } from './fixtures.js';

const BODY = 'conditional body\n';
const ETAG = `W/"${BODY.length.toString(16)}-${FIXED_MTIME.getTime().toString(16)}"`;
const EARLIER = 'Mon, 01 Jan 2024 00:00:00 GMT';
const LATER = 'Wed, 03 Jan 2024 00:00:00 GMT';

let tree;
before(() => {
  tree = makeTree({ 'c.txt': BODY });
});
after(() => tree.cleanup());

function get(headers, method = 'GET', options) {
  return serving(serveStatic(tree.root, options), (port) => request(port, '/c.txt', { method, headers }));
}

describe('validators', () => {
  test('a weak ETag from size and mtime, and Last-Modified', async () => {
    const res = await get({});
    assert.equal(res.status, 200);
    assert.equal(res.headers.etag, ETAG);
    assert.equal(res.headers['last-modified'], FIXED_HTTP_DATE);
  });

  test('etag: false and lastModified: false drop them', async () => {
    const res = await get({ 'If-None-Match': ETAG, 'If-Modified-Since': FIXED_HTTP_DATE }, 'GET', { etag: false, lastModified: false });
    assert.equal(res.status, 200);
    assert.equal(res.headers.etag, undefined);
    assert.equal(res.headers['last-modified'], undefined);
  });
});

describe('If-None-Match and If-Modified-Since → 304', () => {
  test('If-None-Match with the ETag: 304 with validators and Cache-Control, no body, no length', async () => {
    const res = await get({ 'If-None-Match': ETAG });
    assert.equal(res.status, 304);
    assert.equal(res.headers.etag, ETAG);
    assert.equal(res.headers['last-modified'], FIXED_HTTP_DATE);
    assert.equal(res.headers['cache-control'], 'public, max-age=0');
    assert.equal(res.headers['content-length'], undefined);
    assert.equal(res.headers['content-type'], undefined);
    assert.equal(res.body.length, 0);
  });

  test('weak comparison: the strong form of the tag, a list, "*" all match', async () => {
    const strongForm = ETAG.slice(2);
    for (const value of [strongForm, `"other", ${ETAG}`, `"a" ,W/"b",${strongForm}`, '*']) {
      assert.equal((await get({ 'If-None-Match': value })).status, 304, value);
    }
  });

  test('a different tag: 200 with the body', async () => {
    const res = await get({ 'If-None-Match': 'W/"1-1", "x"' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), BODY);
  });

  test('HEAD is conditional too', async () => {
    assert.equal((await get({ 'If-None-Match': ETAG }, 'HEAD')).status, 304);
  });

  test('If-Modified-Since at or after Last-Modified: 304; before it, or not a date: 200', async () => {
    assert.equal((await get({ 'If-Modified-Since': FIXED_HTTP_DATE })).status, 304);
    assert.equal((await get({ 'If-Modified-Since': LATER })).status, 304);
    assert.equal((await get({ 'If-Modified-Since': EARLIER })).status, 200);
    assert.equal((await get({ 'If-Modified-Since': 'yesterday' })).status, 200);
    assert.equal((await get({ 'If-Modified-Since': '2030' })).status, 200); // Date.parse would take it
    assert.equal((await get({ 'If-Modified-Since': 'Tuesday, 02-Jan-24 03:04:05 GMT' })).status, 304); // rfc850-date
    assert.equal((await get({ 'If-Modified-Since': 'Tue Jan  2 03:04:05 2024' })).status, 304); // asctime-date
  });

  test('If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)', async () => {
    // a non-matching tag with a date that would say "not modified": 200
    assert.equal((await get({ 'If-None-Match': '"nope"', 'If-Modified-Since': LATER })).status, 200);
    // a matching tag with a date that would say "modified": 304
    assert.equal((await get({ 'If-None-Match': ETAG, 'If-Modified-Since': EARLIER })).status, 304);
  });
});

describe('If-Match and If-Unmodified-Since → 412', () => {
  test('If-Match "*" passes; a weak ETag never matches strongly: 412', async () => {
    assert.equal((await get({ 'If-Match': '*' })).status, 200);
    const res = await get({ 'If-Match': ETAG });
    assert.equal(res.status, 412);
    assert.equal(res.body.toString(), 'Precondition Failed\n');
    assert.equal((await get({ 'If-Match': '"other"' })).status, 412);
  });

  test('If-Unmodified-Since before Last-Modified: 412; at or after it: 200', async () => {
    assert.equal((await get({ 'If-Unmodified-Since': EARLIER })).status, 412);
    assert.equal((await get({ 'If-Unmodified-Since': FIXED_HTTP_DATE })).status, 200);
    assert.equal((await get({ 'If-Unmodified-Since': LATER })).status, 200);
  });

  test('If-Match takes precedence over If-Unmodified-Since', async () => {
    assert.equal((await get({ 'If-Match': '*', 'If-Unmodified-Since': EARLIER })).status, 200);
  });
});
