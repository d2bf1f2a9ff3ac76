// Response framing (RFC 9112 §6.3) as node:http chooses it, and the header API's guarantees:
// Content-Length when the whole body is known, chunked when streamed to an HTTP/1.1 client,
// until-close for HTTP/1.0, no body for HEAD / 204 / 304; validation that makes response
// splitting impossible.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, fetchOne, untilClose, get, sleep, waitUntil } from './raw.js';

const T = { timeout: 5000 };

/** Everything after the head of the first response, as latin1 text. */
function afterHead(c) {
  const text = c.text;
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

test("res.end('hello') → Content-Length: 5, no Transfer-Encoding", T, async () => {
  await withServer((req, res) => res.end('hello'), {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r.headers['content-length'], '5');
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.equal(r.body.toString(), 'hello');
    assert.equal(afterHead(c), 'hello');
  });
});

test("res.end(multi-byte string) → Content-Length counts bytes, not characters", T, async () => {
  await withServer((req, res) => res.end('héllo €'), {}, async (h) => {
    const [r] = await fetchOne(h);
    assert.equal(r.headers['content-length'], String(Buffer.byteLength('héllo €')));
    assert.equal(r.body.toString('utf8'), 'héllo €');
  });
});

test('write() + end() → Transfer-Encoding: chunked with exact chunk framing', T, async () => {
  const handler = (req, res) => {
    res.write('abc');
    res.write(Buffer.from('0123456789abcdefg')); // 17 bytes = 0x11
    res.end('Z');
  };
  await withServer(handler, {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(afterHead(c), '3\r\nabc\r\n11\r\n0123456789abcdefg\r\n1\r\nZ\r\n0\r\n\r\n');
    assert.equal(r.body.toString(), 'abc0123456789abcdefgZ');
    assert.equal(r.headers.connection, 'keep-alive');
  });
});

test("write('') frames nothing (no premature last-chunk)", T, async () => {
  const handler = (req, res) => {
    res.write('a');
    res.write('');
    res.end('b');
  };
  await withServer(handler, {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.equal(afterHead(c), '1\r\na\r\n1\r\nb\r\n0\r\n\r\n');
    assert.equal(r.body.toString(), 'ab');
  });
});

test("writeHead(200) + end('x') → Content-Length: 1 (Keel's deliberate difference: Node would chunk)", T, async () => {
  const handler = (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('x');
  };
  await withServer(handler, {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.equal(r.headers['content-length'], '1');
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(afterHead(c), 'x');
  });
});

test('end() with no body → Content-Length: 0', T, async () => {
  await withServer((req, res) => res.end(), {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.equal(r.headers['content-length'], '0');
    assert.equal(afterHead(c), '');
  });
});

test('HEAD → the headers but no body; the connection stays in sync for the next request', T, async () => {
  const handler = (req, res) => {
    res.setHeader('X-Custom', 'yes');
    if (req.url === '/cl') res.setHeader('Content-Length', '5');
    res.end('hello');
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n' + 'HEAD /cl HTTP/1.1\r\nHost: a\r\n\r\n' + get('/after'));
    const rs = await c.waitForResponses(3, 2000, { head: [0, 1] });
    assert.equal(rs[0].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[0].headers['x-custom'], 'yes');
    assert.equal(rs[0].headers['transfer-encoding'], undefined);
    assert.equal(rs[0].body.length, 0);
    assert.equal(rs[1].headers['content-length'], '5'); // the handler's own Content-Length is kept
    assert.equal(rs[1].body.length, 0);
    assert.equal(rs[2].body.toString(), 'hello');
    assert.equal(rs[2].raw.toString().startsWith('HTTP/1.1 200 OK\r\n'), true);
    assert.equal(c.text.split('hello').length - 1, 1); // only the GET carried the body
  });
});

test('HEAD with write() + end(): no chunked framing bytes are sent', T, async () => {
  const handler = (req, res) => {
    res.write('abc');
    res.end('def');
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n' + get('/next'));
    const rs = await c.waitForResponses(2, 2000, { head: [0] });
    assert.equal(rs[0].body.length, 0);
    assert.equal(rs[1].body.toString(), 'abcdef');
    assert.equal(rs[1].raw.toString('latin1').startsWith('HTTP/1.1 200 OK'), true);
  });
});

