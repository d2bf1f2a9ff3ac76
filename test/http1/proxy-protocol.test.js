// The PROXY protocol header parser (src/http1/proxy-protocol.ts), sans-I/O: a table of v1 and v2
// headers, valid and malformed (TLVs, UNKNOWN, LOCAL, UNSPEC, UNIX, limits at their exact
// boundaries), each also cut at every byte offset (a prefix needs more or fails the same way; a
// header fails as soon as its bytes are in); IPv6 text checked against Node's own formatting.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  PROXY_V1_MAX_BYTES,
  PROXY_V2_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
  ProxyProtocolError,
  parseProxyHeader,
} from '../../dist/http1/proxy-protocol.js';
import { formatIPv6 } from '../../dist/http1/ip-address.js';

const latin1 = (s) => Buffer.from(s, 'latin1');
const HTTP = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

/** A v2 header: verCmd (0x21 = v2 PROXY), famProto, the address block and TLVs, length computed. */
function v2(verCmd, famProto, ...parts) {
  const body = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
  const head = Buffer.alloc(4);
  head[0] = verCmd;
  head[1] = famProto;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, body]);
}
/** A v2 header with an explicit length field (which may disagree with the bytes). */
function v2len(verCmd, famProto, length, body = Buffer.alloc(0)) {
  const head = Buffer.alloc(4);
  head[0] = verCmd;
  head[1] = famProto;
  head.writeUInt16BE(length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, body]);
}
const u16 = (n) => Buffer.from([n >> 8, n & 0xff]);
const ip4 = (s) => Buffer.from(s.split('.').map(Number));
function ip6(s) {
  const sa = new net.SocketAddress({ address: s, family: 'ipv6' });
  const words = expand(sa.address);
  return Buffer.concat(words.map(u16));
}
/** The 8 groups of an IPv6 text (test-side, through Node's canonical form). */
function expand(text) {
  const [head, tail = null] = text.split('::');
  const toWords = (part) => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => (g.includes('.') ? [((+g.split('.')[0]) << 8) | +g.split('.')[1], ((+g.split('.')[2]) << 8) | +g.split('.')[3]] : [parseInt(g, 16)]));
  };
  const h = toWords(head);
  if (tail === null) return h;
  const t = toWords(tail);
  return [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
}
function unixPath(path) {
  const b = Buffer.alloc(108);
  b.write(path, 'utf8');
  return b;
}
const tlv = (type, value) => Buffer.concat([Buffer.from([type]), u16(value.length), Buffer.from(value)]);

const addr = (address, port, family) => ({ address, port, family });

