// The PROXY protocol header (HAProxy's spec, versions 1 and 2), sans-I/O: one pure function over
// the bytes received so far that says "need more", or gives the header's length and the original
// client's address, or throws a ProxyProtocolError. Re-run it on the grown buffer as bytes arrive;
// a malformed header fails as soon as the bytes that break it are in (a plain HTTP request at once).

import { decimal, formatIPv4, formatIPv6Bytes, parseIPv4, parseIPv6 } from './ip-address.js';

/** Which versions a receiver accepts. */
export type ProxyProtocolVersions = 'v1' | 'v2' | 'any';

/** An address carried by a PROXY header. `port` is 0 for 'unix'; `address` is a path there. */
export interface ProxyAddress {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6' | 'unix';
}

/** A complete header. */
export interface ProxyHeader {
  readonly needMore: false;
  readonly version: 1 | 2;
  /** 'LOCAL' (v2 only): the proxy's own connection, e.g. a health check; no address. */
  readonly command: 'PROXY' | 'LOCAL';
  /** Bytes the header takes at the start of the stream; what follows is the proxied stream. */
  readonly length: number;
  /** The original client; null for v1 UNKNOWN, v2 LOCAL and v2 UNSPEC (use the real peer). */
  readonly source: ProxyAddress | null;
  /** The address the client connected to; null when `source` is. */
  readonly destination: ProxyAddress | null;
}

/** The header is not complete yet, and what is there is valid so far. */
export interface ProxyNeedMore {
  readonly needMore: true;
}

/** The spec's limit on a v1 line, CRLF included (spec §2.1: 107 bytes). */
export const PROXY_V1_MAX_BYTES = 107;
/** Keel's limit on a v2 header's length field (addresses + TLVs), in bytes; the header is 16 more. */
export const PROXY_V2_MAX_LENGTH = 4096;
/** The v2 signature (spec §2.2): \r\n\r\n\0\r\nQUIT\n. */
export const PROXY_V2_SIGNATURE: Readonly<Buffer> = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/**
 * A stream that does not start with a valid PROXY header. `code` is always 'ERR_PROXY_PROTOCOL';
 * `reason` says what is wrong (its text is not part of the API); `offset` is where in the stream.
 * The connection must be closed without a response.
 */
export class ProxyProtocolError extends Error {
  readonly code = 'ERR_PROXY_PROTOCOL' as const;
  readonly reason: string;
  readonly offset: number;

  constructor(reason: string, offset: number) {
    super(`Invalid PROXY protocol header: ${reason}`);
    this.name = 'ProxyProtocolError';
    this.reason = reason;
    this.offset = offset;
  }
}

const NEED_MORE: ProxyNeedMore = Object.freeze({ needMore: true });
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
const V2_HEADER_BYTES = 16;

/**
 * Parse the PROXY header at the start of `buf` (the bytes received so far). Returns
 * `{ needMore: true }` while it is incomplete, else the header (see ProxyHeader). Throws
 * ProxyProtocolError when the bytes cannot start a header of an accepted version (`versions`,
 * default 'any'), when a v1 line has no CRLF within 107 bytes, or when a v2 length field exceeds
 * 4096. Strict: v1 needs single spaces, canonical decimal ports 0..65535, inet_pton-valid
 * addresses of the announced family; v2 needs version 2, command LOCAL or PROXY, one of the
 * spec's seven family/transport bytes, a length that holds the addresses, and well-framed TLVs
 * (whose contents are skipped).
 */
export function parseProxyHeader(buf: Uint8Array, versions: ProxyProtocolVersions = 'any'): ProxyHeader | ProxyNeedMore {
  if (buf.length === 0) return NEED_MORE;
  const first = buf[0];
  if (first === V1_PREFIX[0] && versions !== 'v2') return parseV1(buf);
  if (first === PROXY_V2_SIGNATURE[0] && versions !== 'v1') return parseV2(buf);
  const expected = versions === 'v1' ? 'a v1 header' : versions === 'v2' ? 'a v2 header' : 'a PROXY protocol header';
  throw new ProxyProtocolError(`the stream does not start with ${expected}`, 0);
}

