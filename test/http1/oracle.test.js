// Differential test: Keel's request parser against llhttp (Node's own parser, driven by
// shared/tools/llhttp-oracle.mjs exactly as node:http drives it) on every request vector.
// Keel is deliberately stricter in places (README section 8); those vectors are listed below with
// the reason, and a listed vector that now agrees fails the test, so the list stays true.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStream } from '../../../shared/tools/llhttp-oracle.mjs';
import {
  codeDifference,
  loadRequestVectors,
  oracleVerdict,
  runKeel,
  verdictDifferences,
  whole,
} from './vector-helpers.js';

const VECTORS = loadRequestVectors();
const NAMES = new Set(VECTORS.map((v) => v.name));
const eofFor = (v) => v.expect !== 'accept+wait';

/**
 * Intended differences in the verdict (accept vs reject, the status, or the messages), keyed by
 * vector name. `§8.n` = row n of README section 8.
 */
const INTENDED_DIFFERENCES = {
  // Request line and version.
  'rl-double-sp': 'Keel takes the recommended 400 for two SPs; llhttp splits on whitespace and accepts',
  'rl-http09': '§8.2 no HTTP/0.9: a request-line without a version is a 400',
  'rl-lower-method': '§8.12 a valid token that is not an implemented method is 501 (llhttp: 400)',
  'rl-unknown-method': '§8.12 a valid token that is not an implemented method is 501 (llhttp: 400)',
  'rl-long-method': '§8.12 a valid token that is not an implemented method is 501 (llhttp: 400)',
  'rl-long-target': '§8.10 a target over the limit is 414 (RFC 9112 §3 MUST); Node answers 431',
  'rl-h2-preface': 'the HTTP/2 preface is an unsupported version: 505 (llhttp pauses for h2, Node answers 400)',
  'ver-1.2': '§8.11 HTTP/1.2 is processed as 1.1 (RFC 9110 §2.5); llhttp rejects it',
  'ver-2.0': '§8.3 HTTP/2.0 in a request-line is 505; llhttp accepts it',
  'ver-3.0': 'an unsupported major version is 505 (RFC 9110 §15.6.6); llhttp: 400',
  // Host and target form.
  'host-duplicate': '§8.1 two Host lines are a 400 (RFC 9112 §3.2 MUST); Node keeps the first',
  'host-duplicate-same': '§8.1 two Host lines are a 400 even when equal',
  'host-list': '§8.1 an invalid Host value is a 400',
  'host-userinfo': '§8.1 an invalid Host value (userinfo) is a 400',
  'host-path': '§8.1 an invalid Host value (path) is a 400',
  'host-bad-port': '§8.1 an invalid Host value (port not *DIGIT) is a 400',
  'target-asterisk-get': '§8.4 asterisk-form is only for OPTIONS',
  'connect-origin-form': '§8.4 CONNECT needs authority-form (llhttp tunnels it)',
  // Fields.
  'f-many-fields': '§8.17 thousands of fields are a 431; Node keeps ~1000 and drops the rest silently',
  // Framing.
  'cl-ows': '§8.6 "Content-Length:  5 <HTAB>" is 5: HTAB is OWS (llhttp 9.3 rejects; fixed in 9.4)',
  'cl-dup-same': 'identical Content-Length lines collapse to one value (RFC 9112 §6.3); llhttp rejects',
  'cl-list-same': 'a list of identical Content-Length values collapses to one value; llhttp rejects',
  'te-http10': '§8.15 Transfer-Encoding in an HTTP/1.0 request is a 400; llhttp decodes it',
  'te-gzip-chunked': '§8.14 a transfer coding Keel does not implement is 501; llhttp de-chunks and passes gzip on',
  'te-empty': '§8.5 an empty Transfer-Encoding with Content-Length is a 400 whatever the order; llhttp frames by CL',
  'te-empty-alone': 'a Transfer-Encoding without final chunked is a 400 at the head; llhttp frames no body, then fails on the body bytes',
  'tr-cl': 'a Content-Length trailer is kept as a trailer (never framing); llhttp rejects it',
  // Connection management.
  'conn-close-then-more': '§8.8 after "Connection: close" Keel closes and discards the rest; llhttp raises HPE_CLOSED_CONNECTION',
  'conn-http10-default': '§8.8 after an HTTP/1.0 request Keel closes and discards the rest; llhttp raises HPE_CLOSED_CONNECTION',
  'conn-close-tab': '§8.7 "close<HTAB>" is close (OWS trimmed); llhttp 9.3 keeps the connection and parses /2',
};

