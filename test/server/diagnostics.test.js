// node:diagnostics_channel: the keel:server:* channels over real sockets — request:start before
// 'request', response:finish with ordered timings (also pipelined), error for a parse error,
// timeout for the headers and idle phases; and that nothing is marked when nobody subscribes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { withServer, fetchOne, get, sleep, waitUntil } from './raw.js';

const T = { timeout: 5000 };

/** Subscribe `names` for the duration of `fn(messages)`; messages are [name, message] in order. */
async function observe(names, fn) {
  const messages = [];
  const subscribers = names.map((name) => [name, (message) => messages.push([name, message])]);
  for (const [name, fn] of subscribers) diagnostics.subscribe(name, fn);
  try {
    return await fn(messages);
  } finally {
    for (const [name, fn] of subscribers) diagnostics.unsubscribe(name, fn);
  }
}

function assertTimings(timings) {
  for (const key of ['queuedMs', 'headersMs', 'handlerMs', 'writtenMs']) {
    assert.equal(typeof timings[key], 'number', key);
    assert.ok(Number.isFinite(timings[key]) && timings[key] >= 0, `${key} = ${timings[key]}`);
  }
  // The head is complete before the request is dispatched.
  assert.ok(timings.headersMs <= timings.queuedMs, `headersMs ${timings.headersMs} > queuedMs ${timings.queuedMs}`);
}

test('request:start before the request event, then response:finish with timings', T, async () => {
  await observe(['keel:server:request:start', 'keel:server:response:finish'], async (messages) => {
    let seenAtHandler = -1;
    const handler = (req, res) => {
      seenAtHandler = messages.length;
      setTimeout(() => res.end('ok'), 40);
    };
    await withServer(handler, {}, async (h) => {
      const [r] = await fetchOne(h, get('/a?b=1'));
      assert.equal(r.status, 200);
      await waitUntil(() => messages.length === 2, 1000, 'response:finish');
      assert.equal(seenAtHandler, 1, 'request:start was published before the request event');
      const [[startName, start], [finishName, finish]] = messages;
      assert.equal(startName, 'keel:server:request:start');
      assert.equal(finishName, 'keel:server:response:finish');
      assert.equal(start.request, h.requests[0]);
      assert.equal(start.request.url, '/a?b=1');
      assert.equal(start.response.req, start.request);
      assert.equal(start.socket, start.request.socket);
      assert.equal(finish.request, start.request);
      assert.equal(finish.response, start.response);
      assertTimings(finish.timings);
      assert.ok(finish.timings.handlerMs >= 30, `handlerMs ${finish.timings.handlerMs}`);
    });
  });
});

test('pipelined requests: one response:finish each, in order; a later one waits (writtenMs)', T, async () => {
  await observe(['keel:server:response:finish'], async (messages) => {
    const handler = (req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 50);
      else res.end('fast');
    };
    await withServer(handler, {}, async (h) => {
      const c = await h.connect();
      await c.write(get('/slow') + get('/fast'));
      const rs = await c.waitForResponses(2, 2000);
      assert.deepEqual(rs.map((r) => r.body.toString()), ['slow', 'fast']);
      await waitUntil(() => messages.length === 2, 1000, 'two response:finish');
      assert.deepEqual(messages.map(([, m]) => m.request.url), ['/slow', '/fast']);
      for (const [, m] of messages) assertTimings(m.timings);
      // '/fast' ended at once but was held behind '/slow'.
      assert.ok(messages[1][1].timings.writtenMs >= 30, `writtenMs ${messages[1][1].timings.writtenMs}`);
    });
  });
});

test('a parse error publishes keel:server:error with the ParseError and the socket', T, async () => {
  await observe(['keel:server:error'], async (messages) => {
    await withServer((req, res) => res.end('no'), {}, async (h) => {
      const c = await h.connect();
      await c.write('GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n');
      await c.waitForClose(2000);
      assert.match(c.text, /^HTTP\/1\.1 400 /);
      assert.equal(messages.length, 1);
      const [[, message]] = messages;
      assert.ok(message.error instanceof Error);
      assert.match(message.error.code, /^HPE_/);
      assert.ok(message.socket instanceof net.Socket);
      assert.equal(h.calls, 0);
    });
  });
});

test('headersTimeout publishes keel:server:timeout { phase: headers, afterMs ≥ the timeout }', T, async () => {
  await observe(['keel:server:timeout'], async (messages) => {
    await withServer((req, res) => res.end('no'), { headersTimeout: 200 }, async (h) => {
      const c = await h.connect();
      await c.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ');
      await c.waitForClose(2000);
      assert.match(c.text, /^HTTP\/1\.1 408 /);
      assert.equal(messages.length, 1);
      const [[, message]] = messages;
      assert.equal(message.phase, 'headers');
      assert.ok(message.afterMs >= 200, `afterMs ${message.afterMs}`);
      assert.ok(message.socket instanceof net.Socket);
    });
  });
});

test('keepAliveTimeout publishes keel:server:timeout { phase: idle }', T, async () => {
  await observe(['keel:server:timeout'], async (messages) => {
    await withServer((req, res) => res.end('ok'), { keepAliveTimeout: 150 }, async (h) => {
      const [r, c] = await fetchOne(h);
      assert.equal(r.status, 200);
      await c.waitForClose(2000);
      assert.equal(messages.length, 1);
      assert.equal(messages[0][1].phase, 'idle');
      assert.ok(messages[0][1].afterMs >= 150, `afterMs ${messages[0][1].afterMs}`);
    });
  });
});

test('no subscriber: responses carry no timing marks', T, async () => {
  let marks;
  await withServer((req, res) => {
    marks = res._marks;
    res.end('ok');
  }, {}, async (h) => {
    const [r] = await fetchOne(h);
    assert.equal(r.status, 200);
    assert.equal(marks, null);
  });
  await sleep(0);
});
