// Seeded generator of HTTP/1.1 response streams for differential fuzzing (test/fuzz/response-diff.js),
// the client-side twin of generator.js (whose PRNG, bodies and mutations it reuses).
//
// A stream is what one client connection reads: the responses to 1–3 pipelined requests, in order.
// Each exchange is a request method and its responses: 0–2 interim (1xx: 100, 102, 103) responses,
// then the final one. The final response is chosen for the method, as RFC 9112 §6.3 frames it:
//   - HEAD: a head only, whatever Content-Length / Transfer-Encoding say (item 1);
//   - 204, 304 and 1xx: a head only (item 1);
//   - CONNECT: 200 (the tunnel opens, item 2) or, rarely, 407 with a body;
//   - 101 Switching Protocols (GET only, with Upgrade): the rest of the stream is the new protocol;
//   - otherwise a Content-Length body, a chunked body (extensions, trailers), or a body delimited by
//     the end of the connection (item 8: no framing field; the stream ends there).
// HTTP/1.0 responses persist only with "Connection: keep-alive"; a response that ends the connection
// (close-delimited body, "Connection: close", HTTP/1.0 without keep-alive) or switches protocols is
// the last one (a mutation, 'after-close', may still append one). After a switch come tunnel bytes.
// Reason phrases vary: standard, empty, absent (no SP), with obs-text, HTAB, runs of SP.
//
// Then, as for requests, with probability 3/4: structural mutations (generator.js's message
// mutations: duplicated / reordered field lines, name case, Content-Length / Transfer-Encoding
// combinations, chunk-size edits, Content-Length trailer, obs-fold; and the response ones below:
// status code, reason phrase, version, Connection, Upgrade, framing fields dropped, Content-Length
// off by one, request method changed) and/or byte mutations (flips, inserted CR / LF / SP / HTAB /
// NUL / ":", deleted bytes, truncation).
//
// generateResponseStream(rng) -> { buf, methods, eof, mutations }: `methods` are the request methods
// in order (one per final response); `eof` whether the connection closes after the last byte
// (1 stream in 10 stays open).

import {
  tools, randomBody, randomChunkedBody, serializeFieldsAndBody, MESSAGE_MUTATIONS, mutateStructure, mutateBytes,
} from './generator.js';

const REASONS = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints', 200: 'OK', 201: 'Created',
  202: 'Accepted', 204: 'No Content', 206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 404: 'Not Found', 407: 'Proxy Authentication Required',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};
/** Unusual but valid reason phrases (RFC 9112 §4: *( HTAB / SP / VCHAR / obs-text )); null: no SP at all. */
const ODD_REASONS = ['', null, '\xc7a va', 'Not\tFound', 'OK  ', 'two  spaces', '\xff\x80', '\t', 'a:b/c;d=e', ' '];
const BODY_STATUSES = [200, 200, 200, 201, 202, 206, 301, 302, 400, 404, 500, 503];
const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT'];
const EXTRA_FIELDS = [
  ['Date', 'Mon, 01 Jan 2024 00:00:00 GMT'],
  ['Server', 'fuzz/1.0'],
  ['Content-Type', 'text/plain; charset=utf-8'],
  ['Cache-Control', 'max-age=0, must-revalidate'],
  ['ETag', '"abc"'],
  ['Set-Cookie', 'a=1; Path=/'],
  ['Set-Cookie', 'b=2; HttpOnly'],
  ['Vary', 'Accept-Encoding'],
  ['X-Empty', ''],
  ['Link', '</style.css>; rel=preload; as=style'],
];
const TUNNEL_BYTES = ['', '\x81\x05hello', '\x16\x03\x01\x00\x05', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'SSH-2.0-x\r\n'];

/** A response: { version, code (string, as sent), reason (null: no SP), fields, body, ex (its exchange) }. */
function response(t, ex, version, status, reason = t.chance(0.8) ? REASONS[status] ?? 'Whatever' : t.pick(ODD_REASONS)) {
  const fields = [];
  const n = t.int(3);
  for (let i = 0; i < n; i++) fields.push([...t.pick(EXTRA_FIELDS)]);
  return { version, code: String(status), reason, fields, body: { kind: 'none' }, ex };
}

