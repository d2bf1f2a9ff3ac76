// The request vectors of shared/conformance/vectors.json (README sections 7-9) against Keel's
// request parser: each one's verdict must match its `expect`, and must not depend on how the bytes
// were split into pushes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyKind } from '../../dist/http1/framing.js';
import {
  assertSplitInvariant,
  describe as show,
  loadRequestVectors,
  loadVectors,
  matchedAlternative,
  matchesExpect,
  runKeel,
  verdictKey,
  whole,
} from './vector-helpers.js';

const ALL = loadVectors();
const VECTORS = loadRequestVectors();
const BY_NAME = new Map(VECTORS.map((v) => [v.name, v]));

/** EOF after the last byte, as the oracle does, except where the connection stays open. */
const eofFor = (v) => v.expect !== 'accept+wait';

/**
 * Vectors where Keel deliberately takes an alternative other than the first (recommended) one of
 * `expect`. Every other vector must match its first alternative. An entry whose vector now matches
 * the first alternative fails the test, so this table stays true.
 */
const INTENDED_ALTERNATIVE = {
  'rl-fragment': { pick: 'accept', why: 'the target is any VCHAR run, as in llhttp/node:http; the fragment reaches the application' },
  'cl-dup-same': { pick: 'accept', why: 'identical Content-Length lines collapse to one value (RFC 9112 §6.3 allows it; asked for by users)' },
  'cl-list-same': { pick: 'accept', why: 'a list of identical Content-Length values collapses to one value (RFC 9112 §6.3)' },
  'cl-2e53': { pick: '400', why: 'a Content-Length above 2^53-1 is an invalid number (HPE_INVALID_CONTENT_LENGTH), not a large body' },
  'ch-2e53': { pick: '400', why: 'a chunk-size above 2^53-1 is rejected on the size line (HPE_INVALID_CHUNK_SIZE)' },
  'ch-bws-ext': { pick: '400', why: 'no BWS before ";" in a chunk line, for parity with llhttp (smaller chunk-line grammar)' },
};

const head = (v, i = 0) => v.messages[i];
const field = (m, name) => {
  const i = m.rawHeaders.findIndex((n, k) => k % 2 === 0 && n.toLowerCase() === name);
  return i === -1 ? undefined : m.rawHeaders[i + 1];
};

