// keel/static's opt-in memory cache (`cache` option): a held file is answered without being opened
// again, a file changed on disk (contents, inode, even with its size and mtime kept) is read again,
// files over maxFileBytes are always streamed, least recently served files are evicted past
// maxBytes, HEAD and 304 read nothing, ranges and multipart come out of the held bytes, a burst of
// requests on a cold file reads it once, and bad options throw. Opens are counted by spying on
// fs/promises' open (syncBuiltinESMExports makes keel/static's imported binding see the spy), reads
// by spying on FileHandle's read.

import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { serveStatic } from 'keel/static';
import { FIXED_MTIME, makeTree, request, serving } from './fixtures.js';

const HUNDRED = Array.from({ length: 50 }, (_, i) => String(i).padStart(2, '0')).join(''); // 100 bytes

let tree;
let opened; // real path → times keel/static opened it
const originalOpen = fsp.open;

before(() => {
  tree = makeTree({ 'burst.bin': Buffer.alloc(64 * 1024, 3), 'a.txt': HUNDRED, 'b.txt': HUNDRED.toUpperCase(), 'c.txt': 'c'.repeat(100), 'big.bin': Buffer.alloc(5000, 7), 'swap.txt': 'old!' });
  fsp.open = function (path, ...rest) {
    opened.set(String(path), (opened.get(String(path)) ?? 0) + 1);
    return originalOpen.call(this, path, ...rest);
  };
  syncBuiltinESMExports();
});
after(() => {
  fsp.open = originalOpen;
  syncBuiltinESMExports();
  tree.cleanup();
});
beforeEach(() => {
  opened = new Map();
});

/** How many times the file `name` under the root was opened since the test began. */
function opens(name) {
  let count = 0;
  for (const [path, n] of opened) if (path.endsWith(`/${name}`)) count += n;
  return count;
}

/** Requests `targets` in turn (each `[target, headers?, method?]` or a target) against one handler; resolves with the responses. */
async function inTurn(options, targets) {
  return serving(serveStatic(tree.root, options), async (port) => {
    const responses = [];
    for (const item of targets) {
      const [target, headers = {}, method = 'GET'] = Array.isArray(item) ? item : [item];
      responses.push(await request(port, target, { headers, method }));
    }
    return responses;
  });
}

