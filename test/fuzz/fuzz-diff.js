#!/usr/bin/env node
// Differential fuzzing of Keel's request parser against llhttp (Node's own parser, driven by
// shared/tools/llhttp-oracle.mjs exactly as node:http drives it); and the runner for both sides.
//
//   node test/fuzz/fuzz-diff.js --count N --seed S [--side request|response|both] [--show K] [--json]
//   npm run fuzz:diff -- --count N                 (requests, the default side)
//   npm run fuzz:diff -- --response --count N      (responses: same as --side response)
//
// The response side (Keel's ResponseParser against llhttp in response mode, as node:http's client
// drives it) lives in response-diff.js, with its generator (response-generator.js) and intended
// classes (response-classes.js); this file runs it and reports it the same way. With --side both,
// each side runs --count streams from --seed.
//
// Each stream of test/fuzz/generator.js is parsed whole, with EOF, by both. The verdicts are compared
// as in test/http1/oracle.test.js (vector-helpers.js: runKeel, oracleVerdict, verdictDifferences):
// accept / reject (with Node's server status), message count, method, target, version, rawHeaders,
// body bytes, trailers, keep-alive, upgrade. Error codes are not compared (see
// INTENDED_CODE_DIFFERENCES in oracle.test.js: many differ only in name).
//
// Each disagreement gets exactly one kind:
//   - FRAMING: both parsers produced a message at the same index but its method, target or body
//     differ, or both accepted the whole stream with a different number of messages. Message
//     boundaries differ: a desync / smuggling bug unless an intended class below explains it.
//   - a known intended class (CLASSES below): a verdict difference README "Deliberate differences"
//     and oracle.test.js's INTENDED_DIFFERENCES document, each with its RFC rule.
//   - UNEXPLAINED: anything else (including field-level differences with equal framing).
// Exit status 1 when there is any FRAMING or UNEXPLAINED case (KNOWN_BUGS excepted, see below), on
// either side (the response side also fails on CRASH, SPLIT and 'RFC: name': see response-diff.js).

import { parseStream } from '../../../shared/tools/llhttp-oracle.mjs';
import { oracleVerdict, runKeel, verdictDifferences, whole, describe } from '../http1/vector-helpers.js';
import { generateStream, mulberry32, escapeBytes } from './generator.js';
import { fuzzResponses } from './response-diff.js';
import { RESPONSE_CLASSES } from './response-classes.js';

// --------------------------------------------------------------------- intended classes ----
//
// Each class: `why` (the rule that makes Keel's choice right), `test(ctx)` on the context
// { text: the stream as latin1, keel: runKeel() verdict, oracle: oracleVerdict(), keelStatus,
//   nodeStatus, framing: whether the difference is a framing one, d: index of the first message
//   that differs, side: 'keel' when only Keel has a message at d (Keel laxer there), 'node' when
//   only llhttp has one (Keel stricter), 'both' when both have it and it differs, 'none'; m: that
//   message (rawHeaders, trailers, method, target, version, keepAlive) }. The first matching class wins;
// a framing difference is only attributed to a class whose `framing` is true.

const keelCode = (c) => c.keel.error && c.keel.error.code;
const keelRejects = (c) => c.keel.error !== null;
const nodeRejects = (c) => c.oracle.status !== null;
/** Values of the fields named `name` (any case) in a message's rawHeaders (or trailers). */
const values = (m, name, key = 'rawHeaders') => {
  const out = [];
  const list = (m && m[key]) || [];
  for (let i = 0; i < list.length; i += 2) if (list[i].toLowerCase() === name) out.push(list[i + 1]);
  return out;
};
/** Keel accepted the diverging message, llhttp did not (Keel is the laxer one there). */
const keelLaxer = (c) => c.side === 'keel';
/** llhttp accepted the diverging message, Keel did not (Keel is the stricter one there). */
const keelStricter = (c) => c.side === 'node';
const CL_CODES = ['HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_CONTENT_LENGTH'];