/** Vector-specific checks beyond the verdict class: fields, bodies, framing, error codes. */
const DETAILS = {
  'rl-leading-crlf': (v) => assert.equal(head(v).target, '/'),
  'rl-lower-method': (v) => assert.equal(v.error.code, 'HPE_INVALID_METHOD'),
  'rl-unknown-method': (v) => assert.equal(v.error.code, 'HPE_INVALID_METHOD'),
  'rl-long-method': (v) => assert.equal(v.error.code, 'HPE_INVALID_METHOD'),
  'rl-bad-method-char': (v) => assert.equal(v.error.code, 'HPE_INVALID_METHOD'),
  'rl-http09': (v) => assert.equal(v.error.code, 'HPE_INVALID_VERSION'),
  'rl-fragment': (v) => assert.equal(head(v).target, '/a#frag'),
  'rl-long-target': (v) => assert.equal(v.error.code, 'HPE_URI_TOO_LONG'),
  'rl-h2-preface': (v) => assert.equal(v.error.code, 'HPE_INVALID_VERSION'),
  'ver-1.0': (v) => {
    assert.deepEqual([head(v).versionMajor, head(v).versionMinor, head(v).keepAlive], [1, 0, false]);
    assert.equal(v.closed, true);
  },
  'ver-1.2': (v) => {
    assert.deepEqual([head(v).versionMajor, head(v).versionMinor], [1, 2]);
    assert.equal(head(v).keepAlive, true, 'HTTP/1.2 is processed as 1.1: persistent');
  },
  'ver-2.0': (v) => assert.equal(v.error.code, 'HPE_INVALID_VERSION'),
  'host-missing': (v) => assert.equal(v.error.code, 'HPE_INVALID_HOST'),
  'host-duplicate': (v) => assert.equal(v.error.code, 'HPE_INVALID_HOST'),
  'host-duplicate-same': (v) => assert.equal(v.error.code, 'HPE_INVALID_HOST'),
  'host-list': (v) => assert.equal(v.error.code, 'HPE_INVALID_HOST'),
  'host-userinfo': (v) => assert.equal(v.error.code, 'HPE_INVALID_HOST'),
  'host-path': (v) => assert.equal(v.error.code, 'HPE_INVALID_HOST'),
  'host-bad-port': (v) => assert.equal(v.error.code, 'HPE_INVALID_HOST'),
  'host-empty': (v) => assert.deepEqual(head(v).rawHeaders, ['Host', '']),
  'target-absolute': (v) => assert.equal(head(v).target, 'http://b.example/p?q'),
  'target-absolute-no-host': (v) => assert.equal(v.error.code, 'HPE_INVALID_HOST'),
  'target-asterisk-get': (v) => assert.equal(v.error.code, 'HPE_INVALID_URL'),
  'target-asterisk-options': (v) => assert.deepEqual([head(v).method, head(v).target], ['OPTIONS', '*']),
  'connect-origin-form': (v) => assert.equal(v.error.code, 'HPE_INVALID_URL'),
  'f-ws-first-line-cl': (v) => assert.equal(v.error.code, 'HPE_UNEXPECTED_SPACE'),
  'f-many-fields': (v) => assert.equal(v.error.code, 'HPE_HEADER_OVERFLOW'),
  'fv-obs-text': (v) => assert.equal(field(head(v), 'x-a'), 'caf\xe9', 'obs-text exposed as latin1'),
  'fv-ows': (v) => assert.equal(field(head(v), 'x-a'), 'a b'),
  'fv-empty': (v) => assert.equal(field(head(v), 'x-a'), ''),
  'fv-nbsp-te': (v) => assert.equal(v.error.code, 'HPE_INVALID_TRANSFER_ENCODING'),
  'cl-valid': (v) => assert.equal(head(v).body.toString(), 'hello'),
  'cl-leading-zeros': (v) => {
    assert.equal(head(v).contentLength, 5);
    assert.equal(head(v).body.toString(), 'hello');
  },
  'cl-dup-same': (v) => {
    assert.equal(head(v).contentLength, 5);
    assert.equal(head(v).body.toString(), 'hello');
    assert.deepEqual(head(v).rawHeaders.filter((_, i) => i % 2 === 0), ['Host', 'Content-Length', 'Content-Length']);
  },
  'cl-dup-diff': (v) => assert.equal(v.error.code, 'HPE_UNEXPECTED_CONTENT_LENGTH'),
  'cl-list-same': (v) => {
    assert.equal(head(v).contentLength, 5);
    assert.equal(field(head(v), 'content-length'), '5, 5');
  },
  'cl-ows': (v) => {
    assert.equal(head(v).contentLength, 5);
    assert.equal(field(head(v), 'content-length'), '5');
    assert.equal(head(v).body.toString(), 'hello');
  },
  'cl-overflow': (v) => assert.equal(v.error.code, 'HPE_INVALID_CONTENT_LENGTH'),
  'cl-2e53': (v) => assert.equal(v.error.code, 'HPE_INVALID_CONTENT_LENGTH'),
  'cl-get-body': (v) => {
    assert.equal(v.messages.length, 2);
    assert.equal(head(v, 0).body.toString(), 'hello');
    assert.deepEqual([head(v, 1).method, head(v, 1).target, head(v, 1).body.length], ['GET', '/2', 0]);
  },
  'cl-short-eof': (v) => {
    assert.equal(v.error.code, 'HPE_INVALID_EOF_STATE');
    assert.equal(v.partial.body.toString(), 'abc');
  },
  'cl-extra-garbage': (v) => {
    assert.equal(v.messages.length, 1);
    assert.equal(head(v).body.toString(), 'abc');
    assert.equal(v.error.code, 'HPE_INVALID_METHOD');
  },
  'te-http10': (v) => assert.equal(v.error.code, 'HPE_INVALID_TRANSFER_ENCODING'),
  'te-gzip-chunked': (v) => assert.equal(v.error.code, 'HPE_INVALID_TRANSFER_ENCODING'),
  'te-case': (v) => assert.equal(head(v).bodyKind, BodyKind.Chunked),
  'te-leading-comma': (v) => assert.equal(head(v).bodyKind, BodyKind.Chunked),
  'te-tab-before': (v) => assert.equal(head(v).bodyKind, BodyKind.Chunked),
  'te-empty': (v) => assert.equal(v.error.code, 'HPE_INVALID_TRANSFER_ENCODING'),
  'te-underscore-name': (v) => {
    assert.equal(head(v).bodyKind, BodyKind.Length);
    assert.equal(head(v).body.toString(), 'hello');
    assert.equal(field(head(v), 'transfer_encoding'), 'chunked');
  },
  'ch-valid': (v) => assert.equal(head(v).body.toString(), 'hello'),
  'ch-hex-case': (v) => assert.equal(head(v).body.toString(), '01234567890123456789'),
  'ch-leading-zeros': (v) => assert.equal(head(v).body.toString(), 'hello'),
  'ch-2e53': (v) => assert.equal(v.error.code, 'HPE_INVALID_CHUNK_SIZE', 'rejected on the size line, not at EOF'),
  'ch-ext': (v) => assert.equal(head(v).body.toString(), 'hello'),
  'ch-ext-limit': (v) => assert.equal(v.error.code, 'HPE_CHUNK_EXTENSIONS_OVERFLOW'),
  'ch-last-ext': (v) => assert.equal(head(v).body.length, 0),
  'ch-last-no-final-crlf': (v) => assert.equal(v.error.code, 'HPE_INVALID_EOF_STATE'),
  'ch-final-x': (v) => {
    assert.equal(v.messages.length, 1);
    assert.deepEqual(head(v).trailers, ['X', 'POST / HTTP/1.1']);
  },
  'ch-pipeline': (v) => assert.deepEqual(v.messages.map((m) => m.target), ['/', '/2']),
  'tr-valid': (v) => {
    assert.deepEqual(head(v).trailers, ['X-T', '1']);
    assert.equal(field(head(v), 'x-t'), undefined, 'trailers are kept apart from the header fields');
  },
  'tr-cl': (v) => {
    assert.equal(head(v).body.toString(), 'hello', 'a trailer Content-Length never frames the body');
    assert.deepEqual(head(v).trailers, ['Content-Length', '50']);
    assert.equal(v.closed, false);
  },
  'conn-pipeline': (v) => assert.deepEqual(v.messages.map((m) => m.target), ['/1', '/2']),
  'conn-close-then-more': (v) => assert.equal(head(v).target, '/1'),
  'conn-http10-keepalive': (v) => {
    assert.deepEqual(v.messages.map((m) => m.keepAlive), [true, false]);
    assert.equal(v.closed, true);
  },
  'conn-close-token-list': (v) => assert.equal(head(v).keepAlive, false),
  'conn-crlf-between': (v) => assert.deepEqual(v.messages.map((m) => m.target), ['/1', '/2']),
  'conn-garbage-after': (v) => assert.equal(v.error.code, 'HPE_INVALID_METHOD'),
  'conn-close-tab': (v) => {
    assert.equal(head(v).target, '/1');
    assert.equal(head(v).keepAlive, false, '"close<HTAB>" is close');
  },
  'conn-cl0-pipeline': (v) => assert.deepEqual(v.messages.map((m) => m.body.toString()), ['', 'hello']),
  'conn-expect-obfuscated': (v) => assert.equal(head(v).expect, 'x-100-continue'),
  'conn-upgrade': (v) => {
    assert.equal(head(v).upgrade, true);
    assert.equal(v.upgradeHead.toString(), 'RAW');
  },
  'conn-expect-unknown': (v) => assert.equal(head(v).expect, 'teapot'),
  'conn-expect-continue': (v) => {
    assert.equal(head(v).expect, '100-continue');
    assert.equal(head(v).body.toString(), 'hello');
  },
  'lim-header-size': (v) => assert.equal(v.error.code, 'HPE_HEADER_OVERFLOW'),
  'lim-one-line': (v) => assert.equal(v.error.code, 'HPE_HEADER_OVERFLOW'),
};

