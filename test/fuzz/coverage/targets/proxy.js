// Jazzer fuzz target: the PROXY protocol header parser (src/http1/proxy-protocol.ts), which reads
// the first bytes a trusted proxy sends before the HTTP stream. The fuzz input is that stream.
//
// Invariants, for each accepted version set (v1, v2, any), over every prefix of the input (every
// prefix up to 320 bytes, then the header's own length and the whole input):
//   - the parser returns { needMore }, a header, or throws ProxyProtocolError; anything else
//     (another exception) is a crash;
//   - a header is final: every longer prefix returns the same header (same length, command,
//     addresses), and it is never returned before its `length` bytes are there;
//   - an error is final: every longer prefix throws too;
//   - memory is bounded: needMore is only ever returned for fewer bytes than the largest header
//     (v1: 107 bytes; v2: 16 + 4096), and an error offset lies inside the bytes given.

import { ProxyProtocolError, parseProxyHeader, PROXY_V1_MAX_BYTES, PROXY_V2_MAX_LENGTH } from '../../../../dist/http1/proxy-protocol.js';
import { InvariantViolation, fuzzEntry } from '../invariants.js';

const VERSIONS = ['v1', 'v2', 'any'];
const EVERY_PREFIX_UP_TO = 320;
const LARGEST_HEADER = Math.max(PROXY_V1_MAX_BYTES, 16 + PROXY_V2_MAX_LENGTH);

function violation(message) {
  throw new InvariantViolation(`proxy: ${message}`);
}

/** The parser's verdict on `bytes`: 'more', 'error@offset', or the header as JSON. */
function verdict(bytes, versions) {
  try {
    const result = parseProxyHeader(bytes, versions);
    if (result.needMore) {
      if (bytes.length >= LARGEST_HEADER) violation(`${versions}: needMore after ${bytes.length} bytes`);
      return { kind: 'more' };
    }
    if (result.length > bytes.length || result.length <= 0) violation(`${versions}: header length ${result.length} with ${bytes.length} bytes`);
    return { kind: 'header', length: result.length, key: JSON.stringify(result) };
  } catch (err) {
    if (!(err instanceof ProxyProtocolError)) throw err; // a crash
    if (!(err.offset >= 0 && err.offset <= bytes.length)) violation(`${versions}: error offset ${err.offset} outside ${bytes.length} bytes`);
    return { kind: 'error' };
  }
}

/** Check one input; `strict` is accepted for the common target shape (no known bugs here). */
export function check(data) {
  for (const versions of VERSIONS) {
    const whole = verdict(data, versions);
    const lengths = new Set();
    for (let k = 0; k <= Math.min(data.length, EVERY_PREFIX_UP_TO); k++) lengths.add(k);
    if (whole.kind === 'header') lengths.add(whole.length);
    lengths.add(data.length);
    let seen = { kind: 'more' };
    for (const k of [...lengths].sort((a, b) => a - b)) {
      const v = verdict(data.subarray(0, k), versions);
      if (seen.kind === 'header' && (v.kind !== 'header' || v.key !== seen.key)) violation(`${versions}: header at a shorter prefix, then ${v.kind} at ${k} bytes`);
      if (seen.kind === 'error' && v.kind !== 'error') violation(`${versions}: error at a shorter prefix, then ${v.kind} at ${k} bytes`);
      if (v.kind === 'header' && k < v.length) violation(`${versions}: header of ${v.length} bytes from ${k} bytes`);
      seen = v;
    }
    if (seen.kind !== whole.kind || (whole.kind === 'header' && seen.key !== whole.key)) violation(`${versions}: the whole input and its last prefix disagree`);
  }
}

export const fuzz = fuzzEntry(check);
