// The node:http surface as applications use it: createServer's signatures, server events, the
// request object (headers with Node's duplicate rules, raw headers, trailers, version, complete,
// async iteration) and the response object's header API and state flags.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import http, { createServer, STATUS_CODES, METHODS, Server, IncomingMessage, ServerResponse } from 'keel';
import { withServer, get, post, readAll, waitUntil, exchange } from './raw.js';

const T = { timeout: 5000 };
const here = path.dirname(fileURLToPath(import.meta.url));

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function close(server) {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

test('createServer(listener) and createServer(options, listener), new Server(...)', T, async () => {
  const a = createServer((req, res) => res.end('a'));
  const b = http.createServer({ keepAliveTimeout: 1234, headersTimeout: 4321 }, (req, res) => res.end('b'));
  const c = new Server((req, res) => res.end('c'));
  const d = createServer();
  d.on('request', (req, res) => res.end('d'));
  assert.ok(a instanceof Server);
  assert.equal(b.keepAliveTimeout, 1234);
  assert.equal(b.headersTimeout, 4321);
  assert.equal(a.keepAliveTimeout, 65000);
  try {
    for (const [server, expected] of [[a, 'a'], [b, 'b'], [c, 'c'], [d, 'd']]) {
      const port = await listen(server);
      const r = await exchange(port, get('/'), { responses: 1 });
      assert.equal(r.responses[0].body.toString(), expected);
      if (server === b) assert.equal(r.responses[0].headers['keep-alive'], 'timeout=1');
    }
  } finally {
    for (const server of [a, b, c, d]) if (server.listening) await close(server);
  }
});

test("createServer rejects invalid option values (ERR_INVALID_ARG_VALUE)", T, () => {
  assert.throws(() => createServer({ headersTimeout: -1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => createServer({ keepAliveTimeout: 'x' }), { code: 'ERR_INVALID_ARG_VALUE' });
});

test("server events: 'listening', 'connection', 'request', 'close'", T, async () => {
  const events = [];
  const server = createServer();
  server.on('listening', () => events.push('listening'));
  server.on('connection', (socket) => events.push(`connection:${typeof socket.remotePort}`));
  server.on('request', (req, res) => {
    events.push(`request:${req.url}`);
    res.end();
  });
  server.on('close', () => events.push('close'));
  const port = await listen(server);
  await exchange(port, get('/x'), { responses: 1 });
  await new Promise((resolve) => server.close(resolve));
  assert.deepEqual(events, ['listening', 'connection:number', 'request:/x', 'close']);
});

test("req.headers follows Node's duplicate rules; rawHeaders keeps order and case", T, async () => {
  let req;
  await withServer((r, res) => {
    req = r;
    res.end();
  }, {}, async (h) => {
    const raw =
      'GET /h HTTP/1.1\r\n' +
      'Host: first.example\r\n' +
      'Set-Cookie: a=1\r\n' +
      'set-cookie: b=2\r\n' +
      'Cookie: x=1\r\n' +
      'COOKIE: y=2\r\n' +
      'User-Agent: ua-1\r\n' +
      'User-Agent: ua-2\r\n' +
      'Content-Type: text/plain\r\n' +
      'Content-Type: text/html\r\n' +
      'Authorization: first\r\n' +
      'Authorization: second\r\n' +
      'X-Dup: 1\r\n' +
      'x-dup: 2\r\n' +
      'Accept: a/b\r\n' +
      'Accept: c/d\r\n' +
      'X-Empty:\r\n' +
      'X-Spaces:   padded value  \r\n' +
      '\r\n';
    await exchange(h.port, raw, { responses: 1 });
    assert.deepEqual(req.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(req.headers.cookie, 'x=1; y=2');
    assert.equal(req.headers.host, 'first.example');
    assert.equal(req.headers['user-agent'], 'ua-1');
    assert.equal(req.headers['content-type'], 'text/plain');
    assert.equal(req.headers.authorization, 'first');
    assert.equal(req.headers['x-dup'], '1, 2');
    assert.equal(req.headers.accept, 'a/b, c/d');
    assert.equal(req.headers['x-empty'], '');
    assert.equal(req.headers['x-spaces'], 'padded value');
    assert.deepEqual(req.rawHeaders.slice(0, 6), ['Host', 'first.example', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2']);
    assert.equal(req.rawHeaders.length, 34); // 17 field lines
    assert.equal(req.rawHeaders[8], 'COOKIE');
    assert.deepEqual(req.headersDistinct['user-agent'], ['ua-1', 'ua-2']);
  });
});

test('duplicate Host is refused (400) rather than "first wins" (Keel decision §8.1)', T, async () => {
  await withServer((req, res) => res.end(), {}, async (h) => {
    const r = await exchange(h.port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n');
    assert.equal(r.responses[0].status, 400);
    assert.equal(h.calls, 0);
  });
});

test('joinDuplicateHeaders: true joins every repeated field with ", "', T, async () => {
  let req;
  await withServer((r, res) => {
    req = r;
    res.end();
  }, { joinDuplicateHeaders: true }, async (h) => {
    await exchange(h.port, 'GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: u1\r\nUser-Agent: u2\r\n\r\n', { responses: 1 });
    assert.equal(req.headers['user-agent'], 'u1, u2');
  });
});

test('req.trailers / rawTrailers after a chunked body with trailers; req.complete', T, async () => {
  const seen = {};
  const handler = async (req, res) => {
    seen.trailersBefore = { ...req.trailers };
    seen.completeBefore = req.complete;
    const body = await readAll(req);
    seen.body = body.toString();
    seen.trailers = req.trailers;
    seen.rawTrailers = req.rawTrailers;
    seen.complete = req.complete;
    res.end('ok');
  };
  await withServer(handler, {}, async (h) => {
    const raw =
      'POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n' +
      '4\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\nx-other: 2\r\n\r\n';
    await exchange(h.port, raw, { responses: 1 });
    assert.deepEqual(seen.trailersBefore, {});
    assert.equal(seen.completeBefore, false);
    assert.equal(seen.body, 'Wikipedia');
    assert.deepEqual({ ...seen.trailers }, { 'x-checksum': 'abc', 'x-other': '1, 2' });
    assert.deepEqual(seen.rawTrailers, ['X-Checksum', 'abc', 'X-Other', '1', 'x-other', '2']);
    assert.equal(seen.complete, true);
  });
});

test('req.httpVersion / httpVersionMajor / httpVersionMinor, method, url; complete for a body-less GET', T, async () => {
  const seen = [];
  await withServer((req, res) => {
    seen.push([req.method, req.url, req.httpVersion, req.httpVersionMajor, req.httpVersionMinor, req.complete]);
    res.end();
  }, {}, async (h) => {
    await exchange(h.port, 'GET /a?b=c HTTP/1.1\r\nHost: a\r\n\r\n', { responses: 1 });
    await exchange(h.port, 'DELETE /x HTTP/1.0\r\n\r\n');
    assert.deepEqual(seen, [
      ['GET', '/a?b=c', '1.1', 1, 1, true],
      ['DELETE', '/x', '1.0', 1, 0, true],
    ]);
  });
});

test('req.socket / req.connection and res.socket are the connection socket', T, async () => {
  let ok;
  await withServer((req, res) => {
    ok = req.socket === res.socket && req.connection === req.socket && typeof req.socket.remotePort === 'number';
    res.end();
  }, {}, async (h) => {
    await exchange(h.port, get('/'), { responses: 1 });
    assert.equal(ok, true);
  });
});

test('res header API: setHeader/getHeader/getHeaders/getHeaderNames/hasHeader/removeHeader/appendHeader', T, async () => {
  const seen = {};
  const handler = (req, res) => {
    res.setHeader('X-One', '1');
    res.setHeader('X-Two', ['a', 'b']);
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('X-Gone', 'bye');
    res.appendHeader('X-One', 'more');
    seen.getHeader = res.getHeader('x-one');
    seen.hasHeader = [res.hasHeader('X-TWO'), res.hasHeader('x-nope')];
    res.removeHeader('x-gone');
    seen.names = res.getHeaderNames();
    seen.headers = { ...res.getHeaders() };
    seen.proto = Object.getPrototypeOf(res.getHeaders());
    seen.statusCode = res.statusCode;
    seen.sameReq = res.req === req;
    res.end('body');
  };
  await withServer(handler, {}, async (h) => {
    const r = await exchange(h.port, get('/'), { responses: 1 });
    assert.deepEqual(seen.getHeader, ['1', 'more']);
    assert.deepEqual(seen.hasHeader, [true, false]);
    assert.deepEqual(seen.names, ['x-one', 'x-two', 'content-type']);
    assert.deepEqual(seen.headers, { 'x-one': ['1', 'more'], 'x-two': ['a', 'b'], 'content-type': 'text/plain' });
    assert.equal(seen.proto, null);
    assert.equal(seen.statusCode, 200);
    assert.equal(seen.sameReq, true);
    const res = r.responses[0];
    assert.deepEqual(res.headers['x-one'], ['1', 'more']);
    assert.equal(res.headers['x-gone'], undefined);
  });
});

test('res.headersSent, writableEnded, writableFinished through a response', T, async () => {
  const states = [];
  let finished;
  const handler = (req, res) => {
    const snap = (label) => states.push([label, res.headersSent, res.writableEnded, res.writableFinished]);
    snap('start');
    res.write('a');
    snap('after write');
    res.end('b');
    snap('after end');
    finished = new Promise((resolve) => res.on('finish', () => {
      snap('finish');
      resolve();
    }));
  };
  await withServer(handler, {}, async (h) => {
    await exchange(h.port, get('/'), { responses: 1 });
    await waitUntil(() => finished, 1000, 'the handler');
    await finished;
    assert.deepEqual(states, [
      ['start', false, false, false],
      ['after write', true, false, false],
      ['after end', true, true, false],
      ['finish', true, true, true],
    ]);
  });
});

test("res emits 'finish' then 'close'; req emits 'end' and 'close'", T, async () => {
  const events = [];
  let done;
  const allDone = new Promise((resolve) => {
    done = resolve;
  });
  const handler = (req, res) => {
    req.on('end', () => events.push('req end'));
    req.on('close', () => events.push('req close'));
    res.on('finish', () => events.push('res finish'));
    res.on('close', () => {
      events.push('res close');
      done();
    });
    req.resume();
    req.on('end', () => res.end('x'));
  };
  await withServer(handler, {}, async (h) => {
    await exchange(h.port, post('/', 'abc'), { responses: 1, keepOpen: false });
    await Promise.race([allDone, new Promise((resolve) => setTimeout(resolve, 1500))]);
    assert.ok(events.includes('req end'), events.join());
    assert.ok(events.includes('res finish'), events.join());
    assert.ok(events.includes('res close'), events.join());
    assert.ok(events.indexOf('res finish') < events.indexOf('res close'), events.join());
  });
});

test("STATUS_CODES and METHODS", T, () => {
  assert.equal(STATUS_CODES[404], 'Not Found');
  assert.equal(STATUS_CODES[200], 'OK');
  assert.equal(http.STATUS_CODES[418], "I'm a Teapot");
  assert.ok(Array.isArray(METHODS));
  for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT']) assert.ok(METHODS.includes(m), m);
  assert.deepEqual([...METHODS].sort(), METHODS);
  assert.equal(typeof http.maxHeaderSize, 'number');
  assert.equal(typeof IncomingMessage, 'function');
  assert.equal(typeof ServerResponse, 'function');
  assert.throws(() => http.validateHeaderName('bad name'), { code: 'ERR_INVALID_HTTP_TOKEN' });
  assert.throws(() => http.validateHeaderValue('x', 'a\nb'), { code: 'ERR_INVALID_CHAR' });
});

test("require('keel') works from a .cjs file", T, async () => {
  const dir = path.join(here, 'fixtures');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `require-keel-${process.pid}.cjs`);
  fs.writeFileSync(
    file,
    "const http = require('keel');\n" +
      "const s = http.createServer((req, res) => res.end('cjs'));\n" +
      "s.listen(0, '127.0.0.1', () => {\n" +
      "  http.get({ host: '127.0.0.1', port: s.address().port, path: '/' }, (res) => {\n" +
      "    let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => {\n" +
      "      console.log(JSON.stringify({ body: b, type: typeof http.createServer, status: http.STATUS_CODES[404] }));\n" +
      "      s.closeAllConnections(); s.close();\n" +
      '    });\n' +
      '  });\n' +
      '});\n',
  );
  try {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const out = await new Promise((resolve, reject) => {
      execFile(process.execPath, [file], { timeout: 4000, env }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr }));
        else resolve(stdout);
      });
    });
    const lines = out.trim().split('\n');
    assert.deepEqual(JSON.parse(lines.at(-1)), { body: 'cjs', type: 'function', status: 'Not Found' });
  } finally {
    fs.rmSync(file, { force: true });
    try {
      fs.rmdirSync(dir);
    } catch {}
  }
});

test('piping a file stream to res sends the file exactly', T, async () => {
  const file = path.join(here, 'raw.js');
  const expected = fs.readFileSync(file);
  const handler = (req, res) => {
    res.setHeader('Content-Type', 'text/javascript');
    fs.createReadStream(file, { highWaterMark: 1024 }).pipe(res);
  };
  await withServer(handler, {}, async (h) => {
    const r = await exchange(h.port, get('/file'), { responses: 1 });
    const res = r.responses[0];
    assert.equal(res.status, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.body.equals(expected), true);
  });
});

test('for await (const chunk of req) reads the whole body', T, async () => {
  const handler = async (req, res) => {
    let size = 0;
    let chunks = 0;
    const parts = [];
    for await (const chunk of req) {
      assert.ok(Buffer.isBuffer(chunk));
      chunks++;
      size += chunk.length;
      parts.push(chunk);
    }
    res.end(`${size}:${chunks > 0}:${Buffer.concat(parts).toString().slice(0, 5)}`);
  };
  await withServer(handler, {}, async (h) => {
    const body = 'hello'.padEnd(100000, '.');
    const c = await h.connect();
    await c.send([`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`, body.slice(0, 40000), body.slice(40000)], 10);
    const [r] = await c.waitForResponses(1);
    assert.equal(r.body.toString(), '100000:true:hello');
  });
});

test('req.setEncoding and the data/end events on a chunked body', T, async () => {
  const handler = (req, res) => {
    req.setEncoding('utf8');
    let text = '';
    req.on('data', (s) => {
      assert.equal(typeof s, 'string');
      text += s;
    });
    req.on('end', () => res.end(text.toUpperCase()));
  };
  await withServer(handler, {}, async (h) => {
    const r = await exchange(h.port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndéf\r\n0\r\n\r\n'.replace('3\r\ndéf', `${Buffer.byteLength('déf').toString(16)}\r\ndéf`), { responses: 1 });
    assert.equal(r.responses[0].body.toString(), 'ABCDÉF');
  });
});

test('a custom IncomingMessage / ServerResponse subclass via options', T, async () => {
  class MyRequest extends IncomingMessage {
    get mine() {
      return 'yes';
    }
  }
  class MyResponse extends ServerResponse {
    sendText(t) {
      this.setHeader('Content-Type', 'text/plain');
      this.end(t);
    }
  }
  await withServer((req, res) => res.sendText(`${req.mine} ${req instanceof MyRequest}`), { IncomingMessage: MyRequest, ServerResponse: MyResponse }, async (h) => {
    const r = await exchange(h.port, get('/'), { responses: 1 });
    assert.equal(r.responses[0].body.toString(), 'yes true');
    assert.equal(r.responses[0].headers['content-type'], 'text/plain');
  });
});

test('listen() twice without closing throws or emits ERR_SERVER_ALREADY_LISTEN; close() when not listening → ERR_SERVER_NOT_RUNNING', T, async () => {
  const server = createServer();
  await listen(server);
  try {
    assert.throws(() => server.listen(0), { code: 'ERR_SERVER_ALREADY_LISTEN' });
  } finally {
    await close(server);
  }
  const err = await new Promise((resolve) => server.close(resolve));
  assert.equal(err?.code, 'ERR_SERVER_NOT_RUNNING');
});

test('a POST with Content-Length: 0 is complete when the handler runs; pipelined after it, the next request is separate', T, async () => {
  const seen = [];
  await withServer((req, res) => {
    seen.push([req.url, req.complete]);
    readAll(req).then((b) => res.end(`${req.url}:${b.length}`));
  }, {}, async (h) => {
    const r = await exchange(h.port, 'POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n' + post('/2', 'hello'), { responses: 2 });
    assert.deepEqual(r.responses.map((x) => x.body.toString()), ['/1:0', '/2:5']);
    assert.deepEqual(seen[0], ['/1', true]);
  });
});
