// Keel's response parser (the client side): the response vectors of shared/conformance/vectors.json,
// a table of hand-written response cases, and a differential against llhttp in response mode (driven
// by shared/tools/llhttp-oracle.mjs as node:http's client drives it). Every vector and every case is
// fed whole, one byte at a time and split in two at every offset (all of them, however long), and
// must give the identical verdict (messages, status codes, bodies, trailers, error code and offset,
// closed state, upgrade bytes). Intended differences from llhttp are listed with their reasons.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser, ParserEvent } from '../../dist/http1/response-parser.js';
import { BodyKind } from '../../dist/http1/framing.js';
import { ParseError } from '../../dist/common/errors.js';
import { parseStream } from '../../../shared/tools/llhttp-oracle.mjs';
import {
  assertSplitInvariantWith,
  codeDifference,
  describeResponse as show,
  loadResponseVectors,
  responseDifferences,
  responseOracleVerdict,
  runKeelResponse,
  verdictKey,
  whole,
} from './vector-helpers.js';

const bytes = (s) => Buffer.from(s, 'latin1');
const VECTORS = loadResponseVectors();
const VECTOR_NAMES = new Set(VECTORS.map((v) => v.name));

/** A response head: status line, the given field lines, the empty line. */
const H = (status, ...fields) => `HTTP/1.1 ${status}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
const OK = (body, ...fields) => `${H('200 OK', `Content-Length: ${body.length}`, ...fields)}${body}`;
const CHUNKED = H('200 OK', 'Transfer-Encoding: chunked');

// ------------------------------------------------------------------------ shorthands for checks ----

const ok = (v) => assert.equal(v.error, null, `unexpected error: ${show(v)}`);
const one = (v) => {
  ok(v);
  assert.equal(v.messages.length, 1, show(v));
  return v.messages[0];
};
/** The status codes and bodies of the complete messages, in order. */
const statuses = (v) => v.messages.map((m) => m.statusCode);
const bodies = (v) => v.messages.map((m) => m.body.toString('latin1'));
const fails = (code, offset) => (v) => {
  assert.ok(v.error, `expected ${code}, got ${show(v)}`);
  assert.equal(v.error.code, code, show(v));
  if (offset !== undefined) assert.equal(v.error.offset, offset, 'error offset');
};
const index = (input, needle) => {
  const i = bytes(input).indexOf(needle, 0, 'latin1');
  assert.ok(i >= 0, `${JSON.stringify(needle)} not in the input`);
  return i;
};
/** Messages with these status codes and bodies, no error. */
const gives = (expected) => (v) => {
  ok(v);
  assert.deepEqual(v.messages.map((m) => [m.statusCode, m.body.toString('latin1')]), expected, show(v));
};

// ---------------------------------------------------------------------------- response vectors ----

/** The `expect` alternative Keel takes where a vector allows several (first one otherwise). */
const INTENDED_ALTERNATIVE = {
  'resp-obs-fold': { pick: 'error', why: 'obs-fold is rejected in responses too (HPE_INVALID_HEADER_TOKEN), as llhttp/node:http do' },
};

/** One `expect` alternative of a response vector against a verdict. */
function matchesResponseExpect(alt, v) {
  switch (alt) {
    case 'accept': return v.messages.length >= 1 && v.error === null && v.partial === null;
    case 'error': return v.error !== null && v.messages.length === 0;
    default: throw new Error(`unknown response expect alternative ${alt}`);
  }
}

/** Vector-specific checks: status codes, bodies, trailers, framing, error codes. */
const VECTOR_DETAILS = {
  'resp-valid': (v) => {
    assert.deepEqual([one(v).statusCode, one(v).statusMessage, one(v).bodyKind, one(v).contentLength], [200, 'OK', BodyKind.Length, 2]);
    assert.equal(one(v).body.toString(), 'ok');
    assert.equal(one(v).keepAlive, true);
    assert.equal(v.closed, false);
  },
  'resp-no-length-eof': (v) => {
    assert.equal(one(v).bodyKind, BodyKind.UntilClose);
    assert.equal(one(v).body.toString(), 'all of it');
    assert.equal(one(v).keepAlive, false, 'a body until close ends the connection');
    assert.equal(v.closed, true);
  },
  'resp-head-cl': (v) => {
    assert.deepEqual([one(v).statusCode, one(v).requestMethod, one(v).bodyKind, one(v).body.length], [200, 'HEAD', BodyKind.None, 0]);
    assert.equal(one(v).keepAlive, true);
  },
  'resp-204-cl': (v) => {
    assert.deepEqual(statuses(v), [204, 200]);
    assert.deepEqual(bodies(v), ['', '']);
    assert.equal(v.messages[0].bodyKind, BodyKind.None);
  },
  'resp-304-cl': (v) => assert.deepEqual([one(v).statusCode, one(v).bodyKind, one(v).body.length], [304, BodyKind.None, 0]),
  'resp-1xx': (v) => {
    assert.deepEqual(statuses(v), [103, 200]);
    assert.deepEqual(v.messages[0].rawHeaders, ['Link', '</a>; rel=preload']);
    assert.deepEqual(v.messages.map((m) => m.requestMethod), ['GET', 'GET']);
  },
  'resp-cl-te': fails('HPE_INVALID_TRANSFER_ENCODING'),
  'resp-te-not-final': (v) => {
    assert.equal(one(v).bodyKind, BodyKind.UntilClose);
    assert.equal(one(v).body.toString(), 'bytes until close');
    assert.equal(one(v).keepAlive, false);
  },
  'resp-dup-cl': fails('HPE_UNEXPECTED_CONTENT_LENGTH'),
  'resp-obs-fold': fails('HPE_INVALID_HEADER_TOKEN'),
  'resp-status-2digit': fails('HPE_INVALID_STATUS'),
  'resp-no-reason': (v) => assert.deepEqual([one(v).statusCode, one(v).statusMessage, one(v).body.length], [200, '', 0]),
  'resp-101': (v) => {
    assert.deepEqual([one(v).statusCode, one(v).upgrade, one(v).bodyKind], [101, true, BodyKind.None]);
    assert.equal(v.upgradeHead.toString('latin1'), '\x81\x00');
    assert.equal(v.closed, true, 'detached');
  },
  'resp-bare-cr': fails('HPE_LF_EXPECTED'),
};

describe('response vectors', () => {
  test('vectors.json has the 14 response vectors, each with a detail check', () => {
    assert.equal(VECTORS.length, 14);
    assert.equal(VECTOR_NAMES.size, 14, 'names are unique');
    assert.deepEqual(Object.keys(VECTOR_DETAILS).sort(), [...VECTOR_NAMES].sort());
    for (const v of VECTORS) assert.equal(v.response, true, `${v.name} is marked response`);
    for (const [name, { pick }] of Object.entries(INTENDED_ALTERNATIVE)) {
      assert.ok(VECTOR_NAMES.has(name), `${name} is not a response vector`);
      assert.ok(VECTORS.find((v) => v.name === name).alternatives.indexOf(pick) > 0, `${name}: ${pick} is not a later alternative`);
    }
  });

  for (const v of VECTORS) {
    test(`${v.name} (${v.expect}${v.method ? `, ${v.method}` : ''})`, () => {
      const run = (pieces) => runKeelResponse(pieces, { methods: v.methods });
      const verdict = run(whole(v.buf));
      const intended = INTENDED_ALTERNATIVE[v.name];
      const want = intended ? intended.pick : v.alternatives[0];
      assert.ok(matchesResponseExpect(want, verdict), `${v.name}: expected ${want} (of ${v.expect}), got ${show(verdict)}`);
      if (intended) {
        assert.ok(!matchesResponseExpect(v.alternatives[0], verdict), `${v.name} now matches ${v.alternatives[0]}: drop it from INTENDED_ALTERNATIVE`);
      }
      VECTOR_DETAILS[v.name](verdict);
      assertSplitInvariantWith(run, v.buf, verdictKey(verdict, { offsets: true }), v.name, Infinity);
    });
  }
});

// ---------------------------------------------------------------------- hand-written cases ----

const BIG = 'x'.repeat(20000);

/**
 * Each case: input (latin1), methods (of the pipelined requests; default GET), eof (default true),
 * options (parser limits; maxHeaderSize also goes to the oracle), check(verdict).
 */
const CASES = [
  // ---- Content-Length bodies ----
  {
    name: 'Content-Length body',
    input: OK('hello', 'Content-Type: text/plain'),
    check: (v) => {
      const m = one(v);
      assert.deepEqual([m.statusCode, m.statusMessage, m.versionMinor, m.bodyKind, m.contentLength], [200, 'OK', 1, BodyKind.Length, 5]);
      assert.equal(m.body.toString(), 'hello');
      assert.deepEqual(m.rawHeaders, ['Content-Length', '5', 'Content-Type', 'text/plain']);
      assert.equal(m.keepAlive, true);
    },
  },
  {
    name: 'Content-Length: 0, then the next response',
    input: OK('') + OK('second'),
    methods: ['GET', 'GET'],
    check: gives([[200, ''], [200, 'second']]),
  },
  {
    name: 'Content-Length body with CRLFs and a status line inside it',
    input: OK('HTTP/1.1 500 Oops\r\n\r\n'),
    check: (v) => assert.equal(one(v).body.toString(), 'HTTP/1.1 500 Oops\r\n\r\n'),
  },
  {
    name: 'identical duplicate Content-Length lines are one value',
    input: `${H('200 OK', 'Content-Length: 3', 'content-length: 3')}abc`,
    check: (v) => assert.deepEqual([one(v).contentLength, one(v).body.toString()], [3, 'abc']),
  },
  {
    name: 'Content-Length list of identical values is one value',
    input: `${H('200 OK', 'Content-Length: 3, 3')}abc`,
    check: (v) => assert.deepEqual([one(v).contentLength, one(v).body.toString()], [3, 'abc']),
  },
  {
    name: 'Content-Length with leading zeros',
    input: `${H('200 OK', 'Content-Length: 0003')}abc`,
    check: (v) => assert.equal(one(v).body.toString(), 'abc'),
  },
  {
    name: 'Content-Length body shorter than announced, connection left open: incomplete',
    input: `${H('200 OK', 'Content-Length: 10')}abc`,
    eof: false,
    check: (v) => {
      ok(v);
      assert.equal(v.messages.length, 0);
      assert.equal(v.partial.body.toString(), 'abc');
    },
  },

  // ---- chunked ----
  {
    name: 'chunked with extensions and trailers',
    input: `${CHUNKED}5;a=b\r\nhello\r\n6;x;q="a \\"b\\""\r\n world\r\nA\r\n0123456789\r\n0;last=1\r\nX-T: 1\r\nX-Checksum: abc\r\n\r\n`,
    check: (v) => {
      const m = one(v);
      assert.equal(m.bodyKind, BodyKind.Chunked);
      assert.equal(m.body.toString(), 'hello world0123456789');
      assert.deepEqual(m.trailers, ['X-T', '1', 'X-Checksum', 'abc']);
      assert.equal(m.keepAlive, true);
    },
  },
  {
    name: 'chunked without trailers, then a Content-Length response',
    input: `${CHUNKED}3\r\nabc\r\n0\r\n\r\n${OK('next')}`,
    methods: ['GET', 'GET'],
    check: (v) => {
      gives([[200, 'abc'], [200, 'next']])(v);
      assert.deepEqual(v.messages[0].trailers, []);
    },
  },
  {
    name: 'chunked: hex sizes in both cases and leading zeros',
    input: `${CHUNKED}0a\r\n0123456789\r\nA\r\nabcdefghij\r\n0000\r\n\r\n`,
    check: (v) => assert.equal(one(v).body.toString(), '0123456789abcdefghij'),
  },
  {
    name: 'Transfer-Encoding: gzip, chunked is chunked (the gzip coding is the application\'s)',
    input: `${H('200 OK', 'Transfer-Encoding: gzip, chunked')}2\r\nzz\r\n0\r\n\r\n`,
    check: (v) => assert.deepEqual([one(v).bodyKind, one(v).body.toString()], [BodyKind.Chunked, 'zz']),
  },
  {
    name: 'Transfer-Encoding split over two lines, ending in chunked',
    input: `${H('200 OK', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked')}2\r\nzz\r\n0\r\n\r\n`,
    check: (v) => assert.deepEqual([one(v).bodyKind, one(v).body.toString()], [BodyKind.Chunked, 'zz']),
  },

  // ---- bodies until close ----
  {
    name: 'no Content-Length: the body runs until finish()',
    input: `${H('200 OK', 'Content-Type: text/plain')}abc\r\n\r\nHTTP/1.1 200 OK\r\n\r\ndef`,
    check: (v) => {
      const m = one(v);
      assert.deepEqual([m.bodyKind, m.keepAlive], [BodyKind.UntilClose, false]);
      assert.equal(m.body.toString(), 'abc\r\n\r\nHTTP/1.1 200 OK\r\n\r\ndef');
      assert.equal(v.closed, true);
    },
  },
  {
    name: 'no Content-Length and no body bytes: an empty body at finish()',
    input: H('200 OK'),
    check: (v) => assert.deepEqual([one(v).bodyKind, one(v).body.length], [BodyKind.UntilClose, 0]),
  },
  {
    name: 'a body until close without EOF is not complete',
    input: `${H('200 OK')}partial`,
    eof: false,
    check: (v) => {
      ok(v);
      assert.equal(v.messages.length, 0);
      assert.equal(v.partial.body.toString(), 'partial');
    },
  },
  {
    name: 'Transfer-Encoding whose final coding is not chunked: until close',
    input: `${H('200 OK', 'Transfer-Encoding: gzip')}\x1f\x8b0\r\n\r\n`,
    check: (v) => {
      assert.deepEqual([one(v).bodyKind, one(v).keepAlive], [BodyKind.UntilClose, false]);
      assert.equal(one(v).body.toString('latin1'), '\x1f\x8b0\r\n\r\n');
    },
  },
  {
    name: 'HTTP/1.0 with Connection: keep-alive but no Content-Length: until close, not persistent',
    input: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nabc',
    check: (v) => {
      assert.deepEqual([one(v).bodyKind, one(v).keepAlive, one(v).body.toString()], [BodyKind.UntilClose, false, 'abc']);
    },
  },

  // ---- the request method and the status decide the framing ----
  {
    name: 'Transfer-Encoding: chunked with parameters is not chunked: until close',
    input: `${H('200 OK', 'Transfer-Encoding: chunked;foo=bar')}2\r\nab\r\n0\r\n\r\n`,
    check: (v) => {
      assert.equal(one(v).bodyKind, BodyKind.UntilClose);
      assert.equal(one(v).body.toString(), '2\r\nab\r\n0\r\n\r\n');
    },
  },
  {
    name: 'Transfer-Encoding: chunked in an HTTP/1.0 response is chunked, not persistent',
    input: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n',
    check: (v) => assert.deepEqual([one(v).bodyKind, one(v).body.toString(), one(v).keepAlive], [BodyKind.Chunked, 'ab', false]),
  },

  {
    name: 'HEAD: Content-Length but no body; the next response follows',
    input: `${H('200 OK', 'Content-Length: 10')}${OK('ok')}`,
    methods: ['HEAD', 'GET'],
    check: (v) => {
      gives([[200, ''], [200, 'ok']])(v);
      assert.deepEqual([v.messages[0].bodyKind, v.messages[0].contentLength, v.messages[0].keepAlive], [BodyKind.None, 0, true]);
      assert.deepEqual(v.messages.map((m) => m.requestMethod), ['HEAD', 'GET']);
    },
  },
  {
    name: 'HEAD: Transfer-Encoding: chunked but no body',
    input: `${H('200 OK', 'Transfer-Encoding: chunked')}${OK('ok')}`,
    methods: ['HEAD', 'GET'],
    check: gives([[200, ''], [200, 'ok']]),
  },
  {
    name: 'HEAD: neither Content-Length nor Transfer-Encoding is not a body until close',
    input: `${H('200 OK')}${OK('ok')}`,
    methods: ['HEAD', 'GET'],
    check: (v) => {
      gives([[200, ''], [200, 'ok']])(v);
      assert.equal(v.messages[0].keepAlive, true);
    },
  },
  {
    name: 'HEAD: Content-Length and Transfer-Encoding together: still no body (RFC 9112 §6.3 item 1 first)',
    input: `${H('200 OK', 'Content-Length: 5', 'Transfer-Encoding: chunked')}${OK('ok')}`,
    methods: ['HEAD', 'GET'],
    check: gives([[200, ''], [200, 'ok']]),
  },
  {
    name: 'pipelined GET, HEAD, GET',
    input: OK('abc') + H('200 OK', 'Content-Length: 100') + `${CHUNKED}3\r\nxyz\r\n0\r\n\r\n`,
    methods: ['GET', 'HEAD', 'GET'],
    check: (v) => {
      gives([[200, 'abc'], [200, ''], [200, 'xyz']])(v);
      assert.deepEqual(v.messages.map((m) => m.requestMethod), ['GET', 'HEAD', 'GET']);
      assert.equal(v.closed, false);
    },
  },
  {
    name: 'pipelined GET, HEAD, GET with a 404 and a 304 in between',
    input: `${H('404 Not Found', 'Content-Length: 4')}nope${H('200 OK', 'Content-Length: 7')}${H('304 Not Modified', 'ETag: "x"')}`,
    methods: ['GET', 'HEAD', 'GET'],
    check: gives([[404, 'nope'], [200, ''], [304, '']]),
  },
  {
    name: '100 Continue, then 200',
    input: `HTTP/1.1 100 Continue\r\n\r\n${OK('done')}`,
    methods: ['POST'],
    check: (v) => {
      gives([[100, ''], [200, 'done']])(v);
      assert.deepEqual([v.messages[0].keepAlive, v.messages[0].upgrade, v.messages[0].bodyKind], [true, false, BodyKind.None]);
    },
  },
  {
    name: '103 Early Hints, then 200; the 1xx does not use up the request (HEAD next)',
    input: `${H('103 Early Hints', 'Link: </s.css>; rel=preload', 'Content-Length: 5')}${OK('page')}${H('200 OK', 'Content-Length: 9')}`,
    methods: ['GET', 'HEAD'],
    check: (v) => {
      gives([[103, ''], [200, 'page'], [200, '']])(v);
      assert.deepEqual(v.messages.map((m) => m.requestMethod), ['GET', 'GET', 'HEAD']);
    },
  },
  {
    name: 'two 1xx before the final response',
    input: `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n${OK('x')}`,
    check: gives([[100, ''], [102, ''], [200, 'x']]),
  },
  {
    name: 'a 1xx with Connection: close does not end the connection',
    input: `HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n${OK('x')}`,
    check: (v) => {
      gives([[100, ''], [200, 'x']])(v);
      assert.deepEqual(v.messages.map((m) => m.keepAlive), [true, true]);
    },
  },
  {
    name: '101 Switching Protocols: upgrade; the bytes after the head belong to the new protocol',
    input: `${H('101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')}\x81\x05hello\x88\x00`,
    check: (v) => {
      assert.deepEqual([one(v).statusCode, one(v).upgrade, one(v).bodyKind], [101, true, BodyKind.None]);
      assert.equal(v.upgradeHead.toString('latin1'), '\x81\x05hello\x88\x00');
      assert.equal(v.closed, true);
    },
  },
  {
    name: '101 with Content-Length: still no body, the bytes are the new protocol\'s',
    input: `${H('101 Switching Protocols', 'Connection: upgrade', 'Upgrade: h2c', 'Content-Length: 3')}PRI`,
    check: (v) => {
      assert.deepEqual([one(v).upgrade, one(v).body.length], [true, 0]);
      assert.equal(v.upgradeHead.toString(), 'PRI');
    },
  },
  {
    name: '101 and nothing after the head: empty upgrade bytes',
    input: H('101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket'),
    check: (v) => {
      assert.equal(one(v).upgrade, true);
      assert.equal(v.upgradeHead.length, 0);
    },
  },
  {
    name: '101 without Connection and Upgrade fields is still a protocol switch',
    input: `${H('101 Switching Protocols')}raw`,
    check: (v) => {
      assert.equal(one(v).upgrade, true);
      assert.equal(v.upgradeHead.toString(), 'raw');
    },
  },
  {
    name: '100 Continue, then 101',
    input: `HTTP/1.1 100 Continue\r\n\r\n${H('101 Switching Protocols', 'Connection: upgrade', 'Upgrade: x')}raw`,
    check: (v) => {
      assert.deepEqual(v.messages.map((m) => [m.statusCode, m.upgrade]), [[100, false], [101, true]]);
      assert.equal(v.upgradeHead.toString(), 'raw');
    },
  },
  {
    name: '200 to CONNECT: a tunnel, no body even with Content-Length',
    input: `${H('200 Connection Established', 'Content-Length: 3')}\x16\x03\x01\x00\x05hello`,
    methods: ['CONNECT'],
    check: (v) => {
      assert.deepEqual([one(v).statusCode, one(v).upgrade, one(v).bodyKind, one(v).requestMethod], [200, true, BodyKind.None, 'CONNECT']);
      assert.equal(v.upgradeHead.toString('latin1'), '\x16\x03\x01\x00\x05hello');
    },
  },
  {
    name: '204 to CONNECT is a tunnel too (any 2xx)',
    input: `${H('204 No Content')}tunnel`,
    methods: ['CONNECT'],
    check: (v) => {
      assert.equal(one(v).upgrade, true);
      assert.equal(v.upgradeHead.toString(), 'tunnel');
    },
  },
  {
    name: '100 Continue before the 200 to CONNECT: the tunnel opens at the 200',
    input: `HTTP/1.1 100 Continue\r\n\r\n${H('200 OK')}raw`,
    methods: ['CONNECT'],
    check: (v) => {
      assert.deepEqual(v.messages.map((m) => [m.statusCode, m.upgrade]), [[100, false], [200, true]]);
      assert.equal(v.upgradeHead.toString(), 'raw');
    },
  },
  {
    name: '407 to CONNECT is an ordinary response with a body',
    input: `${H('407 Proxy Authentication Required', 'Content-Length: 4')}auth${OK('')}`,
    methods: ['CONNECT', 'GET'],
    check: (v) => {
      gives([[407, 'auth'], [200, '']])(v);
      assert.equal(v.messages[0].upgrade, false);
      assert.equal(v.upgradeHead, null);
    },
  },
  {
    name: '204 with Content-Length, then the next response',
    input: `${H('204 No Content', 'Content-Length: 5')}${OK('next')}`,
    methods: ['DELETE', 'GET'],
    check: gives([[204, ''], [200, 'next']]),
  },
  {
    name: '204 with Transfer-Encoding: chunked, then the next response',
    input: `${H('204 No Content', 'Transfer-Encoding: chunked')}${OK('next')}`,
    methods: ['DELETE', 'GET'],
    check: gives([[204, ''], [200, 'next']]),
  },
  {
    name: '204 with Content-Length and Transfer-Encoding: no body, no error (RFC 9112 §6.3 item 1 first)',
    input: `${H('204 No Content', 'Content-Length: 5', 'Transfer-Encoding: chunked')}${OK('next')}`,
    methods: ['GET', 'GET'],
    check: gives([[204, ''], [200, 'next']]),
  },
  {
    name: '304 with Content-Length, then the next response',
    input: `${H('304 Not Modified', 'Content-Length: 5')}${OK('next')}`,
    methods: ['GET', 'GET'],
    check: gives([[304, ''], [200, 'next']]),
  },
  {
    name: '304 with Transfer-Encoding: chunked, then the next response',
    input: `${H('304 Not Modified', 'Transfer-Encoding: chunked')}${OK('next')}`,
    methods: ['GET', 'GET'],
    check: gives([[304, ''], [200, 'next']]),
  },
  {
    name: '304 without framing fields is not a body until close',
    input: `${H('304 Not Modified')}${OK('next')}`,
    methods: ['GET', 'GET'],
    check: gives([[304, ''], [200, 'next']]),
  },

  // ---- persistence (RFC 9112 §9.3) ----
  {
    name: 'HTTP/1.0 without keep-alive: not persistent',
    input: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    check: (v) => {
      assert.deepEqual([one(v).versionMinor, one(v).keepAlive, one(v).body.toString()], [0, false, 'ok']);
      assert.equal(v.closed, true);
    },
  },
  {
    name: 'HTTP/1.0 without keep-alive: later bytes are discarded',
    input: `HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok${OK('never')}`,
    methods: ['GET', 'GET'],
    check: (v) => {
      assert.deepEqual([one(v).versionMinor, one(v).keepAlive, one(v).body.toString()], [0, false, 'ok']);
      assert.equal(v.closed, true);
    },
  },
  {
    name: 'HTTP/1.0 with Connection: keep-alive and Content-Length: persistent',
    input: `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nokHTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nz`,
    methods: ['GET', 'GET'],
    check: (v) => {
      gives([[200, 'ok'], [200, 'z']])(v);
      assert.deepEqual(v.messages.map((m) => m.keepAlive), [true, false]);
      assert.equal(v.closed, true);
    },
  },
  {
    name: 'HTTP/1.0 keep-alive token in any case, among others',
    input: 'HTTP/1.0 200 OK\r\nConnection: foo, Keep-Alive\r\nContent-Length: 0\r\n\r\n',
    check: (v) => assert.equal(one(v).keepAlive, true),
  },
  {
    name: 'Connection: close: not persistent',
    input: OK('bye', 'Connection: close'),
    check: (v) => {
      assert.deepEqual([one(v).keepAlive, one(v).body.toString()], [false, 'bye']);
      assert.equal(v.closed, true);
    },
  },
  {
    name: 'Connection: close: later bytes are discarded',
    input: `${OK('bye', 'Connection: close')}${OK('never')}`,
    methods: ['GET', 'GET'],
    check: (v) => {
      assert.deepEqual([one(v).keepAlive, one(v).body.toString()], [false, 'bye']);
      assert.equal(v.closed, true);
    },
  },
  {
    name: 'Connection: keep-alive, close is close',
    input: OK('x', 'Connection: keep-alive, CLOSE'),
    check: (v) => assert.equal(one(v).keepAlive, false),
  },
  {
    name: 'HTTP/1.1 persists by default',
    input: `${OK('a')}${OK('b')}`,
    methods: ['GET', 'GET'],
    check: (v) => {
      assert.deepEqual(v.messages.map((m) => m.keepAlive), [true, true]);
      assert.equal(v.closed, false);
    },
  },

  // ---- status line ----
  {
    name: 'status line: reason with spaces, tabs and obs-text',
    input: `HTTP/1.1 404 Not \tF\xf6und\r\nContent-Length: 0\r\n\r\n`,
    check: (v) => assert.deepEqual([one(v).statusCode, one(v).statusMessage], [404, 'Not \tF\xf6und']),
  },
  {
    name: 'status line: SP and an empty reason',
    input: 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n',
    check: (v) => assert.deepEqual([one(v).statusCode, one(v).statusMessage], [200, '']),
  },
  {
    name: 'status line: unregistered codes 599 and 999 are accepted',
    input: `${H('599 X', 'Content-Length: 0')}${H('999 Y', 'Content-Length: 0')}`,
    methods: ['GET', 'GET'],
    check: gives([[599, ''], [999, '']]),
  },
  {
    name: 'status line: HTTP/1.2 is processed as HTTP/1.1 (RFC 9110 §2.5)',
    input: 'HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n',
    check: (v) => assert.deepEqual([one(v).versionMinor, one(v).keepAlive], [2, true]),
  },
  {
    name: 'empty lines before a status line are ignored',
    input: `\r\n${OK('a')}\r\n\r\n${OK('b')}`,
    methods: ['GET', 'GET'],
    check: gives([[200, 'a'], [200, 'b']]),
  },
  {
    name: 'field values: OWS trimmed, obs-text kept, names as received',
    input: H('200 OK', 'X-A:   a b \t', 'x-b: caf\xe9', 'Content-Length: 0'),
    check: (v) => assert.deepEqual(one(v).rawHeaders, ['X-A', 'a b', 'x-b', 'caf\xe9', 'Content-Length', '0']),
  },
  {
    name: 'status line: HTTP/1.0 and HTTP/1.1 are both accepted',
    input: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    methods: ['GET', 'GET'],
    check: (v) => assert.deepEqual(v.messages.map((m) => m.versionMinor), [0, 1]),
  },

  // ---- rejections ----
  {
    name: 'Content-Length with Transfer-Encoding (TE first)',
    input: `${H('200 OK', 'Transfer-Encoding: chunked', 'Content-Length: 5')}0\r\n\r\n`,
    check: fails('HPE_INVALID_TRANSFER_ENCODING'),
  },
  {
    name: 'Content-Length with a non-chunked Transfer-Encoding',
    input: `${H('200 OK', 'Content-Length: 5', 'Transfer-Encoding: gzip')}hello`,
    check: fails('HPE_INVALID_TRANSFER_ENCODING'),
  },
  {
    name: 'duplicate differing Content-Length lines',
    input: `${H('200 OK', 'Content-Length: 3', 'Content-Length: 03 ', 'Content-Length: 4')}abcd`,
    check: fails('HPE_UNEXPECTED_CONTENT_LENGTH'),
  },
  {
    name: 'Content-Length: +5',
    input: `${H('200 OK', 'Content-Length: +5')}hello`,
    check: fails('HPE_INVALID_CONTENT_LENGTH', 'HTTP/1.1 200 OK\r\n'.length),
  },
  {
    name: 'Content-Length: 1,2',
    input: `${H('200 OK', 'Content-Length: 1,2')}ab`,
    check: fails('HPE_INVALID_CONTENT_LENGTH'),
  },
  {
    name: 'Content-Length: (empty)',
    input: `${H('200 OK', 'Content-Length: ')}`,
    check: fails('HPE_INVALID_CONTENT_LENGTH'),
  },
  {
    name: 'Content-Length: 0x5',
    input: `${H('200 OK', 'Content-Length: 0x5')}hello`,
    check: fails('HPE_INVALID_CONTENT_LENGTH'),
  },
  {
    name: 'Transfer-Encoding: chunked, chunked',
    input: `${H('200 OK', 'Transfer-Encoding: chunked, chunked')}0\r\n\r\n`,
    check: fails('HPE_INVALID_TRANSFER_ENCODING'),
  },
  {
    name: 'bad chunk size',
    input: `${CHUNKED}zz\r\nhello\r\n0\r\n\r\n`,
    check: fails('HPE_INVALID_CHUNK_SIZE', CHUNKED.length),
  },
  {
    name: 'negative chunk size',
    input: `${CHUNKED}-5\r\nhello\r\n0\r\n\r\n`,
    check: fails('HPE_INVALID_CHUNK_SIZE', CHUNKED.length),
  },
  {
    name: 'chunk data without its CRLF',
    input: `${CHUNKED}5\r\nhelloX0\r\n\r\n`,
    check: fails('HPE_STRICT', CHUNKED.length + 8),
  },
  {
    name: 'chunk data longer than its size',
    input: `${CHUNKED}3\r\nhello\r\n0\r\n\r\n`,
    check: fails('HPE_STRICT', CHUNKED.length + 6),
  },
  {
    name: 'BWS before a chunk extension',
    input: `${CHUNKED}2 ;a\r\nab\r\n0\r\n\r\n`,
    check: fails('HPE_INVALID_CHUNK_SIZE', CHUNKED.length + 1),
  },
  {
    name: 'bare CR in a chunk-size line',
    input: `${CHUNKED}2\rab\r\n0\r\n\r\n`,
    check: fails('HPE_STRICT', CHUNKED.length + 1),
  },
  {
    name: 'chunk extensions over the default limit',
    input: `${CHUNKED}1;a=${'x'.repeat(20000)}\r\nz\r\n0\r\n\r\n`,
    check: fails('HPE_CHUNK_EXTENSIONS_OVERFLOW'),
  },
  {
    name: 'chunk extensions over a small limit',
    input: `${CHUNKED}1;a=${'x'.repeat(40)}\r\nz\r\n0\r\n\r\n`,
    options: { maxChunkExtensionsSize: 16 },
    check: fails('HPE_CHUNK_EXTENSIONS_OVERFLOW'),
  },
  {
    name: 'Content-Length above 2^53-1',
    input: H('200 OK', 'Content-Length: 99999999999999999999'),
    check: fails('HPE_INVALID_CONTENT_LENGTH', 17),
  },
  {
    name: 'DEL in a field value',
    input: H('200 OK', 'X-A: a\x7fb', 'Content-Length: 0'),
    check: fails('HPE_INVALID_HEADER_TOKEN', 23),
  },
  {
    name: 'bare LF line ends throughout',
    input: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
    check: fails('HPE_CR_EXPECTED', 15),
  },
  {
    name: 'bare LF after a field line',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok',
    check: fails('HPE_CR_EXPECTED', 34),
  },
  {
    name: 'bare LF ending the head',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok',
    check: fails('HPE_CR_EXPECTED', 36),
  },
  {
    name: 'bare LF after chunk data',
    input: `${CHUNKED}2\r\nok\n0\r\n\r\n`,
    check: fails('HPE_CR_EXPECTED', CHUNKED.length + 5),
  },
  {
    name: 'bare CR in the status line',
    input: 'HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_STRICT', 14),
  },
  {
    name: 'bare CR as a field line end',
    input: 'HTTP/1.1 200 OK\r\nX-A: 1\rContent-Length: 0\r\n\r\n',
    check: fails('HPE_LF_EXPECTED', 23),
  },
  {
    name: 'bare CR at the start of a field line',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\rX: 1\r\n\r\n',
    check: fails('HPE_INVALID_HEADER_TOKEN', 36),
  },
  {
    name: 'obs-fold',
    input: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n\t2\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_HEADER_TOKEN', 25),
  },
  {
    name: 'whitespace before the first field line',
    input: 'HTTP/1.1 200 OK\r\n Content-Length: 0\r\n\r\n',
    check: fails('HPE_UNEXPECTED_SPACE', 17),
  },
  {
    name: 'space between field name and colon',
    input: 'HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n',
    check: fails('HPE_INVALID_HEADER_TOKEN', 31),
  },
  {
    name: 'field line without a colon',
    input: 'HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_HEADER_TOKEN', 20),
  },
  {
    name: 'NUL in a field value',
    input: 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_HEADER_TOKEN', 23),
  },
  {
    name: 'status 20',
    input: 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_STATUS', 9),
  },
  {
    name: 'status 2000',
    input: 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_STATUS', 9),
  },
  {
    name: 'status abc',
    input: 'HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_STATUS', 9),
  },
  {
    name: 'status 099 (below 100)',
    input: 'HTTP/1.1 099 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_STATUS', 9),
  },
  {
    name: 'status 000',
    input: 'HTTP/1.1 000 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_STATUS', 9),
  },
  {
    name: 'status followed by a letter',
    input: 'HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_STATUS', 9),
  },
  {
    name: 'HTAB instead of SP after the version',
    input: 'HTTP/1.1\t200 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_VERSION', 8),
  },
  {
    name: 'status line without a status',
    input: 'HTTP/1.1\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_VERSION'),
  },
  {
    name: 'two SPs before the status',
    input: 'HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_STATUS', 9),
  },
  {
    name: 'version HTTP/2.0',
    input: 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_VERSION', 0),
  },
  {
    name: 'version HTTP/1.10',
    input: 'HTTP/1.10 200 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_VERSION', 8),
  },
  {
    name: 'version HTTP/0.9',
    input: 'HTTP/0.9 200 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_VERSION', 0),
  },
  {
    name: 'version in lower case',
    input: 'http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_CONSTANT', 0),
  },
  {
    name: 'garbage instead of a status line',
    input: 'GARBAGE\r\nContent-Length: 0\r\n\r\n',
    check: fails('HPE_INVALID_CONSTANT', 0),
  },
  {
    name: 'a request instead of a response',
    input: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
    check: fails('HPE_INVALID_CONSTANT', 0),
  },
  {
    name: 'garbage instead of the second response',
    input: `${OK('ok')}<html>oops</html>\r\n`,
    methods: ['GET', 'GET'],
    check: (v) => {
      assert.deepEqual(bodies(v), ['ok']);
      fails('HPE_INVALID_CONSTANT', OK('ok').length)(v);
    },
  },
  {
    name: 'header section over the limit: HPE_HEADER_OVERFLOW',
    input: `${H('200 OK', `X-Big: ${BIG}`, 'Content-Length: 0')}`,
    check: fails('HPE_HEADER_OVERFLOW'),
  },
  {
    name: 'header section over a small limit',
    input: `${H('200 OK', `X-Pad: ${'p'.repeat(200)}`, 'Content-Length: 0')}`,
    options: { maxHeaderSize: 128 },
    check: fails('HPE_HEADER_OVERFLOW'),
  },
  {
    name: 'status line alone over the limit, never completed',
    input: `HTTP/1.1 200 ${'r'.repeat(300)}`,
    options: { maxHeaderSize: 128 },
    eof: false,
    check: fails('HPE_HEADER_OVERFLOW'),
  },
  {
    name: 'trailer section over the limit',
    input: `${CHUNKED}0\r\nX-T: ${'t'.repeat(200)}\r\n\r\n`,
    options: { maxHeaderSize: 128 },
    check: fails('HPE_HEADER_OVERFLOW'),
  },
  {
    name: 'more field lines than maxHeadersCount',
    input: H('200 OK', 'A: 1', 'B: 2', 'C: 3', 'D: 4', 'Content-Length: 0'),
    options: { maxHeadersCount: 4 },
    check: fails('HPE_HEADER_OVERFLOW', index(H('200 OK', 'A: 1', 'B: 2', 'C: 3', 'D: 4', 'Content-Length: 0'), 'Content-Length')),
  },
  {
    name: 'bare LF in the trailer section',
    input: `${CHUNKED}0\r\nX-T: 1\n\r\n`,
    check: fails('HPE_CR_EXPECTED'),
  },
  {
    name: 'a head within the limit is accepted',
    input: `${H('200 OK', `X-Pad: ${'p'.repeat(60)}`, 'Content-Length: 0')}`,
    options: { maxHeaderSize: 128 },
    check: (v) => assert.equal(one(v).statusCode, 200),
  },

  // ---- EOF ----
  {
    name: 'finish() mid-body of a Content-Length response',
    input: `${H('200 OK', 'Content-Length: 10')}abc`,
    check: (v) => {
      fails('HPE_INVALID_EOF_STATE', H('200 OK', 'Content-Length: 10').length + 3)(v);
      assert.equal(v.partial.body.toString(), 'abc');
    },
  },
  {
    name: 'finish() mid-head',
    input: 'HTTP/1.1 200 OK\r\nContent-Len',
    check: (v) => {
      fails('HPE_INVALID_EOF_STATE', 'HTTP/1.1 200 OK\r\n'.length)(v);
      assert.equal(v.partial, null);
    },
  },
  {
    name: 'finish() mid-status-line after a complete response',
    input: `${OK('ok')}HTTP/1.1 2`,
    methods: ['GET', 'GET'],
    check: (v) => {
      assert.deepEqual(bodies(v), ['ok']);
      fails('HPE_INVALID_EOF_STATE', OK('ok').length)(v);
    },
  },
  {
    name: 'finish() mid-chunk',
    input: `${CHUNKED}5\r\nhel`,
    check: fails('HPE_INVALID_EOF_STATE'),
  },
  {
    name: 'finish() before the last-chunk\'s trailer section ends',
    input: `${CHUNKED}2\r\nok\r\n0\r\n`,
    check: fails('HPE_INVALID_EOF_STATE'),
  },
  {
    name: 'finish() between responses is clean',
    input: `${OK('a')}${OK('b')}`,
    methods: ['GET', 'GET'],
    check: gives([[200, 'a'], [200, 'b']]),
  },
];