test('204 → no body, no Transfer-Encoding and no Content-Length, even if the handler writes one', T, async () => {
  const handler = (req, res) => {
    if (req.url === '/cl') res.setHeader('Content-Length', '4');
    res.statusCode = 204;
    if (req.url === '/write') res.write('body');
    res.end('body');
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/plain') + get('/cl') + get('/write') + get('/last'));
    const rs = await c.waitForResponses(4);
    for (const r of rs) {
      assert.equal(r.statusLine, 'HTTP/1.1 204 No Content');
      assert.equal(r.headers['transfer-encoding'], undefined);
      assert.equal(r.headers['content-length'], undefined);
    }
    assert.equal(c.text.includes('body'), false);
  });
});

test('304 → no body and no Transfer-Encoding', T, async () => {
  const handler = (req, res) => {
    res.writeHead(304, { ETag: '"v1"' });
    res.end(req.url === '/body' ? 'should not be sent' : undefined);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/') + get('/body') + get('/x'));
    const rs = await c.waitForResponses(3);
    for (const r of rs) {
      assert.equal(r.statusLine, 'HTTP/1.1 304 Not Modified');
      assert.equal(r.headers.etag, '"v1"');
      assert.equal(r.headers['transfer-encoding'], undefined);
    }
    assert.equal(c.text.includes('should not'), false);
  });
});

test('HTTP/1.0 request with write() + end() → no chunking, Connection: close, body until close', T, async () => {
  const handler = (req, res) => {
    res.write('part1-');
    setTimeout(() => res.end('part2'), 10);
  };
  await withServer(handler, {}, async (h) => {
    const [rs] = await untilClose(h, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(rs.length, 1);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[0].headers.connection, 'close');
    assert.equal(rs[0].headers['transfer-encoding'], undefined);
    assert.equal(rs[0].headers['content-length'], undefined);
    assert.equal(rs[0].untilClose, true);
    assert.equal(rs[0].body.toString(), 'part1-part2');
  });
});

test('HTTP/1.0 keep-alive request with write() + end() → body until close, Connection: close', T, async () => {
  const handler = (req, res) => {
    res.write('a');
    res.end('b');
  };
  await withServer(handler, {}, async (h) => {
    const [[r]] = await untilClose(h, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.equal(r.headers.connection, 'close');
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.equal(r.body.toString(), 'ab');
  });
});

test("the handler's Content-Length is respected: no chunking, the connection persists", T, async () => {
  const handler = (req, res) => {
    res.setHeader('Content-Length', 10);
    res.write('hello');
    setTimeout(() => res.end('world'), 5);
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/1') + get('/2'));
    const rs = await c.waitForResponses(2);
    for (const r of rs) {
      assert.equal(r.headers['content-length'], '10');
      assert.equal(r.headers['transfer-encoding'], undefined);
      assert.equal(r.body.toString(), 'helloworld');
    }
    assert.equal(afterHead(c).startsWith('helloworld'), true);
  });
});

test('trailers with addTrailers(): Trailer field in the head, trailer section after the last chunk', T, async () => {
  const handler = (req, res) => {
    res.writeHead(200, { Trailer: 'X-Checksum', 'Content-Type': 'text/plain' });
    res.write('data');
    res.addTrailers({ 'X-Checksum': 'abc123' });
    res.end();
  };
  await withServer(handler, {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.equal(r.headers.trailer, 'X-Checksum');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.body.toString(), 'data');
    assert.deepEqual(r.rawTrailers, ['X-Checksum', 'abc123']);
    assert.equal(afterHead(c), '4\r\ndata\r\n0\r\nX-Checksum: abc123\r\n\r\n');
  });
});

