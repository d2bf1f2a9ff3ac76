// keel/proxy behind a body parser: the request stream was read to its end and `req.body` set, so
// piping it would send nothing (and the upstream would wait for the declared Content-Length: the
// classic hang). The proxy serialises req.body again with a corrected Content-Length. The parser
// here is a tiny inline middleware, not keel/body.
//
//   npm run build && node --test test/app/proxy/parsed-body.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, gunzipSync } from 'node:zlib';

import { closedPort, collect, send, startProxy, startUpstream } from './helpers.js';

const T = { timeout: 5_000 }; // a hang would hit it

/** A body parser in front of the proxy: `parse(buffer, req)` gives req.body (undefined: leave it unset). */
function behindParser(parse) {
  return (proxy) => async (req, res) => {
    let data = await collect(req);
    if (req.headers['content-encoding'] === 'gzip') data = gunzipSync(data);
    const body = parse(data, req);
    if (body !== undefined) req.body = body;
    proxy(req, res);
  };
}

/** An upstream answering with what it received. */
function startEcho() {
  return startUpstream(async (req, res) => {
    const body = (await collect(req)).toString('latin1');
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
  });
}

async function withParser(parse, fn, options = {}) {
  const upstream = await startEcho();
  const front = await startProxy({ target: upstream.url, ...options }, { wrap: behindParser(parse) });
  try {
    await fn(front, upstream);
  } finally {
    await front.close();
    await upstream.close();
  }
}

const json = (data) => (data.length > 0 ? JSON.parse(data.toString()) : {});

test('a JSON body parsed before the proxy is sent again, with the original Content-Type', T, async () => {
  await withParser(json, async (front) => {
    const r = await send(front.port, { method: 'POST', path: '/j', headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': 22 } }, '{ "a": 1,  "b": "é" } ');
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body);
    assert.equal(Buffer.from(seen.body, 'latin1').toString(), '{"a":1,"b":"é"}');
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength('{"a":1,"b":"é"}')));
    assert.equal(seen.headers['content-type'], 'application/json; charset=utf-8');
  });
});

test('a body changed by the middleware goes as changed, chunked upload or not', T, async () => {
  const parse = (data) => ({ ...json(data), added: true });
  await withParser(parse, async (front) => {
    const r = await send(front.port, { method: 'PATCH', path: '/j', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, '{"a":1}');
    const seen = JSON.parse(r.body);
    assert.equal(seen.body, '{"a":1,"added":true}');
    assert.equal(seen.headers['content-length'], '20');
    assert.equal(seen.headers['transfer-encoding'], undefined);
  });
});

test('a string body (text parser) and a Buffer body (raw parser) go as they are', T, async () => {
  await withParser((data, req) => (req.url === '/text' ? data.toString() : data), async (front) => {
    const text = await send(front.port, { method: 'POST', path: '/text', headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 6 } }, 'héllo');
    const seenText = JSON.parse(text.body);
    assert.equal(Buffer.from(seenText.body, 'latin1').toString(), 'héllo');
    assert.equal(seenText.headers['content-length'], '6');
    assert.equal(seenText.headers['content-type'], 'text/plain; charset=utf-8');
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    const raw = await send(front.port, { method: 'PUT', path: '/raw', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': 5 } }, bytes);
    const seenRaw = JSON.parse(raw.body);
    assert.deepEqual(Buffer.from(seenRaw.body, 'latin1'), bytes);
    assert.equal(seenRaw.headers['content-length'], '5');
  });
});

test('a form-encoded body parsed into an object is form-encoded again', T, async () => {
  const parse = (data) => Object.fromEntries(new URLSearchParams(data.toString()));
  await withParser(parse, async (front) => {
    const r = await send(front.port, { method: 'POST', path: '/f', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': 15 } }, 'a=1&b=two+words');
    const seen = JSON.parse(r.body);
    assert.equal(seen.body, 'a=1&b=two+words');
    assert.equal(seen.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(seen.headers['content-length'], '15');
  });
});

test('a gzip body inflated by the parser goes without Content-Encoding', T, async () => {
  await withParser(json, async (front) => {
    const gz = gzipSync('{"z":26}');
    const r = await send(front.port, { method: 'POST', path: '/gz', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': gz.length } }, gz);
    const seen = JSON.parse(r.body);
    assert.equal(seen.body, '{"z":26}');
    assert.equal(seen.headers['content-encoding'], undefined);
    assert.equal(seen.headers['content-length'], '8');
  });
});

test('a GET whose empty body a parser read (req.body = {}) goes without a body', T, async () => {
  await withParser(json, async (front) => {
    const r = await send(front.port, { method: 'GET', path: '/g' });
    const seen = JSON.parse(r.body);
    assert.equal(seen.body, '');
    assert.equal(seen.headers['content-length'], undefined);
    assert.equal(seen.headers['transfer-encoding'], undefined);
  });
});

test('a body read by a middleware that did not set req.body: 500 ERR_PROXY_BODY_CONSUMED, not a hang', T, async () => {
  const errors = [];
  await withParser(() => undefined, async (front) => {
    const r = await send(front.port, { method: 'POST', path: '/lost', headers: { 'Content-Length': 3 } }, 'abc');
    assert.equal(r.status, 500);
    assert.equal(errors[0].code, 'ERR_PROXY_BODY_CONSUMED');
    assert.equal(errors[0].status, 500);
  }, { onError: (error, req, res) => {
    errors.push(error);
    res.writeHead(error.status);
    res.end();
  } });
});

test('a parsed body can be replayed: a PUT that found a dead upstream is retried on the next one', T, async () => {
  const upstream = await startEcho();
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const front = await startProxy({ upstreams: [dead, upstream.url] }, { wrap: behindParser(json) });
  try {
    const r = await send(front.port, { method: 'PUT', path: '/r', headers: { 'Content-Type': 'application/json', 'Content-Length': 7 } }, '{"r":1}');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).body, '{"r":1}');
  } finally {
    await front.close();
    await upstream.close();
  }
});
