// The serverTiming option: `Server-Timing: total;dur=<ms>` (W3C Server Timing) on every head Keel
// renders, measured from the parsed request head; absent by default; the handler's own
// Server-Timing fields are kept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, fetchOne, get } from './raw.js';

const T = { timeout: 5000 };

test('serverTiming: true adds Server-Timing: total;dur=<ms> covering the handler', T, async () => {
  const handler = (req, res) => setTimeout(() => res.end('ok'), 40);
  await withServer(handler, { serverTiming: true }, async (h) => {
    const [r] = await fetchOne(h, get('/'));
    assert.equal(r.status, 200);
    const value = r.headers['server-timing'];
    assert.match(value, /^total;dur=\d+\.\d$/);
    const dur = Number(value.slice('total;dur='.length));
    assert.ok(dur >= 30 && dur < 2000, `dur ${dur}`);
  });
});

test('serverTiming: also on chunked and HEAD responses; the handler\'s own field is kept', T, async () => {
  const handler = (req, res) => {
    res.setHeader('Server-Timing', 'db;dur=1');
    res.write('a');
    res.end('b');
  };
  await withServer(handler, { serverTiming: true }, async (h) => {
    const c = await h.connect();
    await c.write(get('/'));
    const [r] = await c.waitForResponses(1, 2000);
    assert.equal(r.body.toString(), 'ab');
    assert.match(c.text, /\r\nServer-Timing: db;dur=1\r\n(?:.*\r\n)*Server-Timing: total;dur=\d+\.\d\r\n/);
  });
});

test('Server-Timing is absent by default', T, async () => {
  await withServer((req, res) => res.end('ok'), {}, async (h) => {
    const [r] = await fetchOne(h);
    assert.equal(r.status, 200);
    assert.equal(r.headers['server-timing'], undefined);
  });
});
