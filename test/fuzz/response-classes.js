// Intended differences between Keel's response parser (the client side) and llhttp in response mode
// as node:http's client drives it, for response-diff.js. SECURITY.md ("Deliberate differences from
// llhttp") lists them with the same names.
//
// Each class: `name`, `why` (the rule that makes Keel's choice right), `framing` (true when it may
// explain a framing difference: message boundaries that differ), `test(c)` on the context that
// response-diff.js documents (text, methods, eof, keel, oracle, framing, d, side, k, o, m, method,
// consistent, oracleOffset; k / o: Keel's / llhttp's message at the index d judged). The first
// matching class wins; a class must not match what Keel gets wrong (that is a KNOWN BUG below).

import { BodyKind } from '../../dist/http1/framing.js';
import { runKeelResponse } from '../http1/vector-helpers.js';

const keelCode = (c) => c.keel.error && c.keel.error.code;
/** Keel accepted the diverging message, llhttp did not (Keel is the laxer one there). */
const keelLaxer = (c) => c.side === 'keel';
/**
 * The message Keel accepts where llhttp rejects: a complete one (keelLaxer), or on an open
 * connection the one still being received when llhttp has already rejected it.
 */
const laxMessage = (c) => (c.side === 'keel' ? c.k
  : c.side === 'none' && c.keel.error === null && c.oracle.code !== null ? c.keel.partial ?? undefined : undefined);
/** llhttp accepted the diverging message, Keel did not (Keel is the stricter one there). */
const keelStricter = (c) => c.side === 'node' || (c.side === 'none' && c.keel.error !== null && c.oracle.code === null);
/** Values of the fields named `name` (lower case) in a message's rawHeaders (or trailers). */
const values = (m, name, key = 'rawHeaders') => {
  const out = [];
  const list = (m && m[key]) || [];
  for (let i = 0; i < list.length; i += 2) if (list[i].toLowerCase() === name) out.push(list[i + 1]);
  return out;
};
/** `s` without leading and trailing OWS (SP / HTAB only: String#trim() would also strip 0xA0). */
const trimOWS = (s) => s.replace(/^[ \t]+|[ \t]+$/g, '');
/** Whether the stream up to `offset` ends inside a status-line's reason phrase. */
const inReasonPhrase = (text, offset) => /HTTP\/\d\.\d \d\d\d [^\r\n]*$/.test(text.slice(0, offset));
/**
 * The field lines of the head Keel rejected at `offset` (a framing error is reported at the empty
 * line ending the head), flat like rawHeaders: the lines before it back to the status-line.
 */
const headBefore = (text, offset) => {
  const lines = text.slice(0, offset).replace(/\r\n$/, '').split('\r\n');
  const fields = [];
  for (let i = lines.length - 1; i >= 0 && !/^HTTP\//i.test(lines[i]) && lines[i] !== ''; i--) {
    const colon = lines[i].indexOf(':');
    if (colon > 0) fields.unshift(lines[i].slice(0, colon), trimOWS(lines[i].slice(colon + 1)));
  }
  return { rawHeaders: fields };
};
const failedHead = (c) => headBefore(c.text, c.keel.error.offset);
/** The transfer codings of a message (lower case, empty elements dropped). */
const codings = (m) => values(m, 'transfer-encoding').join(',').split(',').map((v) => trimOWS(v).toLowerCase()).filter(Boolean);
/** A "close" connection option in a Connection value (OWS is SP / HTAB: not \s, which takes 0xA0 too). */
const CLOSE = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** Whether the only difference at message d is `field` (both have the message, nothing else differs). */
const onlyDiffers = (c, field) => c.side === 'both' && !c.framing && c.k[field] !== c.o[field] &&
  ['statusCode', 'statusMessage', 'versionMajor', 'versionMinor', 'keepAlive', 'upgrade']
    .every((f) => f === field || c.k[f] === c.o[f]) &&
  JSON.stringify([c.k.rawHeaders, c.k.trailers]) === JSON.stringify([c.o.rawHeaders, c.o.trailers]);
const is2xx = (status) => status >= 200 && status < 300;
/** A response RFC 9112 §6.3 items 1–2 leave without a body, whatever its framing fields say. */
const bodilessByRule = (m, method) => method === 'HEAD' || m.statusCode < 200 || m.statusCode === 204 ||
  m.statusCode === 304 || (method === 'CONNECT' && is2xx(m.statusCode));
const FRAMING_CODES = ['HPE_INVALID_TRANSFER_ENCODING', 'HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_CONTENT_LENGTH'];