// ---- version 1: "PROXY TCP4 198.51.100.1 203.0.113.9 56324 443\r\n" ---------------------------

function parseV1(buf: Uint8Array): ProxyHeader | ProxyNeedMore {
  const n = buf.length;
  for (let i = 0; i < V1_PREFIX.length && i < n; i++) {
    if (buf[i] !== V1_PREFIX[i]) throw new ProxyProtocolError('not a v1 header ("PROXY " expected)', i);
  }
  const limit = Math.min(n, PROXY_V1_MAX_BYTES);
  let lf = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const b = buf[i];
    if (b === LF) {
      if (buf[i - 1] !== CR) throw new ProxyProtocolError('v1 line ends with LF without CR', i);
      lf = i;
      break;
    }
    if (b === CR) {
      if (i + 1 < n && buf[i + 1] !== LF) throw new ProxyProtocolError('CR not followed by LF in a v1 line', i);
    } else if (b < 0x20 || b > 0x7e) {
      throw new ProxyProtocolError('control or non-ASCII byte in a v1 line', i);
    }
  }
  if (lf === -1) {
    if (n >= PROXY_V1_MAX_BYTES) throw new ProxyProtocolError(`no CRLF within ${PROXY_V1_MAX_BYTES} bytes`, PROXY_V1_MAX_BYTES - 1);
    return NEED_MORE;
  }
  const length = lf + 1;
  const fields = Buffer.from(buf.buffer, buf.byteOffset + V1_PREFIX.length, lf - 1 - V1_PREFIX.length).toString('latin1').split(' ');
  // Offsets of each field in the stream, for the errors.
  const at: number[] = [];
  let pos = V1_PREFIX.length;
  for (const f of fields) {
    at.push(pos);
    pos += f.length + 1;
  }
  const proto = fields[0];
  if (proto === 'UNKNOWN') {
    // Spec §2.1: with UNKNOWN the receiver ignores everything up to the CRLF.
    return { needMore: false, version: 1, command: 'PROXY', length, source: null, destination: null };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') throw new ProxyProtocolError('v1 protocol is not TCP4, TCP6 or UNKNOWN', at[0]);
  if (fields.length !== 5) throw new ProxyProtocolError('v1 line does not have 5 single-space separated fields', at[0]);
  const family = proto === 'TCP4' ? 'IPv4' : 'IPv6';
  const parse = proto === 'TCP4' ? parseIPv4 : parseIPv6;
  const src = parse(fields[1]);
  if (src === null) throw new ProxyProtocolError(`v1 source is not an ${family} address`, at[1]);
  const dst = parse(fields[2]);
  if (dst === null) throw new ProxyProtocolError(`v1 destination is not an ${family} address`, at[2]);
  const srcPort = decimal(fields[3], 5);
  if (srcPort === -1 || srcPort > 0xffff) throw new ProxyProtocolError('v1 source port is not 0..65535', at[3]);
  const dstPort = decimal(fields[4], 5);
  if (dstPort === -1 || dstPort > 0xffff) throw new ProxyProtocolError('v1 destination port is not 0..65535', at[4]);
  return {
    needMore: false,
    version: 1,
    command: 'PROXY',
    length,
    source: { address: src, port: srcPort, family },
    destination: { address: dst, port: dstPort, family },
  };
}

// ---- version 2: signature, ver/cmd, fam/proto, length, addresses, TLVs ------------------------

/** Spec §2.2: the address block's size for each family (high nibble of byte 13). */
const ADDRESS_BYTES = [0, 12, 36, 216];
/** Spec §2.2: the only family/transport bytes a receiver accepts. */
const FAMILY_BYTES = new Set([0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]);
const UNIX_PATH_BYTES = 108;