/** An interim response (HTTP/1.1 only: RFC 9110 §15.2, never sent to an HTTP/1.0 client). */
function interim(t, ex) {
  const status = t.pick([100, 100, 102, 103]);
  const r = response(t, ex, 'HTTP/1.1', status);
  if (status === 100) r.fields = [];
  if (status === 103) r.fields.push(['Link', '</a.js>; rel=preload; as=script']);
  return r;
}

/**
 * The final response to `ex.method`; sets ex.terminal when the connection ends after it (or
 * switches protocols: ex.upgrade).
 */
function finalResponse(t, ex) {
  const version = t.chance(0.9) ? 'HTTP/1.1' : 'HTTP/1.0';
  const method = ex.method;
  if (method === 'CONNECT') {
    if (t.chance(0.85)) {
      ex.terminal = ex.upgrade = true;
      return response(t, ex, version, 200, t.chance(0.5) ? 'Connection Established' : 'OK');
    }
    const r = response(t, ex, version, 407);
    r.fields.push(['Proxy-Authenticate', 'Basic realm="x"']);
    lengthBody(t, r);
    return persistence(t, r, ex);
  }
  const kind = t.int(10);
  if (method === 'GET' && kind === 0 && version === 'HTTP/1.1') {
    const r = response(t, ex, version, 101);
    r.fields.push(['Connection', 'Upgrade'], ['Upgrade', 'websocket']);
    ex.terminal = ex.upgrade = true;
    return r;
  }
  if (kind === 1) return persistence(t, response(t, ex, version, 204), ex);
  if (kind === 2) {
    const r = response(t, ex, version, 304);
    if (t.chance(0.5)) r.fields.push(['ETag', '"v2"']);
    if (t.chance(0.3)) r.fields.push(['Content-Length', String(t.int(100))]); // of the selected representation
    return persistence(t, r, ex);
  }
  const r = response(t, ex, version, t.pick(BODY_STATUSES));
  if (method === 'HEAD') {
    // The framing fields describe the body a GET would get; none is sent (RFC 9110 §9.3.2).
    const framing = t.int(3);
    if (framing === 0) r.fields.push(['Content-Length', String(t.int(1000))]);
    else if (framing === 1 && version === 'HTTP/1.1') r.fields.push(['Transfer-Encoding', 'chunked']);
    return persistence(t, r, ex);
  }
  const body = t.int(10);
  if (body < 5) lengthBody(t, r);
  else if (body < 8 && version === 'HTTP/1.1') {
    r.body = randomChunkedBody(t);
    r.fields.push(['Transfer-Encoding', 'chunked']);
  } else {
    // No framing field: the body runs until the connection closes (RFC 9112 §6.3 item 8).
    r.body = { kind: 'close', data: randomBody(t) };
    ex.terminal = true;
    return r;
  }
  return persistence(t, r, ex);
}

function lengthBody(t, r) {
  const data = randomBody(t);
  r.body = { kind: 'length', data };
  r.fields.splice(t.int(r.fields.length + 1), 0, ['Content-Length', String(data.length)]);
}

/** Connection management (RFC 9112 §9.3): keep-alive for HTTP/1.0, sometimes close; sets ex.terminal. */
function persistence(t, r, ex) {
  if (r.version === 'HTTP/1.0') {
    if (t.chance(0.6)) {
      r.fields.push(['Connection', t.pick(['keep-alive', 'Keep-Alive'])]);
      if (t.chance(0.5)) r.fields.push(['Keep-Alive', 'timeout=5, max=100']);
    } else ex.terminal = true;
  } else if (t.chance(0.1)) {
    r.fields.push(['Connection', 'close']);
    ex.terminal = true;
  } else if (t.chance(0.1)) {
    r.fields.push(['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5']);
  }
  return r;
}

/** One request method and its responses: { method, responses, terminal, upgrade }. */
function exchange(t) {
  const ex = { method: t.pick(METHODS), responses: [], terminal: false, upgrade: false };
  const interims = t.chance(ex.method === 'CONNECT' ? 0.05 : 0.2) ? 1 + t.int(2) : 0;
  for (let i = 0; i < interims; i++) ex.responses.push(interim(t, ex));
  ex.responses.push(finalResponse(t, ex));
  return ex;
}