describe('vectors.json', () => {
  test('has the request vectors of README section 7', () => {
    assert.equal(ALL.length, 171);
    assert.equal(VECTORS.length, 157);
    const categories = new Set(VECTORS.map((v) => v.category));
    assert.deepEqual([...categories].sort(), ['chunked', 'connection', 'content-length', 'field-syntax',
      'field-value', 'host', 'limits', 'request-line', 'trailers', 'transfer-encoding', 'version']);
    assert.equal(BY_NAME.size, VECTORS.length, 'vector names are unique');
  });

  test('the intended-alternative and detail tables name existing vectors', () => {
    for (const name of [...Object.keys(INTENDED_ALTERNATIVE), ...Object.keys(DETAILS)]) {
      assert.ok(BY_NAME.has(name), `${name} is not a request vector`);
    }
    for (const [name, { pick }] of Object.entries(INTENDED_ALTERNATIVE)) {
      const v = BY_NAME.get(name);
      assert.ok(v.alternatives.indexOf(pick) > 0, `${name}: ${pick} is not a later alternative of ${v.expect}`);
    }
  });
});

describe('verdicts', () => {
  for (const v of VECTORS) {
    test(`${v.name} (${v.expect})`, () => {
      const verdict = runKeel(whole(v.buf), { eof: eofFor(v) });
      const intended = INTENDED_ALTERNATIVE[v.name];
      const want = intended ? intended.pick : v.alternatives[0];
      assert.ok(matchesExpect(want, verdict),
        `${v.name}: expected ${want} (of ${v.expect}), got ${show(verdict)} (matches ${matchedAlternative(v.alternatives, verdict)})`);
      if (intended) {
        assert.ok(!matchesExpect(v.alternatives[0], verdict),
          `${v.name} now matches the recommended ${v.alternatives[0]}: drop it from INTENDED_ALTERNATIVE`);
      }
      // An error always carries the status the server answers; after it, nothing more is parsed.
      if (verdict.error) {
        assert.ok([400, 413, 414, 431, 501, 505].includes(verdict.error.status), `status ${verdict.error.status}`);
        assert.equal(verdict.closed, false, 'a failed parser is not "closed" (it is dead)');
      }
      if (DETAILS[v.name]) DETAILS[v.name](verdict);
    });
  }
});

