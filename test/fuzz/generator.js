// Seeded generator of HTTP/1.1 request streams for differential fuzzing (test/fuzz/fuzz-diff.js).
//
// - mulberry32(seed): a small, fast, seeded PRNG; the same seed always gives the same streams.
// - validRequest(rng): one request as a structure { method, target, version, fields, body }.
// - serialize(req): its bytes.
// - generateStream(rng): a pipeline of 1–3 requests, then with some probability one or more
//   structural mutations (duplicated / reordered field lines, name case changes, Content-Length and
//   Transfer-Encoding combinations, chunk-size edits) and byte mutations (flips, inserted CR / LF /
//   SP / HTAB / NUL, truncation). Returns { buf, mutations: [names] }.
//
// Shared with the response generator (response-generator.js): tools, randomBody, randomChunkedBody,
// serializeBody, MESSAGE_MUTATIONS (structural mutations of any message with `fields` and `body`),
// mutateStructure and mutateBytes. Refactoring them must not change the request streams a seed gives
// (every rng call stays in the same order).

/** mulberry32: a 32-bit seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over an rng. */
export function tools(rng) {
  const int = (n) => Math.floor(rng() * n);
  const pick = (arr) => arr[int(arr.length)];
  const chance = (p) => rng() < p;
  return { int, pick, chance };
}

const METHODS_BODYLESS = ['GET', 'HEAD', 'DELETE', 'OPTIONS'];
const METHODS_BODY = ['POST', 'PUT', 'PATCH'];
const TARGETS = ['/', '/index.html', '/a/b/c?x=1&y=2', '/search?q=%20hello', '/api/v1/items/42', '/~user/file.txt',
  '/path;param', '/a%2Fb', '/?', '/x#frag'];
const HOSTS = ['example.com', 'localhost:8080', '127.0.0.1', '[::1]:3000', 'a.b.c.example'];
const EXTRA_FIELDS = [
  ['Accept', '*/*'],
  ['User-Agent', 'fuzz/1.0'],
  ['Accept-Encoding', 'gzip, deflate'],
  ['Cookie', 'a=1; b=2'],
  ['X-Request-Id', 'abc-123'],
  ['Cache-Control', 'no-cache'],
  ['Accept-Language', 'en-US,en;q=0.9'],
  ['X-Empty', ''],
  ['Referer', 'http://example.com/'],
  ['Connection', 'keep-alive'],
];
const BODY_BYTES = 'abcdefghijklmnopqrstuvwxyz0123456789 \r\n{}":,';
const CHUNK_EXTS = [';a=b', ';name', ';q="quoted"', ' ;x=1', ';a=b;c=d'];
const TRAILERS = [['X-Trailer', 'done'], ['Expires', '0'], ['Server-Timing', 'db;dur=1']];

/** A random body of 0..max bytes (latin1 string) drawn from BODY_BYTES. */
export function randomBody(t, max = 40) {
  let s = '';
  const n = t.int(max + 1);
  for (let i = 0; i < n; i++) s += t.pick(BODY_BYTES.split(''));
  return s;
}

/** One valid request (as Keel and llhttp should both accept it, alone on a connection). */
export function validRequest(rng) {
  const t = tools(rng);
  const withBody = t.chance(0.5);
  const method = withBody ? t.pick(METHODS_BODY) : t.pick(METHODS_BODYLESS);
  const target = method === 'OPTIONS' && t.chance(0.3) ? '*' : t.pick(TARGETS);
  const version = t.chance(0.9) ? 'HTTP/1.1' : 'HTTP/1.0';
  const fields = [['Host', t.pick(HOSTS)]];
  const nExtra = t.int(4);
  for (let i = 0; i < nExtra; i++) fields.push([...t.pick(EXTRA_FIELDS)]);
  if (version === 'HTTP/1.0' && t.chance(0.5)) fields.push(['Connection', 'keep-alive']);
  // Host need not come first.
  if (t.chance(0.3)) fields.push(fields.shift());
  let body = { kind: 'none' };
  if (withBody) {
    if (version === 'HTTP/1.1' && t.chance(0.5)) {
      body = randomChunkedBody(t);
      fields.push(['Transfer-Encoding', 'chunked']);
    } else {
      const data = randomBody(t);
      body = { kind: 'length', data };
      fields.push(['Content-Length', String(data.length)]);
    }
  }
  if (t.chance(0.3)) fields.push(fields.splice(t.int(fields.length), 1)[0]);
  return { method, target, version, fields, body };
}

/**
 * A chunked body: 0–3 chunks (some with extensions, some sizes in upper case), maybe a trailer and
 * an extension on the last-chunk. { kind: 'chunked', chunks: [{ data, ext, upper, sizeOverride? }],
 * trailers: [[name, value]], lastExt }.
 */
