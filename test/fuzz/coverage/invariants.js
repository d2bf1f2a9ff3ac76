// The invariants every coverage-guided fuzz target checks (targets/*.js), and the regression test
// replays (test/fuzz/coverage-regressions.test.js). Plain Node, no Jazzer: a violation is thrown as
// an InvariantViolation, anything thrown by the parser other than a ParseError is rethrown as is;
// Jazzer reports either as a finding.
//
// For one stream of bytes and one parser (request or response), checkStream():
//   - feeds it in several ways: whole; split in two at offsets derived from the data (around line
//     ends, the middle, hash-picked ones); split at all of those at once; one byte at a time when
//     small; with EOF (finish()) and without; every other feeding calling release() between
//     messages as the server does;
//   - asserts every feeding gives the same verdict: complete messages (start line, version, fields,
//     framing, keep-alive, upgrade, body bytes, trailers), the incomplete message, the error code,
//     status and offset, closed state, bytes consumed, the bytes handed over after an upgrade;
//   - while feeding: only ParseError is ever thrown; consumed bytes never exceed the input and never
//     go back; no event after a rejection (next() rethrows the same error, pushes are discarded),
//     nor after the parser closed; events come in order (Head, Body*, End) with non-empty bodies of
//     exactly Content-Length bytes; bytes retained between calls, field lines, trailers and
//     request-target stay within the configured limits (bounded memory);
//   - EOF only ever adds to what the stream gave without it.
//
// KNOWN_BUGS lists parser bugs found and not fixed yet: their checks run only with `strict`
// (the fuzz targets read KEEL_FUZZ_STRICT=1; the regression test runs both ways).

import { RequestParser, ParserEvent } from '../../../dist/http1/request-parser.js';
import { ResponseParser } from '../../../dist/http1/response-parser.js';
import { BodyKind } from '../../../dist/http1/framing.js';
import { ParseError } from '../../../dist/common/errors.js';

/**
 * Parser limits while fuzzing: small, so that inputs of a few KiB reach every limit, and in the same
 * proportions as the defaults (target limit half the header section; extensions as large as it).
 */
export const FUZZ_LIMITS = Object.freeze({
  maxHeaderSize: 1024,
  maxHeadersCount: 32,
  maxRequestTargetSize: 512,
  maxChunkExtensionsSize: 1024,
});

/** Inputs up to this length are also fed one byte at a time. */
const BYTEWISE_MAX = 256;
/** Slack the engine allows a chunk-size line beyond its extension limit (message-parser.ts). */
const CHUNK_LINE_SLACK = 32;

/** Parser bugs found by fuzzing and not fixed yet (their checks run only in strict mode); none open. */
export const KNOWN_BUGS = Object.freeze({
  // None open. Fixed: offset-after-close (offset rewound once the parser closed) and
  // trailer-line-checks (a trailer line over the limit ending in a bare LF got 400 whole, 431 split).
});

/** A broken invariant: a finding. */
export class InvariantViolation extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

function violation(message) {
  throw new InvariantViolation(message);
}

// ------------------------------------------------------------------------------ driving ----

/**
 * Feed `pieces` to a new parser as a connection does (push, then next() until NeedData; finish()
 * and drain when `eof`), checking the per-step invariants, and return the verdict.
 *   kind: 'request' | 'response'; methods: the request method of each response, in order.
 */