export const CLASSES = [
  {
    name: 'host-rules',
    why: 'RFC 9112 §3.2: a request with more than one Host line, or an invalid Host value, MUST get 400; Node keeps the first / accepts the value',
    test: (c) => keelCode(c) === 'HPE_INVALID_HOST' && !keelLaxer(c),
  },
  {
    name: 'version-505',
    why: 'RFC 9110 §15.6.6 / §2.5: HTTP/2.0, HTTP/3.0 and other majors in a request-line are 505 (llhttp accepts 2.0, 400s others)',
    test: (c) => keelRejects(c) && c.keel.error.status === 505 && !keelLaxer(c),
  },
  {
    name: 'no-http09',
    why: 'RFC 9112 §2.3 / Keel §8.2: no HTTP/0.9; a request-line without a (well separated) version is 400, llhttp takes it as an HTTP/0.9 request',
    test: (c) => keelStricter(c) && c.m.versionMajor === 0 && c.m.versionMinor === 9,
  },
  {
    name: 'version-1.x-as-1.1',
    why: 'RFC 9110 §2.5: a higher minor version (HTTP/1.2) is processed as HTTP/1.1; llhttp rejects it',
    test: (c) => keelLaxer(c) && c.m.versionMajor === 1 && c.m.versionMinor >= 2 && c.oracle.code === 'HPE_INVALID_VERSION',
  },
  {
    name: 'unknown-method-501',
    why: 'RFC 9110 §9.1 / §15.6.2: a valid token that is not an implemented method is 501 (llhttp: 400, or accepts a method it knows)',
    test: (c) => keelRejects(c) && c.keel.error.status === 501 && c.keel.error.code === 'HPE_INVALID_METHOD' && !keelLaxer(c),
  },
  {
    name: 'te-unsupported-501',
    why: 'RFC 9112 §6.1: a transfer coding the server does not understand is 501 (gzip, chunked); llhttp de-chunks and passes gzip on',
    test: (c) => keelRejects(c) && c.keel.error.status === 501 && c.keel.error.code !== 'HPE_INVALID_METHOD' && !keelLaxer(c) &&
      /transfer-encoding/i.test(c.text),
  },
  {
    name: 'te-in-http10',
    why: 'RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing; Keel answers 400, llhttp decodes it',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_INVALID_TRANSFER_ENCODING' && c.m.versionMinor === 0 &&
      values(c.m, 'transfer-encoding').length > 0,
  },
  {
    name: 'te-invalid-list',
    why: 'RFC 9112 §6.1 / §6.3: a request whose Transfer-Encoding list does not end in chunked (empty, identity, with or without CL), applies chunked more than once, or holds a non-token coding is 400 at the head; llhttp frames by CL, no body, or the final chunked',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_INVALID_TRANSFER_ENCODING' && (() => {
      const codings = values(c.m, 'transfer-encoding').join(',').split(',').map((v) => v.trim().toLowerCase());
      return codings.at(-1) !== 'chunked' || codings.filter((v) => v === 'chunked').length > 1 ||
        codings.some((v) => !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(v));
    })(),
  },
  {
    name: 'cl-identical-duplicates',
    why: 'RFC 9112 §6.3 / RFC 9110 §8.6: identical repeated Content-Length values ("5, 5" or two lines of 5) may be taken as one value; llhttp rejects',
    test: (c) => keelLaxer(c) && CL_CODES.includes(c.oracle.code) && (() => {
      const all = values(c.m, 'content-length').flatMap((v) => v.split(',')).map((v) => v.trim());
      return all.length > 1 && all.every((v) => v === all[0]);
    })(),
  },
  {
    name: 'cl-trailing-htab',
    why: 'RFC 9110 §5.5: HTAB is OWS, "Content-Length: 5<HTAB>" is 5 (llhttp 9.3 rejects; fixed in 9.4)',
    test: (c) => keelLaxer(c) && c.oracle.code === 'HPE_INVALID_CONTENT_LENGTH' &&
      /content-length:[^\r\n]*\d\t/i.test(c.text),
  },
  {
    name: 'trailer-content-length',
    why: 'RFC 9112 §7.1.2: trailer fields never frame the message; a Content-Length trailer is kept as a trailer, llhttp rejects',
    test: (c) => keelLaxer(c) && values(c.m, 'content-length', 'trailers').length > 0,
  },
  {
    name: 'conn-close-then-more',
    why: 'RFC 9112 §9.6: after a request with "Connection: close" (or an HTTP/1.0 one without keep-alive) the server closes; Keel discards the rest, llhttp raises HPE_CLOSED_CONNECTION',
    test: (c) => !keelRejects(c) && c.keel.closed && c.oracle.code === 'HPE_CLOSED_CONNECTION' &&
      c.keel.messages.length === c.oracle.messages.length,
  },
  {
    name: 'conn-close-wins',
    why: 'RFC 9112 §9.6 / RFC 9110 §7.6.1: a "close" connection option (also "close<HTAB>", or beside keep-alive in HTTP/1.0) means the connection does not persist; llhttp keeps it open in those cases; Keel closes and discards what follows',
    test: (c) => c.keel.closed && c.keel.messages.length >= 1 && c.keel.messages.length <= c.oracle.messages.length &&
      /(?:^|,)\s*close\s*(?:,|$)/i.test(values(c.keel.messages.at(-1), 'connection').join(',')) &&
      c.keel.messages.at(-1).keepAlive === false,
  },
  {
    name: 'connection-htab',
    why: 'RFC 9110 §5.5 / §7.6.1: HTAB is OWS, "keep-alive<HTAB>" is keep-alive (as "close<HTAB>" is close); llhttp 9.3 does not recognise the option. The message boundaries are the same, only the persistence differs',
    test: (c) => c.side === 'both' && !c.framing && c.keel.messages[c.d].keepAlive !== c.oracle.messages[c.d].keepAlive &&
      /connection:[^\r\n]*\t/i.test(c.text),
  },
  {
    name: 'asterisk-or-connect-form',
    why: 'RFC 9112 §3.2.3 / §3.2.4: asterisk-form is exactly "*" and only with OPTIONS, authority-form only and always with CONNECT',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_INVALID_URL' && (c.m.method === 'CONNECT' || c.m.target.startsWith('*')),
  },
  {
    name: 'chunk-ext-grammar',
    why: 'RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) with a token name; Keel rejects ";=v" (no name) and ";n=" (empty value), llhttp accepts them',
    test: (c) => keelCode(c) === 'HPE_STRICT' && !keelLaxer(c) &&
      /\n[0-9a-fA-F]+[^\r\n]*(?:;[ \t]*=|=[ \t]*(?:\r|;))/.test(c.text),
  },
  {
    name: 'bare-cr-or-lf-between-messages',
    why: 'RFC 9112 §2.2: a single LF as a line terminator is only a MAY, a bare CR MUST be rejected or replaced, and only an empty CRLF line before a request-line SHOULD be ignored; Keel rejects a lone CR or LF between requests (as it does inside a head, see rl-bare-lf / rl-bare-cr), llhttp skips it',
    test: (c) => c.keel.error !== null && c.keel.partial === null && !keelLaxer(c) && (() => {
      // HPE_CR_EXPECTED with no message under way: a bare LF where a request-line starts.
      if (c.keel.error.code === 'HPE_CR_EXPECTED') return true;
      const o = c.keel.error.offset;
      return [o - 1, o].some((i) => (c.text[i] === '\n' && c.text[i - 1] !== '\r') ||
        (c.text[i] === '\r' && c.text[i + 1] !== '\n'));
    })(),
  },
  {
    name: 'te-trailing-htab',
    why: 'RFC 9110 §5.5: HTAB is OWS, "Transfer-Encoding: chunked<HTAB>" is chunked (same rule as cl-ows); llhttp 9.3 rejects it',
    test: (c) => keelLaxer(c) && c.oracle.code === 'HPE_INVALID_TRANSFER_ENCODING' && /transfer-encoding:[^\r\n]*chunked[ \t]*\t/i.test(c.text),
  },
  {
    name: 'te-empty-element',
    why: 'RFC 9110 §5.6.1.2: a recipient MUST parse and ignore a reasonable number of empty list elements, so an empty Transfer-Encoding line or element before the final chunked leaves "chunked" and Keel de-chunks, as llhttp 9.3 (Node 20) does; llhttp 9.4 (Node 22) rejects any empty element. Without a final chunked the request is still 400 (te-invalid-list)',
    test: (c) => keelLaxer(c) && c.oracle.code === 'HPE_INVALID_TRANSFER_ENCODING' &&
      values(c.m, 'transfer-encoding').some((v) => v.split(',').some((element) => element.trim() === '')),
  },
  {
    name: 'request-line-whitespace',
    why: 'RFC 9112 §3: the request-line is method SP target SP version; Keel takes the recommended 400 for extra SP / HTAB, llhttp splits on whitespace',
    test: (c) => keelStricter(c) && /^\S+(?: {2,}|\t)|\S( {2,}|\t)HTTP\//m.test(c.text),
  },
];