test('Date field: present and an IMF-fixdate close to now; absent when res.sendDate = false', T, async () => {
  const handler = (req, res) => {
    if (req.url === '/nodate') res.sendDate = false;
    res.end('x');
  };
  await withServer(handler, {}, async (h) => {
    const [r] = await fetchOne(h, get('/'));
    const date = r.headers.date;
    assert.match(date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.ok(Math.abs(Date.parse(date) - Date.now()) < 5000, date);
    const [r2] = await fetchOne(h, get('/nodate'));
    assert.equal(r2.headers.date, undefined);
    assert.equal(r2.rawHeaders.some((n, i) => i % 2 === 0 && /^date$/i.test(n)), false);
  });
});

test("the handler's own Date field replaces the automatic one", T, async () => {
  const handler = (req, res) => {
    res.setHeader('Date', 'Sun, 06 Nov 1994 08:49:37 GMT');
    res.end();
  };
  await withServer(handler, {}, async (h) => {
    const [r] = await fetchOne(h);
    assert.equal(r.headers.date, 'Sun, 06 Nov 1994 08:49:37 GMT');
  });
});

test('setHeader with an array → one field line per value', T, async () => {
  const handler = (req, res) => {
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.setHeader('X-Multi', ['x', 'y', 'z']);
    res.end();
  };
  await withServer(handler, {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    assert.deepEqual(r.headers['x-multi'], ['x', 'y', 'z']);
    assert.match(c.text, /\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n/);
    assert.match(c.text, /\r\nX-Multi: x\r\nX-Multi: y\r\nX-Multi: z\r\n/);
  });
});

test("header names keep the case they were set in", T, async () => {
  const handler = (req, res) => {
    res.setHeader('X-CamelCase-Header', 'v1');
    res.setHeader('x-lower', 'v2');
    res.writeHead(200, { 'CONTENT-type': 'text/plain' });
    res.end('x');
  };
  await withServer(handler, {}, async (h) => {
    const [r] = await fetchOne(h);
    const names = r.rawHeaders.filter((_, i) => i % 2 === 0);
    assert.ok(names.includes('X-CamelCase-Header'), names.join());
    assert.ok(names.includes('x-lower'), names.join());
    assert.ok(names.includes('CONTENT-type'), names.join());
  });
});

test('ERR_HTTP_HEADERS_SENT: setHeader after writeHead, and writeHead twice', T, async () => {
  const errors = {};
  const handler = (req, res) => {
    res.writeHead(201);
    try {
      res.setHeader('X-Late', '1');
    } catch (err) {
      errors.setHeader = err;
    }
    try {
      res.writeHead(202);
    } catch (err) {
      errors.writeHead = err;
    }
    res.end('created');
  };
  await withServer(handler, {}, async (h) => {
    const [r] = await fetchOne(h);
    assert.equal(r.statusLine, 'HTTP/1.1 201 Created');
    assert.equal(r.headers['x-late'], undefined);
    assert.equal(errors.setHeader?.code, 'ERR_HTTP_HEADERS_SENT');
    assert.ok(errors.setHeader instanceof Error);
    assert.equal(errors.writeHead?.code, 'ERR_HTTP_HEADERS_SENT');
  });
});

test('ERR_HTTP_HEADERS_SENT: setHeader after the first write()', T, async () => {
  let error;
  const handler = (req, res) => {
    res.write('a');
    try {
      res.setHeader('X-Late', '1');
    } catch (err) {
      error = err;
    }
    res.end();
  };
  await withServer(handler, {}, async (h) => {
    const [r] = await fetchOne(h);
    assert.equal(error?.code, 'ERR_HTTP_HEADERS_SENT');
    assert.equal(r.body.toString(), 'a');
  });
});

test('ERR_INVALID_CHAR for CR/LF in a header value: response splitting is impossible', T, async () => {
  const codes = [];
  const handler = (req, res) => {
    for (const value of ['a\r\nSet-Cookie: x', 'a\nb', 'a\rb', 'a\0b']) {
      try {
        res.setHeader('X', value);
        codes.push('none');
      } catch (err) {
        codes.push(err.code);
        assert.ok(err instanceof TypeError);
      }
    }
    try {
      res.writeHead(200, { 'X-W': 'v\r\nInjected: 1' });
    } catch (err) {
      codes.push(err.code);
    }
    res.end('safe');
  };
  await withServer(handler, {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.deepEqual(codes, ['ERR_INVALID_CHAR', 'ERR_INVALID_CHAR', 'ERR_INVALID_CHAR', 'ERR_INVALID_CHAR', 'ERR_INVALID_CHAR']);
    assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r.headers['set-cookie'], undefined);
    assert.equal(r.headers.injected, undefined);
    assert.equal(c.text.includes('Set-Cookie'), false);
    assert.equal(r.body.toString(), 'safe');
  });
});

test('ERR_INVALID_HTTP_TOKEN for an invalid header name', T, async () => {
  const codes = [];
  const handler = (req, res) => {
    for (const name of ['Bad Name', 'X:Y', '', 'a\r\nb', 'ünïcode']) {
      try {
        res.setHeader(name, 'v');
        codes.push('none');
      } catch (err) {
        codes.push(err.code);
      }
    }
    res.end();
  };
  await withServer(handler, {}, async (h) => {
    const [r] = await fetchOne(h);
    assert.equal(r.status, 200);
    assert.deepEqual(codes, Array(5).fill('ERR_INVALID_HTTP_TOKEN'));
  });
});