/** Appended after accept vectors: an empty line (ignored before a request-line) and a partial request. */
const TAIL_CRLF = Buffer.from('\r\n');
const TAIL_PARTIAL = Buffer.from('GET /next HTTP/1.1\r\nHo');

describe('split invariance', () => {
  for (const v of VECTORS) {
    test(v.name, () => {
      const eof = eofFor(v);
      const first = runKeel(whole(v.buf), { eof });
      // Messages, bodies (concatenated), trailers, error code, status and offset, closed state.
      const reference = verdictKey(first, { offsets: true });
      assertSplitInvariant(v.buf, eof, reference, v.name);
      if (first.error !== null) return;

      // Accepted: bytes after the last message must not change what came before. An empty line is
      // ignored (or discarded after a closing message); an upgrade hands the bytes on.
      const crlf = Buffer.concat([v.buf, TAIL_CRLF]);
      const refCrlf = { ...reference };
      if (first.upgradeHead) refCrlf.upgradeHead = Buffer.concat([first.upgradeHead, TAIL_CRLF]).toString('latin1');
      assertSplitInvariant(crlf, eof, refCrlf, `${v.name} + CRLF`);

      // A partial next request without EOF: same messages, no error, nothing half-parsed reported.
      const partial = Buffer.concat([v.buf, TAIL_PARTIAL]);
      const refPartial = { ...verdictKey(runKeel(whole(v.buf), { eof: false }), { offsets: true }) };
      if (first.upgradeHead) refPartial.upgradeHead = Buffer.concat([first.upgradeHead, TAIL_PARTIAL]).toString('latin1');
      assert.deepEqual(refPartial.messages, reference.messages);
      assertSplitInvariant(partial, false, refPartial, `${v.name} + partial request`);
    });
  }
});
