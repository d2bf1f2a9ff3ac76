// Differential fuzzing of Keel's response parser (the client side) against llhttp in response mode,
// driven by shared/tools/llhttp-oracle.mjs as node:http's client drives it. The runner is
// test/fuzz/fuzz-diff.js (--side response, or --response); the classes are response-classes.js.
//
// Each stream of response-generator.js is parsed whole by both, with the same request methods and
// the same EOF, and Keel once more one byte at a time (its verdict must not depend on the split).
// Compared: accept / reject, message count, then per message status code, reason phrase, version,
// rawHeaders, body bytes, trailers, keep-alive, upgrade; and the bytes after an upgrade. Error codes
// are not compared (many differ only in name: see INTENDED_CODE_DIFFERENCES in
// test/http1/response-parser.test.js).
//
// Each disagreement gets exactly one kind:
//   - FRAMING: both produced a message at the same index but its status code, body or upgrade
//     differ, both upgraded with different tunnel bytes, or both accepted with a different number
//     of messages: the message boundaries differ (a response desync) unless a class explains it.
//   - a known bug (RESPONSE_KNOWN_BUGS in response-classes.js), counted apart;
//   - an intended class (RESPONSE_CLASSES), each with the RFC rule that makes Keel's choice right;
//   - UNEXPLAINED: anything else.
// Failures of Keel itself, whatever llhttp says, are their own kinds and fail (unless a known bug):
// CRASH (an exception other than a ParseError), SPLIT (fed one byte at a time, Keel gives another
// verdict) and 'RFC: name' (Keel's verdict breaks one of the INVARIANTS below, where llhttp may
// well agree with it).

import { isDeepStrictEqual } from 'node:util';
import { parseStream } from '../../../shared/tools/llhttp-oracle.mjs';
import {
  bytewise, describeResponse, responseDifferences, responseOracleVerdict, runKeelResponse, verdictKey, whole,
} from '../http1/vector-helpers.js';
import { mulberry32 } from './generator.js';
import { generateResponseStream } from './response-generator.js';
import { RESPONSE_CLASSES, RESPONSE_KNOWN_BUGS } from './response-classes.js';

/** Kinds that fail a run (and every 'RFC: name'). */
export const FAILING_KINDS = ['FRAMING', 'UNEXPLAINED', 'CRASH', 'SPLIT'];
const failing = (kind) => FAILING_KINDS.includes(kind) || kind.startsWith('RFC: ');

const hasField = (m, name) => m.rawHeaders.some((v, i) => i % 2 === 0 && v.toLowerCase() === name);

/** RFC rules Keel's response verdict must meet on its own (a differential cannot see them when llhttp breaks them too). */
export const INVARIANTS = [
  {
    name: 'http10-te-closes',
    rule: 'RFC 9112 §6.1: a client that receives an HTTP/1.0 message containing a Transfer-Encoding header field MUST treat the framing as faulty and close the connection after processing the message',
    broken: (keel) => keel.messages.some((m) => m.versionMajor === 1 && m.versionMinor === 0 && m.statusCode >= 200 &&
      !m.upgrade && m.keepAlive && hasField(m, 'transfer-encoding')),
  },
];

/** responseDifferences() plus the reason phrase, which it leaves out. */
function differencesOf(keel, oracle) {
  const out = responseDifferences(keel, oracle);
  const n = Math.min(keel.messages.length, oracle.messages.length);
  for (let i = 0; i < n; i++) {
    const k = keel.messages[i].statusMessage;
    const o = oracle.messages[i].statusMessage;
    if (k !== o) out.push(`message ${i} statusMessage: keel ${JSON.stringify(k)}, node ${JSON.stringify(o)}`);
  }
  return out;
}

/** Whether message k (Keel's) and o (llhttp's) differ where the message boundaries show. */
const framingFieldsDiffer = (k, o) => k.statusCode !== o.statusCode || !k.body.equals(o.body) || k.upgrade !== o.upgrade;

/** The request method the response at index d of `messages` answers (a 1xx answers the same request as what follows). */
function methodAt(messages, d, methods) {
  let finals = 0;
  for (let i = 0; i < d; i++) if (messages[i].statusCode >= 200) finals++;
  return (methods[finals] ?? methods.at(-1) ?? 'GET').toUpperCase();
}

/**
 * The context the classes judge: { text (latin1), methods, eof, keel, oracle, framing, d, side, k,
 * o, m, method, consistent, oracleOffset }.
 *   d: the message index judged: the first one whose boundaries differ when there is one
 *      (framing), else the first that differs at all;
 *   side: 'keel' when only Keel has a message at d (Keel laxer there), 'node' when only llhttp has
 *      one (Keel stricter), 'both' when both have it and it differs, 'none';
 *   k / o: Keel's / llhttp's message at d; m: the one that exists (Keel's first); method: the
 *      request method it answers;
 *   consistent: whether llhttp gave the same verdict fed whole and one byte at a time;
 *   oracleOffset: where llhttp's error is, or null.
 */