export function randomChunkedBody(t) {
  const chunks = [];
  const n = t.int(4);
  for (let i = 0; i < n; i++) {
    const data = randomBody(t, 20) || 'x';
    chunks.push({ data, ext: t.chance(0.2) ? t.pick(CHUNK_EXTS) : '', upper: t.chance(0.3) });
  }
  const trailers = t.chance(0.2) ? [[...t.pick(TRAILERS)]] : [];
  return { kind: 'chunked', chunks, trailers, lastExt: t.chance(0.1) ? t.pick(CHUNK_EXTS) : '' };
}

/** The bytes of one request (latin1 string). */
export function serialize(req) {
  return `${req.method} ${req.target} ${req.version}\r\n${serializeFieldsAndBody(req)}`;
}

/** Field lines, the empty line, then the body (latin1 string): the part requests and responses share. */
export function serializeFieldsAndBody(msg) {
  let s = '';
  for (const [n, v] of msg.fields) s += `${n}: ${v}\r\n`;
  return `${s}\r\n${serializeBody(msg.body)}`;
}

/**
 * The bytes of a body: { kind: 'none' }, { kind: 'length' | 'close', data } (as is), or a chunked
 * body (chunks, last-chunk, trailer section).
 */
export function serializeBody(b) {
  if (b.kind === 'length' || b.kind === 'close') return b.data;
  if (b.kind !== 'chunked') return '';
  let s = '';
  for (const c of b.chunks) {
    const size = c.sizeOverride ?? Buffer.byteLength(c.data, 'latin1').toString(16);
    s += `${c.upper ? size.toUpperCase() : size}${c.ext}\r\n${c.data}\r\n`;
  }
  s += `0${b.lastExt}\r\n`;
  for (const [n, v] of b.trailers) s += `${n}: ${v}\r\n`;
  return `${s}\r\n`;
}

// ------------------------------------------------------------------------- mutations ----

/**
 * Structural mutations of any message (request or response) with `fields` and a `body` as
 * randomChunkedBody / { kind: 'length', data } makes: (t, msg) -> name, or null when not applicable.
 * Field-line mutations expect at least one field line.
 */