describe('response cases (each split at every offset)', () => {
  test('case names are unique', () => {
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
  });

  for (const c of CASES) {
    test(c.name, () => {
      const input = bytes(c.input);
      const run = (pieces) => runKeelResponse(pieces, { eof: c.eof ?? true, methods: c.methods ?? ['GET'], options: c.options });
      const verdict = run(whole(input));
      c.check(verdict);
      if (verdict.error) assert.equal(verdict.closed, false, 'a failed parser is dead, not closed');
      assertSplitInvariantWith(run, input, verdictKey(verdict, { offsets: true }), c.name, Infinity);
    });
  }
});

// ------------------------------------------------------------------- differential (llhttp) ----

/**
 * Intended differences from llhttp / node:http's client (accept vs reject, message count, status
 * codes, bodies, headers, trailers, keepAlive, upgrade), keyed by vector or case name. An entry
 * that now agrees fails the test, so the list stays true.
 */
const INTENDED_DIFFERENCES = {
  // Content-Length.
  'identical duplicate Content-Length lines are one value': 'identical Content-Length lines collapse to one value (RFC 9112 §6.3 item 5), as for requests; llhttp rejects',
  'Content-Length list of identical values is one value': 'a list of identical Content-Length values is one value (RFC 9112 §6.3 item 5); llhttp rejects',
  // Transfer-Encoding.
  'Transfer-Encoding: chunked, chunked': 'chunked applied twice is an error (RFC 9112 §7.1: MUST NOT apply chunked more than once); llhttp de-chunks once',
  // The method and the status decide first (RFC 9112 §6.3 item 1 before item 3).
  'HEAD: Content-Length and Transfer-Encoding together: still no body (RFC 9112 §6.3 item 1 first)':
    'a response to HEAD has no body whatever its framing fields say, so nothing is ambiguous; llhttp rejects CL+TE before the method is considered',
  '204 with Content-Length and Transfer-Encoding: no body, no error (RFC 9112 §6.3 item 1 first)':
    'a 204 has no body whatever its framing fields say, so nothing is ambiguous; llhttp rejects CL+TE before the status is considered',
  'HEAD: neither Content-Length nor Transfer-Encoding is not a body until close':
    'keepAlive: llhttp computes shouldKeepAlive before node:http marks the HEAD response bodiless, so it says false (Node drops the socket); without a body the connection persists',
  // Interim responses and CONNECT.
  'a 1xx with Connection: close does not end the connection':
    'an interim response never ends the connection (the final response does); llhttp reports shouldKeepAlive false, then HPE_CLOSED_CONNECTION on the final response',
  '100 Continue before the 200 to CONNECT: the tunnel opens at the 200':
    'node:http\'s client treats any response to CONNECT, a 1xx included, as the tunnel; Keel opens it at the final 2xx (RFC 9110 §9.3.6)',
  '407 to CONNECT is an ordinary response with a body':
    'only a 2xx to CONNECT opens a tunnel (RFC 9110 §9.3.6); node:http\'s client treats every response to CONNECT as an upgrade',
  // Persistence.
  'HTTP/1.0 without keep-alive: later bytes are discarded': 'after a non-persistent response Keel closes and discards the rest; llhttp raises HPE_CLOSED_CONNECTION (as for requests)',
  'Connection: close: later bytes are discarded': 'after a non-persistent response Keel closes and discards the rest; llhttp raises HPE_CLOSED_CONNECTION (as for requests)',
  // Status line.
  'status 099 (below 100)': 'status-code must be 100-999 (its first digit is the class, RFC 9110 §15); llhttp takes any three digits',
  'status 000': 'status-code must be 100-999 (its first digit is the class, RFC 9110 §15); llhttp takes any three digits',
  'version HTTP/2.0': 'only HTTP/1.x is parsed on an HTTP/1.1 connection; llhttp accepts any major digit in a status line',
  'version HTTP/0.9': 'only HTTP/1.x is parsed on an HTTP/1.1 connection; llhttp accepts any major digit in a status line',
  'status line: HTTP/1.2 is processed as HTTP/1.1 (RFC 9110 §2.5)': 'a higher minor version is processed as 1.1 (RFC 9110 §2.5), as for requests; llhttp rejects it',
  // Keel-only limits (llhttp runs with node:http\'s defaults).
  'chunk extensions over a small limit': 'maxChunkExtensionsSize is a Keel option; the oracle runs with Node\'s 16 KiB limit',
  'more field lines than maxHeadersCount': 'maxHeadersCount is a Keel limit (HPE_HEADER_OVERFLOW); node:http\'s client keeps the first fields and drops the rest silently',
};