function parseV2(buf: Uint8Array): ProxyHeader | ProxyNeedMore {
  const n = buf.length;
  for (let i = 0; i < PROXY_V2_SIGNATURE.length && i < n; i++) {
    if (buf[i] !== PROXY_V2_SIGNATURE[i]) throw new ProxyProtocolError('not a v2 signature', i);
  }
  if (n < V2_HEADER_BYTES) {
    if (n > 12 && buf[12] >> 4 !== 2) throw new ProxyProtocolError('v2 version is not 2', 12);
    if (n > 12 && (buf[12] & 0x0f) > 1) throw new ProxyProtocolError('v2 command is not LOCAL or PROXY', 12);
    if (n > 13 && (buf[12] & 0x0f) === 1 && !FAMILY_BYTES.has(buf[13])) throw new ProxyProtocolError('v2 family/transport byte is invalid', 13);
    return NEED_MORE;
  }
  if (buf[12] >> 4 !== 2) throw new ProxyProtocolError('v2 version is not 2', 12);
  const command = buf[12] & 0x0f;
  if (command > 1) throw new ProxyProtocolError('v2 command is not LOCAL or PROXY', 12);
  const fam = buf[13];
  // LOCAL: spec §2.2, the receiver discards the block, family included.
  if (command === 1 && !FAMILY_BYTES.has(fam)) throw new ProxyProtocolError('v2 family/transport byte is invalid', 13);
  const len = (buf[14] << 8) | buf[15];
  if (len > PROXY_V2_MAX_LENGTH) throw new ProxyProtocolError(`v2 length ${len} is over ${PROXY_V2_MAX_LENGTH}`, 14);
  const addressBytes = command === 1 ? ADDRESS_BYTES[fam >> 4] : 0;
  if (len < addressBytes) throw new ProxyProtocolError('v2 length is too short for the addresses', 14);
  const length = V2_HEADER_BYTES + len;
  if (n < length) return NEED_MORE;
  if (command === 0 || fam === 0x00) {
    return { needMore: false, version: 2, command: command === 0 ? 'LOCAL' : 'PROXY', length, source: null, destination: null };
  }
  checkTlvs(buf, V2_HEADER_BYTES + addressBytes, length);
  const a = V2_HEADER_BYTES;
  const view = Buffer.from(buf.buffer, buf.byteOffset, length);
  let source: ProxyAddress;
  let destination: ProxyAddress;
  if (fam >> 4 === 1) {
    source = { address: formatIPv4(buf, a), port: view.readUInt16BE(a + 8), family: 'IPv4' };
    destination = { address: formatIPv4(buf, a + 4), port: view.readUInt16BE(a + 10), family: 'IPv4' };
  } else if (fam >> 4 === 2) {
    source = { address: formatIPv6Bytes(buf, a), port: view.readUInt16BE(a + 32), family: 'IPv6' };
    destination = { address: formatIPv6Bytes(buf, a + 16), port: view.readUInt16BE(a + 34), family: 'IPv6' };
  } else {
    source = { address: unixPath(view, a), port: 0, family: 'unix' };
    destination = { address: unixPath(view, a + UNIX_PATH_BYTES), port: 0, family: 'unix' };
  }
  return { needMore: false, version: 2, command: 'PROXY', length, source, destination };
}

/** Spec §2.2.7: TLVs (type: 1 byte, length: 2 bytes, value) must tile the rest of the block exactly. */
function checkTlvs(buf: Uint8Array, start: number, end: number): void {
  let p = start;
  while (p < end) {
    if (end - p < 3) throw new ProxyProtocolError('v2 TLV header cut by the block end', p);
    const valueLength = (buf[p + 1] << 8) | buf[p + 2];
    if (p + 3 + valueLength > end) throw new ProxyProtocolError('v2 TLV value runs past the block end', p);
    p += 3 + valueLength;
  }
}

/** A NUL-padded 108-byte sun_path. */
function unixPath(view: Buffer, offset: number): string {
  let end = offset;
  while (end < offset + UNIX_PATH_BYTES && view[end] !== 0) end++;
  return view.toString('utf8', offset, end);
}
