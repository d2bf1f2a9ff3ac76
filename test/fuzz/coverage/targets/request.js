// Jazzer fuzz target: the request parser (server side). The fuzz input is the byte stream a client
// sends on one connection (a pipeline of requests, or anything else), checked by invariants.js.

import { checkStream, fuzzEntry, STRICT } from '../invariants.js';

/** Check one input; `strict` also checks known bugs (invariants.js KNOWN_BUGS). */
export function check(data, { strict = STRICT } = {}) {
  checkStream('request', data, { strict });
}

export const fuzz = fuzzEntry(check);
