// Helpers for the http1 parser tests (deliberately not named *.test.js).
//
// - loadRequestVectors(): the request vectors of shared/conformance/vectors.json, unescaped.
// - runKeel(pieces, opts): drive Keel's RequestParser the way the connection does and return a
//   verdict (complete messages, an incomplete one, the error, whether the parser closed).
// - loadResponseVectors() / runKeelResponse(pieces, opts): the same for the response parser (the
//   client side), with the method of each pipelined request; responseOracleVerdict() and
//   responseDifferences() compare it with llhttp in response mode.
// - splitEvery / sampleOffsets: the feeding patterns of the split-invariance tests.
// - matchesExpect(alt, verdict): one alternative of a vector's `expect` against a verdict.
//
// shared/ sits beside the repository (CI clones it there), so it is reached relative to this file.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { RequestParser, ParserEvent } from '../../dist/http1/request-parser.js';
import { ResponseParser } from '../../dist/http1/response-parser.js';
import { ParseError } from '../../dist/common/errors.js';
import { unescapeBytes } from '../../../shared/tools/llhttp-oracle.mjs';

export const VECTORS_URL = new URL('../../../shared/conformance/vectors.json', import.meta.url);
export const ORACLE_URL = new URL('../../../shared/tools/llhttp-oracle.mjs', import.meta.url);

/** Category of the client-side (response) vectors; every other category is a request vector. */
export const RESPONSE_CATEGORY = 'response';

/** Every vector of vectors.json with its bytes decoded (`buf`) and `alternatives` split out. */
export function loadVectors() {
  const json = JSON.parse(readFileSync(VECTORS_URL, 'utf8'));
  return json.vectors.map((v) => ({
    ...v,
    buf: unescapeBytes(v.text),
    alternatives: String(v.expect).split('|'),
  }));
}

/** The request vectors (every category but 'response'). */
export function loadRequestVectors() {
  return loadVectors().filter((v) => v.category !== RESPONSE_CATEGORY);
}

/**
 * Whether EOF is signalled after the vector's last byte. The oracle signals it; 'accept+wait' (and
 * a bare 'wait' alternative) describe a connection that stays open, so no EOF there.
 */
export function vectorEof(vector) {
  return !vector.alternatives.some((a) => a === 'wait' || a.endsWith('+wait'));
}

/**
 * Feed `pieces` (Buffers, in order) to a new RequestParser, pulling events after each push as a
 * connection does, then call finish() when `eof`. An upgrade head (head.upgrade) ends parsing:
 * the parser is detached and every later byte belongs to `upgradeHead`.
 *
 * Returns {
 *   messages: [{ method, target, versionMajor, versionMinor, rawHeaders, body (Buffer),
 *                trailers, keepAlive, upgrade, expect, bodyKind, contentLength }]   (complete ones)
 *   partial:  the message whose head arrived but not its end, or null
 *   error:    { code, status, offset } or null
 *   closed:   parser.isClosed at the end (a non-persistent message ended, or detached)
 *   upgradeHead: Buffer or null
 *   events:   number of events returned (for sanity checks)
 * }
 */
export function runKeel(pieces, { eof = true, options } = {}) {
  const parser = new RequestParser(options);
  const messages = [];
  let current = null;
  let bodyParts = [];
  let error = null;
  let upgradeHead = null;
  let events = 0;

  const fail = (err) => {
    if (!(err instanceof ParseError)) throw err;
    error = { code: err.code, status: err.status, offset: err.offset };
  };

  const pull = () => {
    for (;;) {
      const ev = parser.next();
      events++;
      if (ev === ParserEvent.NeedData) return;
      if (ev === ParserEvent.Head) {
        const h = parser.head;
        current = {
          method: h.method,
          target: h.target,
          versionMajor: h.versionMajor,
          versionMinor: h.versionMinor,
          rawHeaders: [...h.rawHeaders],
          body: null,
          trailers: [],
          keepAlive: h.keepAlive,
          upgrade: h.upgrade,
          expect: h.expect,
          bodyKind: h.bodyKind,
          contentLength: h.contentLength,
        };
        bodyParts = [];
        if (h.upgrade) {
          // What the server does on an upgrade or CONNECT head: stop parsing, hand over the rest.
          current.body = Buffer.alloc(0);
          messages.push(current);
          current = null;
          upgradeHead = Buffer.from(parser.detach());
          return;
        }
      } else if (ev === ParserEvent.Body) {
        if (current === null) throw new Error('Body event without a head');
        bodyParts.push(Buffer.from(parser.body));
      } else if (ev === ParserEvent.End) {
        if (current === null) throw new Error('End event without a head');
        current.body = Buffer.concat(bodyParts);
        current.trailers = [...parser.trailers];
        messages.push(current);
        current = null;
      } else {
        throw new Error(`unknown parser event ${ev}`);
      }
    }
  };

  try {
    for (const piece of pieces) {
      if (upgradeHead !== null) {
        upgradeHead = Buffer.concat([upgradeHead, piece]);
        continue;
      }
      parser.push(piece);
      pull();
    }
    if (eof && upgradeHead === null) parser.finish();
  } catch (err) {
    fail(err);
  }
  // After an error the parser must stay dead: next() rethrows the same error.
  if (error !== null) {
    let again = null;
    try { parser.next(); } catch (err) { again = err; }
    if (!(again instanceof ParseError) || again.code !== error.code) {
      throw new Error(`next() after ${error.code} did not rethrow it`);
    }
  }
  let partial = null;
  if (current !== null) {
    current.body = Buffer.concat(bodyParts);
    partial = current;
  }
  return { messages, partial, error, closed: parser.isClosed, upgradeHead, events };
}