export const MESSAGE_MUTATIONS = {
  'dup-field'(t, msg) {
    const i = t.int(msg.fields.length);
    msg.fields.splice(i + 1, 0, [...msg.fields[i]]);
    return `dup-field:${msg.fields[i][0].toLowerCase()}`;
  },
  'reorder-fields'(t, msg) {
    for (let i = msg.fields.length - 1; i > 0; i--) {
      const j = t.int(i + 1);
      [msg.fields[i], msg.fields[j]] = [msg.fields[j], msg.fields[i]];
    }
    return 'reorder-fields';
  },
  'name-case'(t, msg) {
    const i = t.int(msg.fields.length);
    const f = msg.fields[i];
    f[0] = t.pick([f[0].toUpperCase(), f[0].toLowerCase(),
      f[0].split('').map((c) => (t.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('')]);
    return 'name-case';
  },
  'cl-te-combo'(t, msg) {
    const len = msg.body.kind === 'length' ? msg.body.data.length : t.int(20);
    const combos = [
      [['Content-Length', String(len)], ['Transfer-Encoding', 'chunked']],
      [['Transfer-Encoding', 'chunked'], ['Content-Length', String(len)]],
      [['Content-Length', `${len}, ${len}`]],
      [['Content-Length', String(len)], ['Content-Length', String(len + 1)]],
      [['Content-Length', String(len)], ['Content-Length', String(len)]],
      [['Content-Length', `${len}\t`]],
      [['Content-Length', `+${len}`]],
      [['Content-Length', `0x${len.toString(16)}`]],
      [['Content-Length', '']],
      [['Transfer-Encoding', 'gzip, chunked']],
      [['Transfer-Encoding', 'chunked, gzip']],
      [['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'chunked']],
      [['Transfer-Encoding', 'identity']],
      [['Transfer-Encoding', '']],
      [['Transfer-Encoding', 'CHUNKED']],
      [['Transfer-Encoding', ' chunked']],
      [['Transfer-Encoding', 'xchunked']],
    ];
    const extra = t.pick(combos);
    if (t.chance(0.5)) {
      msg.fields = msg.fields.filter(([n]) => !/^(content-length|transfer-encoding)$/i.test(n));
    }
    for (const f of extra) msg.fields.splice(t.int(msg.fields.length + 1), 0, [...f]);
    return `cl-te:${extra.map(([n, v]) => `${n === 'Content-Length' ? 'CL' : 'TE'}=${JSON.stringify(v)}`).join('+')}`;
  },
  'chunk-size-edit'(t, msg) {
    if (msg.body.kind !== 'chunked' || msg.body.chunks.length === 0) return null;
    const c = t.pick(msg.body.chunks);
    const real = c.data.length;
    c.sizeOverride = t.pick([
      (real + 1).toString(16), Math.max(0, real - 1).toString(16), `0${real.toString(16)}`,
      `${real.toString(16)} `, `-${real.toString(16)}`, `0x${real.toString(16)}`, 'fffffffffffffffff', '',
      `${real.toString(16)}\t`,
    ]);
    return 'chunk-size-edit';
  },
  'trailer-cl'(t, msg) {
    if (msg.body.kind !== 'chunked') return null;
    msg.body.trailers.push(['Content-Length', String(t.int(10))]);
    return 'trailer-cl';
  },
  'obs-fold'(t, msg) {
    const i = t.int(msg.fields.length);
    msg.fields[i][1] += t.pick(['\r\n continued', '\r\n\tcontinued']);
    return 'obs-fold';
  },
};

/** Structural mutations of one request (the message ones, then request-line, Host, Connection edits). */
const M = MESSAGE_MUTATIONS;
const STRUCTURAL = {
  // The key order is the order t.pick() draws from: it must stay as it was for the seeds to hold.
  'dup-field': M['dup-field'],
  'reorder-fields': M['reorder-fields'],
  'name-case': M['name-case'],
  'cl-te-combo': M['cl-te-combo'],
  'chunk-size-edit': M['chunk-size-edit'],
  'trailer-cl': M['trailer-cl'],
  'version'(t, req) {
    req.version = t.pick(['HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.10', 'http/1.1', 'HTTP/3.0']);
    return `version:${req.version}`;
  },
  'method'(t, req) {
    req.method = t.pick(['get', 'FOO', 'PROPFIND', 'M-SEARCH', 'CONNECT', 'PRI', 'G ET', 'GET\t']);
    return `method:${req.method}`;
  },
  'host'(t, req) {
    const v = t.pick(['', 'a b', 'user@host', 'host/path', 'h:port', 'a.com, b.com', 'ok.example']);
    if (t.chance(0.5)) req.fields = req.fields.filter(([n]) => n.toLowerCase() !== 'host');
    req.fields.push(['Host', v]);
    return 'host';
  },
  'obs-fold': M['obs-fold'],
  'connection'(t, req) {
    req.fields.push(['Connection', t.pick(['close', 'close\t', 'Close', 'keep-alive, close', 'upgrade'])]);
    return 'connection';
  },
};

const INSERT_BYTES = ['\r', '\n', ' ', '\t', '\0', '\r\n', ':'];

/** Byte mutations of the whole stream: (t, str) -> [str, name]. */
export const BYTEWISE = {
  flip(t, s) {
    const i = t.int(s.length);
    const c = s.charCodeAt(i) ^ (1 << t.int(8));
    return [s.slice(0, i) + String.fromCharCode(c) + s.slice(i + 1), 'flip'];
  },
  insert(t, s) {
    const i = t.int(s.length + 1);
    const b = t.pick(INSERT_BYTES);
    return [s.slice(0, i) + b + s.slice(i), `insert:${JSON.stringify(b)}`];
  },
  delete(t, s) {
    const i = t.int(s.length);
    return [s.slice(0, i) + s.slice(i + 1), 'delete'];
  },
  truncate(t, s) {
    return [s.slice(0, t.int(s.length)), 'truncate'];
  },
};

/**
 * One stream: a pipeline of 1–3 valid requests; with probability ~0.75 mutated (structural
 * mutations on a random request, then byte mutations on the stream).
 */
export function generateStream(rng) {
  const t = tools(rng);
  const n = 1 + t.int(3);
  const reqs = Array.from({ length: n }, () => validRequest(rng));
  const mutations = [];
  const mode = t.int(4); // 0: valid, 1: structural, 2: bytewise, 3: both
  if (mode === 1 || mode === 3) mutateStructure(t, STRUCTURAL, reqs, mutations);
  let s = reqs.map(serialize).join('');
  if (mode === 2 || mode === 3) s = mutateBytes(t, s, mutations);
  return { buf: Buffer.from(s, 'latin1'), mutations };
}

/** 1–2 mutations drawn from `table`, each applied to a random message of `msgs`; names appended to `mutations`. */
export function mutateStructure(t, table, msgs, mutations) {
  const k = 1 + t.int(2);
  const names = Object.keys(table);
  for (let i = 0; i < k; i++) {
    const m = table[t.pick(names)](t, t.pick(msgs));
    if (m) mutations.push(m);
  }
}

/** 1–2 byte mutations of the stream `s` (truncation 1 time in 10); returns the new stream, names appended to `mutations`. */
export function mutateBytes(t, s, mutations) {
  const k = 1 + t.int(2);
  const names = Object.keys(BYTEWISE);
  for (let i = 0; i < k; i++) {
    const name = t.chance(0.1) ? 'truncate' : t.pick(names.filter((x) => x !== 'truncate'));
    const [next, m] = BYTEWISE[name](t, s);
    s = next;
    mutations.push(m);
  }
  return s;
}

/** Printable form of a stream: \r \n \t \0 \\ and \xHH for other non-printables (the oracle's -e syntax). */
export function escapeBytes(buf) {
  let out = '';
  for (const b of buf) {
    if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x00) out += '\\0';
    else if (b === 0x5c) out += '\\\\';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}