export function drive(kind, pieces, { eof = true, options = FUZZ_LIMITS, methods = ['GET'], strict = false, release = false } = {}) {
  const parser = kind === 'request' ? new RequestParser(options) : new ResponseParser(options);
  const headerLimit = options.maxHeaderSize;
  const retainLimit = Math.max(headerLimit, options.maxChunkExtensionsSize + CHUNK_LINE_SLACK);
  const methodAt = (i) => methods[Math.min(i, methods.length - 1)];
  let finals = 0; // final (non-1xx) responses ended
  if (kind === 'response') parser.requestMethod = methodAt(0);

  const messages = [];
  let current = null; // the message whose head arrived and not its end
  let bodyParts = [];
  let bodyBytes = 0;
  let error = null; // the first ParseError
  let upgraded = null; // bytes after an upgrade head (Buffer), once detached
  let pushed = 0; // bytes given to push()
  let lastConsumed = 0;
  let closedSeen = false;

  /** Consumed bytes never exceed the input and never decrease; offset agrees with them. */
  const account = () => {
    const buffered = parser.bufferedBytes;
    const consumed = pushed - buffered - parser.discardedBytes;
    if (buffered < 0 || consumed < lastConsumed || consumed > pushed) {
      violation(`consumed bytes ${consumed} (buffered ${buffered}, discarded ${parser.discardedBytes}) after ${pushed} pushed, ${lastConsumed} before`);
    }
    lastConsumed = consumed;
    if (parser.offset !== consumed) {
      violation(`offset ${parser.offset} is not the consumed byte count ${consumed}${parser.isClosed ? ' (closed)' : ''}`);
    }
  };

  const onHead = () => {
    if (current !== null) violation('Head event while a message is incomplete');
    const h = parser.head;
    if (h.rawHeaders.length / 2 > options.maxHeadersCount) violation(`${h.rawHeaders.length / 2} field lines above the limit`);
    const fieldBytes = h.rawHeaders.reduce((n, s) => n + s.length, 0);
    if (fieldBytes > headerLimit) violation(`field lines of ${fieldBytes} bytes above the header limit`);
    if (kind === 'request' && h.target.length > options.maxRequestTargetSize) violation(`request-target of ${h.target.length} bytes above the limit`);
    if (!(h.contentLength >= 0 && Number.isSafeInteger(h.contentLength))) violation(`contentLength ${h.contentLength}`);
    current = kind === 'request'
      ? { method: h.method, target: h.target, expect: h.expect }
      : { statusCode: h.statusCode, statusMessage: h.statusMessage, requestMethod: parser.requestMethod };
    Object.assign(current, {
      versionMajor: h.versionMajor,
      versionMinor: h.versionMinor,
      rawHeaders: [...h.rawHeaders],
      bodyKind: h.bodyKind,
      contentLength: h.contentLength,
      keepAlive: h.keepAlive,
      upgrade: h.upgrade,
      body: '',
      trailers: [],
    });
    bodyParts = [];
    bodyBytes = 0;
    if (h.upgrade) {
      // What the server and client do on an upgrade / CONNECT head: stop parsing, take the rest.
      messages.push(current);
      current = null;
      const buffered = parser.bufferedBytes;
      const rest = parser.detach();
      if (rest.length !== buffered) violation(`detach() handed over ${rest.length} bytes, ${buffered} were buffered`);
      lastConsumed = pushed - rest.length - parser.discardedBytes; // the head, and what came before it
      if (parser.offset !== lastConsumed) {
        violation(`offset ${parser.offset} after detach() is not the consumed byte count ${lastConsumed}`);
      }
      upgraded = Buffer.from(rest);
    }
  };

  const onBody = () => {
    if (current === null) violation('Body event without a head');
    const n = parser.body.length;
    if (n === 0) violation('empty Body event');
    if (current.bodyKind === BodyKind.None) violation('Body event for a message without a body');
    bodyBytes += n;
    if (current.bodyKind === BodyKind.Length && bodyBytes > current.contentLength) {
      violation(`body of ${bodyBytes} bytes beyond Content-Length ${current.contentLength}`);
    }
    bodyParts.push(Buffer.from(parser.body));
  };

  const onEnd = () => {
    if (current === null) violation('End event without a head');
    if (current.bodyKind === BodyKind.Length && bodyBytes !== current.contentLength) {
      violation(`message ended after ${bodyBytes} of ${current.contentLength} body bytes`);
    }
    const t = parser.trailers;
    if (t.length / 2 > options.maxHeadersCount) violation(`${t.length / 2} trailer fields above the limit`);
    if (t.reduce((n, s) => n + s.length, 0) > headerLimit) violation('trailer section above the header limit');
    current.body = Buffer.concat(bodyParts).toString('latin1');
    current.trailers = [...t];
    messages.push(current);
    if (kind === 'response' && current.statusCode >= 200) parser.requestMethod = methodAt(++finals);
    current = null;
    // As the server does between messages; it must change nothing but what the parser retains.
    if (release) {
      parser.release();
      if (parser.head !== null || parser.body.length !== 0) violation('release() kept the last head or body');
    }
  };

  /** next() until NeedData; the per-event invariants. */
  const pull = () => {
    for (;;) {
      const ev = parser.next();
      if (ev !== ParserEvent.NeedData && closedSeen) violation(`event ${ev} after the parser closed`);
      if (ev === ParserEvent.NeedData) {
        if (parser.bufferedBytes > retainLimit) violation(`${parser.bufferedBytes} bytes retained above the bound ${retainLimit}`);
        account();
        return;
      }
      if (ev === ParserEvent.Head) onHead();
      else if (ev === ParserEvent.Body) onBody();
      else if (ev === ParserEvent.End) onEnd();
      else violation(`unknown event ${ev}`);
      if (parser.isClosed) closedSeen = true;
      if (upgraded !== null) return;
      account();
    }
  };

  /** Record the first ParseError; anything else is a crash and propagates as is. */
  const fail = (err) => {
    if (!(err instanceof ParseError)) throw err;
    if (!(Number.isInteger(err.offset) && err.offset >= 0 && err.offset <= pushed)) {
      violation(`${err.code} at offset ${err.offset}, outside the ${pushed} bytes pushed`);
    }
    if (!(err.status >= 400 && err.status <= 599)) violation(`${err.code} with status ${err.status}`);
    error = err;
  };

  /** A rejected stream stays rejected: next() rethrows the same error, and yields nothing. */
  const stillRejected = () => {
    let ev;
    try {
      ev = parser.next();
    } catch (err) {
      if (err !== error) violation(`next() after ${error.code} threw ${err && err.code} instead`);
      return;
    }
    violation(`next() after ${error.code} returned event ${ev}`);
  };

  for (const piece of pieces) {
    if (upgraded !== null) {
      upgraded = Buffer.concat([upgraded, piece]);
      continue;
    }
    parser.push(piece);
    pushed += piece.length;
    if (error !== null) {
      stillRejected();
      continue;
    }
    try {
      pull();
    } catch (err) {
      fail(err);
    }
  }
  if (eof && upgraded === null && error === null) {
    try {
      parser.finish();
      pull();
    } catch (err) {
      fail(err);
    }
  }
  if (error !== null) {
    stillRejected();
    parser.finish(); // a dead parser ignores EOF
    stillRejected();
  }

  return {
    messages,
    partial: current && { ...current, body: Buffer.concat(bodyParts).toString('latin1') },
    error: error && { code: error.code, status: error.status, offset: error.offset },
    // After a rejection what was consumed does not matter (and depends on the split).
    consumed: error === null ? lastConsumed : null,
    closed: parser.isClosed,
    upgraded: upgraded && upgraded.toString('latin1'),
  };
}