/**
 * KNOWN BUGS: framing divergences found by this fuzzer that are Keel bugs not yet fixed (src/ is
 * not edited by the fuzzer's change). Each has a name, a repro and a predicate; matching cases are
 * counted apart and do not fail the run. Empty when there is none.
 */
export const KNOWN_BUGS = [];

// -------------------------------------------------------------------------------- run ----

/** Compare one stream; returns { kind, differences, keel, oracle }. kind: 'agree' | 'FRAMING' | 'UNEXPLAINED' | class name | 'KNOWN BUG: name'. */
export function compare(buf) {
  const result = parseStream(buf, { eof: true });
  const oracle = oracleVerdict(result);
  const keel = runKeel(whole(buf), { eof: true });
  const differences = verdictDifferences(keel, oracle);
  if (differences.length === 0) return { kind: 'agree', differences, keel, oracle, consistent: result.consistent };
  const keelStatus = keel.error ? keel.error.status : null;
  const nodeStatus = oracle.status;
  // d: the first message index where the two differ; side: who has a message at d the other lacks.
  let framing = false;
  let d = 0;
  const n = Math.min(keel.messages.length, oracle.messages.length);
  for (; d < n; d++) {
    const k = keel.messages[d];
    const o = oracle.messages[d];
    if (k.method !== o.method || k.target !== o.target || !k.body.equals(o.body)) { framing = true; break; }
    if (verdictDifferences({ ...keel, messages: [k], error: null, upgradeHead: null },
      { ...oracle, messages: [o], status: null, upgradeHead: null }).length) break;
  }
  // Both accepted the whole stream yet counted different messages: framing, unless Keel closed the
  // connection early (it discards what follows a closing message: a connection-management class).
  if (keelStatus === null && nodeStatus === null && keel.messages.length !== oracle.messages.length &&
      !(keel.closed && keel.messages.length < oracle.messages.length)) framing = true;
  const side = d < n ? 'both' : keel.messages.length > d ? 'keel' : oracle.messages.length > d ? 'node' : 'none';
  const m = side === 'keel' ? keel.messages[d] : side === 'node' ? oracle.messages[d] : keel.messages[d];
  const ctx = { text: buf.toString('latin1'), keel, oracle, keelStatus, nodeStatus, framing, d, side, m };
  for (const bug of KNOWN_BUGS) {
    if (bug.test(ctx)) return { kind: `KNOWN BUG: ${bug.name}`, differences, keel, oracle };
  }
  for (const cls of CLASSES) {
    if (framing && !cls.framing) continue;
    if (cls.test(ctx)) return { kind: cls.name, differences, keel, oracle };
  }
  return { kind: framing ? 'FRAMING' : 'UNEXPLAINED', differences, keel, oracle };
}