/** Valid headers: [name, bytes, expected fields (length defaults to the whole header)]. */
const VALID = [
  ['v1 TCP4', 'PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n', { version: 1, source: addr('192.0.2.1', 56324, 'IPv4'), destination: addr('198.51.100.2', 443, 'IPv4') }],
  ['v1 TCP4 from the brief', 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n', { source: addr('1.2.3.4', 1111, 'IPv4') }],
  ['v1 TCP4 ports 0 and 65535, octets 0 and 255', 'PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n', { source: addr('0.0.0.0', 0, 'IPv4'), destination: addr('255.255.255.255', 65535, 'IPv4') }],
  ['v1 TCP6 compressed', 'PROXY TCP6 2001:db8::1 2001:db8::2 1111 2222\r\n', { source: addr('2001:db8::1', 1111, 'IPv6'), destination: addr('2001:db8::2', 2222, 'IPv6') }],
  ['v1 TCP6 full and upper case → canonical', 'PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 ::1 1 2\r\n', { source: addr('2001:db8::1', 1, 'IPv6'), destination: addr('::1', 2, 'IPv6') }],
  ['v1 TCP6 IPv4-mapped', 'PROXY TCP6 ::ffff:1.2.3.4 ::ffff:7f00:1 1 2\r\n', { source: addr('::ffff:1.2.3.4', 1, 'IPv6'), destination: addr('::ffff:127.0.0.1', 2, 'IPv6') }],
  ['v1 TCP6 longest line (104 bytes)', `PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`, { source: addr('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 65535, 'IPv6') }],
  ['v1 UNKNOWN', 'PROXY UNKNOWN\r\n', { version: 1, command: 'PROXY', source: null, destination: null }],
  ['v1 UNKNOWN with addresses (ignored)', 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n', { source: null }],
  ['v1 UNKNOWN padded to exactly 107 bytes', `PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX_BYTES - 16)}\r\n`, { source: null, length: 107 }],
  ['v1 then HTTP', `PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n${HTTP}`, { length: 38, source: addr('1.2.3.4', 1111, 'IPv4') }],
  ['v2 TCP4', v2(0x21, 0x11, ip4('192.0.2.1'), ip4('198.51.100.2'), u16(56324), u16(443)), { version: 2, command: 'PROXY', source: addr('192.0.2.1', 56324, 'IPv4'), destination: addr('198.51.100.2', 443, 'IPv4') }],
  ['v2 UDP4 (accepted: a spec value)', v2(0x21, 0x12, ip4('10.0.0.1'), ip4('10.0.0.2'), u16(1), u16(2)), { source: addr('10.0.0.1', 1, 'IPv4') }],
  ['v2 TCP6', v2(0x21, 0x21, ip6('2001:db8::1'), ip6('::1'), u16(1111), u16(2222)), { source: addr('2001:db8::1', 1111, 'IPv6'), destination: addr('::1', 2222, 'IPv6') }],
  ['v2 TCP6 IPv4-mapped', v2(0x21, 0x21, ip6('::ffff:127.0.0.1'), ip6('::ffff:127.0.0.2'), u16(5), u16(6)), { source: addr('::ffff:127.0.0.1', 5, 'IPv6') }],
  ['v2 UNIX stream', v2(0x21, 0x31, unixPath('/run/client.sock'), unixPath('/run/keel.sock')), { source: addr('/run/client.sock', 0, 'unix'), destination: addr('/run/keel.sock', 0, 'unix') }],
  ['v2 UNIX dgram', v2(0x21, 0x32, unixPath('/a'), unixPath('/b')), { source: addr('/a', 0, 'unix') }],
  ['v2 TCP4 with TLVs (ALPN, authority, CRC32C, NOOP empty, unique id, custom)', v2(0x21, 0x11, ip4('1.2.3.4'), ip4('5.6.7.8'), u16(1111), u16(2222),
    tlv(0x01, 'http/1.1'), tlv(0x02, 'example.com'), tlv(0x03, [0, 0, 0, 0]), tlv(0x04, []), tlv(0x05, 'id-42'), tlv(0xe0, Buffer.alloc(300, 7))),
  { source: addr('1.2.3.4', 1111, 'IPv4') }],
  ['v2 at the length limit (4096)', v2(0x21, 0x11, ip4('1.2.3.4'), ip4('5.6.7.8'), u16(1), u16(2), tlv(0x04, Buffer.alloc(PROXY_V2_MAX_LENGTH - 12 - 3))), { length: 16 + 4096, source: addr('1.2.3.4', 1, 'IPv4') }],
  ['v2 LOCAL', v2(0x20, 0x00), { version: 2, command: 'LOCAL', source: null, destination: null }],
  ['v2 LOCAL with an address block (ignored)', v2(0x20, 0x11, ip4('1.2.3.4'), ip4('5.6.7.8'), u16(1), u16(2)), { command: 'LOCAL', source: null }],
  ['v2 LOCAL with garbage (family and block ignored)', v2(0x20, 0xff, [1, 2, 3]), { command: 'LOCAL', source: null }],
  ['v2 PROXY UNSPEC', v2(0x21, 0x00), { command: 'PROXY', source: null, destination: null }],
  ['v2 PROXY UNSPEC with bytes (ignored)', v2(0x21, 0x00, [9, 9, 9]), { source: null }],
  ['v2 then HTTP', Buffer.concat([v2(0x21, 0x11, ip4('1.2.3.4'), ip4('5.6.7.8'), u16(1), u16(2)), latin1(HTTP)]), { length: 28, source: addr('1.2.3.4', 1, 'IPv4') }],
];

const TCP4_BLOCK = Buffer.concat([ip4('1.2.3.4'), ip4('5.6.7.8'), u16(1), u16(2)]);

/** Malformed headers: [name, bytes, error offset, versions?]. */
const MALFORMED = [
  ['plain HTTP request', HTTP, 0],
  ['lower-case proxy', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n', 0],
  ['PROXY without its space', 'PROXYUNKNOWN\r\n', 5],
  ['v1 LF without CR', 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\n', 36],
  ['v1 CR without LF', 'PROXY TCP4 1.2.3.4\r5.6.7.8 1111 2222\r\n', 18],
  ['v1 NUL byte', 'PROXY TCP4 1.2.3.4 5.6.7.8 1111\x002222\r\n', 31],
  ['v1 non-ASCII byte', 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\xe9\r\n', 36],
  ['v1 tab separator', 'PROXY TCP4\t1.2.3.4 5.6.7.8 1111 2222\r\n', 10],
  ['v1 empty protocol', 'PROXY \r\n', 6],
  ['v1 unknown protocol', 'PROXY TCP5 1.2.3.4 5.6.7.8 1111 2222\r\n', 6],
  ['v1 UNKNOWNX', 'PROXY UNKNOWNX\r\n', 6],
  ['v1 double space', 'PROXY TCP4  1.2.3.4 5.6.7.8 1111 2222\r\n', 6],
  ['v1 trailing space', 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 \r\n', 6],
  ['v1 missing port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1111\r\n', 6],
  ['v1 extra field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 3333\r\n', 6],
  ['v1 TCP4 with an IPv6 source', 'PROXY TCP4 ::1 5.6.7.8 1111 2222\r\n', 11],
  ['v1 TCP6 with an IPv4 source', 'PROXY TCP6 1.2.3.4 ::1 1111 2222\r\n', 11],
  ['v1 TCP6 with an IPv4 destination', 'PROXY TCP6 ::1 1.2.3.4 1111 2222\r\n', 15],
  ['v1 octet 256', 'PROXY TCP4 1.2.3.256 5.6.7.8 1111 2222\r\n', 11],
  ['v1 octet with a leading zero', 'PROXY TCP4 1.2.3.04 5.6.7.8 1111 2222\r\n', 11],
  ['v1 three octets', 'PROXY TCP4 1.2.3 5.6.7.8 1111 2222\r\n', 11],
  ['v1 IPv6 with two ::', 'PROXY TCP6 1::2::3 ::1 1 2\r\n', 11],
  ['v1 IPv6 with a zone id', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 11],
  ['v1 IPv6 with 9 groups', 'PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n', 11],
  ['v1 source port 65536', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2222\r\n', 27],
  ['v1 source port with a leading zero', 'PROXY TCP4 1.2.3.4 5.6.7.8 01111 2222\r\n', 27],
  ['v1 negative destination port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 -2\r\n', 32],
  ['v1 hex port', 'PROXY TCP4 1.2.3.4 5.6.7.8 0x10 2222\r\n', 27],
  ['v1 no CRLF within 107 bytes', `PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX_BYTES - 15)}\r\n`, 106],
  ['v1 long line of spaces', `PROXY ${' '.repeat(200)}`, 106],
  ['v1 refused when only v2 is accepted', 'PROXY UNKNOWN\r\n', 0, 'v2'],
  ['v2 refused when only v1 is accepted', v2(0x20, 0x00), 0, 'v1'],
  ['v2 signature wrong at byte 7', Buffer.concat([PROXY_V2_SIGNATURE.subarray(0, 7), Buffer.from([0x50]), PROXY_V2_SIGNATURE.subarray(8), Buffer.from([0x21, 0x11, 0, 12]), TCP4_BLOCK]), 7],
  ['v2 CRLFCRLF then HTTP (not the signature)', `\r\n\r\n${HTTP}`, 4],
  ['v2 version 1', v2(0x11, 0x11, TCP4_BLOCK), 12],
  ['v2 version 3', v2(0x31, 0x11, TCP4_BLOCK), 12],
  ['v2 command 2', v2(0x22, 0x11, TCP4_BLOCK), 12],
  ['v2 command 15', v2(0x2f, 0x11, TCP4_BLOCK), 12],
  ['v2 family 4', v2(0x21, 0x41, TCP4_BLOCK), 13],
  ['v2 INET with transport 0', v2(0x21, 0x10, TCP4_BLOCK), 13],
  ['v2 INET with transport 3', v2(0x21, 0x13, TCP4_BLOCK), 13],
  ['v2 UNSPEC family with transport 1', v2(0x21, 0x01), 13],
  ['v2 length 4097', v2len(0x21, 0x11, PROXY_V2_MAX_LENGTH + 1, Buffer.alloc(PROXY_V2_MAX_LENGTH + 1)), 14],
  ['v2 length 65535 (announced only)', v2len(0x21, 0x11, 0xffff), 14],
  ['v2 TCP4 length 11 (too short for the addresses)', v2len(0x21, 0x11, 11, TCP4_BLOCK.subarray(0, 11)), 14],
  ['v2 TCP6 length 12', v2len(0x21, 0x21, 12, TCP4_BLOCK), 14],
  ['v2 UNIX length 215', v2len(0x21, 0x31, 215, Buffer.alloc(215)), 14],
  ['v2 TLV header cut (2 bytes left)', v2(0x21, 0x11, TCP4_BLOCK, [0x04, 0x00]), 28],
  ['v2 TLV value past the end', v2(0x21, 0x11, TCP4_BLOCK, tlv(0x01, 'h2'), [0x02, 0x00, 0x05, 0x61]), 33],
];

const bytesOf = (b) => (Buffer.isBuffer(b) ? b : latin1(b));

function verdict(buf, versions) {
  try {
    return parseProxyHeader(buf, versions);
  } catch (err) {
    if (!(err instanceof ProxyProtocolError)) throw err;
    return { error: err.code, offset: err.offset, reason: err.reason };
  }
}

describe('valid headers', () => {
  for (const [name, input, expected] of VALID) {
    test(name, () => {
      const buf = bytesOf(input);
      const result = parseProxyHeader(buf);
      assert.equal(result.needMore, false);
      const want = { length: buf.length, ...expected };
      for (const [key, value] of Object.entries(want)) assert.deepEqual(result[key], value, key);
      if (result.source === null) assert.equal(result.destination, null);
      // Cut at every offset: before the end of the header, it needs more; from there, the same answer.
      for (let cut = 0; cut <= buf.length; cut++) {
        const got = verdict(buf.subarray(0, cut));
        if (cut < result.length) assert.deepEqual(got, { needMore: true }, `cut at ${cut}`);
        else assert.deepEqual(got, result, `cut at ${cut}`);
      }
      // The version filter accepts its own version.
      assert.deepEqual(parseProxyHeader(buf, result.version === 1 ? 'v1' : 'v2'), result);
    });
  }
});

describe('malformed headers: ERR_PROXY_PROTOCOL at the offending byte, as soon as it is in', () => {
  for (const [name, input, offset, versions = 'any'] of MALFORMED) {
    test(name, () => {
      const buf = bytesOf(input);
      const whole = verdict(buf, versions);
      assert.equal(whole.error, 'ERR_PROXY_PROTOCOL', `whole: ${JSON.stringify(whole)}`);
      assert.equal(whole.offset, offset, whole.reason);
      assert.throws(() => parseProxyHeader(buf, versions), (err) => err instanceof ProxyProtocolError && err instanceof Error && err.name === 'ProxyProtocolError' && err.message.includes(err.reason));
      // Every prefix needs more or fails the same way; once failing, every longer one fails too;
      // nothing waits for bytes past the end of what a header could be.
      let failedAt = -1;
      for (let cut = 0; cut <= buf.length; cut++) {
        const got = verdict(buf.subarray(0, cut), versions);
        if (got.needMore) {
          assert.equal(failedAt, -1, `cut at ${cut}: needs more after failing at ${failedAt}`);
          continue;
        }
        assert.deepEqual(got, whole, `cut at ${cut}`);
        if (failedAt === -1) failedAt = cut;
      }
      assert.ok(failedAt > offset, `fails at cut ${failedAt}, offset ${offset}`);
    });
  }

  test('a plain HTTP request fails on its first byte', () => {
    assert.equal(verdict(latin1('G')).offset, 0);
    assert.equal(verdict(latin1('\r')).needMore, true); // could still be the v2 signature
    assert.equal(verdict(latin1('\r\n\r\nX')).offset, 4);
  });

  test('an announced v2 length over the limit fails with the 16 fixed bytes, not after 4 KiB', () => {
    assert.equal(verdict(v2len(0x21, 0x11, PROXY_V2_MAX_LENGTH + 1)).error, 'ERR_PROXY_PROTOCOL');
  });
});

test('nothing received: needs more', () => {
  assert.deepEqual(parseProxyHeader(Buffer.alloc(0)), { needMore: true });
  assert.deepEqual(parseProxyHeader(new Uint8Array(0), 'v1'), { needMore: true });
});

test('a Uint8Array view into a larger buffer is parsed from its own start', () => {
  const big = Buffer.concat([latin1('junk'), latin1('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')]);
  const view = new Uint8Array(big.buffer, big.byteOffset + 4, big.length - 4);
  assert.deepEqual(parseProxyHeader(view).source, addr('1.2.3.4', 1, 'IPv4'));
  const v2big = Buffer.concat([latin1('xx'), v2(0x21, 0x11, TCP4_BLOCK)]);
  assert.deepEqual(parseProxyHeader(v2big.subarray(2)).source, addr('1.2.3.4', 1, 'IPv4'));
});

describe('IPv6 text is what Node reports for the same address', () => {
  // Deterministic pseudo-random addresses with many zero runs (the interesting cases for "::").
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16);
  const samples = [
    [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304],
    [0, 0, 0, 0, 0, 0, 0x102, 0x304], [0, 0, 0, 0, 0, 0xfffe, 0x102, 0x304], [1, 0, 0, 1, 0, 0, 0, 1], [1, 0, 0, 1, 0, 0, 1, 1],
    [0, 1, 0, 1, 0, 1, 0, 1], [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], [0xfe80, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 2],
  ];
  for (let i = 0; i < 500; i++) samples.push(Array.from({ length: 8 }, () => (rand() % 3 === 0 ? rand() : 0)));
  test(`${samples.length} addresses through formatIPv6, v1 and v2`, () => {
    for (const words of samples) {
      const full = words.map((w) => w.toString(16)).join(':');
      const node = new net.SocketAddress({ address: full, family: 'ipv6' }).address;
      assert.equal(formatIPv6(words), node, full);
      const fromV2 = parseProxyHeader(v2(0x21, 0x21, Buffer.concat(words.map(u16)), ip6('::1'), u16(1), u16(2))).source.address;
      assert.equal(fromV2, node, full);
      const fromV1 = parseProxyHeader(latin1(`PROXY TCP6 ${full} ${node} 1 2\r\n`));
      assert.equal(fromV1.source.address, node, full);
      assert.equal(fromV1.destination.address, node, full);
    }
  });
});
