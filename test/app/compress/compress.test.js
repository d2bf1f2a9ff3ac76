// keel/compress: what gets compressed and what does not. Bodies written in one end(), in several
// chunks, and piped from a file are decompressed with node:zlib and compared byte for byte; the
// threshold, the skip rules (HEAD, 204, 304, Content-Encoding, no-transform, ranges, SSE, types),
// Vary and ETag handling, held-back writeHead, withCompression, and keel/static behind it.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { compress, withCompression } from 'keel/compress';
import { serveStatic } from 'keel/static';
import { exchange } from '../../server/raw.js';
import { makeTree, request, serving } from '../static/fixtures.js';
import { decoded, TEXT } from './support.js';

const GZIP = { 'Accept-Encoding': 'gzip' };
const BR = { 'Accept-Encoding': 'br' };

/** A server whose handler runs behind compress(options). */
function behind(handler, options) {
  const middleware = compress(options);
  return (req, res) => middleware(req, res, () => handler(req, res));
}

function text(res, body = TEXT, type = 'text/plain; charset=utf-8') {
  res.setHeader('Content-Type', type);
  res.end(body);
}

let tree;
before(() => {
  tree = makeTree({ 'page.html': `<!DOCTYPE html>\n${TEXT}`, 'tiny.txt': 'tiny\n', 'logo.png': Buffer.alloc(4096, 7), 'p.js.gz': zlib.gzipSync('x') });
});
after(() => tree.cleanup());

