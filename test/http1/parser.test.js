// Hand-written cases for Keel's request parser, beyond the conformance vectors: request-line forms,
// persistence, body framing, pipelining, limits at their exact boundaries, error offsets, EOF,
// upgrades and field values. Every table case is also fed one byte at a time and split in two at
// every offset, and must give the identical verdict (error offsets included).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser, ParserEvent } from '../../dist/http1/request-parser.js';
import { BodyKind } from '../../dist/http1/framing.js';
import { ParseError } from '../../dist/common/errors.js';
import { assertSplitInvariant, describe as show, runKeel, verdictKey, whole } from './vector-helpers.js';

const bytes = (s) => Buffer.from(s, 'latin1');
const GET = (target = '/', extra = '') => `GET ${target} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;
const CHUNKED = 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';

/** Shorthands for the checks. */
const one = (v) => {
  assert.equal(v.error, null, `unexpected error: ${show(v)}`);
  assert.equal(v.messages.length, 1, show(v));
  return v.messages[0];
};
const fails = (code, status, offset) => (v) => {
  assert.ok(v.error, `expected ${code}, got ${show(v)}`);
  assert.equal(v.error.code, code);
  assert.equal(v.error.status, status);
  if (offset !== undefined) assert.equal(v.error.offset, offset, 'error offset');
};
const index = (input, needle, from = 0) => {
  const i = bytes(input).indexOf(needle, from, 'latin1');
  assert.ok(i >= 0, `${JSON.stringify(needle)} not in the input`);
  return i;
};

/** A head of exactly `size` bytes (request-line, Host, one padding field, the empty line). */
function headOfSize(size) {
  const fixed = 'GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n'.length;
  const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(size - fixed)}\r\n\r\n`;
  assert.equal(head.length, size);
  return head;
}

/** A chunked request whose trailer section (after the last-chunk line) is exactly `size` bytes. */
function trailersOfSize(size) {
  const fixed = 'X-T: \r\n\r\n'.length;
  const trailers = `X-T: ${'t'.repeat(size - fixed)}\r\n\r\n`;
  assert.equal(trailers.length, size);
  return `${CHUNKED}0\r\n${trailers}`;
}