/** Run `count` streams from `seed`; returns { counts: Map kind -> n, cases: [{ index, kind, buf, ... }] }. */
export function fuzz({ count, seed, keep = 10, skip = () => false }) {
  const rng = mulberry32(seed);
  const counts = new Map();
  const failures = [];
  let skipped = 0;
  for (let i = 0; i < count; i++) {
    const { buf, mutations } = generateStream(rng);
    if (skip(buf, mutations)) { skipped++; continue; }
    const r = compare(buf);
    counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    if ((r.kind === 'FRAMING' || r.kind === 'UNEXPLAINED') && failures.length < keep) {
      failures.push({ index: i, kind: r.kind, mutations, buf, differences: r.differences,
        keel: describe(r.keel), node: `${r.oracle.code ?? 'ok'} status=${r.oracle.status} messages=${r.oracle.messages.length}` });
    }
  }
  const bad = (counts.get('FRAMING') ?? 0) + (counts.get('UNEXPLAINED') ?? 0);
  return { counts, failures, bad, skipped };
}

const SIDES = ['request', 'response', 'both'];
const USAGE = 'usage: node test/fuzz/fuzz-diff.js [--count N] [--seed S] [--side request|response|both] [--response] [--show K] [--json]';

function parseArgs(argv) {
  const args = { count: 1000, seed: 1, show: 5, json: false, side: 'request' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--count') args.count = Number(argv[++i]);
    else if (a === '--seed') args.seed = Number(argv[++i]);
    else if (a === '--show') args.show = Number(argv[++i]);
    else if (a === '--json') args.json = true;
    else if (a === '--side') args.side = argv[++i];
    else if (a === '--response') args.side = 'response';
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!SIDES.includes(args.side)) throw new Error(`--side must be one of ${SIDES.join(', ')}\n${USAGE}`);
  return args;
}