/** The pieces for one buffer fed whole, one byte at a time, or split at `offset`. */
export const whole = (buf) => [buf];
export const bytewise = (buf) => Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));
export const splitAt = (buf, offset) => [buf.subarray(0, offset), buf.subarray(offset)];

/**
 * Offsets to split `buf` at: every one from 0 to length when it is small, else ~`sample` of them
 * (evenly spread, plus the first and last 16, where the head starts and the message ends).
 */
export function splitOffsets(buf, limit = 4096, sample = 200) {
  const n = buf.length;
  if (n <= limit) return Array.from({ length: n + 1 }, (_, i) => i);
  const set = new Set();
  for (let i = 0; i <= 16; i++) { set.add(i); set.add(n - i); }
  for (let k = 0; k < sample; k++) set.add(Math.round((k * n) / sample));
  return [...set].filter((i) => i >= 0 && i <= n).sort((a, b) => a - b);
}

/**
 * Every feeding pattern of `buf`: whole, one byte at a time, and split in two at each offset (a
 * sample of offsets above `limit` bytes; pass Infinity for every one).
 */
export function feedings(buf, limit = 4096) {
  return [
    ['whole', whole(buf)],
    ['one byte at a time', bytewise(buf)],
    ...splitOffsets(buf, limit).map((o) => [`split at ${o}`, splitAt(buf, o)]),
  ];
}

/**
 * Assert that every feeding of `buf` gives `reference` (a verdictKey with offsets): the same
 * messages, concatenated bodies, trailers, error code, status and offset, closed state, upgrade head.
 */
export function assertSplitInvariant(buf, eof, reference, label, options) {
  assertSplitInvariantWith((pieces) => runKeel(pieces, { eof, options }), buf, reference, label);
}

/**
 * assertSplitInvariant for any runner: `run(pieces)` returns a verdict (runKeel, runKeelResponse);
 * `limit` as for feedings().
 */
export function assertSplitInvariantWith(run, buf, reference, label, limit) {
  for (const [how, pieces] of feedings(buf, limit)) {
    const got = verdictKey(run(pieces), { offsets: true });
    if (!isDeepStrictEqual(got, reference)) {
      assert.deepEqual(got, reference, `${label}: ${how} gives another verdict`);
    }
  }
}

/**
 * Whether one `expect` alternative describes the verdict. Parser-level meanings:
 * - 'accept':       at least one complete message, no error;
 * - 'accept+close': exactly one message, no error, then the parser is closed (later bytes discarded);
 * - 'accept+400':   at least one complete message, then an error with status 400;
 * - 'accept+wait':  at least one complete message, no error (run without EOF);
 * - 'wait':         no complete message and no error (run without EOF);
 * - '417':          the parser accepts and exposes an Expect other than 100-continue: the server, not
 *                   the parser, answers 417 (RFC 9110 §10.1.1);
 * - a status:       no complete message, and an error with that status.
 */