/** Both reject, with another HPE_* code (Keel parses whole lines, and decides framing per head). */
const INTENDED_CODE_DIFFERENCES = {
  'Content-Length with Transfer-Encoding (TE first)':
    'Keel decides framing once the head is complete, whatever the field order (HPE_INVALID_TRANSFER_ENCODING); llhttp blames the later Content-Length',
  'bare LF ending the head': 'Keel reports every bare LF line end as HPE_CR_EXPECTED',
  'bare CR at the start of a field line':
    'Keel parses whole lines: "\\rX: 1" is a field line with an invalid name (HPE_INVALID_HEADER_TOKEN); llhttp: HPE_STRICT',
};

/**
 * Cases llhttp itself cannot judge: its verdict depends on how the bytes are sliced (the oracle
 * says consistent: false). They are not compared; a listed case the oracle judges consistently
 * fails the test, so it gets compared again.
 */
const ORACLE_INCONSISTENT = {
  '101 without Connection and Upgrade fields is still a protocol switch':
    'llhttp exits after any 101 head, but node:http sees upgrade=false without the fields and keeps feeding it',
};

/** Every vector and case for the differential: name, bytes, methods, eof, maxHeaderSize. */
const DIFFERENTIAL = [
  ...VECTORS.map((v) => ({ name: v.name, input: v.buf, methods: v.methods, eof: true, options: undefined })),
  ...CASES.map((c) => ({ name: c.name, input: bytes(c.input), methods: c.methods ?? ['GET'], eof: c.eof ?? true, options: c.options })),
];

