// Seed inputs for the coverage-guided fuzz targets, built from shared/conformance/vectors.json, a
// few hand-written messages, inputs at the parser limits and streams of the differential fuzzer's
// generator. run.js writes them
// to the gitignored work dir (.work/seeds/<target>/, one file per seed) before each run; the
// regression test replays a sample of them. Nothing here is committed as data.

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadVectors, RESPONSE_CATEGORY } from '../../http1/vector-helpers.js';
import { generateStream, mulberry32 } from '../generator.js';
import { selectorOf } from './targets/response.js';
import { FUZZ_LIMITS } from './invariants.js';

/** Streams of the request generator (test/fuzz/generator.js) added to the request seeds. */
const GENERATED_STREAMS = 300;
const GENERATOR_SEED = 6;

const b = (s) => Buffer.from(s, 'latin1');

/** Hand-written responses: [name, request methods, stream]. */
const RESPONSES = [
  ['chunked-trailers', ['GET'], 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n'],
  ['pipelined', ['GET', 'HEAD', 'GET'], 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n'],
  ['connect-200', ['CONNECT'], 'HTTP/1.1 200 Connection Established\r\n\r\ntunnel bytes'],
  ['continue-then-final', ['POST'], 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'],
  ['http10-close', ['GET'], 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.0 200 OK\r\n\r\n'],
  ['keep-alive-10', ['GET', 'GET'], 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'],
  ['close-field', ['GET'], 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nxtrailing'],
];

/** Hand-written chunked bodies (after the fixed heads of targets/chunked.js). */
const CHUNKED_BODIES = [
  ['simple', '5\r\nhello\r\n0\r\n\r\n'],
  ['extensions', '3;a=b;c="q\\"d"\r\nabc\r\nA;n\r\n0123456789\r\n0;last\r\n\r\n'],
  ['trailers', '1\r\nx\r\n0\r\nExpires: 0\r\nX-Sum: abc\r\n\r\n'],
  ['upper-hex', 'F\r\n0123456789abcde\r\n0\r\n\r\n'],
  ['leading-zeros', '0001\r\nx\r\n000\r\n\r\n'],
  ['then-next-message', '0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['max-size', '1fffffffffffff\r\n'],
  ['too-big', '20000000000000\r\n'],
];

/**
 * Inputs at and just past each of FUZZ_LIMITS, which the fuzzer rarely builds by itself (a line
 * of a thousand bytes, dozens of field lines): [name, latin1 string] per target.
 */
function limitSeeds() {
  const { maxHeaderSize, maxHeadersCount, maxRequestTargetSize, maxChunkExtensionsSize } = FUZZ_LIMITS;
  const a = (n) => 'a'.repeat(n);
  const fields = (n) => 'X-F: 1\r\n'.repeat(n);
  const chunked = [
    ['many-trailers', `0\r\n${fields(maxHeadersCount)}\r\n`],
    ['too-many-trailers', `0\r\n${fields(maxHeadersCount + 1)}\r\n`],
    ['long-trailer', `0\r\nX-T: ${a(maxHeaderSize)}`],
    ['long-extension', `1;${a(maxChunkExtensionsSize - 1)}\r\nx\r\n0\r\n\r\n`],
    ['too-long-extension', `1;${a(maxChunkExtensionsSize)}\r\nx\r\n0\r\n\r\n`],
    ['long-chunk-line', `1;${a(maxChunkExtensionsSize + 40)}`],
  ];
  return {
    request: [
      ['long-field', `GET / HTTP/1.1\r\nHost: a\r\nX-L: ${a(maxHeaderSize)}`],
      ['many-fields', `GET / HTTP/1.1\r\nHost: a\r\n${fields(maxHeadersCount - 1)}\r\n`],
      ['too-many-fields', `GET / HTTP/1.1\r\nHost: a\r\n${fields(maxHeadersCount)}\r\n`],
      ['long-target', `GET /${a(maxRequestTargetSize - 1)} HTTP/1.1\r\nHost: a\r\n\r\n`],
      ['too-long-target', `GET /${a(maxRequestTargetSize)} HTTP/1.1\r\nHost: a\r\n\r\n`],
      ...chunked.map(([name, body]) => [`chunked-${name}`, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}`]),
    ],
    response: [
      ['long-field', `HTTP/1.1 200 OK\r\nX-L: ${a(maxHeaderSize)}`],
      ['too-many-fields', `HTTP/1.1 200 OK\r\n${fields(maxHeadersCount + 1)}\r\n`],
      ['long-reason', `HTTP/1.1 200 ${a(maxHeaderSize)}\r\n\r\n`],
      ...chunked.map(([name, body]) => [`chunked-${name}`, `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`]),
    ],
    chunked,
  };
}

/** The seeds of one target: [[name, Buffer]]. */
export function seedsFor(target) {
  const vectors = loadVectors();
  const requests = vectors.filter((v) => v.category !== RESPONSE_CATEGORY);
  if (target === 'request') {
    const rng = mulberry32(GENERATOR_SEED);
    return [
      ...requests.map((v) => [`vector-${v.name}`, v.buf]),
      ...Array.from({ length: GENERATED_STREAMS }, (_, i) => [`generated-${GENERATOR_SEED}-${i}`, generateStream(rng).buf]),
      ...limitSeeds().request.map(([name, s]) => [`limit-${name}`, b(s)]),
    ];
  }
  if (target === 'response') {
    const withSelector = (methods, buf) => Buffer.concat([Buffer.from([selectorOf(methods)]), buf]);
    return [
      ...vectors.filter((v) => v.category === RESPONSE_CATEGORY)
        .map((v) => [`vector-${v.name}`, withSelector(v.method ? String(v.method).toUpperCase().split(',') : ['GET'], v.buf)]),
      ...RESPONSES.map(([name, methods, s]) => [`hand-${name}`, withSelector(methods, b(s))]),
      ...limitSeeds().response.map(([name, s]) => [`limit-${name}`, withSelector(['GET'], b(s))]),
    ];
  }
  if (target === 'chunked') {
    // The body of every request vector that says chunked: what follows its header section.
    const bodies = requests.filter((v) => /chunked/i.test(v.buf.toString('latin1')) && v.buf.includes('\r\n\r\n'))
      .map((v) => [`vector-${v.name}`, v.buf.subarray(v.buf.indexOf('\r\n\r\n') + 4)]);
    return [
      ...bodies,
      ...CHUNKED_BODIES.map(([name, s]) => [`hand-${name}`, b(s)]),
      ...limitSeeds().chunked.map(([name, s]) => [`limit-${name}`, b(s)]),
    ];
  }
  if (target === 'proxy') {
    return PROXY_HEADERS.map(([name, bytes]) => [`hand-${name}`, bytes]);
  }
  throw new Error(`unknown target ${target}`);
}

/** PROXY protocol v2 header: signature, version/command, family/transport, length, then `rest`. */
function proxyV2(command, family, rest) {
  const head = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20 | command, family, 0, 0]);
  head.writeUInt16BE(rest.length, 14);
  return Buffer.concat([head, rest]);
}

/** Valid and near-valid PROXY headers (v1 lines, v2 binary with addresses and TLVs), each followed by a request. */
const PROXY_HEADERS = (() => {
  const req = b('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const v4 = Buffer.from([192, 0, 2, 1, 198, 51, 100, 2, 0x30, 0x39, 0x00, 0x50]);
  const v6 = Buffer.concat([Buffer.alloc(15), Buffer.from([1]), Buffer.alloc(15), Buffer.from([2]), Buffer.from([0x30, 0x39, 0x00, 0x50])]);
  const unix = Buffer.concat([Buffer.from('/tmp/a.sock'.padEnd(108, '\0')), Buffer.from('/tmp/b.sock'.padEnd(108, '\0'))]);
  const tlv = Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_NOOP, 3 bytes
  return [
    ['v1-tcp4', Buffer.concat([b('PROXY TCP4 192.0.2.1 198.51.100.2 12345 80\r\n'), req])],
    ['v1-tcp6', Buffer.concat([b('PROXY TCP6 2001:db8::1 2001:db8::2 12345 443\r\n'), req])],
    ['v1-unknown', Buffer.concat([b('PROXY UNKNOWN\r\n'), req])],
    ['v1-unknown-addresses', Buffer.concat([b('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'), req])],
    ['v1-bad-port', Buffer.concat([b('PROXY TCP4 192.0.2.1 198.51.100.2 012345 80\r\n'), req])],
    ['v2-tcp4', Buffer.concat([proxyV2(1, 0x11, v4), req])],
    ['v2-udp4', Buffer.concat([proxyV2(1, 0x12, v4), req])],
    ['v2-tcp6', Buffer.concat([proxyV2(1, 0x21, v6), req])],
    ['v2-unix', Buffer.concat([proxyV2(1, 0x31, unix), req])],
    ['v2-tcp4-tlv', Buffer.concat([proxyV2(1, 0x11, Buffer.concat([v4, tlv])), req])],
    ['v2-local', Buffer.concat([proxyV2(0, 0x00, Buffer.alloc(0)), req])],
    ['v2-unspec', Buffer.concat([proxyV2(1, 0x00, Buffer.alloc(4)), req])],
    ['v2-short-length', Buffer.concat([proxyV2(1, 0x11, v4.subarray(0, 8)), req])],
    ['plain-request', req],
  ];
})();

/** Write the seeds of `target` into `dir` (emptied first); returns how many. */
export function writeSeeds(target, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const seeds = seedsFor(target);
  for (const [name, buf] of seeds) writeFileSync(join(dir, name), buf);
  return readdirSync(dir).length;
}