/** The bytes of one response (latin1 string). */
export function serializeResponse(r) {
  return `${r.version} ${r.code}${r.reason === null ? '' : ` ${r.reason}`}\r\n${serializeFieldsAndBody(r)}`;
}

// ------------------------------------------------------------------------- mutations ----

/** generator.js's field-line mutations need a field line: a bare "HTTP/1.1 100 Continue" has none. */
const withFields = (f) => (t, r) => (r.fields.length > 0 ? f(t, r) : null);
const M = MESSAGE_MUTATIONS;

/** Structural mutations of one response: (t, res) -> name, or null when not applicable. */
const STRUCTURAL = {
  'dup-field': withFields(M['dup-field']),
  'reorder-fields': M['reorder-fields'],
  'name-case': withFields(M['name-case']),
  'cl-te-combo': M['cl-te-combo'],
  'chunk-size-edit': M['chunk-size-edit'],
  'trailer-cl': M['trailer-cl'],
  'obs-fold': withFields(M['obs-fold']),
  'status'(t, r) {
    r.code = t.pick(['099', '000', '1000', '20', '2OO', '100', '101', '103', '199', '204', '304', '600', '999', ' 200', '200\t']);
    return `status:${JSON.stringify(r.code)}`;
  },
  'reason'(t, r) {
    r.reason = t.pick(['\0', 'a\x01b', 'O\x7fK', 'x\ry', '\x1b[0m', 'OK\t\t', 'A B C', '\x85', null]);
    return 'reason';
  },
  'version'(t, r) {
    r.version = t.pick(['HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.10', 'http/1.1', 'HTTP/3.0', 'HTTP/1.1 ', 'HTTP/11']);
    return `version:${r.version}`;
  },
  'connection'(t, r) {
    r.fields.push(['Connection', t.pick(['close', 'close\t', 'Close', 'keep-alive', 'keep-alive\t', 'keep-alive, close', 'upgrade', 'TE, close'])]);
    return 'connection';
  },
  'upgrade'(t, r) {
    r.fields.push(['Connection', 'Upgrade'], ['Upgrade', t.pick(['websocket', 'h2c', ''])]);
    return 'upgrade';
  },
  'drop-framing'(t, r) {
    r.fields = r.fields.filter(([n]) => !/^(content-length|transfer-encoding)$/i.test(n));
    return 'drop-framing';
  },
  'cl-off-by-one'(t, r) {
    const i = r.fields.findIndex(([n]) => /^content-length$/i.test(n));
    if (i === -1) return null;
    const n = Number(r.fields[i][1]);
    r.fields[i][1] = String(t.chance(0.5) ? n + 1 : Math.max(0, n - 1));
    return 'cl-off-by-one';
  },
  'method'(t, r) {
    r.ex.method = t.pick(['GET', 'HEAD', 'CONNECT', 'POST']);
    return `method:${r.ex.method}`;
  },
};

/**
 * One stream: the responses to 1–3 pipelined requests (fewer when one ends the connection), then
 * with probability ~0.75 mutated. Returns { buf, methods, eof, mutations }.
 */
export function generateResponseStream(rng) {
  const t = tools(rng);
  const want = 1 + t.int(3);
  const exchanges = [];
  while (exchanges.length < want) {
    const ex = exchange(t);
    exchanges.push(ex);
    if (ex.terminal) break;
  }
  const mutations = [];
  const last = exchanges.at(-1);
  if (last.terminal && !last.upgrade && t.chance(0.05)) {
    exchanges.push(exchange(t)); // bytes after the end of the connection
    mutations.push('after-close');
  }
  const mode = t.int(4); // 0: valid, 1: structural, 2: bytewise, 3: both
  const responses = exchanges.flatMap((ex) => ex.responses);
  if (mode === 1 || mode === 3) mutateStructure(t, STRUCTURAL, responses, mutations);
  let s = responses.map(serializeResponse).join('');
  if (last.upgrade) s += t.pick(TUNNEL_BYTES);
  if (mode === 2 || mode === 3) s = mutateBytes(t, s, mutations);
  const eof = t.chance(0.9);
  return { buf: Buffer.from(s, 'latin1'), methods: exchanges.map((ex) => ex.method), eof, mutations };
}
