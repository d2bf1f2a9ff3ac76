// Correctness checks of the server section (bench/run.js): before every measured run, the server
// under test is asked the scenario's requests over a raw socket and its answers are checked
// (status, content type, body byte for byte, the number of responses to pipelined requests). A
// failed check is reported with the round and, for Keel, makes the exit status 2.
//
// Every exchange ends when the expected number of complete responses has arrived (or the server
// closes the connection), so servers that keep the connection open after `Connection: close`
// are checked the same way as those that close it.

import { readFileSync } from 'node:fs';
import net from 'node:net';
import { isDeepStrictEqual } from 'node:util';

export const HOST = '127.0.0.1'; // all traffic stays on loopback

/**
 * Writes `payload` on a fresh connection and collects the answer until `responses` complete
 * responses have arrived (then the connection is closed) or the server closes it.
 */
export function rawExchange(port, payload, { responses = null, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: HOST, port });
    const chunks = [];
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => {
      const buf = Buffer.concat(chunks);
      let complete = 0;
      try {
        complete = parseResponses(buf).length;
      } catch {
        // incomplete
      }
      const what = complete > 0 && responses === null
        ? `the server did not close the connection within ${timeoutMs} ms (after ${complete} complete response(s))`
        : `no complete response within ${timeoutMs} ms (got ${buf.length} bytes)`;
      finish(new Error(what));
    }, timeoutMs);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => {
      chunks.push(d);
      if (responses === null) return;
      const buf = Buffer.concat(chunks);
      let parsed;
      try {
        parsed = parseResponses(buf);
      } catch {
        return; // not complete yet
      }
      if (parsed.length >= responses) finish(null, buf);
    });
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(null, Buffer.concat(chunks)));
  });
}

/** Splits a byte stream into HTTP/1.1 responses (Content-Length or chunked bodies); bodies are Buffers. */
export function parseResponses(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd === -1) throw new Error(`truncated response head: ${JSON.stringify(buf.subarray(pos, pos + 200).toString('latin1'))}`);
    const lines = buf.subarray(pos, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let p = headEnd + 4;
    let body;
    if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      for (;;) {
        const le = buf.indexOf('\r\n', p, 'latin1');
        if (le === -1) throw new Error('truncated chunked body');
        const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        p = le + 2;
        if (size === 0) {
          const te = buf.indexOf('\r\n\r\n', p - 2, 'latin1');
          if (te === -1) throw new Error('truncated chunked trailer');
          p = te + 4;
          break;
        }
        if (p + size + 2 > buf.length) throw new Error('truncated chunk');
        parts.push(buf.subarray(p, p + size));
        p += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = buf.subarray(p, p + n);
      if (body.length !== n) throw new Error('truncated body');
      p += n;
    } else {
      body = buf.subarray(p);
      p = buf.length;
    }
    out.push({ status: Number(m[1]), headers, body });
    pos = p;
  }
  return out;
}

function expectHello(r, what) {
  if (r.status !== 200) throw new Error(`${what}: status ${r.status}, expected 200`);
  if (!/^text\/plain/.test(r.headers['content-type'] || '')) throw new Error(`${what}: content-type ${JSON.stringify(r.headers['content-type'])}`);
  const body = r.body.toString('utf8');
  if (body !== 'Hello World') throw new Error(`${what}: body ${JSON.stringify(body.slice(0, 100))}`);
}