export function matchesExpect(alt, v) {
  const n = v.messages.length;
  switch (alt) {
    case 'accept': return n >= 1 && v.error === null;
    case 'accept+close': return n === 1 && v.error === null && v.closed;
    case 'accept+400': return n >= 1 && v.error !== null && v.error.status === 400;
    case 'accept+wait': return n >= 1 && v.error === null;
    case 'wait': return n === 0 && v.error === null;
    case '417':
      return n >= 1 && v.error === null && v.messages[0].expect !== undefined &&
        v.messages[0].expect.toLowerCase() !== '100-continue';
    default:
      if (!/^\d{3}$/.test(alt)) throw new Error(`unknown expect alternative ${alt}`);
      return n === 0 && v.error !== null && v.error.status === Number(alt);
  }
}

/** The alternative of `alternatives` the verdict matches, first match wins; or null. */
export function matchedAlternative(alternatives, verdict) {
  return alternatives.find((a) => matchesExpect(a, verdict)) ?? null;
}

/** A comparable, printable form of a verdict (Buffers as latin1 strings, offsets left out). */
export function verdictKey(v, { offsets = false } = {}) {
  const msg = (m) => m && { ...m, body: m.body.toString('latin1') };
  return {
    messages: v.messages.map(msg),
    partial: msg(v.partial),
    error: v.error && (offsets ? v.error : { code: v.error.code, status: v.error.status }),
    closed: v.closed,
    upgradeHead: v.upgradeHead && v.upgradeHead.toString('latin1'),
  };
}

/** Short human summary of a verdict, for failure messages. */
export function describe(v) {
  const parts = v.messages.map((m) => `${m.method} ${m.target} HTTP/${m.versionMajor}.${m.versionMinor}` +
    ` body=${m.body.length}${m.keepAlive ? '' : ' close'}${m.upgrade ? ' upgrade' : ''}`);
  if (v.partial) parts.push(`partial ${v.partial.method} ${v.partial.target}`);
  if (v.error) parts.push(`${v.error.code} ${v.error.status} @${v.error.offset}`);
  if (v.closed) parts.push('closed');
  return parts.join('; ') || 'nothing';
}

/**
 * The oracle's parseStream() result in the shape of a Keel verdict, at the level node:http acts on:
 * `status` is what Node's server answers first when it refuses the stream (the oracle's `node`
 * prediction: the llhttp error mapped to 400/413/431, or 400 for an HTTP/1.1 request without Host);
 * 417 is left out because Keel answers it in the server, not the parser. Only complete messages
 * count (an upgrade head counts as complete).
 */
export function oracleVerdict(result) {
  const flat = (pairs) => (pairs ?? []).flat();
  // Node's server refuses an HTTP/1.1 request without Host (node.message) before its handler runs.
  // (A 417 is the server's business in Keel too: the message counts.)
  const refused = result.node && result.node.status === 400 && result.node.message !== undefined
    ? result.node.message : Infinity;
  const messages = result.messages
    .filter((m) => m.index < refused && (m.complete || (m.headersComplete !== false && m.upgrade)))
    .map((m) => ({
      method: m.method,
      target: m.url,
      versionMajor: m.versionMajor,
      versionMinor: m.versionMinor,
      rawHeaders: flat(m.headers),
      body: Buffer.from(m.body, 'base64'),
      trailers: flat(m.trailers),
      keepAlive: m.shouldKeepAlive,
      upgrade: m.upgrade,
    }));
  const nodeStatus = result.node && result.node.status !== 417 ? result.node.status : null;
  return {
    messages,
    code: result.error ? result.error.code : null,
    status: result.error || nodeStatus !== null ? nodeStatus ?? 400 : null,
    upgradeHead: result.upgradeHead !== undefined ? Buffer.from(result.upgradeHead, 'base64') : null,
  };
}

/**
 * Where Keel's verdict and the oracle's differ, as short strings ([] = they agree): accept vs
 * reject, the status when both reject, then message by message (count, method, target, version,
 * rawHeaders, body, trailers, keepAlive, upgrade) and the upgrade head. Error codes are compared
 * separately (codeDifference) since many differ only in name.
 */