// ----------------------------------------------------------------------------- feedings ----

/** FNV-1a over the bytes: a deterministic seed for split offsets. */
function fnv1a(data) {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193) >>> 0;
  return h;
}

/**
 * Offsets (0 < o < length) to split the input at, derived from it: the first and last byte, the
 * middle, each side of the first eight LFs (a CR|LF split among them), and four offsets picked by a
 * hash of the bytes, so that the fuzzer explores other splits as the input mutates.
 */
export function splitOffsets(data) {
  const n = data.length;
  const set = new Set([1, n >> 1, n - 1]);
  for (let k = 0, lf = -1; k < 8 && (lf = data.indexOf(0x0a, lf + 1)) !== -1; k++) {
    set.add(lf);
    set.add(lf + 1);
  }
  let h = fnv1a(data) || 1;
  for (let k = 0; k < 4; k++) {
    h ^= h << 13; h >>>= 0; h ^= h >>> 17; h ^= h << 5; h >>>= 0; // xorshift32
    set.add(h % (n + 1));
  }
  return [...set].filter((o) => o > 0 && o < n).sort((a, b) => a - b);
}

/**
 * Every feeding of `data`: [label, pieces, release]. The first one is the reference. Every other
 * feeding calls release() after each message, as the server does between messages.
 */