describe('differential against llhttp (response mode)', () => {
  test('the allow-lists name existing vectors or cases', () => {
    const names = new Set(DIFFERENTIAL.map((d) => d.name));
    assert.equal(names.size, DIFFERENTIAL.length, 'vector and case names do not collide');
    for (const name of [...Object.keys(INTENDED_DIFFERENCES), ...Object.keys(INTENDED_CODE_DIFFERENCES), ...Object.keys(ORACLE_INCONSISTENT)]) {
      assert.ok(names.has(name), `${name} is neither a response vector nor a case`);
    }
  });

  for (const d of DIFFERENTIAL) {
    test(d.name, (t) => {
      const result = parseStream(d.input, {
        response: true,
        methods: d.methods,
        eof: d.eof,
        maxHeaderSize: d.options?.maxHeaderSize,
      });
      assert.equal(result.exception, undefined, 'the oracle ran');
      if (d.name in ORACLE_INCONSISTENT) {
        assert.equal(result.consistent, false, `llhttp now judges ${d.name} consistently: remove it from ORACLE_INCONSISTENT`);
        return;
      }
      assert.equal(result.consistent, true, 'the oracle itself is split-consistent');
      const oracle = responseOracleVerdict(result);
      const keel = runKeelResponse(whole(d.input), { eof: d.eof, methods: d.methods, options: d.options });

      const differences = responseDifferences(keel, oracle);
      const code = codeDifference(keel, oracle);
      for (const line of [...differences, ...(code ? [code] : [])]) t.diagnostic(line);
      if (d.name in INTENDED_DIFFERENCES) {
        assert.notDeepEqual(differences, [], `${d.name} now agrees with llhttp: remove it from INTENDED_DIFFERENCES`);
      } else {
        assert.deepEqual(differences, [], `${d.name}: Keel and llhttp disagree`);
      }
      if (d.name in INTENDED_CODE_DIFFERENCES) {
        assert.notEqual(code, null, `${d.name} now has llhttp's error code: remove it from INTENDED_CODE_DIFFERENCES`);
      } else {
        assert.equal(code, null, `${d.name}: error codes differ`);
      }
    });
  }
});