export function verdictDifferences(keel, oracle) {
  const out = [];
  const keelStatus = keel.error ? keel.error.status : null;
  if ((keelStatus === null) !== (oracle.status === null)) {
    out.push(`keel ${keelStatus === null ? 'accepts' : `rejects ${keelStatus}`}, node ${oracle.status === null ? 'accepts' : `rejects ${oracle.status}`}`);
  } else if (keelStatus !== oracle.status) {
    out.push(`status: keel ${keelStatus}, node ${oracle.status}`);
  }
  if (keel.messages.length !== oracle.messages.length) {
    out.push(`messages: keel ${keel.messages.length}, node ${oracle.messages.length}`);
  }
  const n = Math.min(keel.messages.length, oracle.messages.length);
  for (let i = 0; i < n; i++) {
    const k = keel.messages[i];
    const o = oracle.messages[i];
    for (const f of ['method', 'target', 'versionMajor', 'versionMinor', 'keepAlive', 'upgrade']) {
      if (k[f] !== o[f]) out.push(`message ${i} ${f}: keel ${JSON.stringify(k[f])}, node ${JSON.stringify(o[f])}`);
    }
    for (const f of ['rawHeaders', 'trailers']) {
      if (JSON.stringify(k[f]) !== JSON.stringify(o[f])) out.push(`message ${i} ${f} differ`);
    }
    if (!k.body.equals(o.body)) out.push(`message ${i} body: keel ${k.body.length} bytes, node ${o.body.length}`);
  }
  const kh = keel.upgradeHead;
  const oh = oracle.upgradeHead;
  if ((kh === null) !== (oh === null) || (kh !== null && !kh.equals(oh))) out.push('upgrade head differs');
  return out;
}

/** The error codes when both Keel and llhttp raised one and they differ, else null. */
export function codeDifference(keel, oracle) {
  if (!keel.error || !oracle.code || keel.error.code === oracle.code) return null;
  return `keel ${keel.error.code}, llhttp ${oracle.code}`;
}

// ------------------------------------------------------------------ responses (client side) ----

/** The response vectors (category 'response'), with `methods`: the request method of each response. */
export function loadResponseVectors() {
  return loadVectors()
    .filter((v) => v.category === RESPONSE_CATEGORY)
    .map((v) => ({ ...v, methods: v.method ? String(v.method).split(',') : ['GET'] }));
}

/** Method of the request the response at `index` (final responses counted) answers, as the oracle picks it. */
const methodAt = (methods, index) => (methods[index] ?? methods.at(-1) ?? 'GET').toUpperCase();

/**
 * Feed `pieces` to a new ResponseParser as a client connection does: `methods` are the methods of
 * the pipelined requests in order; requestMethod is set before the first head and again after each
 * final (non-1xx) response's End, since a 1xx is followed by the final response to the same
 * request. An upgrade head (101, 2xx to CONNECT) ends parsing: detach() hands over the rest. With
 * `eof`, finish() is called after the last piece and the parser is drained again (a body until
 * close ends there).
 *
 * Returns { messages: [{ statusCode, statusMessage, versionMajor, versionMinor, rawHeaders, body,
 *   trailers, keepAlive, upgrade, bodyKind, contentLength, requestMethod }], partial, error,
 *   closed, upgradeHead, events } as runKeel does.
 */
export function runKeelResponse(pieces, { eof = true, methods = ['GET'], options } = {}) {
  const parser = new ResponseParser(options);
  let finals = 0;
  parser.requestMethod = methodAt(methods, finals);
  const messages = [];
  let current = null;
  let bodyParts = [];
  let error = null;
  let upgradeHead = null;
  let events = 0;

  const pull = () => {
    for (;;) {
      const ev = parser.next();
      events++;
      if (ev === ParserEvent.NeedData) return;
      if (ev === ParserEvent.Head) {
        const h = parser.head;
        current = {
          statusCode: h.statusCode,
          statusMessage: h.statusMessage,
          versionMajor: h.versionMajor,
          versionMinor: h.versionMinor,
          rawHeaders: [...h.rawHeaders],
          body: null,
          trailers: [],
          keepAlive: h.keepAlive,
          upgrade: h.upgrade,
          bodyKind: h.bodyKind,
          contentLength: h.contentLength,
          requestMethod: parser.requestMethod,
        };
        bodyParts = [];
        if (h.upgrade) {
          current.body = Buffer.alloc(0);
          messages.push(current);
          current = null;
          upgradeHead = Buffer.from(parser.detach());
          return;
        }
      } else if (ev === ParserEvent.Body) {
        if (current === null) throw new Error('Body event without a head');
        bodyParts.push(Buffer.from(parser.body));
      } else if (ev === ParserEvent.End) {
        if (current === null) throw new Error('End event without a head');
        current.body = Buffer.concat(bodyParts);
        current.trailers = [...parser.trailers];
        messages.push(current);
        const interim = current.statusCode < 200;
        current = null;
        if (!interim) parser.requestMethod = methodAt(methods, ++finals);
      } else {
        throw new Error(`unknown parser event ${ev}`);
      }
    }
  };

  try {
    for (const piece of pieces) {
      if (upgradeHead !== null) {
        upgradeHead = Buffer.concat([upgradeHead, piece]);
        continue;
      }
      parser.push(piece);
      pull();
    }
    if (eof && upgradeHead === null) {
      parser.finish();
      pull();
    }
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    error = { code: err.code, status: err.status, offset: err.offset };
  }
  if (error !== null) {
    let again = null;
    try { parser.next(); } catch (err) { again = err; }
    if (!(again instanceof ParseError) || again.code !== error.code) {
      throw new Error(`next() after ${error.code} did not rethrow it`);
    }
  }
  let partial = null;
  if (current !== null) {
    current.body = Buffer.concat(bodyParts);
    partial = current;
  }
  return { messages, partial, error, closed: parser.isClosed, upgradeHead, events };
}

