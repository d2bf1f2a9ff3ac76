// keel/static: byte ranges (RFC 9110 §14). Single ranges (206 + Content-Range), multipart/byteranges
// bodies compared byte for byte, 416 with "bytes */size", ranges ignored (200) for bad syntax,
// overlaps, HEAD and a failed If-Range; plus the parser itself.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveStatic, parseByteRanges } from 'keel/static';
import { makeTree, request, serving, FIXED_HTTP_DATE } from './fixtures.js';

// 100 distinct-looking bytes: "00010203...9899"[0..99]
const BODY = Array.from({ length: 50 }, (_, i) => String(i).padStart(2, '0')).join('');
assert.equal(BODY.length, 100);

let tree;
before(() => {
  tree = makeTree({ 'r.txt': BODY, 'empty.txt': '' });
});
after(() => tree.cleanup());

function get(headers, { method = 'GET', target = '/r.txt', options } = {}) {
  return serving(serveStatic(tree.root, options), (port) => request(port, target, { method, headers }));
}

describe('single ranges: 206', () => {
  const cases = [
    ['bytes=0-9', 0, 9],
    ['bytes=90-', 90, 99],
    ['bytes=-5', 95, 99],
    ['bytes=95-200', 95, 99],
    ['bytes=-200', 0, 99],
    ['bytes=0-0', 0, 0],
    ['bytes=99-99', 99, 99],
    ['BYTES = 10-19', 10, 19],
    ['bytes=10-19, ', 10, 19],
    ['bytes=0-1,200-300', 0, 1],
  ];
  for (const [range, start, end] of cases) {
    test(`Range: ${range} → bytes ${start}-${end}/100`, async () => {
      const res = await get({ Range: range });
      assert.equal(res.status, 206);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/100`);
      assert.equal(res.headers['content-length'], String(end - start + 1));
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers['accept-ranges'], 'bytes');
      assert.equal(res.body.toString(), BODY.slice(start, end + 1));
    });
  }
});

describe('several ranges: 206 multipart/byteranges', () => {
  test('two ranges: the exact body, boundary from Content-Type, exact Content-Length', async () => {
    const res = await get({ Range: 'bytes=0-4, 50-54' });
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-range'], undefined);
    const match = /^multipart\/byteranges; boundary=([0-9a-f]+)$/.exec(res.headers['content-type']);
    assert.ok(match, res.headers['content-type']);
    const b = match[1];
    const expected =
      `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-4/100\r\n\r\n${BODY.slice(0, 5)}` +
      `\r\n--${b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 50-54/100\r\n\r\n${BODY.slice(50, 55)}` +
      `\r\n--${b}--\r\n`;
    assert.equal(res.body.toString('latin1'), expected);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(expected)));
  });

  test('three ranges kept in the order asked, a suffix range included', async () => {
    const res = await get({ Range: 'bytes=-3,10-12,20-29' });
    assert.equal(res.status, 206);
    const b = /boundary=([0-9a-f]+)$/.exec(res.headers['content-type'])[1];
    const part = (s, e) => `Content-Type: text/plain; charset=utf-8\r\nContent-Range: bytes ${s}-${e}/100\r\n\r\n${BODY.slice(s, e + 1)}`;
    const expected = `--${b}\r\n${part(97, 99)}\r\n--${b}\r\n${part(10, 12)}\r\n--${b}\r\n${part(20, 29)}\r\n--${b}--\r\n`;
    assert.equal(res.body.toString('latin1'), expected);
    assert.equal(Number(res.headers['content-length']), res.body.length);
  });

  test('each response gets a fresh boundary', async () => {
    const a = await get({ Range: 'bytes=0-1,5-6' });
    const b = await get({ Range: 'bytes=0-1,5-6' });
    assert.notEqual(a.headers['content-type'], b.headers['content-type']);
  });

  test('overlapping ranges are ignored: 200 with the whole body', async () => {
    const res = await get({ Range: 'bytes=0-10,5-20' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), BODY);
  });
});

describe('416 and ignored ranges', () => {
  test('unsatisfiable: 416 with Content-Range: bytes */size', async () => {
    for (const range of ['bytes=100-', 'bytes=100-200', 'bytes=-0', 'bytes=200-300,150-']) {
      const res = await get({ Range: range });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers['content-range'], 'bytes */100', range);
      assert.ok(!res.body.toString().includes(BODY.slice(0, 10)));
    }
  });

  test('any range of an empty file: 416 bytes */0', async () => {
    const res = await get({ Range: 'bytes=0-' }, { target: '/empty.txt' });
    assert.equal(res.status, 416);
    assert.equal(res.headers['content-range'], 'bytes */0');
  });

  test('bad syntax or another unit: the field is ignored, 200', async () => {
    for (const range of ['bytes=5-2', 'items=0-5', 'bytes=abc', 'bytes=', 'bytes=1-2-3', 'bytes 0-5', 'bytes=--5', 'bytes=0x1-5']) {
      const res = await get({ Range: range });
      assert.equal(res.status, 200, range);
      assert.equal(res.body.toString(), BODY);
    }
  });

  test('HEAD ignores Range: 200, full length, no body', async () => {
    const res = await get({ Range: 'bytes=0-9' }, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '100');
    assert.equal(res.body.length, 0);
  });

  test('acceptRanges: false ignores Range and drops Accept-Ranges', async () => {
    const res = await get({ Range: 'bytes=0-9' }, { options: { acceptRanges: false } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['accept-ranges'], undefined);
    assert.equal(res.body.toString(), BODY);
  });
});

describe('If-Range (RFC 9110 §13.1.5)', () => {
  test('a date equal to Last-Modified: the range (206)', async () => {
    const res = await get({ Range: 'bytes=0-9', 'If-Range': FIXED_HTTP_DATE });
    assert.equal(res.status, 206);
    assert.equal(res.body.toString(), BODY.slice(0, 10));
  });

  test('another date: the whole representation (200)', async () => {
    for (const date of ['Mon, 01 Jan 2024 00:00:00 GMT', 'Wed, 03 Jan 2024 00:00:00 GMT', 'not a date']) {
      const res = await get({ Range: 'bytes=0-9', 'If-Range': date });
      assert.equal(res.status, 200, date);
      assert.equal(res.body.toString(), BODY);
    }
  });

  test('an entity-tag: 200, since weak tags never match strongly (ours are weak)', async () => {
    const plain = await get({});
    for (const tag of [plain.headers.etag, plain.headers.etag.slice(2), '"other"']) {
      const res = await get({ Range: 'bytes=0-9', 'If-Range': tag });
      assert.equal(res.status, 200, tag);
      assert.equal(res.body.toString(), BODY);
    }
  });

  test('a failing If-None-Match still answers 304 before ranges are looked at', async () => {
    const plain = await get({});
    const res = await get({ Range: 'bytes=0-9', 'If-None-Match': plain.headers.etag });
    assert.equal(res.status, 304);
  });
});

describe('parseByteRanges', () => {
  test('ranges, unsatisfiable, ignored', () => {
    assert.deepEqual(parseByteRanges('bytes=0-4', 10), [{ start: 0, end: 4 }]);
    assert.deepEqual(parseByteRanges('bytes=-4', 10), [{ start: 6, end: 9 }]);
    assert.deepEqual(parseByteRanges('bytes=8-', 10), [{ start: 8, end: 9 }]);
    assert.deepEqual(parseByteRanges('bytes=0-0,2-2', 10), [{ start: 0, end: 0 }, { start: 2, end: 2 }]);
    assert.deepEqual(parseByteRanges('bytes=0-99999999999999999999', 10), [{ start: 0, end: 9 }]);
    assert.equal(parseByteRanges('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseByteRanges('bytes=-0', 10), 'unsatisfiable');
    assert.equal(parseByteRanges('bytes=99999999999999999999-', 10), 'unsatisfiable');
    assert.equal(parseByteRanges('bytes=3-1', 10), null);
    assert.equal(parseByteRanges('bytes=0-1,1-2', 10), null);
    assert.equal(parseByteRanges('pages=1-2', 10), null);
    assert.equal(parseByteRanges('bytes=,', 10), null);
    const many = 'bytes=' + Array.from({ length: 65 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
    assert.equal(parseByteRanges(many, 1000), null);
    assert.equal(parseByteRanges(many, 1000, 100).length, 65);
  });
});