const fieldsHead = (n) => `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: n - 1 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;

const CASES = [
  // ---- request-line forms (RFC 9112 §3.2) ----
  {
    name: 'origin-form with a query',
    input: GET('/a/b?c=d&e=%20'),
    check: (v) => assert.deepEqual([one(v).method, one(v).target], ['GET', '/a/b?c=d&e=%20']),
  },
  {
    name: 'absolute-form',
    input: GET('http://a/b'),
    check: (v) => assert.equal(one(v).target, 'http://a/b'),
  },
  {
    name: 'absolute-form with port, query and another scheme',
    input: GET('https://a.example:8443/x?y=1'),
    check: (v) => assert.equal(one(v).target, 'https://a.example:8443/x?y=1'),
  },
  {
    name: 'absolute-form needs an ALPHA first',
    input: GET('1http://a/'),
    check: fails('HPE_INVALID_URL', 400, 4),
  },
  {
    name: 'authority-form for CONNECT is an upgrade; the rest is the tunnel',
    input: 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01TLS',
    check: (v) => {
      const m = one(v);
      assert.deepEqual([m.method, m.target, m.upgrade], ['CONNECT', 'a:443', true]);
      assert.equal(v.upgradeHead.toString('latin1'), '\x16\x03\x01TLS');
      assert.equal(v.closed, true, 'detached');
    },
  },
  {
    name: 'authority-form with an IP-literal',
    input: 'CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n',
    check: (v) => assert.equal(one(v).target, '[::1]:8080'),
  },
  {
    name: 'authority-form needs a port',
    input: 'CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n',
    check: fails('HPE_INVALID_URL', 400, 8),
  },
  {
    name: 'asterisk-form for OPTIONS',
    input: 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
    check: (v) => assert.deepEqual([one(v).method, one(v).target], ['OPTIONS', '*']),
  },
  {
    name: 'asterisk-form for another method is a 400',
    input: 'DELETE * HTTP/1.1\r\nHost: a\r\n\r\n',
    check: fails('HPE_INVALID_URL', 400, 7),
  },
  {
    name: 'methods outside the common four are parsed (M-SEARCH, PROPFIND)',
    input: 'M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\nPROPFIND /y HTTP/1.1\r\nHost: a\r\n\r\n',
    check: (v) => assert.deepEqual(v.messages.map((m) => m.method), ['M-SEARCH', 'PROPFIND']),
  },
  {
    name: 'unknown method token on a bad line is a 400, not a 501',
    input: 'BREW /pot HTCPCP/1.0\r\n\r\n',
    check: fails('HPE_INVALID_CONSTANT', 400, 10),
  },

  // ---- persistence (RFC 9112 §9.3) ----
  {
    name: 'HTTP/1.1 persists by default',
    input: GET(),
    check: (v) => {
      assert.equal(one(v).keepAlive, true);
      assert.equal(v.closed, false);
    },
  },
  {
    name: 'HTTP/1.1 with Connection: close (any case)',
    input: GET('/', 'Connection: CLOSE\r\n'),
    check: (v) => {
      assert.equal(one(v).keepAlive, false);
      assert.equal(v.closed, true);
    },
  },
  {
    name: 'HTTP/1.1 Connection: closed is not the close token',
    input: GET('/', 'Connection: closed\r\n'),
    check: (v) => assert.equal(one(v).keepAlive, true),
  },
  {
    name: 'HTTP/1.1 close among several Connection lines',
    input: GET('/', 'Connection: te\r\nConnection: x , close\r\n'),
    check: (v) => assert.equal(one(v).keepAlive, false),
  },
  {
    name: 'HTTP/1.0 without keep-alive closes, needs no Host, later bytes are discarded',
    input: 'GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n',
    check: (v) => {
      const m = one(v);
      assert.deepEqual([m.versionMinor, m.keepAlive, m.target], [0, false, '/1']);
      assert.equal(v.closed, true);
    },
  },
  {
    name: 'HTTP/1.0 with keep-alive persists; the next one without it closes',
    input: 'GET /1 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /2 HTTP/1.0\r\nHost: a\r\n\r\nGET /3 HTTP/1.0\r\n\r\n',
    check: (v) => {
      assert.deepEqual(v.messages.map((m) => [m.target, m.keepAlive]), [['/1', true], ['/2', false]]);
      assert.equal(v.closed, true);
      assert.equal(v.error, null);
    },
  },
  {
    name: 'HTTP/1.0 keep-alive with close: close wins',
    input: 'GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n',
    check: (v) => assert.equal(one(v).keepAlive, false),
  },
  {
    name: 'HTTP/1.0 keep-alive with a Content-Length body',
    input: 'POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.0\r\n\r\n',
    check: (v) => {
      assert.deepEqual(v.messages.map((m) => [m.target, m.body.toString(), m.keepAlive]), [['/', 'abc', true], ['/2', '', false]]);
    },
  },
  {
    name: 'HTTP/1.0 with Transfer-Encoding is a 400',
    input: 'POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    check: fails('HPE_INVALID_TRANSFER_ENCODING', 400),
  },

  // ---- bodies ----
  {
    name: 'Content-Length body',
    input: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz`,
    check: (v) => {
      const m = one(v);
      assert.deepEqual([m.bodyKind, m.contentLength], [BodyKind.Length, 26]);
      assert.equal(m.body.toString(), 'abcdefghijklmnopqrstuvwxyz');
    },
  },
  {
    name: 'zero-length body',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
    check: (v) => {
      const m = one(v);
      assert.deepEqual([m.bodyKind, m.contentLength, m.body.length], [BodyKind.Length, 0, 0]);
    },
  },
  {
    name: 'binary body bytes (CR, LF, NUL, 0xFF) are opaque',
    input: 'PUT /b HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n\r\n\0\xff\r\n\r\n',
    check: (v) => assert.deepEqual([...one(v).body], [13, 10, 0, 255, 13, 10, 13, 10]),
  },
  {
    name: 'chunked: several chunks, extensions, trailers',
    input: `${CHUNKED}5;a=b\r\nhello\r\n1;x;y="q\\"z"\r\n \r\nA\r\n0123456789\r\n0;last=1\r\nX-Sum: 42\r\nX-Other:  v \t\r\n\r\n`,
    check: (v) => {
      const m = one(v);
      assert.equal(m.bodyKind, BodyKind.Chunked);
      assert.equal(m.body.toString(), 'hello 0123456789');
      assert.deepEqual(m.trailers, ['X-Sum', '42', 'X-Other', 'v']);
      assert.deepEqual(m.rawHeaders, ['Host', 'a', 'Transfer-Encoding', 'chunked']);
    },
  },
  {
    name: 'chunked: chunk data containing CRLF and a big chunk',
    input: `${CHUNKED}4\r\n\r\n\r\n\r\n400\r\n${'z'.repeat(1024)}\r\n0\r\n\r\n`,
    check: (v) => assert.equal(one(v).body.toString(), `\r\n\r\n${'z'.repeat(1024)}`),
  },
  {
    name: 'chunked: the CRLF after chunk data must be exactly CRLF',
    input: `${CHUNKED}5\r\nhello\rX0\r\n\r\n`,
    check: fails('HPE_STRICT', 400, index(`${CHUNKED}5\r\nhello\rX`, 'X')),
  },
  {
    name: 'chunked: bare LF after chunk data',
    input: `${CHUNKED}5\r\nhello\n0\r\n\r\n`,
    check: fails('HPE_CR_EXPECTED', 400, CHUNKED.length + 8),
  },

  // ---- pipelining ----
  {
    name: 'three pipelined requests in one buffer (plain, Content-Length, chunked)',
    input: `${GET('/1')}POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc${CHUNKED.replace('/up', '/3')}3\r\nxyz\r\n0\r\n\r\n`,
    check: (v) => {
      assert.equal(v.error, null);
      assert.deepEqual(v.messages.map((m) => [m.method, m.target, m.body.toString()]),
        [['GET', '/1', ''], ['POST', '/2', 'abc'], ['POST', '/3', 'xyz']]);
      assert.equal(v.closed, false);
    },
  },
  {
    name: 'pipelined: the error in the third request comes after two messages, at its stream offset',
    input: `${GET('/1')}${GET('/2')}GET /3 HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n`,
    check: (v) => {
      assert.equal(v.messages.length, 2);
      fails('HPE_INVALID_HEADER_TOKEN', 400, 2 * GET('/1').length + index(GET('/3', 'X-A : 1\r\n'), ' :'))(v);
    },
  },

  // ---- limits ----
  {
    name: 'maxHeaderSize: a head of exactly the limit passes',
    input: `${headOfSize(200)}GET /2 HTTP/1.1\r\nHost: a\r\n\r\n`,
    options: { maxHeaderSize: 200 },
    check: (v) => assert.equal(v.messages.length, 2),
  },
  {
    name: 'maxHeaderSize: one byte more is a 431',
    input: headOfSize(201),
    options: { maxHeaderSize: 200 },
    check: fails('HPE_HEADER_OVERFLOW', 431),
  },
  {
    name: 'maxHeaderSize: a line that never ends is a 431 once past the limit',
    input: `GET / HTTP/1.1\r\nHost: a\r\nX: ${'x'.repeat(500)}`,
    options: { maxHeaderSize: 200 },
    eof: false,
    check: fails('HPE_HEADER_OVERFLOW', 431, 25),
  },
  {
    name: 'maxHeaderSize applies to the trailer section: exactly the limit passes',
    input: trailersOfSize(100),
    options: { maxHeaderSize: 100 },
    check: (v) => assert.equal(one(v).trailers[1].length, 100 - 'X-T: \r\n\r\n'.length),
  },
  {
    name: 'maxHeaderSize applies to the trailer section: one byte more is a 431',
    input: trailersOfSize(101),
    options: { maxHeaderSize: 100 },
    check: fails('HPE_HEADER_OVERFLOW', 431),
  },
  {
    name: 'maxHeadersCount: exactly the limit passes',
    input: fieldsHead(5),
    options: { maxHeadersCount: 5 },
    check: (v) => assert.equal(one(v).rawHeaders.length, 10),
  },
  {
    name: 'maxHeadersCount: one field more is a 431 at that field line',
    input: fieldsHead(6),
    options: { maxHeadersCount: 5 },
    check: fails('HPE_HEADER_OVERFLOW', 431, index(fieldsHead(6), 'X-4')),
  },
  {
    name: 'maxHeadersCount applies to trailers',
    input: `${CHUNKED}0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n`,
    options: { maxHeadersCount: 2 },
    check: fails('HPE_HEADER_OVERFLOW', 431, index(`${CHUNKED}0\r\nA: 1\r\nB: 2\r\nC: 3`, 'C: 3')),
  },
  {
    name: 'maxRequestTargetSize: exactly the limit passes',
    input: GET(`/${'t'.repeat(15)}`),
    options: { maxRequestTargetSize: 16 },
    check: (v) => assert.equal(one(v).target.length, 16),
  },
  {
    name: 'maxRequestTargetSize: one byte more is a 414',
    input: GET(`/${'t'.repeat(16)}`),
    options: { maxRequestTargetSize: 16 },
    check: fails('HPE_URI_TOO_LONG', 414, 4),
  },
  {
    name: 'maxRequestTargetSize: a runaway request-line is a 414 before its end arrives',
    input: `GET /${'t'.repeat(300)}`,
    options: { maxRequestTargetSize: 16 },
    eof: false,
    check: fails('HPE_URI_TOO_LONG', 414, 0),
  },
  {
    name: 'maxRequestTargetSize: default 8 KiB target passes',
    input: GET(`/${'t'.repeat(8191)}`),
    check: (v) => assert.equal(one(v).target.length, 8192),
  },
  {
    name: 'header size limit below the target limit: a long request-line is a 431 on every split',
    input: GET(`/${'t'.repeat(300)}`),
    options: { maxHeaderSize: 100, maxRequestTargetSize: 1000 },
    check: fails('HPE_HEADER_OVERFLOW', 431, 0),
  },
  {
    name: 'maxChunkExtensionsSize: exactly the limit passes',
    input: `${CHUNKED}5;a=12345\r\nhello\r\n0\r\n\r\n`,
    options: { maxChunkExtensionsSize: 8 },
    check: (v) => assert.equal(one(v).body.toString(), 'hello'),
  },
  {
    name: 'maxChunkExtensionsSize: one byte more is a 413',
    input: `${CHUNKED}5;a=123456\r\nhello\r\n0\r\n\r\n`,
    options: { maxChunkExtensionsSize: 8 },
    check: fails('HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, CHUNKED.length + 1),
  },
  {
    name: 'maxChunkExtensionsSize: a chunk line that never ends is a 413',
    input: `${CHUNKED}5;a=${'e'.repeat(100)}`,
    options: { maxChunkExtensionsSize: 8 },
    eof: false,
    check: fails('HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, CHUNKED.length),
  },
  {
    name: 'a chunk line padded with leading zeros counts toward the same bound on every split',
    input: `${CHUNKED}${'0'.repeat(60)}5\r\nhello\r\n0\r\n\r\n`,
    options: { maxChunkExtensionsSize: 8 },
    check: fails('HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, CHUNKED.length),
  },

  // ---- error offsets ----
  {
    name: 'space before the colon: the offset of the space',
    input: GET('/', 'X-A : 1\r\n'),
    check: fails('HPE_INVALID_HEADER_TOKEN', 400, index(GET('/', 'X-A : 1\r\n'), ' :')),
  },
  {
    name: 'invalid method character: its offset',
    input: 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n',
    check: fails('HPE_INVALID_METHOD', 400, 1),
  },
  {
    name: 'unknown method: 501 at the method',
    input: '\r\nBREW /pot HTTP/1.1\r\nHost: a\r\n\r\n',
    check: fails('HPE_INVALID_METHOD', 501, 2),
  },
  {
    name: 'NUL in a field value: its offset',
    input: GET('/', 'X-A: a\0b\r\n'),
    check: fails('HPE_INVALID_HEADER_TOKEN', 400, index(GET('/', 'X-A: a\0b\r\n'), '\0')),
  },
  {
    name: 'bare LF ending a field line: the offset of the LF',
    input: 'GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n',
    check: fails('HPE_CR_EXPECTED', 400, 23),
  },
  {
    name: 'bad chunk-size character: its offset',
    input: `${CHUNKED}5z\r\nhello\r\n0\r\n\r\n`,
    check: fails('HPE_INVALID_CHUNK_SIZE', 400, CHUNKED.length + 1),
  },
  {
    name: 'invalid Content-Length: the offset of its field line',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n',
    check: fails('HPE_INVALID_CONTENT_LENGTH', 400, 26),
  },
  {
    name: 'framing decided at the end of the head: the offset of the empty line',
    input: 'POST / HTTP/1.1\r\nContent-Length: 1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
    check: fails('HPE_INVALID_TRANSFER_ENCODING', 400, 'POST / HTTP/1.1\r\nContent-Length: 1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n'.length),
  },

  // ---- EOF (finish) ----
  {
    // The offset of an EOF error is the start of what was left unparsed: here the unfinished line.
    name: 'EOF mid-head',
    input: 'GET / HTTP/1.1\r\nHo',
    check: (v) => {
      assert.equal(v.messages.length, 0);
      fails('HPE_INVALID_EOF_STATE', 400, 16)(v);
    },
  },
  {
    name: 'EOF mid request-line',
    input: 'GET / HT',
    check: fails('HPE_INVALID_EOF_STATE', 400, 0),
  },
  {
    name: 'EOF mid-body (Content-Length)',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc',
    check: (v) => {
      assert.equal(v.partial.body.toString(), 'abc');
      fails('HPE_INVALID_EOF_STATE', 400)(v);
    },
  },
  {
    name: 'EOF mid-chunk',
    input: `${CHUNKED}5\r\nhel`,
    check: fails('HPE_INVALID_EOF_STATE', 400),
  },
  {
    name: 'EOF before the trailer section ends',
    input: `${CHUNKED}0\r\nX: 1\r\n`,
    check: fails('HPE_INVALID_EOF_STATE', 400),
  },
  {
    name: 'EOF between messages is clean',
    input: `${GET('/1')}${GET('/2')}`,
    check: (v) => {
      assert.equal(v.error, null);
      assert.equal(v.messages.length, 2);
    },
  },
  {
    name: 'EOF after empty lines between messages is clean',
    input: `${GET('/1')}\r\n\r\n`,
    check: (v) => assert.equal(one(v).target, '/1'),
  },
  {
    name: 'no EOF: an unfinished head is just waiting',
    input: 'GET / HTTP/1.1\r\nHo',
    eof: false,
    check: (v) => assert.deepEqual([v.messages.length, v.error, v.partial], [0, null, null]),
  },

  // ---- upgrade ----
  {
    name: 'upgrade: the bytes after the head are handed over (detach)',
    input: 'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello\r\n\r\n',
    check: (v) => {
      assert.equal(one(v).upgrade, true);
      assert.equal(v.upgradeHead.toString('latin1'), '\x81\x05hello\r\n\r\n');
    },
  },
  {
    name: 'Upgrade without Connection: upgrade is a normal request',
    input: `${GET('/', 'Upgrade: websocket\r\n')}${GET('/2')}`,
    check: (v) => assert.deepEqual(v.messages.map((m) => m.upgrade), [false, false]),
  },
  {
    name: 'Connection: upgrade without an Upgrade field is a normal request',
    input: GET('/', 'Connection: upgrade\r\n'),
    check: (v) => assert.equal(one(v).upgrade, false),
  },

  // ---- field lines and values ----
  {
    name: 'obs-text in values is exposed as latin1, in headers and trailers',
    input: `${CHUNKED.replace('\r\n\r\n', '\r\nX-A: caf\xe9 \xff\x80\r\n\r\n')}0\r\nX-T: \xa0\xe9\r\n\r\n`,
    check: (v) => {
      const m = one(v);
      assert.equal(m.rawHeaders[m.rawHeaders.indexOf('X-A') + 1], 'caf\xe9 \xff\x80');
      assert.deepEqual(m.trailers, ['X-T', '\xa0\xe9']);
    },
  },
  {
    name: 'OWS around values is trimmed, inner whitespace kept',
    input: GET('/', 'X-A:   a \t b \t \r\nX-B:\t\t\r\nX-C:c\r\n'),
    check: (v) => assert.deepEqual(one(v).rawHeaders.slice(2), ['X-A', 'a \t b', 'X-B', '', 'X-C', 'c']),
  },
  {
    name: 'field names keep their case; framing fields are recognised in any case',
    input: 'POST / HTTP/1.1\r\nhOsT: a\r\ncontent-LENGTH: 2\r\n\r\nok',
    check: (v) => {
      const m = one(v);
      assert.deepEqual(m.rawHeaders, ['hOsT', 'a', 'content-LENGTH', '2']);
      assert.equal(m.body.toString(), 'ok');
    },
  },
  {
    name: 'the first Expect value is exposed',
    input: GET('/', 'Expect: 100-Continue\r\nExpect: other\r\n'),
    check: (v) => assert.equal(one(v).expect, '100-Continue'),
  },
  {
    name: 'a Host with a port and an IP-literal Host are valid',
    input: `GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\nGET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n`,
    check: (v) => assert.equal(v.messages.length, 2),
  },
  // HTAB is OWS around list members (RFC 9110 §5.5, §5.6.1): Keel reads the coding and the
  // connection options through it, where llhttp 9.3 rejects "chunked<HTAB>" and ignores
  // "keep-alive<HTAB>" (fuzz-diff classes te-trailing-htab / connection-htab, SECURITY.md).
  {
    name: 'Transfer-Encoding "chunked<HTAB>" is chunked (HTAB is OWS)',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    check: (v) => assert.equal(one(v).body.toString(), 'hello'),
  },
  {
    name: 'Transfer-Encoding "gzip,<HTAB>chunked<HTAB>" is two codings: gzip is not implemented, 501',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip,\tchunked\t\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    check: fails('HPE_INVALID_TRANSFER_ENCODING', 501),
  },
  {
    name: 'Transfer-Encoding "chunked,<HTAB>chunked" is chunked twice: 400',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\tchunked\r\n\r\n0\r\n\r\n',
    check: fails('HPE_INVALID_TRANSFER_ENCODING', 400),
  },
  {
    name: 'Transfer-Encoding "chunked<HTAB>x" is not chunked last: 400',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\tx\r\n\r\n0\r\n\r\n',
    check: fails('HPE_INVALID_TRANSFER_ENCODING', 400),
  },
  {
    name: 'HTTP/1.0 Connection "keep-alive<HTAB>" persists; the next request is parsed',
    input: 'GET /1 HTTP/1.0\r\nConnection: keep-alive\t\r\n\r\nGET /2 HTTP/1.0\r\n\r\n',
    check: (v) => {
      assert.equal(v.error, null, show(v));
      assert.deepEqual(v.messages.map((m) => [m.target, m.keepAlive]), [['/1', true], ['/2', false]]);
    },
  },
  {
    name: 'HTTP/1.0 Connection "<HTAB>keep-alive<HTAB>,<HTAB>te" persists',
    input: 'GET /1 HTTP/1.0\r\nConnection:\tkeep-alive\t,\tte\r\n\r\n',
    check: (v) => assert.equal(one(v).keepAlive, true),
  },
  {
    name: 'HTTP/1.1 Connection "close<HTAB>" closes',
    input: GET('/', 'Connection: close\t\r\n'),
    check: (v) => assert.equal(one(v).keepAlive, false),
  },
  {
    name: 'a Transfer-Encoding with NBSP around chunked is not chunked',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n',
    check: fails('HPE_INVALID_TRANSFER_ENCODING', 400),
  },
];

describe('parser table', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const input = bytes(c.input);
      const eof = c.eof ?? true;
      const verdict = runKeel(whole(input), { eof, options: c.options });
      c.check(verdict);
      assertSplitInvariant(input, eof, verdictKey(verdict, { offsets: true }), c.name, c.options);
    });
  }
});