/**
 * llhttp's parseStream() result in response mode, in the shape of a Keel response verdict: the
 * complete messages (an upgrade head counts as complete), the error code (null when accepted) and
 * the upgrade head.
 */
export function responseOracleVerdict(result) {
  const flat = (pairs) => (pairs ?? []).flat();
  const messages = result.messages
    .filter((m) => m.complete || (m.headersComplete !== false && m.upgrade))
    .map((m) => ({
      statusCode: m.statusCode,
      statusMessage: m.statusMessage,
      versionMajor: m.versionMajor,
      versionMinor: m.versionMinor,
      rawHeaders: flat(m.headers),
      body: Buffer.from(m.body, 'base64'),
      trailers: flat(m.trailers),
      keepAlive: m.shouldKeepAlive,
      upgrade: m.upgrade,
    }));
  return {
    messages,
    code: result.error ? result.error.code : null,
    upgradeHead: result.upgradeHead !== undefined ? Buffer.from(result.upgradeHead, 'base64') : null,
  };
}

/**
 * Where a Keel response verdict and llhttp's differ, as short strings ([] = they agree): accept vs
 * reject, the message count, then message by message (status code, version, rawHeaders, body,
 * trailers, keepAlive, upgrade) and the upgrade head. Error codes are compared by codeDifference.
 */
export function responseDifferences(keel, oracle) {
  const out = [];
  const keelRejects = keel.error !== null;
  const nodeRejects = oracle.code !== null;
  if (keelRejects !== nodeRejects) {
    out.push(`keel ${keelRejects ? `rejects (${keel.error.code})` : 'accepts'}, node ${nodeRejects ? `rejects (${oracle.code})` : 'accepts'}`);
  }
  if (keel.messages.length !== oracle.messages.length) {
    out.push(`messages: keel ${keel.messages.length}, node ${oracle.messages.length}`);
  }
  const n = Math.min(keel.messages.length, oracle.messages.length);
  for (let i = 0; i < n; i++) {
    const k = keel.messages[i];
    const o = oracle.messages[i];
    for (const f of ['statusCode', 'versionMajor', 'versionMinor', 'keepAlive', 'upgrade']) {
      if (k[f] !== o[f]) out.push(`message ${i} ${f}: keel ${JSON.stringify(k[f])}, node ${JSON.stringify(o[f])}`);
    }
    for (const f of ['rawHeaders', 'trailers']) {
      if (JSON.stringify(k[f]) !== JSON.stringify(o[f])) out.push(`message ${i} ${f} differ`);
    }
    if (!k.body.equals(o.body)) out.push(`message ${i} body: keel ${JSON.stringify(k.body.toString('latin1'))}, node ${JSON.stringify(o.body.toString('latin1'))}`);
  }
  const kh = keel.upgradeHead;
  const oh = oracle.upgradeHead;
  if ((kh === null) !== (oh === null) || (kh !== null && !kh.equals(oh))) out.push('upgrade head differs');
  return out;
}

/** A short human summary of a response verdict, for failure messages. */
export function describeResponse(v) {
  const parts = v.messages.map((m) => `${m.statusCode} HTTP/${m.versionMajor}.${m.versionMinor}` +
    ` body=${JSON.stringify(m.body.toString('latin1'))}${m.keepAlive ? '' : ' close'}${m.upgrade ? ' upgrade' : ''}`);
  if (v.partial) parts.push(`partial ${v.partial.statusCode}`);
  if (v.error) parts.push(`${v.error.code} @${v.error.offset}`);
  if (v.closed) parts.push('closed');
  return parts.join('; ') || 'nothing';
}
