// Jazzer fuzz target: the chunked transfer coding decoder (RFC 9112 §7.1). The fuzz input is the
// message body after a fixed chunked head, decoded twice: after a request head (server side) and
// after a response head (client side). Both streams get the invariants.js checks, and since both
// parsers share one decoder, the first message must decode the same way in both: the same body and
// trailers, or the same error at the same offset into the body, or the same incomplete body.
// Bytes after the last chunk's trailer section become the next request / response.

import { checkStream, fuzzEntry, InvariantViolation, STRICT } from '../invariants.js';

export const REQUEST_HEAD = Buffer.from('POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n', 'latin1');
export const RESPONSE_HEAD = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'latin1');

/** What the decoder made of the body of the first message: comparable across both heads. */
function decoding(verdict, headLength) {
  const first = verdict.messages[0];
  if (first) return { complete: true, body: first.body, trailers: first.trailers };
  if (verdict.error) return { error: verdict.error.code, at: verdict.error.offset - headLength };
  return { incomplete: true, body: verdict.partial ? verdict.partial.body : null };
}

/** Check one input; `strict` also checks known bugs (invariants.js KNOWN_BUGS). */
export function check(data, { strict = STRICT } = {}) {
  const request = checkStream('request', Buffer.concat([REQUEST_HEAD, data]), { strict });
  const response = checkStream('response', Buffer.concat([RESPONSE_HEAD, data]), { strict });
  const a = decoding(request, REQUEST_HEAD.length);
  const b = decoding(response, RESPONSE_HEAD.length);
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new InvariantViolation(`chunked body decoded differently: request ${JSON.stringify(a).slice(0, 300)}, response ${JSON.stringify(b).slice(0, 300)}`);
  }
}

export const fuzz = fuzzEntry(check);
