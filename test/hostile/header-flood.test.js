// Header floods: heads made of many small fields, or growing without end, are refused with 431 as
// soon as a limit is crossed — maxHeadersCount field lines, or maxHeaderSize bytes — without
// waiting for the end of the head or for headersTimeout, and never reach the handler; normal
// clients are served meanwhile. Limits hold exactly at their boundary.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CANNED_431,
  get,
  keel,
  nodeHttp,
  openMany,
  resourceCounts,
  serve,
  settleResources,
  sleep,
  waitForNoConnections,
} from './hostile.js';

const T = { timeout: 20_000 };
// headersTimeout is long: a 431 that came from it would be a 408, and would come late.
const OPTIONS = { headersTimeout: 10_000, requestTimeout: 20_000 };
const PROMPT_MS = 1500;

/** `count` small field lines `f<i>: v\r\n` starting at `from`. */
function fields(count, from = 0) {
  let text = '';
  for (let i = from; i < from + count; i++) text += `f${i}: v\r\n`;
  return text;
}

/**
 * Send a head that never ends: `first`, then `piece(k)` every `delay` ms until the server closes.
 * Resolves with { text, elapsed } (ms from the first byte to the close).
 */
async function floodHead(c, first, piece, delay = 5, max = 2000) {
  const startedAt = Date.now();
  await c.write(first);
  for (let k = 0; k < max && !c.ended; k++) {
    await c.write(piece(k));
    await sleep(delay);
  }
  await c.waitForClose(5000);
  return { text: c.text, elapsed: c.endedAt - startedAt };
}

test('100 connections flooding small fields (never ending the head): each gets 431 past 2000 fields, promptly; a normal client is served', T, async () => {
  const h = await serve((req, res) => res.end('served'), OPTIONS);
  try {
    const baseline = resourceCounts();
    const clients = await openMany(h, 100);
    // 100 fields (~800 bytes) per write: the count limit (2000) comes before the size limit (16 KiB).
    const attack = Promise.all(clients.map((c) => floodHead(c, 'GET / HTTP/1.1\r\nHost: a\r\n', (k) => fields(100, k * 100), 10)));
    const normal = await h.connect();
    await normal.write(get('/normal'));
    const [r] = await normal.waitForResponses(1, 3000);
    assert.equal(r.body.toString(), 'served');
    normal.destroy();

    for (const [i, result] of (await attack).entries()) {
      assert.equal(result.text, CANNED_431, `flooder #${i} received ${JSON.stringify(result.text)}`);
      assert.ok(result.elapsed < PROMPT_MS, `flooder #${i} closed after ${result.elapsed} ms`);
    }
    assert.equal(h.calls, 1, 'only the normal request reached the handler');
    await waitForNoConnections(h.server);
    await settleResources(baseline);
  } finally {
    await h.close();
  }
});

test('maxHeadersCount = 50: 50 field lines are served, 51 get 431 (the head sent whole)', T, async () => {
  const h = await serve((req, res) => res.end(`${req.rawHeaders.length / 2} fields`), OPTIONS);
  h.server.maxHeadersCount = 50;
  try {
    const ok = await h.connect();
    await ok.write(`GET / HTTP/1.1\r\nHost: a\r\n${fields(49)}\r\n`);
    assert.equal((await ok.waitForResponses(1, 3000))[0].body.toString(), '50 fields');

    const over = await h.connect();
    await over.write(`GET / HTTP/1.1\r\nHost: a\r\n${fields(50)}\r\n`);
    await over.waitForClose(3000);
    assert.equal(over.text, CANNED_431);
    assert.equal(h.calls, 1);
  } finally {
    await h.close();
  }
});

test('maxHeaderSize = 4096: a 4096-byte head is served, 4097 bytes get 431; a head growing without end gets 431 as it crosses 4 KiB', T, async () => {
  const MAX = 4096;
  const h = await serve((req, res) => res.end('served'), { ...OPTIONS, maxHeaderSize: MAX });
  try {
    // The limit counts the whole head, request-line to the final empty line: 4096 bytes are
    // served, 4097 are not.
    const start = 'GET / HTTP/1.1\r\nHost: a\r\n';
    const head = (size) => `${start}X-Pad: ${'p'.repeat(size - start.length - 'X-Pad: \r\n\r\n'.length)}\r\n\r\n`;
    assert.equal(head(MAX).length, MAX);
    const c = await h.connect();
    await c.write(head(MAX));
    assert.equal((await c.waitForResponses(1, 3000))[0].body.toString(), 'served');
    const c2 = await h.connect();
    await c2.write(head(MAX + 1));
    await c2.waitForClose(3000);
    assert.equal(c2.text, CANNED_431);

    const flooder = await h.connect();
    const result = await floodHead(flooder, start, (k) => `x-field-${k}: ${'v'.repeat(40)}\r\n`);
    assert.equal(result.text, CANNED_431);
    assert.ok(result.elapsed < PROMPT_MS, `closed after ${result.elapsed} ms`);

    // One field value that never ends: no line end ever comes, the size limit still applies.
    const endless = await h.connect();
    const r2 = await floodHead(endless, `${start}X-Endless: `, () => 'e'.repeat(100));
    assert.equal(r2.text, CANNED_431);
    assert.ok(r2.elapsed < PROMPT_MS, `closed after ${r2.elapsed} ms`);
    assert.equal(h.calls, 1);
  } finally {
    await h.close();
  }
});

test('parity: a head over maxHeaderSize (32 KiB of small fields) is 431 on node:http and on Keel', T, async () => {
  for (const impl of [nodeHttp, keel]) {
    const name = impl === keel ? 'keel' : 'node:http';
    const h = await serve((req, res) => res.end('served'), { ...OPTIONS, maxHeaderSize: 16384 }, impl);
    try {
      const c = await h.connect();
      await c.write(`GET / HTTP/1.1\r\nHost: a\r\n${'x-a: 0123456789abcdef0123456789\r\n'.repeat(1000)}\r\n`);
      await c.waitForClose(3000);
      assert.equal(c.text, CANNED_431, `${name} answered ${JSON.stringify(c.text)}`);
      assert.equal(h.calls, 0, name);
    } finally {
      await h.close();
    }
  }
});
