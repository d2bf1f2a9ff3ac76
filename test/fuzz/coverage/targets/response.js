// Jazzer fuzz target: the response parser (client side). The response framing depends on the
// method of the request each response answers (HEAD: no body; CONNECT: 2xx switches protocols), so
// the first input byte picks the methods and the rest is the byte stream the server sends:
//   bits 0-1: method of the 1st request, bits 2-3: the 2nd, bits 4-5: the 3rd and later,
//   each an index into RESPONSE_METHODS. An empty input is the empty stream after a GET.

import { checkStream, fuzzEntry, STRICT } from '../invariants.js';

export const RESPONSE_METHODS = ['GET', 'HEAD', 'CONNECT', 'POST'];

/** The request methods the first input byte encodes. */
export function methodsOf(selector) {
  return [0, 2, 4].map((shift) => RESPONSE_METHODS[(selector >> shift) & 3]);
}

/** The selector byte for a list of methods (for building seeds); the last one repeats. */
export function selectorOf(methods) {
  return [0, 1, 2].reduce((b, i) => b | (RESPONSE_METHODS.indexOf(methods[Math.min(i, methods.length - 1)]) << (2 * i)), 0);
}

/** Check one input; `strict` also checks known bugs (invariants.js KNOWN_BUGS). */
export function check(data, { strict = STRICT } = {}) {
  const methods = methodsOf(data.length > 0 ? data[0] : 0);
  checkStream('response', data.subarray(1), { strict, methods });
}

export const fuzz = fuzzEntry(check);