function context(buf, methods, eof, keel, oracle, consistent, oracleOffset) {
  let framing = false;
  let d = -1;
  const n = Math.min(keel.messages.length, oracle.messages.length);
  for (let i = 0; i < n; i++) {
    const k = keel.messages[i];
    const o = oracle.messages[i];
    // A framing difference anywhere wins over an earlier field-level one.
    if (framingFieldsDiffer(k, o)) { framing = true; d = i; break; }
    if (d === -1 && differencesOf({ ...keel, messages: [k], error: null, upgradeHead: null },
      { ...oracle, messages: [o], code: null, upgradeHead: null }).length) d = i;
  }
  if (d === -1) d = n;
  const keelAccepts = keel.error === null;
  const nodeAccepts = oracle.code === null;
  // Both accepted yet counted different messages: framing, unless Keel closed the connection first
  // (it discards what follows a closing response: a connection-management class).
  if (keelAccepts && nodeAccepts && keel.messages.length !== oracle.messages.length &&
      !(keel.closed && keel.upgradeHead === null && keel.messages.length < oracle.messages.length)) framing = true;
  // Both switched protocols after the same messages, yet hand over different bytes.
  const kh = keel.upgradeHead;
  const oh = oracle.upgradeHead;
  if (d === n && keel.messages.length === oracle.messages.length && kh !== null && oh !== null && !kh.equals(oh)) framing = true;
  const side = d < n ? 'both' : keel.messages.length > d ? 'keel' : oracle.messages.length > d ? 'node' : 'none';
  const k = keel.messages[d];
  const o = oracle.messages[d];
  const m = k ?? o;
  const method = k ? k.requestMethod : methodAt(oracle.messages, d, methods);
  return { text: buf.toString('latin1'), methods, eof, keel, oracle, framing, d, side, k, o, m, method, consistent, oracleOffset };
}

/**
 * Compare one stream; returns { kind, differences, keel, oracle, framing (whether the message
 * boundaries differ) }. kind: 'agree' | 'FRAMING' |
 * 'UNEXPLAINED' | 'CRASH' | 'SPLIT' | 'RFC: name' | a class name | 'KNOWN BUG: name'. A broken
 * invariant is reported over an agreement or an intended class, never over a failing kind.
 */
export function compareResponse(buf, methods = ['GET'], eof = true) {
  const result = parseStream(buf, { response: true, methods, eof });
  const oracle = responseOracleVerdict(result);
  let keel;
  let split;
  try {
    keel = runKeelResponse(whole(buf), { methods, eof });
    split = runKeelResponse(bytewise(buf), { methods, eof });
  } catch (err) {
    return { kind: 'CRASH', differences: [String(err && err.stack || err)], keel: keel ?? null, oracle };
  }
  if (!isDeepStrictEqual(verdictKey(split, { offsets: true }), verdictKey(keel, { offsets: true }))) {
    return { kind: 'SPLIT', differences: [`one byte at a time: ${describeResponse(split)}`], keel, oracle };
  }
  const differences = differencesOf(keel, oracle);
  const ctx = differences.length === 0 ? null
    : context(buf, methods, eof, keel, oracle, result.consistent, result.error ? result.error.offset : null);
  const kind = ctx === null ? 'agree' : classify(ctx);
  const framing = ctx !== null && ctx.framing;
  if (!failing(kind)) {
    for (const inv of INVARIANTS) {
      if (!inv.broken(keel)) continue;
      const bug = RESPONSE_KNOWN_BUGS.find((b) => b.invariant === inv.name);
      return { kind: bug ? `KNOWN BUG: ${bug.name}` : `RFC: ${inv.name}`, differences: [inv.rule, ...differences], keel, oracle, framing };
    }
  }
  return { kind, differences, keel, oracle, framing };
}

/** The kind of a disagreement: a known bug, the first intended class that explains it, or FRAMING / UNEXPLAINED. */
function classify(ctx) {
  for (const bug of RESPONSE_KNOWN_BUGS) {
    if (bug.test && bug.test(ctx)) return `KNOWN BUG: ${bug.name}`;
  }
  for (const cls of RESPONSE_CLASSES) {
    if (ctx.framing && !cls.framing) continue;
    if (cls.test(ctx)) return cls.name;
  }
  return ctx.framing ? 'FRAMING' : 'UNEXPLAINED';
}

/**
 * Run `count` response streams from `seed`: { counts: Map kind -> n, framingCounts: Map kind -> n
 * of those whose message boundaries differ, failures: the first `keep` failing cases, bad: how
 * many failed, skipped }. `skip(stream)` leaves a stream out.
 */
export function fuzzResponses({ count, seed, keep = 10, skip = () => false }) {
  const rng = mulberry32(seed);
  const counts = new Map();
  const framingCounts = new Map();
  const failures = [];
  let skipped = 0;
  for (let i = 0; i < count; i++) {
    const stream = generateResponseStream(rng);
    if (skip(stream)) { skipped++; continue; }
    const r = compareResponse(stream.buf, stream.methods, stream.eof);
    counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    if (r.framing) framingCounts.set(r.kind, (framingCounts.get(r.kind) ?? 0) + 1);
    if (failing(r.kind) && failures.length < keep) {
      failures.push({
        index: i, kind: r.kind, mutations: stream.mutations, buf: stream.buf, differences: r.differences,
        methods: stream.methods, eof: stream.eof,
        keel: r.keel ? describeResponse(r.keel) : 'crashed',
        node: `${r.oracle.code ?? 'ok'} ${describeResponse({ ...r.oracle, error: null, partial: null, closed: false })}`,
      });
    }
  }
  const bad = [...counts].reduce((sum, [k, n]) => sum + (failing(k) ? n : 0), 0);
  return { counts, framingCounts, failures, bad, skipped };
}
