// node:diagnostics_channel: the keel:client:* channels for GETs against a Keel server —
// connect (once per connection; tlsMs over TLS), request:start, response:headers and response:end
// (both carrying the request:start message), and error for a refused connection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import keelHttp from 'keel';
import { Pool, request } from 'keel/client';
import { closedPort, listen, rejection, shut } from './promise-support.js';

const T = { timeout: 10_000 };
const NAMES = ['keel:client:connect', 'keel:client:request:start', 'keel:client:response:headers', 'keel:client:response:end', 'keel:client:error'];

/** Subscribe every client channel for the duration of `fn(messages)`; messages are [name, message] in order. */
async function observe(fn) {
  const messages = [];
  const subscribers = NAMES.map((name) => [name, (message) => messages.push([name.slice('keel:client:'.length), message])]);
  for (const [name, fn] of subscribers) diagnostics.subscribe(name, fn);
  try {
    return await fn(messages);
  } finally {
    for (const [name, fn] of subscribers) diagnostics.unsubscribe(name, fn);
  }
}

function ms(value, what) {
  assert.equal(typeof value, 'number', what);
  assert.ok(Number.isFinite(value) && value >= 0, `${what} = ${value}`);
}

test('promise API GET: connect, request:start, response:headers, response:end; no reconnect when kept alive', T, async () => {
  const server = keelHttp.createServer((req, res) => setTimeout(() => res.end(`hello ${req.url}`), 20));
  const origin = await listen(server);
  const pool = new Pool(origin);
  try {
    await observe(async (messages) => {
      const res = await pool.request({ path: '/x?y=1' });
      assert.equal(await res.body.text(), 'hello /x?y=1');
      const names = messages.map(([name]) => name);
      assert.deepEqual([...names].sort(), ['connect', 'request:start', 'response:end', 'response:headers']);
      assert.ok(names.indexOf('request:start') < names.indexOf('response:headers'));
      assert.ok(names.indexOf('connect') < names.indexOf('response:headers'));
      assert.ok(names.indexOf('response:headers') < names.indexOf('response:end'));
      const get = (name) => messages.find(([n]) => n === name)[1];

      const connect = get('connect');
      assert.equal(connect.origin, origin);
      assert.ok(connect.socket instanceof net.Socket);
      ms(connect.connectMs, 'connectMs');
      assert.equal(connect.tlsMs, undefined);

      const start = get('request:start');
      assert.deepEqual(start, { method: 'GET', path: '/x?y=1', origin });

      const headers = get('response:headers');
      assert.equal(headers.statusCode, 200);
      assert.equal(headers.request, start);
      ms(headers.firstByteMs, 'firstByteMs');
      assert.ok(headers.firstByteMs >= 15, `firstByteMs ${headers.firstByteMs}`);

      const end = get('response:end');
      assert.equal(end.request, start);
      ms(end.bodyMs, 'bodyMs');

      // The same connection serves the next request: no second connect.
      messages.length = 0;
      const again = await pool.request({ method: 'HEAD', path: '/again' });
      await again.body.text();
      assert.deepEqual(messages.map(([name]) => name), ['request:start', 'response:headers', 'response:end']);
      assert.equal(messages[0][1].method, 'HEAD');
    });
  } finally {
    await pool.close?.();
    await shut(server);
  }
});

test('node-compatible http.get: the same four channels', T, async () => {
  const server = keelHttp.createServer((req, res) => res.end('ok'));
  const origin = await listen(server);
  const agent = new keelHttp.Agent({ keepAlive: false });
  try {
    await observe(async (messages) => {
      await new Promise((resolve, reject) => {
        keelHttp.get(`${origin}/node`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
      const names = messages.map(([name]) => name);
      assert.ok(names.includes('connect'));
      assert.deepEqual(names.filter((n) => n !== 'connect'), ['request:start', 'response:headers', 'response:end']);
      const start = messages.find(([n]) => n === 'request:start')[1];
      assert.deepEqual(start, { method: 'GET', path: '/node', origin });
    });
  } finally {
    agent.destroy();
    await shut(server);
  }
});

test('a refused connection publishes keel:client:error with the request', T, async () => {
  const port = await closedPort();
  await observe(async (messages) => {
    const err = await rejection(request(`http://127.0.0.1:${port}/nope`));
    assert.equal(err.code, 'ECONNREFUSED');
    const errors = messages.filter(([name]) => name === 'error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0][1].error, err);
    assert.equal(errors[0][1].request.path, '/nope');
    assert.ok(!messages.some(([name]) => name === 'connect'));
  });
});

test('over TLS, connect carries tlsMs', T, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keel-diag-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'pipe' });
  const key = readFileSync(path.join(dir, 'key.pem'));
  const cert = readFileSync(path.join(dir, 'cert.pem'));
  rmSync(dir, { recursive: true, force: true });
  const server = https.createServer({ key, cert }, (req, res) => res.end('tls'));
  const origin = await listen(server, 'https:');
  const pool = new Pool(origin, { tls: { ca: cert } });
  try {
    await observe(async (messages) => {
      const res = await pool.request({ path: '/' });
      assert.equal(await res.body.text(), 'tls');
      const connect = messages.find(([n]) => n === 'connect')[1];
      assert.equal(connect.origin, origin);
      ms(connect.connectMs, 'connectMs');
      ms(connect.tlsMs, 'tlsMs');
    });
  } finally {
    await pool.close?.();
    await shut(server);
  }
});