describe('keel/static cache: hits', () => {
  test('a held file is answered without being opened again, with the same head and body', async () => {
    const [first, second, third] = await inTurn({ cache: true }, ['/a.txt', '/a.txt', '/a.txt']);
    assert.equal(opens('a.txt'), 1);
    for (const res of [first, second, third]) {
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), HUNDRED);
      assert.equal(res.headers['content-length'], '100');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers.etag, first.headers.etag);
      assert.equal(res.headers['last-modified'], first.headers['last-modified']);
    }
  });

  test('without the option every request opens the file (the default)', async () => {
    await inTurn({}, ['/a.txt', '/a.txt']);
    assert.equal(opens('a.txt'), 2);
  });

  test('HEAD and a 304 on a cold cache read nothing into it; the first GET does', async () => {
    const [head, first] = await inTurn({ cache: true }, [['/a.txt', {}, 'HEAD'], '/a.txt']);
    const etag = first.headers.etag;
    const [notModified, again, headAgain] = await serving(serveStatic(tree.root, { cache: true }), async (port) => [
      await request(port, '/a.txt', { headers: { 'If-None-Match': etag } }),
      await request(port, '/a.txt'),
      await request(port, '/a.txt', { method: 'HEAD' }),
    ]);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '100');
    assert.equal(head.body.length, 0);
    assert.equal(notModified.status, 304);
    assert.equal(again.body.toString(), HUNDRED);
    assert.equal(headAgain.body.length, 0);
    assert.equal(headAgain.headers['content-length'], '100');
    // HEAD, GET (read), then on the second handler: 304 (opened, not read), GET (read), HEAD (held)
    assert.equal(opens('a.txt'), 4);
  });

  test('ranges and multipart/byteranges are cut from the held bytes', async () => {
    const [, single, multi] = await inTurn({ cache: true }, ['/a.txt', ['/a.txt', { Range: 'bytes=10-19' }], ['/a.txt', { Range: 'bytes=0-1,98-99' }]]);
    assert.equal(opens('a.txt'), 1);
    assert.equal(single.status, 206);
    assert.equal(single.headers['content-range'], 'bytes 10-19/100');
    assert.equal(single.body.toString(), HUNDRED.slice(10, 20));
    assert.equal(multi.status, 206);
    const boundary = /boundary=(\w+)/.exec(multi.headers['content-type'])[1];
    const expected =
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/100\r\n\r\n${HUNDRED.slice(0, 2)}` +
      `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 98-99/100\r\n\r\n${HUNDRED.slice(98)}` +
      `\r\n--${boundary}--\r\n`;
    assert.equal(multi.body.toString(), expected);
    assert.equal(Number(multi.headers['content-length']), multi.body.length);
  });
});

test('a burst of requests on a cold file reads it once; every response is whole', async () => {
  const probe = await originalOpen(join(tree.root, 'a.txt'));
  const FileHandle = Object.getPrototypeOf(probe);
  await probe.close();
  const originalRead = FileHandle.read;
  let wholeReads = 0; // reads from offset 0: one per load of the file into the cache
  FileHandle.read = function (buffer, offset, length, position) {
    if (position === 0 && length === 64 * 1024) wholeReads++;
    return originalRead.apply(this, arguments);
  };
  try {
    await serving(serveStatic(tree.root, { cache: true }), async (port) => {
      const responses = await Promise.all(Array.from({ length: 8 }, () => request(port, '/burst.bin')));
      for (const res of responses) assert.deepEqual(res.body, Buffer.alloc(64 * 1024, 3));
    });
  } finally {
    FileHandle.read = originalRead;
  }
  assert.equal(wholeReads, 1);
  assert.ok(opens('burst.bin') > 1, 'the requests overlapped (each opened the file before it was held)');
});

describe('keel/static cache: revalidation', () => {
  test('contents rewritten with the same size and mtime are read again (ctime changed)', async () => {
    const path = join(tree.root, 'swap.txt');
    await serving(serveStatic(tree.root, { cache: true }), async (port) => {
      assert.equal((await request(port, '/swap.txt')).body.toString(), 'old!');
      writeFileSync(path, 'new!');
      utimesSync(path, FIXED_MTIME, FIXED_MTIME);
      const res = await request(port, '/swap.txt');
      assert.equal(res.body.toString(), 'new!');
      assert.equal((await request(port, '/swap.txt')).body.toString(), 'new!');
    });
    assert.equal(opens('swap.txt'), 2);
    writeFileSync(path, 'old!');
  });

  test('a file replaced by another (rename over it) is read again', async () => {
    const path = join(tree.root, 'swap.txt');
    const other = join(tree.dir, 'other.txt');
    await serving(serveStatic(tree.root, { cache: true }), async (port) => {
      assert.equal((await request(port, '/swap.txt')).body.toString(), 'old!');
      writeFileSync(other, 'NEW!');
      utimesSync(other, FIXED_MTIME, FIXED_MTIME);
      renameSync(other, path);
      assert.equal((await request(port, '/swap.txt')).body.toString(), 'NEW!');
    });
    writeFileSync(path, 'old!');
  });

  test('a held file deleted on disk is 404, not served from memory', async () => {
    const path = join(tree.root, 'gone.txt');
    writeFileSync(path, 'here');
    await serving(serveStatic(tree.root, { cache: true, fallthrough: false }), async (port) => {
      assert.equal((await request(port, '/gone.txt')).status, 200);
      unlinkSync(path);
      assert.equal((await request(port, '/gone.txt')).status, 404);
    });
  });
});

describe('keel/static cache: limits', () => {
  test('a file over maxFileBytes is streamed from disk every time', async () => {
    const responses = await inTurn({ cache: { maxFileBytes: 4999 } }, ['/big.bin', '/big.bin', '/a.txt', '/a.txt']);
    assert.equal(opens('big.bin'), 2);
    assert.equal(opens('a.txt'), 1);
    assert.deepEqual(responses[1].body, Buffer.alloc(5000, 7));
  });

  test('a file of exactly maxFileBytes is held', async () => {
    await inTurn({ cache: { maxFileBytes: 5000 } }, ['/big.bin', '/big.bin']);
    assert.equal(opens('big.bin'), 1);
  });

  test('past maxBytes the least recently served file is evicted', async () => {
    // 250 bytes hold two of the 100-byte files. a, b held; a served again (now the most recent);
    // c evicts b; a is still held, b is read again.
    await inTurn({ cache: { maxBytes: 250 } }, ['/a.txt', '/b.txt', '/a.txt', '/c.txt', '/a.txt', '/b.txt']);
    assert.deepEqual([opens('a.txt'), opens('b.txt'), opens('c.txt')], [1, 2, 1]);
  });

  test('maxFileBytes above maxBytes: a file larger than maxBytes is not held', async () => {
    await inTurn({ cache: { maxBytes: 99, maxFileBytes: 1000 } }, ['/a.txt', '/a.txt']);
    assert.equal(opens('a.txt'), 2);
  });
});

describe('keel/static cache: options', () => {
  const bad = [
    [{ cache: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
    [{ cache: null }, 'ERR_INVALID_ARG_TYPE'],
    [{ cache: 1 }, 'ERR_INVALID_ARG_TYPE'],
    [{ cache: { maxBytes: '1' } }, 'ERR_INVALID_ARG_TYPE'],
    [{ cache: { maxBytes: -1 } }, 'ERR_OUT_OF_RANGE'],
    [{ cache: { maxFileBytes: 1.5 } }, 'ERR_OUT_OF_RANGE'],
    [{ cache: { maxFileBytes: Infinity } }, 'ERR_OUT_OF_RANGE'],
    [{ cache: { maxBytes: NaN } }, 'ERR_OUT_OF_RANGE'],
  ];
  for (const [options, code] of bad) {
    test(`${JSON.stringify(options, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))} → ${code}`, () => {
      assert.throws(() => serveStatic(tree.root, options), { code });
    });
  }

  test('false, true, {} and sizes of 0 are accepted (0: nothing is held)', async () => {
    for (const cache of [false, true, {}, { maxBytes: 0 }, { maxFileBytes: 0 }]) serveStatic(tree.root, { cache });
    await inTurn({ cache: { maxBytes: 0 } }, ['/a.txt', '/a.txt']);
    assert.equal(opens('a.txt'), 2);
  });
});