export const RESPONSE_CLASSES = [
  {
    name: 'connect-only-2xx-tunnels',
    framing: true,
    why: 'RFC 9110 §9.3.6 / RFC 9112 §6.3 item 2: only a 2xx response to CONNECT turns the connection into a tunnel; a 1xx is interim and any other status is an ordinary response with a framed body. node:http\'s client takes any response to CONNECT as the tunnel',
    test: (c) => c.method === 'CONNECT' && c.o !== undefined && c.o.upgrade && !is2xx(c.o.statusCode) &&
      (c.k === undefined || !c.k.upgrade),
  },
  {
    name: '101-always-switches',
    framing: true,
    why: 'RFC 9110 §15.2.2 / §7.8: after a 101 head the connection speaks another protocol, so nothing after it is parsed as HTTP/1.1, whatever its version and whether or not its Upgrade / Connection fields are right (the caller, which sent the Upgrade request, judges them); llhttp stops after any 101 too, but node:http resumes it unless both fields are there, then parses the new protocol\'s bytes as HTTP',
    test: (c) => c.k !== undefined && c.k.statusCode === 101 && c.k.upgrade && c.o !== undefined && !c.o.upgrade,
  },
  {
    name: 'bodiless-response-persists',
    why: 'RFC 9112 §6.3 items 1–2 / §9.3: a response to HEAD, a 2xx to CONNECT and a 1xx end at the empty line, so a missing Content-Length does not make them close-delimited, and an interim response never ends the connection (the final one does); llhttp computes shouldKeepAlive before node:http marks the response bodiless',
    test: (c) => onlyDiffers(c, 'keepAlive') && c.k.keepAlive && bodilessByRule(c.k, c.method) &&
      (c.k.statusCode < 200 || values(c.k, 'connection').every((v) => !CLOSE.test(v))),
  },
  {
    name: 'framing-fields-ignored-when-bodiless',
    why: 'RFC 9112 §6.3 items 1–2 come before items 3–5: a response to HEAD, a 1xx, 204 or 304, and a 2xx to CONNECT (RFC 9110 §9.3.6: the client MUST ignore Content-Length and Transfer-Encoding there) has no body, so its framing fields cannot make it ambiguous; llhttp rejects Transfer-Encoding with Content-Length (or a chunked Transfer-Encoding it cannot use) before the status and method are considered',
    test: (c) => keelLaxer(c) && FRAMING_CODES.includes(c.oracle.code) && bodilessByRule(c.k, c.method),
  },
  {
    name: 'cl-identical-duplicates',
    why: 'RFC 9112 §6.3 item 5 / RFC 9110 §8.6: identical repeated Content-Length values ("5, 5" or two lines of 5) may be taken as one value; llhttp rejects',
    test: (c) => laxMessage(c) !== undefined && FRAMING_CODES.includes(c.oracle.code) && (() => {
      const all = values(laxMessage(c), 'content-length').flatMap((v) => v.split(',')).map((v) => v.trim());
      return all.length > 1 && all.every((v) => v === all[0]);
    })(),
  },
  {
    name: 'te-with-content-length',
    why: 'RFC 9112 §6.3 item 3: a response with both Transfer-Encoding and Content-Length "ought to be handled as an error" (a response-splitting vector); Keel rejects whatever the Transfer-Encoding value, llhttp ignores an empty one',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_INVALID_TRANSFER_ENCODING' &&
      values(failedHead(c), 'transfer-encoding').length > 0 && values(failedHead(c), 'content-length').length > 0,
  },
  {
    name: 'te-empty-element',
    why: 'RFC 9110 §5.6.1.2: a recipient MUST parse and ignore a reasonable number of empty list elements, so an empty Transfer-Encoding element is no coding: ", chunked" is chunked, and "" alone leaves chunked not final, so the response is read until close (RFC 9112 §6.3 item 4). llhttp 9.4 (Node 22) rejects any empty element; llhttp 9.3 (Node 20) ignores it, as Keel does',
    test: (c) => c.oracle.code === 'HPE_INVALID_TRANSFER_ENCODING' && laxMessage(c) !== undefined &&
      values(laxMessage(c), 'transfer-encoding').some((v) => v.split(',').some((element) => trimOWS(element) === '')),
  },
  {
    name: 'te-chunked-twice',
    why: 'RFC 9112 §6.1: a sender MUST NOT apply the chunked transfer coding more than once, so "chunked, chunked" cannot be decoded safely; llhttp de-chunks once',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_INVALID_TRANSFER_ENCODING' &&
      codings(failedHead(c)).filter((v) => v === 'chunked').length > 1,
  },
  {
    name: 'te-invalid-coding',
    why: 'RFC 9112 §6.1 / RFC 9110 §10.1.4: transfer-coding = token *( OWS ";" OWS transfer-parameter ); a Transfer-Encoding that is not a list of tokens ("chunk<HTAB>ed", "ch:unked", obs-text) does not match the grammar, and reading such a body until close could hand chunked bytes to the caller as content (response splitting). Keel rejects it, llhttp reads until close',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_INVALID_TRANSFER_ENCODING' &&
      codings(failedHead(c)).some((v) => !TOKEN.test(trimOWS(v.split(';')[0]))),
  },
  {
    name: 'status-code-below-100',
    why: 'RFC 9110 §15: the first digit of the status code is its class (1xx–5xx); a code below 100 has none and is invalid. llhttp accepts any three digits',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_INVALID_STATUS' && /^0\d\d$/.test(c.text.slice(c.keel.error.offset, c.keel.error.offset + 3)),
  },
  {
    name: 'reason-phrase-ctl',
    why: 'RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ); Keel rejects other control characters (NUL, ESC, DEL, a bare CR...) there, llhttp takes any byte but CR / LF',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_STRICT' && inReasonPhrase(c.text, c.keel.error.offset) &&
      /[\x00-\x08\x0a-\x1f\x7f]/.test(c.text[c.keel.error.offset]),
  },
  {
    name: 'version-1.x-as-1.1',
    why: 'RFC 9110 §2.5: a higher minor version (HTTP/1.2) is processed as the highest supported, HTTP/1.1; llhttp rejects it',
    test: (c) => c.oracle.code === 'HPE_INVALID_VERSION' && laxMessage(c) !== undefined &&
      laxMessage(c).versionMajor === 1 && laxMessage(c).versionMinor >= 2,
  },
  {
    name: 'version-major-not-1',
    why: 'RFC 9112 §2.3 / RFC 9110 §2.5: only HTTP/1.x messages have HTTP/1.1 framing; a status-line with another major version (HTTP/2.0, HTTP/0.9) is not one Keel can frame, so it is an error. llhttp accepts any major digit',
    test: (c) => keelStricter(c) && keelCode(c) === 'HPE_INVALID_VERSION' &&
      /^HTTP\/[02-9]\.\d /.test(c.text.slice(c.keel.error.offset, c.keel.error.offset + 9)),
  },
  {
    name: 'conn-close-then-more',
    why: 'RFC 9112 §9.6: after a response that ends the connection ("Connection: close", HTTP/1.0 without keep-alive) nothing more is read from it; Keel discards the rest, llhttp raises HPE_CLOSED_CONNECTION',
    test: (c) => c.keel.error === null && c.keel.closed && c.oracle.code === 'HPE_CLOSED_CONNECTION' &&
      c.keel.messages.length === c.oracle.messages.length,
  },
  {
    name: 'conn-close-wins',
    why: 'RFC 9112 §9.6 / RFC 9110 §7.6.1: a "close" connection option (also "close<HTAB>", or beside keep-alive) means the connection ends after this response; llhttp keeps it open in those cases and parses what follows. Keel closes and discards it',
    test: (c) => (c.keel.closed && c.keel.upgradeHead === null && c.keel.messages.length >= 1 &&
      c.keel.messages.length <= c.oracle.messages.length && c.keel.messages.at(-1).keepAlive === false &&
      CLOSE.test(values(c.keel.messages.at(-1), 'connection').join(','))) ||
      // Only the persistence differs (a tunnel follows, or the stream ends there).
      (onlyDiffers(c, 'keepAlive') && !c.k.keepAlive && CLOSE.test(values(c.k, 'connection').join(','))),
  },
  {
    name: 'http10-te-closes',
    why: 'RFC 9112 §6.1: a client that receives an HTTP/1.0 message containing Transfer-Encoding MUST treat the framing as faulty and close the connection after the message, whatever Connection says; llhttp keeps the connection and parses what follows. Keel closes and discards it',
    framing: true,
    test: (c) => c.keel.error === null && c.keel.messages.length >= 1 && c.keel.messages.length <= c.oracle.messages.length &&
      ((m) => m.versionMinor === 0 && m.keepAlive === false && values(m, 'transfer-encoding').length > 0 &&
        (c.keel.closed || c.keel.upgradeHead === null))(c.keel.messages.at(-1)),
  },
  {
    name: 'connection-htab',
    why: 'RFC 9110 §5.5 / §7.6.1: HTAB is OWS, "keep-alive<HTAB>" is keep-alive (as "close<HTAB>" is close); llhttp 9.3 does not recognise the option. The message boundaries are the same, only the persistence differs',
    test: (c) => onlyDiffers(c, 'keepAlive') && /connection:[^\r\n]*\t/i.test(c.text),
  },
  {
    name: 'bare-cr-or-lf',
    why: 'RFC 9112 §2.2: a single LF as a line terminator is only a MAY, and a bare CR MUST be rejected or replaced; Keel rejects both everywhere, llhttp skips them between responses (and takes a bare LF in some other places)',
    test: (c) => keelStricter(c) && (keelCode(c) === 'HPE_CR_EXPECTED' || (c.keel.partial === null && (() => {
      const o = c.keel.error.offset;
      return [o - 1, o].some((i) => (c.text[i] === '\n' && c.text[i - 1] !== '\r') ||
        (c.text[i] === '\r' && c.text[i + 1] !== '\n'));
    })())),
  },
  {
    name: 'trailer-content-length',
    why: 'RFC 9112 §7.1.2: trailer fields never frame the message; a Content-Length trailer is kept as a trailer, llhttp rejects',
    test: (c) => (keelLaxer(c) && values(c.m, 'content-length', 'trailers').length > 0) ||
      // On an open connection, the trailer section Keel is still receiving.
      (laxMessage(c) !== undefined && laxMessage(c).bodyKind === BodyKind.Chunked &&
        /^\r\n0(?:;[^\r\n]*)?\r\n(?:[^\r\n]*\r\n)*content-length:/i.test(c.text.slice(c.text.lastIndexOf('\r\n0')))),
  },
  {
    name: 'cl-or-te-trailing-htab',
    framing: true,
    why: 'RFC 9110 §5.5 / RFC 9112 §5.1: OWS (SP / HTAB) around a field value is not part of it, so "Content-Length: 5<HTAB>" is 5 and "Transfer-Encoding: chunked<HTAB>" is chunked; llhttp 9.3 (Node 20) rejects the first, and takes the second as a coding other than chunked, reading the body until close (a framing difference where llhttp is the one off the grammar)',
    test: (c) => {
      // Keel de-chunks "chunked<HTAB>" (the message at d, complete or not); llhttp rejects it or reads until close.
      const km = c.k ?? c.keel.partial;
      if (km && km.bodyKind === BodyKind.Chunked && /transfer-encoding:[^\r\n]*chunked[ \t]*\t/i.test(c.text) &&
          (c.o === undefined ? c.side !== 'keel' || c.oracle.code !== null : c.o.keepAlive === false)) return true;
      return !c.framing && laxMessage(c) !== undefined && c.oracle.code === 'HPE_INVALID_CONTENT_LENGTH' &&
        /content-length:[^\r\n]*\d[ \t]*\t/i.test(c.text);
    },
  },
  {
    name: 'chunk-ext-grammar',
    why: 'RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) with a token name; Keel rejects ";=v" (no name) and ";n=" (empty value), llhttp accepts them',
    test: (c) => keelCode(c) === 'HPE_STRICT' && !keelLaxer(c) &&
      /\n[0-9a-fA-F]+[^\r\n]*(?:;[ \t]*=|=[ \t]*(?:\r|;))/.test(c.text),
  },
  {
    name: 'verdict-pending',
    why: 'a timing difference, not a rule one: Keel judges a head once it is complete (its framing once every field line is in, so no verdict depends on field order) and a chunk-size line once its CRLF has arrived (so every split of the input gives the same verdict); on a connection still open, llhttp has already failed at a bad byte where Keel is still waiting. Keel has accepted no message llhttp did not; what it decides for the complete head is what the streams ending in EOF compare. In a body, checked: with the line ended (CRLF, then EOF) Keel rejects it too, for a reason other than the EOF',
    test: (c) => !c.eof && c.side === 'none' && c.keel.error === null && c.oracle.code !== null &&
      (c.keel.partial === null || (() => {
        const v = runKeelResponse([Buffer.from(`${c.text}\r\n`, 'latin1')], { methods: c.methods, eof: true });
        // A rejection for the EOF itself (a body cut short) proves nothing: only the line's own error counts.
        return v.error !== null && v.error.code !== 'HPE_INVALID_EOF_STATE' && v.messages.length === c.keel.messages.length;
      })()),
  },
];

/**
 * KNOWN BUGS: Keel response-parser bugs the fuzzer found and src/ does not fix yet (the fuzzer's
 * change does not edit src/). Each: name, repro (escaped bytes as the oracle's -e takes them, and
 * the request methods), rfc, and either `invariant` (the name of the response-diff.js INVARIANTS
 * entry it breaks) or `test(c)` on a differing stream's context. Matching streams are counted
 * apart as 'KNOWN BUG: name': they do not fail a run, and test/fuzz/fuzz-diff-response.test.js
 * reports them and fails once a repro stops reproducing (then the entry goes).
 */
export const RESPONSE_KNOWN_BUGS = [
  // http10-te-keep-alive (HTTP/1.0 + Transfer-Encoding kept the connection; RFC 9112 §6.1) was fixed
  // in ResponseParser.completeHead(); the invariant http10-te-closes keeps guarding it.
];