/** Each side: its fuzz function and its intended class names. */
const RUNNERS = {
  request: { fuzz, classes: CLASSES },
  response: { fuzz: fuzzResponses, classes: RESPONSE_CLASSES },
};

/** Print one side's counts per kind and its first failing cases. */
function report(side, args, { counts, framingCounts, failures }, ms, classes) {
  console.log(`fuzz-diff (${side}s): ${args.count} streams, seed ${args.seed}, ${ms} ms`);
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const width = Math.max(...rows.map(([k]) => k.length), 10);
  for (const [kind, n] of rows) {
    const note = classes.some((c) => c.name === kind) ? '  (intended)' : kind.startsWith('KNOWN BUG') ? '  (not fixed yet)' : '';
    const framing = framingCounts && framingCounts.get(kind) ? `, ${framingCounts.get(kind)} with other message boundaries` : '';
    console.log(`  ${kind.padEnd(width)} ${String(n).padStart(7)}${note}${framing}`);
  }
  for (const f of failures) {
    console.log(`\n#${f.index} ${f.kind} [${f.mutations.join(', ')}]`);
    if (f.methods) console.log(`  methods: ${f.methods.join(',')}${f.eof ? '' : ' (no EOF)'}`);
    console.log(`  bytes: ${escapeBytes(f.buf)}`);
    console.log(`  keel:  ${f.keel}`);
    console.log(`  node:  ${f.node}`);
    console.log(`  diff:  ${f.differences.join('; ')}`);
  }
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  let bad = 0;
  for (const side of args.side === 'both' ? ['request', 'response'] : [args.side]) {
    const { fuzz: run, classes } = RUNNERS[side];
    const t0 = Date.now();
    const result = run({ count: args.count, seed: args.seed, keep: args.show });
    const ms = Date.now() - t0;
    bad += result.bad;
    if (args.json) {
      console.log(JSON.stringify({ side, seed: args.seed, count: args.count, ms, counts: Object.fromEntries(result.counts),
        ...(result.framingCounts ? { framingCounts: Object.fromEntries(result.framingCounts) } : {}),
        failures: result.failures.map((f) => ({ ...f, buf: escapeBytes(f.buf) })) }));
    } else {
      report(side, args, result, ms, classes);
    }
  }
  process.exit(bad > 0 ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