export function feedings(data) {
  const offsets = splitOffsets(data);
  const cut = (at) => at.map((o, i) => data.subarray(i === 0 ? 0 : at[i - 1], o)).concat([data.subarray(at.at(-1) ?? 0)]);
  const out = [['whole', [data]]];
  for (const o of offsets) out.push([`split at ${o}`, cut([o])]);
  if (offsets.length > 1) out.push([`split at ${offsets.join(',')}`, cut(offsets)]);
  if (data.length <= BYTEWISE_MAX) out.push(['one byte at a time', cut(Array.from({ length: data.length - 1 }, (_, i) => i + 1))]);
  return out.map(([label, pieces], i) => (i % 2 === 1 ? [`${label}, release() after each message`, pieces, true] : [label, pieces, false]));
}

// ------------------------------------------------------------------------------ checking ----

/**
 * Path and values of the first difference between two verdicts (for the violation message), or
 * null. Verdicts hold only strings, numbers, booleans, null and arrays, built in the same key
 * order, so equal verdicts have equal JSON (much cheaper than a deep comparison).
 */
function firstDifference(a, b, path = 'verdict') {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  const show = (v) => JSON.stringify(v)?.slice(0, 200);
  return `${path}: ${show(a)} vs ${show(b)}`;
}

/** The difference between the verdicts of two feedings of one stream, or null. */
function feedingDifference(a, b) {
  return firstDifference(a, b);
}

/**
 * Check one stream against one parser (see the top of the file) and return the whole-buffer
 * verdict with EOF. Throws InvariantViolation, or whatever non-ParseError the parser threw.
 */
export function checkStream(kind, data, opts = {}) {
  const list = feedings(data);
  const reference = drive(kind, list[0][1], { ...opts, eof: true });
  for (const [label, pieces, release] of list.slice(1)) {
    const d = feedingDifference(drive(kind, pieces, { ...opts, eof: true, release }), reference);
    if (d) violation(`${kind}: fed ${label}, not whole: ${d}`);
  }
  // Without EOF: the same for any split, and EOF only adds (an until-close body's end, or an error).
  const open = drive(kind, [data], { ...opts, eof: false });
  const openSplit = drive(kind, list.at(-1)[1], { ...opts, eof: false, release: true });
  const d = feedingDifference(openSplit, open);
  if (d) violation(`${kind}: without EOF, fed ${list.at(-1)[0]}, not whole: ${d}`);
  if (firstDifference(reference.messages.slice(0, open.messages.length), open.messages) !== null) {
    violation(`${kind}: EOF changed messages already complete without it`);
  }
  if (open.error !== null && firstDifference(open.error, reference.error) !== null) {
    violation(`${kind}: EOF changed the error ${open.error.code} to ${reference.error && reference.error.code}`);
  }
  return reference;
}

/** Whether KEEL_FUZZ_STRICT=1 asks the fuzz targets to check known bugs too. */
export const STRICT = process.env.KEEL_FUZZ_STRICT === '1';

/**
 * The Jazzer entry point for a target's check(data): runs without stack traces (the parser creates
 * a ParseError for most fuzz inputs, and capturing its stack was a third of the time), and on a
 * finding runs the input again with them, so the report has a full stack.
 */
export function fuzzEntry(check) {
  const limit = Error.stackTraceLimit;
  return function fuzz(data) {
    Error.stackTraceLimit = 0;
    try {
      check(data);
    } catch (err) {
      Error.stackTraceLimit = limit;
      check(data); // throws again (deterministic), now with a stack
      throw err;
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}