/**
 * Vectors both parsers reject, where Keel's HPE_* code is not llhttp's (README section 8 asks for
 * llhttp's code where it has one; these follow from Keel parsing whole lines and deciding framing
 * once per head). Some also have a verdict difference above.
 */
const INTENDED_CODE_DIFFERENCES = {
  'rl-no-target': '"GET HTTP/1.1": Keel reads "HTTP/1.1" as the target, then finds no version (HPE_INVALID_VERSION)',
  'rl-bare-lf': 'Keel reports every bare LF line end as HPE_CR_EXPECTED',
  'rl-bare-cr': 'Keel parses whole lines: a bare CR inside the request-line breaks the version (HPE_INVALID_VERSION)',
  'rl-lf-sep': 'Keel reports every bare LF line end as HPE_CR_EXPECTED',
  'rl-long-target': 'HPE_URI_TOO_LONG (414) instead of HPE_HEADER_OVERFLOW (431)',
  'rl-h2-preface': 'HPE_INVALID_VERSION (505) instead of llhttp\'s HPE_PAUSED_H2_UPGRADE',
  'f-cr-lf-cr-x': 'Keel parses whole lines: "\\r\\rZGET ..." is a field line with an invalid name (HPE_INVALID_HEADER_TOKEN)',
  'cl-2e53': 'Keel rejects a Content-Length above 2^53-1 on the spot; llhttp waits for the body and fails at EOF',
  'te-cl-both-order': 'Keel decides framing once the head is complete, whatever the field order (HPE_INVALID_TRANSFER_ENCODING)',
  'te-identity': 'Keel decides framing once the head is complete, whatever the field order (HPE_INVALID_TRANSFER_ENCODING)',
  'te-empty-alone': 'Keel rejects the head (HPE_INVALID_TRANSFER_ENCODING); llhttp fails on the next "request"',
  'ch-2e53': 'Keel rejects a chunk-size above 2^53-1 on the size line; llhttp waits for the data and fails at EOF',
  'ch-final-bare-lf': 'Keel reports every bare LF line end as HPE_CR_EXPECTED',
};

/**
 * Differences that llhttp 9.4 (Node 22) no longer has: it was fixed towards RFC 9112, as Keel
 * parses (verdict, and for te-empty-alone the error code too). On Node 20's llhttp 9.3 they still
 * differ; on 9.4 and later they must agree.
 */
const AGREE_FROM_LLHTTP_9_4 = ['cl-ows', 'te-empty', 'te-empty-alone'];
const [llhttpMajor, llhttpMinor] = process.versions.llhttp.split('.').map(Number);
if (llhttpMajor > 9 || (llhttpMajor === 9 && llhttpMinor >= 4)) {
  for (const name of AGREE_FROM_LLHTTP_9_4) {
    delete INTENDED_DIFFERENCES[name];
    delete INTENDED_CODE_DIFFERENCES[name];
  }
}

describe('differential against llhttp', () => {
  test('the allow-lists name existing request vectors', () => {
    for (const name of [...Object.keys(INTENDED_DIFFERENCES), ...Object.keys(INTENDED_CODE_DIFFERENCES)]) {
      assert.ok(NAMES.has(name), `${name} is not a request vector`);
    }
  });

  for (const v of VECTORS) {
    test(v.name, () => {
      const eof = eofFor(v);
      const oracleResult = parseStream(v.buf, { eof });
      assert.equal(oracleResult.consistent, true, 'the oracle itself is split-consistent');
      const oracle = oracleVerdict(oracleResult);
      const keel = runKeel(whole(v.buf), { eof });

      const differences = verdictDifferences(keel, oracle);
      if (v.name in INTENDED_DIFFERENCES) {
        assert.notDeepEqual(differences, [],
          `${v.name} now agrees with llhttp: remove it from INTENDED_DIFFERENCES`);
      } else {
        assert.deepEqual(differences, [], `${v.name}: Keel and llhttp disagree`);
      }

      const code = codeDifference(keel, oracle);
      if (v.name in INTENDED_CODE_DIFFERENCES) {
        assert.notEqual(code, null, `${v.name} now has llhttp's error code: remove it from INTENDED_CODE_DIFFERENCES`);
      } else {
        assert.equal(code, null, `${v.name}: error codes differ`);
      }
    });
  }
});