describe('compressing bodies', () => {
  test('res.end(body): gzip, chunked, no Content-Length, Vary, exact bytes after gunzip', async () => {
    await serving(behind((req, res) => text(res)), async (port) => {
      const res = await request(port, '/', { headers: GZIP });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(res.headers.vary, 'Accept-Encoding');
      assert.ok(res.body.length < Buffer.byteLength(TEXT) / 2);
      assert.equal(zlib.gunzipSync(res.body).toString(), TEXT);
    });
  });

  test('brotli, decompressed with zlib.brotliDecompressSync', async () => {
    await serving(behind((req, res) => text(res)), async (port) => {
      const res = await request(port, '/', { headers: BR });
      assert.equal(res.headers['content-encoding'], 'br');
      assert.equal(zlib.brotliDecompressSync(res.body).toString(), TEXT);
    });
  });

  test('several write() calls, strings and buffers, then end(last)', async () => {
    const parts = ['{"items":[', ...Array.from({ length: 200 }, (_, i) => `${i ? ',' : ''}{"id":${i},"name":"item ${i}"}`), ']}'];
    await serving(behind((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      for (let i = 0; i < parts.length - 1; i++) res.write(i % 2 ? Buffer.from(parts[i]) : parts[i]);
      res.end(parts[parts.length - 1]);
    }), async (port) => {
      for (const headers of [GZIP, BR]) {
        const res = await request(port, '/', { headers });
        assert.equal(res.headers['content-encoding'], headers['Accept-Encoding']);
        assert.equal(decoded(res).toString(), parts.join(''));
        assert.doesNotThrow(() => JSON.parse(decoded(res).toString()));
      }
    });
  });

  test('a file piped into the response (readable.pipe and stream.pipeline)', async () => {
    const path = join(tree.root, 'page.html');
    const expected = readFileSync(path);
    await serving(behind((req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      if (req.url === '/pipe') createReadStream(path, { highWaterMark: 1024 }).pipe(res);
      else pipeline(createReadStream(path, { highWaterMark: 1024 }), res, () => {});
    }), async (port) => {
      for (const target of ['/pipe', '/pipeline']) {
        for (const headers of [GZIP, BR]) {
          const res = await request(port, target, { headers });
          assert.equal(res.status, 200);
          assert.ok(res.headers['content-encoding'], target);
          assert.deepEqual(decoded(res), expected);
        }
      }
    });
  });

  test('keep-alive: two compressed responses on one connection frame correctly', async () => {
    await serving(behind((req, res) => text(res, `${req.url}\n${TEXT}`)), async (port) => {
      const get = (path) => `GET ${path} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n`;
      const { responses } = await exchange(port, get('/one') + get('/two'), { responses: 2 });
      assert.equal(responses.length, 2);
      assert.equal(zlib.gunzipSync(responses[0].body).toString(), `/one\n${TEXT}`);
      assert.equal(zlib.gunzipSync(responses[1].body).toString(), `/two\n${TEXT}`);
    });
  });

  test('HTTP/1.0: compressed body delimited by the close', async () => {
    await serving(behind((req, res) => text(res)), async (port) => {
      const { responses, closed } = await exchange(port, 'GET / HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n');
      assert.ok(closed);
      assert.equal(responses[0].headers['content-encoding'], 'gzip');
      assert.equal(responses[0].untilClose, true);
      assert.equal(zlib.gunzipSync(responses[0].body).toString(), TEXT);
    });
  });

  test('withCompression(handler) wraps a plain request listener', async () => {
    await serving(withCompression((req, res) => text(res), { encodings: ['gzip'] }), async (port) => {
      const res = await request(port, '/', { headers: { 'Accept-Encoding': 'br, gzip' } });
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.equal(zlib.gunzipSync(res.body).toString(), TEXT);
    });
    assert.throws(() => withCompression('nope'), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('threshold (default 1024 bytes)', () => {
  test('end(body) below it: identity with Content-Length; at it: compressed', async () => {
    await serving(behind((req, res) => text(res, 'x'.repeat(Number(req.url.slice(1))))), async (port) => {
      const small = await request(port, '/1023', { headers: GZIP });
      assert.equal(small.headers['content-encoding'], undefined);
      assert.equal(small.headers['content-length'], '1023');
      assert.equal(small.headers.vary, 'Accept-Encoding');
      const big = await request(port, '/1024', { headers: GZIP });
      assert.equal(big.headers['content-encoding'], 'gzip');
      assert.equal(zlib.gunzipSync(big.body).toString(), 'x'.repeat(1024));
    });
  });

  test('a declared Content-Length decides, even when the body is written in pieces', async () => {
    await serving(behind((req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Length', '600');
      res.write('a'.repeat(300));
      res.end('b'.repeat(300));
    }), async (port) => {
      const res = await request(port, '/', { headers: GZIP });
      assert.equal(res.headers['content-encoding'], undefined);
      assert.equal(res.headers['content-length'], '600');
      assert.equal(res.body.toString(), 'a'.repeat(300) + 'b'.repeat(300));
    });
  });

  test('length unknown at head time (write() first): compressed, however small', async () => {
    await serving(behind((req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.write('tiny ');
      res.end('body');
    }), async (port) => {
      const res = await request(port, '/', { headers: GZIP });
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.equal(zlib.gunzipSync(res.body).toString(), 'tiny body');
    });
  });

  test('threshold: 0 compresses a small end(body); an empty body is never compressed', async () => {
    await serving(behind((req, res) => text(res, req.url === '/empty' ? '' : 'small'), { threshold: 0 }), async (port) => {
      const res = await request(port, '/', { headers: GZIP });
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.equal(zlib.gunzipSync(res.body).toString(), 'small');
      const empty = await request(port, '/empty', { headers: GZIP });
      assert.equal(empty.headers['content-length'], '0');
    });
    await serving(behind((req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.end();
    }), async (port) => {
      const res = await request(port, '/', { headers: GZIP });
      assert.equal(res.headers['content-encoding'], undefined);
      assert.equal(res.headers['content-length'], '0');
    });
  });

  test('writeHead() is held back: writeHead + end(small) stays identity, writeHead + end(big) compresses', async () => {
    const seen = [];
    await serving(behind((req, res) => {
      res.writeHead(201, 'Made', { 'Content-Type': 'text/plain', 'X-Mark': 'yes' });
      seen.push(res.headersSent);
      assert.throws(() => res.writeHead(200), { code: 'ERR_HTTP_HEADERS_SENT' });
      res.end(req.url === '/big' ? TEXT : 'small');
    }), async (port) => {
      const small = await request(port, '/small', { headers: GZIP });
      assert.equal(small.statusLine, 'HTTP/1.1 201 Made');
      assert.equal(small.headers['content-encoding'], undefined);
      assert.equal(small.headers['content-length'], '5');
      assert.equal(small.headers['x-mark'], 'yes');
      const big = await request(port, '/big', { headers: GZIP });
      assert.equal(big.statusLine, 'HTTP/1.1 201 Made');
      assert.equal(big.headers['content-encoding'], 'gzip');
      assert.equal(big.headers['x-mark'], 'yes');
      assert.equal(zlib.gunzipSync(big.body).toString(), TEXT);
    });
    assert.deepEqual(seen, [true, true]);
  });

  test('writeHead with a raw header array, and flushHeaders(), still compress', async () => {
    await serving(behind((req, res) => {
      if (req.url === '/array') res.writeHead(200, ['Content-Type', 'text/plain', 'X-A', '1', 'X-A', '2']);
      else {
        res.setHeader('Content-Type', 'text/plain');
        res.flushHeaders();
      }
      res.end(TEXT);
    }), async (port) => {
      const array = await request(port, '/array', { headers: GZIP });
      assert.equal(array.headers['content-encoding'], 'gzip');
      assert.deepEqual(array.headers['x-a'], ['1', '2']);
      assert.equal(zlib.gunzipSync(array.body).toString(), TEXT);
      const flushed = await request(port, '/flushed', { headers: GZIP });
      assert.equal(flushed.headers['content-encoding'], 'gzip');
      assert.equal(zlib.gunzipSync(flushed.body).toString(), TEXT);
    });
  });
});

describe('never compressed', () => {
  async function plain(handler, headers = GZIP, method = 'GET') {
    return serving(behind(handler), (port) => request(port, '/', { method, headers }));
  }

  test('HEAD: no Content-Encoding, the handler\'s length kept', async () => {
    const res = await plain((req, res) => {
      res.setHeader('Content-Length', Buffer.byteLength(TEXT));
      text(res);
    }, GZIP, 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(TEXT)));
    assert.equal(res.body.length, 0);
  });

  test('204 and 304', async () => {
    const noContent = await plain((req, res) => {
      res.writeHead(204, { 'Content-Type': 'text/plain' });
      res.end();
    });
    assert.equal(noContent.status, 204);
    assert.equal(noContent.headers['content-encoding'], undefined);
    const notModified = await plain((req, res) => {
      res.statusCode = 304;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('ETag', '"x"');
      res.end();
    });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers['content-encoding'], undefined);
  });

  test('a response that already has a Content-Encoding passes through untouched', async () => {
    const gz = zlib.gzipSync(TEXT);
    const res = await plain((req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Encoding', 'gzip');
      res.end(gz);
    }, BR);
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['content-length'], String(gz.length));
    assert.deepEqual(res.body, gz);
  });

  test('Cache-Control: no-transform', async () => {
    const res = await plain((req, res) => {
      res.setHeader('Cache-Control', 'public, No-Transform');
      text(res);
    });
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.body.toString(), TEXT);
  });

  test('206 and any Content-Range', async () => {
    const partial = await plain((req, res) => {
      res.writeHead(206, { 'Content-Type': 'text/plain', 'Content-Range': `bytes 0-1999/${TEXT.length}` });
      res.end(TEXT.slice(0, 2000));
    });
    assert.equal(partial.status, 206);
    assert.equal(partial.headers['content-encoding'], undefined);
    assert.equal(partial.body.toString(), TEXT.slice(0, 2000));
    const odd = await plain((req, res) => {
      res.setHeader('Content-Range', `bytes */${TEXT.length}`);
      text(res);
    });
    assert.equal(odd.headers['content-encoding'], undefined);
  });

  test('types that are not compressible, or no Content-Type: no Vary either', async () => {
    for (const type of ['image/png', 'application/octet-stream', 'video/mp4', 'font/woff2', 'application/zip']) {
      const res = await plain((req, res) => text(res, TEXT, type));
      assert.equal(res.headers['content-encoding'], undefined, type);
      assert.equal(res.headers.vary, undefined, type);
    }
    const untyped = await plain((req, res) => res.end(TEXT));
    assert.equal(untyped.headers['content-encoding'], undefined);
    for (const type of ['text/css', 'application/json; charset=utf-8', 'APPLICATION/JAVASCRIPT', 'image/svg+xml', 'application/ld+json', 'application/atom+xml']) {
      const res = await plain((req, res) => text(res, TEXT, type));
      assert.equal(res.headers['content-encoding'], 'gzip', type);
    }
  });

  test('compressible: option replaces the type rule, but never for text/event-stream', async () => {
    const handler = (req, res) => text(res, TEXT, req.url === '/png' ? 'image/png' : req.url === '/sse' ? 'text/event-stream' : 'text/html');
    await serving(behind(handler, { compressible: (type) => type === 'image/png' || type === 'text/event-stream' }), async (port) => {
      assert.equal((await request(port, '/png', { headers: GZIP })).headers['content-encoding'], 'gzip');
      assert.equal((await request(port, '/html', { headers: GZIP })).headers['content-encoding'], undefined);
      assert.equal((await request(port, '/sse', { headers: GZIP })).headers['content-encoding'], undefined);
    });
  });
});

describe('headers', () => {
  test('Vary is extended, never duplicated; "*" is left alone', async () => {
    await serving(behind((req, res) => {
      if (req.url === '/origin') res.setHeader('Vary', 'Origin');
      if (req.url === '/already') res.setHeader('Vary', 'accept-encoding, Origin');
      if (req.url === '/star') res.setHeader('Vary', '*');
      text(res);
    }), async (port) => {
      assert.equal((await request(port, '/origin', { headers: GZIP })).headers.vary, 'Origin, Accept-Encoding');
      assert.equal((await request(port, '/already', { headers: GZIP })).headers.vary, 'accept-encoding, Origin');
      assert.equal((await request(port, '/star', { headers: GZIP })).headers.vary, '*');
      assert.equal((await request(port, '/origin')).headers.vary, 'Origin, Accept-Encoding');
    });
  });

  test('a strong ETag becomes weak when the body is compressed; weak and identity ones are kept', async () => {
    await serving(behind((req, res) => {
      res.setHeader('ETag', req.url === '/weak' ? 'W/"v1"' : '"v1"');
      text(res);
    }), async (port) => {
      assert.equal((await request(port, '/strong', { headers: GZIP })).headers.etag, 'W/"v1"');
      assert.equal((await request(port, '/weak', { headers: GZIP })).headers.etag, 'W/"v1"');
      assert.equal((await request(port, '/strong')).headers.etag, '"v1"');
    });
  });
});

describe('keel/static behind compress()', () => {
  test('files are compressed on the fly; ranges, small files, images and precompressed files are not', async () => {
    const files = serveStatic(tree.root, { precompressed: true });
    await serving(behind((req, res) => files(req, res)), async (port) => {
      const page = await request(port, '/page.html', { headers: GZIP });
      assert.equal(page.status, 200);
      assert.equal(page.headers['content-encoding'], 'gzip');
      assert.equal(page.headers['content-length'], undefined);
      assert.equal(page.headers.vary, 'Accept-Encoding');
      assert.equal(page.headers.etag.startsWith('W/'), true);
      assert.equal(zlib.gunzipSync(page.body).toString(), `<!DOCTYPE html>\n${TEXT}`);
      const range = await request(port, '/page.html', { headers: { ...GZIP, Range: 'bytes=0-14' } });
      assert.equal(range.status, 206);
      assert.equal(range.headers['content-encoding'], undefined);
      assert.equal(range.body.toString(), '<!DOCTYPE html>');
      const tiny = await request(port, '/tiny.txt', { headers: GZIP });
      assert.equal(tiny.headers['content-encoding'], undefined);
      assert.equal(tiny.body.toString(), 'tiny\n');
      const png = await request(port, '/logo.png', { headers: GZIP });
      assert.equal(png.headers['content-encoding'], undefined);
      assert.equal(png.body.length, 4096);
      const head = await request(port, '/page.html', { method: 'HEAD', headers: GZIP });
      assert.equal(head.headers['content-encoding'], undefined);
      assert.equal(head.headers['content-length'], String(Buffer.byteLength(`<!DOCTYPE html>\n${TEXT}`)));
      const cached = await request(port, '/page.html', { headers: { ...GZIP, 'If-None-Match': page.headers.etag } });
      assert.equal(cached.status, 304);
    });
  });
});