test("write after end → ERR_STREAM_WRITE_AFTER_END as 'error' on res; the connection keeps serving", T, async () => {
  let error;
  let callbackError;
  const handler = (req, res) => {
    if (req.url === '/bad') {
      res.on('error', (err) => {
        error = err;
      });
      res.end('first');
      res.write('more', (err) => {
        callbackError = err;
      });
    } else {
      res.end('second');
    }
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/bad'));
    const [r1] = await c.waitForResponses(1);
    assert.equal(r1.body.toString(), 'first');
    await waitUntil(() => error, 1000, "the 'error' event");
    assert.equal(error.code, 'ERR_STREAM_WRITE_AFTER_END');
    assert.equal(callbackError?.code, 'ERR_STREAM_WRITE_AFTER_END');
    await c.write(get('/good'));
    const rs = await c.waitForResponses(2);
    assert.equal(rs[1].body.toString(), 'second');
    assert.equal(c.text.includes('more'), false);
  });
});

test('flushHeaders() sends the head at once: the client has it before end()', T, async () => {
  let finish;
  const handler = (req, res) => {
    res.setHeader('X-Early', '1');
    res.flushHeaders();
    assert.equal(res.headersSent, true);
    finish = () => res.end('done');
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/'));
    await waitUntil(() => c.text.includes('\r\n\r\n'), 2000, 'the head');
    assert.equal(c.responses().length, 0); // the body is not complete yet
    assert.match(c.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(c.text, /\r\nX-Early: 1\r\n/);
    assert.match(c.text, /\r\nTransfer-Encoding: chunked\r\n/);
    finish();
    const [r] = await c.waitForResponses(1);
    assert.equal(r.body.toString(), 'done');
  });
});

test('statusMessage and custom reason phrases; ERR_HTTP_INVALID_STATUS_CODE for 99 and 1000', T, async () => {
  const codes = [];
  const handler = (req, res) => {
    for (const code of [99, 1000]) {
      try {
        res.writeHead(code);
      } catch (err) {
        codes.push(err.code);
      }
    }
    res.statusMessage = 'Totally Fine';
    res.statusCode = 299;
    res.end();
  };
  await withServer(handler, {}, async (h) => {
    const [r] = await fetchOne(h);
    assert.equal(r.statusLine, 'HTTP/1.1 299 Totally Fine');
    assert.deepEqual(codes, ['ERR_HTTP_INVALID_STATUS_CODE', 'ERR_HTTP_INVALID_STATUS_CODE']);
  });
});

test('a large body given to end() leaves with Content-Length and arrives intact', T, async () => {
  const big = Buffer.alloc(1024 * 1024, 'q');
  await withServer((req, res) => res.end(big), {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/'));
    const [r] = await c.waitForResponses(1, 4000);
    assert.equal(r.headers['content-length'], String(big.length));
    assert.equal(r.body.equals(big), true);
    await sleep(0);
  });
});

test('writeHead with a flat array of headers and with [name, value] pairs → repeated lines; merged over setHeader', T, async () => {
  const handler = (req, res) => {
    res.setHeader('X-Base', 'kept');
    res.setHeader('X-Over', 'replaced');
    if (req.url === '/flat') res.writeHead(200, ['X-A', '1', 'X-A', '2']);
    else res.writeHead(200, { 'X-Over': 'new' });
    res.end();
  };
  await withServer(handler, {}, async (h) => {
    const [r1, c1] = await fetchOne(h, get('/flat'));
    assert.deepEqual(r1.headers['x-a'], ['1', '2']);
    assert.equal(r1.headers['x-base'], 'kept');
    assert.match(c1.text, /\r\nX-A: 1\r\nX-A: 2\r\n/);
    const [r2] = await fetchOne(h, get('/obj'));
    assert.equal(r2.headers['x-over'], 'new');
    assert.equal(r2.headers['x-base'], 'kept');
  });
});

test('a latin1 header value is sent as latin1 bytes (as Node)', T, async () => {
  const handler = (req, res) => {
    res.setHeader('X-Name', 'caf\u00e9');
    res.end('ok');
  };
  await withServer(handler, {}, async (h) => {
    const [r, c] = await fetchOne(h);
    assert.equal(r.headers['x-name'], 'caf\u00e9'); // split as latin1
    assert.ok(c.data.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a])));
    assert.equal(r.body.toString(), 'ok');
  });
});

test('writeEarlyHints → 103 with the Link field, then the final response', T, async () => {
  const handler = (req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    res.end('page');
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write(get('/'));
    const rs = await c.waitForResponses(2);
    assert.equal(rs[0].statusLine, 'HTTP/1.1 103 Early Hints');
    assert.equal(rs[0].headers.link, '</style.css>; rel=preload; as=style');
    assert.equal(rs[1].status, 200);
    assert.equal(rs[1].body.toString(), 'page');
  });
});