// ------------------------------------------------------------------------------- the API ----

/** Events until NeedData, Body as ['body', text]. */
function drain(p) {
  const out = [];
  for (;;) {
    const ev = p.next();
    if (ev === ParserEvent.NeedData) return out;
    out.push(ev === ParserEvent.Body ? ['body', p.body.toString('latin1')] : ev);
  }
}

describe('ResponseParser API', () => {
  test('detach() after a 101 head returns the bytes after it and closes the parser', () => {
    const p = new ResponseParser();
    p.push(bytes('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi'));
    assert.equal(p.next(), ParserEvent.Head);
    assert.deepEqual([p.head.statusCode, p.head.upgrade], [101, true]);
    assert.equal(p.detach().toString('latin1'), '\x81\x02hi');
    assert.equal(p.isClosed, true);
    p.push(bytes('more'));
    assert.equal(p.bufferedBytes, 0);
    assert.equal(p.next(), ParserEvent.NeedData);
    assert.doesNotThrow(() => p.finish());
  });

  test('detach() after a 2xx to CONNECT, with the head and tunnel bytes in separate pushes', () => {
    const p = new ResponseParser();
    p.requestMethod = 'CONNECT';
    p.push(bytes('HTTP/1.1 200 OK\r\n'));
    assert.equal(p.next(), ParserEvent.NeedData);
    p.push(bytes('\r\n\x16\x03'));
    assert.equal(p.next(), ParserEvent.Head);
    assert.equal(p.head.upgrade, true);
    assert.equal(p.detach().toString('latin1'), '\x16\x03');
  });

  test('requestMethod is read when the head completes: set it after each final response', () => {
    const p = new ResponseParser();
    p.push(bytes(`HTTP/1.1 100 Continue\r\n\r\n${OK('a')}${H('200 OK', 'Content-Length: 3')}${OK('b')}`));
    const seen = [];
    const methods = ['GET', 'HEAD', 'GET'];
    let k = 0;
    p.requestMethod = methods[k];
    for (let ev = p.next(); ev !== ParserEvent.NeedData; ev = p.next()) {
      if (ev === ParserEvent.Head) seen.push([p.head.statusCode, p.head.bodyKind]);
      if (ev === ParserEvent.Body) seen.push(p.body.toString());
      if (ev === ParserEvent.End && p.head.statusCode >= 200) p.requestMethod = methods[++k];
    }
    assert.deepEqual(seen, [[100, BodyKind.None], [200, BodyKind.Length], 'a', [200, BodyKind.None], [200, BodyKind.Length], 'b']);
  });

  test('finish() ends a body until close: next() returns the rest, then End', () => {
    const p = new ResponseParser();
    p.push(bytes('HTTP/1.1 200 OK\r\n\r\nab'));
    assert.deepEqual(drain(p), [ParserEvent.Head, ['body', 'ab']]);
    p.push(bytes('cd'));
    p.finish();
    assert.deepEqual(drain(p), [['body', 'cd'], ParserEvent.End]);
    assert.equal(p.isClosed, true);
    assert.equal(p.head.keepAlive, false);
  });

  test('finish() mid-head and mid-body throw HPE_INVALID_EOF_STATE and leave the parser failed', () => {
    const midHead = new ResponseParser();
    midHead.push(bytes('HTTP/1.1 200 OK\r\n'));
    assert.equal(midHead.next(), ParserEvent.NeedData);
    assert.throws(() => midHead.finish(), (err) => err instanceof ParseError && err.code === 'HPE_INVALID_EOF_STATE');
    assert.throws(() => midHead.next(), { code: 'HPE_INVALID_EOF_STATE' });

    const midBody = new ResponseParser();
    const partial = bytes(`${H('200 OK', 'Content-Length: 4')}ab`);
    midBody.push(partial);
    assert.deepEqual(drain(midBody), [ParserEvent.Head, ['body', 'ab']]);
    assert.throws(() => midBody.finish(), { code: 'HPE_INVALID_EOF_STATE', offset: partial.length });

    const between = new ResponseParser();
    between.push(bytes(OK('ok')));
    assert.deepEqual(drain(between), [ParserEvent.Head, ['body', 'ok'], ParserEvent.End]);
    assert.doesNotThrow(() => between.finish());
    assert.doesNotThrow(() => new ResponseParser().finish());
  });

  test('HPE_INVALID_STATUS answers 502 (a bad gateway response), not 400', () => {
    const p = new ResponseParser();
    p.push(bytes('HTTP/1.1 20 OK\r\n\r\n'));
    assert.throws(() => p.next(), (err) => err instanceof ParseError && err.code === 'HPE_INVALID_STATUS' && err.status === 502);
  });
});
