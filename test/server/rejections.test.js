// Requests Keel refuses: each gets exactly the canned `HTTP/1.1 <status> <reason>` +
// `Connection: close` response, the connection closes, and the request handler never runs.
// Statuses follow /work/shared/conformance/README.md sections 7 and 8 (Keel's decisions where
// Node 20 differs: 505 for HTTP/2.0, 414 for a long target, 501 for an unknown method token and
// for an unimplemented transfer coding, 400 for Host problems).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'keel';
import { start, withServer, exchange, get, sleep, waitUntil, once } from './raw.js';

const T = { timeout: 5000 };

const REASONS = {
  400: 'Bad Request',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

const canned = (status) => `HTTP/1.1 ${status} ${REASONS[status]}\r\nConnection: close\r\n\r\n`;

const CASES = [
  ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['bad Host a/b', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 400],
  ['space before the colon', 'GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  2\r\n\r\n', 400],
  ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['Transfer-Encoding: gzip, chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
  ['Transfer-Encoding: gzip', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nhello', 400],
  ['Content-Length: +5', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello', 400],
  ['two different Content-Length values', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400],
  ['header section over 16 KiB', `GET / HTTP/1.1\r\nHost: a\r\nCookie: ${'a'.repeat(17000)}\r\n\r\n`, 431],
  ['a 70 KB single field', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(70000)}\r\n\r\n`, 431],
  ['a 20000-byte request-target', `GET /${'t'.repeat(19999)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
  ['unknown method FOO', 'FOO / HTTP/1.1\r\nHost: a\r\n\r\n', 501],
  ['junk method G(T', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
  ['NUL in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n', 400],
  ['bare LF line endings', 'GET / HTTP/1.1\nHost: a\n\n', 400],
  ['bare CR in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n', 400],
  ['HTTP/0.9 request line', 'GET /\r\n\r\n', 400],
  ['more than 2000 field lines (under 16 KiB)', `GET / HTTP/1.1\r\nHost: a\r\n${'a:b\r\n'.repeat(2001)}\r\n`, 431],
];

describe('canned rejections (one server survives them all, in sequence)', () => {
  let h;
  before(async () => {
    h = await start((req, res) => res.end('handled'));
  });
  after(async () => {
    await h.close();
  });

  for (const [name, raw, status] of CASES) {
    test(`${name} → ${status}, Connection: close, closed, handler not called`, T, async () => {
      const callsBefore = h.calls;
      const r = await exchange(h.port, raw, { timeout: 3000 });
      assert.equal(r.closed, true, 'the server closed the connection');
      assert.equal(r.text, canned(status));
      assert.equal(r.responses.length, 1);
      assert.equal(r.responses[0].status, status);
      assert.equal(r.responses[0].headers.connection, 'close');
      assert.equal(h.calls, callsBefore, 'the handler was not called');
    });
  }

  test('the same inputs sent in 3-byte pieces get the same verdicts', { timeout: 10000 }, async () => {
    for (const [name, raw, status] of CASES) {
      if (raw.length > 200) continue; // the long ones are covered whole
      const bytes = Buffer.from(raw, 'latin1');
      const pieces = [];
      for (let i = 0; i < bytes.length; i += 3) pieces.push(bytes.subarray(i, i + 3));
      const r = await exchange(h.port, pieces, { timeout: 3000 });
      assert.equal(r.text, canned(status), name);
    }
  });

  test('HTTP/1.2 is accepted and served as HTTP/1.1 (200)', T, async () => {
    const callsBefore = h.calls;
    const r = await exchange(h.port, 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', { responses: 1 });
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(r.responses[0].body.toString(), 'handled');
    assert.equal(h.calls, callsBefore + 1);
    assert.equal(h.requests.at(-1).httpVersion, '1.2');
  });

  test('the server is still alive and serving after all of the above', T, async () => {
    const r = await exchange(h.port, get('/alive'), { responses: 1 });
    assert.equal(r.responses[0].status, 200);
    assert.equal(r.responses[0].body.toString(), 'handled');
    assert.equal(h.server.listening, true);
  });
});

test('bad chunk size 0x5: the handler runs (the head is valid), the client gets 400, req is aborted with ECONNRESET', T, async () => {
  // As Node: the request being read is destroyed with ECONNRESET 'aborted' (Keel adds the
  // ParseError as its `cause`); 'aborted' and 'close' fire, and 'error' because a listener exists.
  // The response was not started, so the canned 400 is written.
  const seen = { aborted: false, error: null, reqClose: false, resClose: false, body: [] };
  const handler = (req, res) => {
    req.on('data', (d) => seen.body.push(d));
    req.on('aborted', () => {
      seen.aborted = true;
    });
    req.on('error', (err) => {
      seen.error = err;
    });
    req.on('close', () => {
      seen.reqClose = true;
    });
    res.on('close', () => {
      seen.resClose = true;
    });
  };
  await withServer(handler, {}, async (h) => {
    const raw = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n';
    const r = await exchange(h.port, raw);
    assert.equal(h.calls, 1);
    assert.equal(r.text, canned(400));
    assert.equal(r.closed, true);
    await waitUntil(() => seen.reqClose && seen.resClose, 1000, "req and res 'close'");
    assert.equal(seen.aborted, true);
    assert.equal(h.requests[0].aborted, true);
    assert.equal(h.requests[0].complete, false);
    assert.equal(seen.error?.code, 'ECONNRESET');
    assert.equal(seen.error?.message, 'aborted');
    assert.equal(seen.error?.cause?.code, 'HPE_INVALID_CHUNK_SIZE');
    assert.equal(seen.error?.cause?.status, 400);
    assert.equal(Buffer.concat(seen.body).length, 0);
  });
});

test('chunk extensions over 16 KiB in a body being read → 413 and close', T, async () => {
  const handler = (req, res) => {
    req.on('error', () => {});
    req.resume();
    req.on('end', () => res.end('read it all'));
  };
  await withServer(handler, {}, async (h) => {
    const raw = `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=${'x'.repeat(17000)}\r\nx\r\n0\r\n\r\n`;
    const r = await exchange(h.port, raw);
    assert.equal(h.calls, 1);
    assert.equal(r.text, canned(413));
    assert.equal(r.closed, true);
  });
});

test('bad chunk size after the handler already answered: no 400 after the 200, the connection closes', T, async () => {
  const handler = (req, res) => {
    req.on('error', () => {});
    res.end('early');
  };
  await withServer(handler, {}, async (h) => {
    const c = await h.connect();
    await c.write('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
    await c.waitForResponses(1);
    await c.write('zz\r\n');
    await c.waitForClose();
    const rs = c.responses();
    assert.equal(rs.length, 1);
    assert.equal(rs[0].status, 200);
    assert.equal(rs[0].body.toString(), 'early');
    assert.equal(c.text.includes('400'), false);
  });
});

test('Expect: teapot → 417, handler not called, the connection stays usable', T, async () => {
  await withServer((req, res) => res.end(`ok ${req.url}`), {}, async (h) => {
    const c = await h.connect();
    await c.write('GET /tea HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n');
    const [r1] = await c.waitForResponses(1);
    assert.equal(r1.statusLine, 'HTTP/1.1 417 Expectation Failed');
    assert.equal(r1.headers.connection, 'keep-alive');
    assert.equal(h.calls, 0);
    // With a body that nobody reads: it is discarded, the next request is parsed.
    await c.write('POST /tea2 HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\nContent-Length: 5\r\n\r\nhello' + get('/second'));
    const rs = await c.waitForResponses(3);
    assert.equal(rs[1].status, 417);
    assert.equal(rs[2].statusLine, 'HTTP/1.1 200 OK');
    assert.equal(rs[2].body.toString(), 'ok /second');
    assert.equal(h.calls, 1);
    assert.equal(c.ended, false);
  });
});

test("Expect: x-100-continue is not 100-continue → 417 (§8.13), no 100 Continue", T, async () => {
  await withServer((req, res) => res.end('ok'), {}, async (h) => {
    const r = await exchange(h.port, 'GET / HTTP/1.1\r\nHost: a\r\nExpect: x-100-continue\r\n\r\n', { responses: 1 });
    assert.equal(r.responses[0].status, 417);
    assert.equal(r.text.includes('100 Continue'), false);
    assert.equal(h.calls, 0);
  });
});

test('clientError listener: gets the ParseError (code, status) and the socket; its own bytes are all the client sees', T, async () => {
  await withServer((req, res) => res.end('handled'), {}, async (h) => {
    const errors = [];
    const custom = 'HTTP/1.1 400 Custom Reject\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope';
    h.server.on('clientError', (err, socket) => {
      errors.push({ err, socket, remoteAddress: socket.remoteAddress });
      socket.end(custom);
    });
    const r = await exchange(h.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n');
    assert.equal(r.text, custom);
    assert.equal(r.closed, true);
    assert.equal(errors.length, 1);
    const { err, socket, remoteAddress } = errors[0];
    assert.ok(err instanceof Error);
    assert.ok(err instanceof http.ParseError);
    assert.equal(err.code, 'HPE_INVALID_HEADER_TOKEN');
    assert.equal(err.status, 400);
    assert.equal(typeof err.bytesParsed, 'number');
    assert.equal(typeof socket.write, 'function');
    assert.equal(remoteAddress, '127.0.0.1');
    assert.equal(h.calls, 0);

    const r2 = await exchange(h.port, `GET /${'t'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.equal(r2.text, custom);
    assert.equal(errors[1].err.code, 'HPE_URI_TOO_LONG');
    assert.equal(errors[1].err.status, 414);
  });
});

test("clientError: err.rawPacket holds the bytes that failed to parse (Node's documented field)", T, async () => {
  // Regression test (bug fixed in the engine): ParseError documents `rawPacket` as "set by the server" (src/common/errors.ts) and
  // Node sets err.rawPacket for every parse error given to 'clientError', but no code in
  // src/server/ ever sets it: it is undefined.
  await withServer((req, res) => res.end('handled'), {}, async (h) => {
    let error;
    h.server.on('clientError', (err, socket) => {
      error = err;
      socket.destroy();
    });
    await exchange(h.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n');
    await waitUntil(() => error, 1000, 'clientError');
    assert.ok(Buffer.isBuffer(error.rawPacket), 'rawPacket is a Buffer');
    assert.ok(error.rawPacket.toString('latin1').includes('X-A : 1'));
  });
});

test('a ParseError after two valid pipelined requests: both answered first, then the 400', T, async () => {
  await withServer((req, res) => setTimeout(() => res.end(`ok ${req.url}`), req.url === '/1' ? 40 : 0), {}, async (h) => {
    const r = await exchange(h.port, get('/1') + get('/2') + 'GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n' + get('/4'));
    assert.equal(r.closed, true);
    assert.deepEqual(r.responses.map((x) => x.status), [200, 200, 400]);
    assert.deepEqual(r.responses.slice(0, 2).map((x) => x.body.toString()), ['ok /1', 'ok /2']);
    assert.equal(r.responses[2].raw.toString(), canned(400));
    assert.equal(h.calls, 2);
  });
});

test('a ParseError after two valid pipelined requests with a clientError listener: it runs after both responses', T, async () => {
  await withServer((req, res) => setTimeout(() => res.end(`ok ${req.url}`), req.url === '/1' ? 40 : 0), {}, async (h) => {
    const [ready] = [once(h.server, 'clientError', 2000)];
    h.server.on('clientError', (err, socket) => socket.end('HTTP/1.1 400 Mine\r\nConnection: close\r\n\r\n'));
    const r = await exchange(h.port, get('/1') + get('/2') + 'G(T / HTTP/1.1\r\n\r\n');
    const [err] = await ready;
    assert.equal(err.code, 'HPE_INVALID_METHOD');
    assert.deepEqual(r.responses.map((x) => x.statusLine), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 400 Mine']);
  });
});

test('a client that closes mid-head: no response, no handler call, no crash', T, async () => {
  await withServer((req, res) => res.end('handled'), {}, async (h) => {
    const c = await h.connect();
    await c.write('GET / HTTP/1.1\r\nHost: a\r\nX-Partial');
    c.socket.end();
    await c.waitForClose();
    await sleep(20);
    assert.equal(h.calls, 0);
    // The peer has gone: the HPE_INVALID_EOF_STATE 400 may or may not be written; nothing else is.
    assert.ok(c.text === '' || c.text === canned(400), JSON.stringify(c.text));
    await waitUntil(() => h.sockets.size === 0, 1000, 'the server socket to close');
  });
});