// The JSON API (all frameworks): on one connection, pipelined, POST /api/items/<id> with the
// 1 KiB body for every id lua/api-post.lua uses (200, application/json, exactly
// {"id":<id>,"received":<keys>,"ok":true}), then GET /api/users/42 (200, {"id":42,...}: the
// routes are really routed) and GET /api/nope (404).
async function checkApi(port, { jsonBodyFile, apiIds }) {
  const host = `Host: ${HOST}:${port}\r\n`;
  const body = readFileSync(jsonBodyFile);
  const received = Object.keys(JSON.parse(body.toString('utf8'))).length;
  const parts = [];
  for (const id of apiIds) {
    parts.push(
      Buffer.from(`POST /api/items/${id} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`),
      body,
    );
  }
  parts.push(Buffer.from(`GET /api/users/42 HTTP/1.1\r\n${host}\r\n`));
  parts.push(Buffer.from(`GET /api/nope HTTP/1.1\r\n${host}Connection: close\r\n\r\n`));
  const expected = apiIds.length + 2;
  const rs = parseResponses(await rawExchange(port, Buffer.concat(parts), { responses: expected }));
  if (rs.length !== expected) throw new Error(`API: got ${rs.length} responses to ${expected} pipelined requests`);
  const jsonOf = (r, what) => {
    const text = r.body.toString('utf8');
    if (r.status !== 200) throw new Error(`${what}: status ${r.status}, expected 200 (body ${JSON.stringify(text.slice(0, 100))})`);
    if (!/^application\/json/.test(r.headers['content-type'] || '')) throw new Error(`${what}: content-type ${JSON.stringify(r.headers['content-type'])}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${what}: body is not JSON: ${JSON.stringify(text.slice(0, 100))}`);
    }
  };
  apiIds.forEach((id, i) => {
    const what = `POST /api/items/${id}`;
    const got = jsonOf(rs[i], what);
    const want = { id, received, ok: true };
    if (!isDeepStrictEqual(got, want)) throw new Error(`${what}: body ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  });
  const user = jsonOf(rs[apiIds.length], 'GET /api/users/42');
  if (user === null || typeof user !== 'object' || user.id !== 42) throw new Error(`GET /api/users/42: body ${JSON.stringify(user)}, expected id 42`);
  const missing = rs[apiIds.length + 1];
  if (missing.status !== 404) throw new Error(`GET /api/nope: status ${missing.status}, expected 404`);
}

// The static file: GET <path> -> 200, Content-Length = the file's size, the file's bytes.
async function checkStatic(port, { staticPath, staticBytes }) {
  const req = `GET ${staticPath} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nConnection: close\r\n\r\n`;
  const rs = parseResponses(await rawExchange(port, req, { responses: 1, timeoutMs: 10000 }));
  if (rs.length !== 1) throw new Error(`static GET: got ${rs.length} responses, expected 1`);
  const r = rs[0];
  if (r.status !== 200) throw new Error(`static GET ${staticPath}: status ${r.status}, expected 200`);
  if (r.headers['content-length'] !== String(staticBytes.length)) {
    throw new Error(`static GET: content-length ${JSON.stringify(r.headers['content-length'])}, expected ${staticBytes.length}`);
  }
  if (!r.body.equals(staticBytes)) throw new Error('static GET: body differs from the file');
}

/**
 * Checks the server on `port` answers `scenario` correctly; throws an Error saying what is wrong.
 * ctx: { jsonBodyFile, apiIds, pipelineDepth, staticPath, staticBytes }.
 */
export async function checkServer(scenario, port, ctx) {
  const host = `Host: ${HOST}:${port}\r\n`;
  if (scenario.id === 'api') {
    await checkApi(port, ctx);
  } else if (scenario.id === 'static') {
    await checkStatic(port, ctx);
  } else if (scenario.id === 'json') {
    const body = readFileSync(ctx.jsonBodyFile);
    const req = Buffer.concat([
      Buffer.from(
        `POST / HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ]);
    const rs = parseResponses(await rawExchange(port, req, { responses: 1 }));
    if (rs.length !== 1) throw new Error(`JSON POST: got ${rs.length} responses, expected 1`);
    const r = rs[0];
    if (r.status !== 200) throw new Error(`JSON POST: status ${r.status}`);
    if (!/^application\/json/.test(r.headers['content-type'] || '')) throw new Error(`JSON POST: content-type ${JSON.stringify(r.headers['content-type'])}`);
    if (!r.body.equals(body)) throw new Error('JSON POST: echoed body differs from the request body');
  } else if (scenario.id === 'pipeline') {
    const depth = ctx.pipelineDepth;
    const one = `GET / HTTP/1.1\r\n${host}\r\n`;
    const req = one.repeat(depth) + `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`;
    const rs = parseResponses(await rawExchange(port, req, { responses: depth + 1 }));
    if (rs.length !== depth + 1) throw new Error(`pipelined GET: got ${rs.length} responses, expected ${depth + 1}`);
    rs.forEach((r, i) => expectHello(r, `pipelined GET #${i + 1}`));
  } else {
    // Connection: close must really close (wrk reconnects only when the response says
    // `Connection: close`; a server that kept the connection would be measured on keep-alive):
    // in the close scenario the exchange waits for the server to close it.
    const close = scenario.id === 'close';
    const rs = parseResponses(await rawExchange(port, `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`, { responses: close ? null : 1 }));
    if (rs.length !== 1) throw new Error(`GET: got ${rs.length} responses, expected 1`);
    expectHello(rs[0], 'GET');
    if (close && !/\bclose\b/i.test(rs[0].headers.connection || '')) {
      throw new Error(`GET with Connection: close: the response has connection ${JSON.stringify(rs[0].headers.connection)}, expected close`);
    }
  }
}