// ---- the pull API itself ----

/** Collect the events of one next() loop. */
function drain(parser) {
  const events = [];
  for (;;) {
    const ev = parser.next();
    if (ev === ParserEvent.NeedData) return events;
    events.push(ev === ParserEvent.Body ? ['body', parser.body.toString('latin1')] : ev);
  }
}

describe('parser API', () => {
  test('a Content-Length body streams as it arrives, across many pushes', () => {
    const body = Buffer.from('0123456789'.repeat(100));
    const input = Buffer.concat([bytes(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
    for (const size of [1, 3, 7, 64, 999]) {
      const p = new RequestParser();
      const got = [];
      let sawHead = false;
      let ended = false;
      for (let i = 0; i < input.length; i += size) {
        p.push(input.subarray(i, i + size));
        for (const ev of drain(p)) {
          if (ev === ParserEvent.Head) sawHead = true;
          else if (ev === ParserEvent.End) ended = true;
          else got.push(Buffer.from(ev[1], 'latin1'));
        }
        // Everything of the body that has arrived has been handed out: nothing is held back.
        const arrived = Math.max(0, Math.min(i + size, input.length) - (input.length - body.length));
        assert.equal(Buffer.concat(got).length, arrived, `size ${size}, after ${i + size} bytes`);
        if (sawHead) assert.equal(p.bufferedBytes, 0);
      }
      assert.ok(sawHead && ended);
      assert.ok(Buffer.concat(got).equals(body));
    }
  });

  test('zero-length body: Head then End, no Body event', () => {
    const p = new RequestParser();
    p.push(bytes('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'));
    assert.deepEqual(drain(p), [ParserEvent.Head, ParserEvent.End]);
    assert.equal(p.isIdle, true);
  });

  test('chunked: events in order; data split in the CRLF after it', () => {
    const p = new RequestParser();
    p.push(bytes(`${CHUNKED}5\r\nhello\r`));
    assert.deepEqual(drain(p), [ParserEvent.Head, ['body', 'hello']]);
    p.push(bytes('\n3;e=1\r\nab'));
    assert.deepEqual(drain(p), [['body', 'ab']]);
    p.push(bytes('c\r\n0\r\nT: 1\r'));
    assert.deepEqual(drain(p), [['body', 'c']]);
    p.push(bytes('\n\r\n'));
    assert.deepEqual(drain(p), [ParserEvent.End]);
    assert.deepEqual(p.trailers, ['T', '1']);
    assert.equal(p.isIdle, true);
  });

  test('pipelined requests are handed out one event at a time (pausing = not calling next)', () => {
    const p = new RequestParser();
    p.push(bytes(`${GET('/1')}${GET('/2')}${GET('/3')}`));
    assert.equal(p.next(), ParserEvent.Head);
    assert.equal(p.head.target, '/1');
    assert.ok(p.bufferedBytes > 0, 'the other requests wait in the buffer');
    assert.equal(p.next(), ParserEvent.End);
    assert.equal(p.next(), ParserEvent.Head);
    assert.equal(p.head.target, '/2');
    assert.equal(p.next(), ParserEvent.End);
    assert.equal(p.next(), ParserEvent.Head);
    assert.equal(p.head.target, '/3');
    assert.equal(p.next(), ParserEvent.End);
    assert.equal(p.next(), ParserEvent.NeedData);
    assert.equal(p.offset, 3 * GET('/1').length);
  });

  test('after release() between keep-alive messages, each head still says exactly what its bytes say', () => {
    // An idle connection keeps a small head's field lines for the next message to reuse (a large
    // one's are dropped): near misses of every line must still parse as themselves.
    const big = `X-Big: ${'b'.repeat(5000)}\r\n`;
    for (const extra of ['', big]) {
      const p = new RequestParser({ maxHeaderSize: 64 * 1024 });
      const heads = [
        `GET / HTTP/1.1\r\nHost: a.test\r\nX-A: 1\r\n${extra}\r\n`,
        `GET / HTTP/1.1\r\nHost: a.test\r\nX-A: 1\r\n${extra}\r\n`,
        `GET / HTTP/1.1\r\nHost: a.tesu\r\nX-A: 1 \r\n${extra}\r\n`,
        `GET / HTTP/1.1\r\nHost: a.tesu\r\nX-a: 1\r\n${extra}\r\n`,
        `GET / HTTP/1.1\r\nHost: a.tesu\r\nX-a: 12\r\n${extra}\r\n`,
        `GET / HTTP/1.1\r\nHost: a.tesu\r\nX-a: 12\r\nConnection: close\r\n\r\n`,
      ];
      const expected = [
        ['Host', 'a.test', 'X-A', '1'],
        ['Host', 'a.test', 'X-A', '1'],
        ['Host', 'a.tesu', 'X-A', '1'],
        ['Host', 'a.tesu', 'X-a', '1'],
        ['Host', 'a.tesu', 'X-a', '12'],
        ['Host', 'a.tesu', 'X-a', '12', 'Connection', 'close'],
      ];
      heads.forEach((head, i) => {
        p.push(bytes(head));
        assert.equal(p.next(), ParserEvent.Head);
        const want = extra === '' || i === heads.length - 1 ? expected[i] : [...expected[i], 'X-Big', 'b'.repeat(5000)];
        assert.deepEqual(p.head.rawHeaders, want, `message ${i + 1}${extra === '' ? '' : ' (large head)'}`);
        assert.equal(p.head.keepAlive, i !== heads.length - 1);
        assert.equal(p.next(), ParserEvent.End);
        p.release();
      });
      // A bad line after a released head that was valid is still rejected.
      const q = new RequestParser({ maxHeaderSize: 64 * 1024 });
      q.push(bytes(`GET / HTTP/1.1\r\nHost: a.test\r\nX-A: 1\r\n${extra}\r\n`));
      assert.equal(q.next(), ParserEvent.Head);
      assert.equal(q.next(), ParserEvent.End);
      q.release();
      q.push(bytes('GET / HTTP/1.1\r\nHost: a.test\r\nX-A: 1\x01\r\n\r\n'));
      assert.throws(() => q.next(), { code: 'HPE_INVALID_HEADER_TOKEN' });
    }
  });

  test('finish() mid-head and mid-body throws HPE_INVALID_EOF_STATE; between messages it does not', () => {
    const midHead = new RequestParser();
    midHead.push(bytes('GET / HTTP/1.1\r\n'));
    assert.equal(midHead.next(), ParserEvent.NeedData);
    assert.throws(() => midHead.finish(), (err) => err instanceof ParseError && err.code === 'HPE_INVALID_EOF_STATE' && err.status === 400);
    assert.throws(() => midHead.next(), { code: 'HPE_INVALID_EOF_STATE' }, 'the parser stays failed');

    const midBody = new RequestParser();
    const partial = bytes('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab');
    midBody.push(partial);
    assert.deepEqual(drain(midBody), [ParserEvent.Head, ['body', 'ab']]);
    assert.throws(() => midBody.finish(), { code: 'HPE_INVALID_EOF_STATE', offset: partial.length });

    const between = new RequestParser();
    between.push(bytes(GET()));
    assert.deepEqual(drain(between), [ParserEvent.Head, ParserEvent.End]);
    assert.doesNotThrow(() => between.finish());

    const fresh = new RequestParser();
    assert.doesNotThrow(() => fresh.finish());
  });

  test('detach() returns the bytes after an upgrade head and closes the parser', () => {
    const p = new RequestParser();
    p.push(bytes('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\nPRI * HTTP/2.0'));
    assert.equal(p.next(), ParserEvent.Head);
    assert.equal(p.head.upgrade, true);
    assert.equal(p.detach().toString('latin1'), 'PRI * HTTP/2.0');
    assert.equal(p.isClosed, true);
    p.push(bytes('more'));
    assert.equal(p.bufferedBytes, 0, 'bytes after detach are not buffered');
    assert.equal(p.next(), ParserEvent.NeedData);
    assert.doesNotThrow(() => p.finish());
  });

  test('after an error the parser is dead: pushes are dropped and next() rethrows', () => {
    const p = new RequestParser();
    p.push(bytes('GET / HTTP/1.1\r\nX-A : 1\r\n\r\n'));
    let first;
    assert.throws(() => p.next(), (err) => { first = err; return err instanceof ParseError; });
    assert.equal(first.bytesParsed, first.offset);
    p.push(bytes(GET()));
    assert.throws(() => p.next(), (err) => err === first);
  });

  test('after a closing message, later bytes are discarded and never parsed', () => {
    const p = new RequestParser();
    p.push(bytes(`${GET('/1', 'Connection: close\r\n')}GARBAGE\r\n`));
    assert.deepEqual(drain(p), [ParserEvent.Head, ParserEvent.End]);
    assert.equal(p.isClosed, true);
    p.push(bytes('G(T / HTTP/1.1\r\n\r\n'));
    assert.equal(p.bufferedBytes, 0);
    assert.equal(p.next(), ParserEvent.NeedData);
    assert.doesNotThrow(() => p.finish());
  });

  test('isIdle between messages, not with a partial one', () => {
    const p = new RequestParser();
    assert.equal(p.isIdle, true);
    p.push(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\nG'));
    drain(p);
    assert.equal(p.isIdle, false);
    p.push(bytes('ET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    drain(p);
    assert.equal(p.isIdle, true);
  });
});
