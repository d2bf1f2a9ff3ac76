// keel/sse Channel: broadcast to every stream, streams leave when their client goes or falls
// behind (without slowing the others), close() ends them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { sse, createChannel, Channel } from 'keel/sse';
import { openStream, rawRequest, startServer, waitUntil, withTimeout } from './helpers.js';

/** A server whose every request joins `channel`; `byUrl` maps each request-target to its stream. */
async function channelServer(options = {}) {
  const channel = createChannel();
  const byUrl = new Map();
  const h = await startServer((req, res) => {
    const stream = sse(req, res, { heartbeat: 0, ...options });
    byUrl.set(req.url, stream);
    channel.add(stream);
  });
  return { channel, byUrl, h };
}

test('send() reaches every stream with the same bytes; add() is idempotent; a departed client leaves', async () => {
  const { channel, byUrl, h } = await channelServer();
  try {
    assert.ok(channel instanceof Channel);
    const clients = await Promise.all([openStream(h.port, '/0'), openStream(h.port, '/1'), openStream(h.port, '/2')]);
    await waitUntil(() => channel.size === 3, 3000, 'three streams');
    for (const stream of channel) channel.add(stream);
    assert.equal(channel.size, 3);
    assert.equal(channel.send({ event: 'news', id: '1', data: 'a\nb' }), 3);
    assert.equal(channel.comment('all'), 3);
    await waitUntil(() => clients.every((c) => c.parser.events.length === 1), 3000, 'the event everywhere');
    for (const c of clients) {
      assert.equal(c.text(), 'event: news\nid: 1\ndata: a\ndata: b\n\n: all\n\n');
    }
    const [gone, ...stay] = clients;
    const leaving = byUrl.get('/0');
    gone.close();
    await withTimeout(once(leaving, 'close'), 1000, 'the departed stream to close');
    assert.equal(channel.size, 2);
    assert.equal(channel.has(leaving), false);
    assert.equal(channel.send('second'), 2);
    await waitUntil(() => stay.every((c) => c.parser.events.length === 2), 3000, 'the second event');
    assert.throws(() => channel.send({ event: 'bad\n', data: 'x' }), { code: 'ERR_INVALID_CHAR' });
  } finally {
    channel.close();
    await h.close();
  }
});

test('delete() removes a stream without closing it; close() ends every stream and empties the channel', async () => {
  const { channel, byUrl, h } = await channelServer();
  try {
    const clients = await Promise.all([openStream(h.port, '/0'), openStream(h.port, '/1')]);
    await waitUntil(() => channel.size === 2, 3000, 'two streams');
    const [first, second] = [byUrl.get('/0'), byUrl.get('/1')];
    assert.equal(channel.delete(first), true);
    assert.equal(channel.delete(first), false);
    assert.equal(first.closed, false);
    assert.equal(channel.send('only the second'), 1);
    const reasons = [];
    second.on('close', (r) => reasons.push(r));
    channel.close();
    assert.equal(channel.size, 0);
    assert.deepEqual(reasons, [null]);
    await clients[1].done();
    assert.equal(clients[1].text(), 'data: only the second\n\n');
    first.send('still mine');
    first.close();
    await clients[0].done();
    assert.equal(clients[0].text(), 'data: still mine\n\n');
  } finally {
    channel.close();
    await h.close();
  }
});

test('a client that never reads is dropped from the channel while the others keep receiving', async () => {
  const { channel, byUrl, h } = await channelServer({ maxBufferedBytes: 128 * 1024 });
  const slow = rawRequest(h.port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  slow.socket.pause();
  let timer;
  try {
    const fast = await openStream(h.port, '/fast');
    await waitUntil(() => channel.size === 2, 3000, 'two streams');
    const slowSocket = byUrl.get('/slow').req.socket;
    const reasons = [];
    for (const stream of channel) stream.on('close', (r) => reasons.push(r?.code));
    const data = 'z'.repeat(16 * 1024);
    let sent = 0;
    // Broadcast at a pace the reading client keeps up with; the silent one falls behind.
    timer = setInterval(() => {
      for (let i = 0; i < 4; i++) {
        channel.send({ id: String(++sent), data });
      }
    }, 2);
    await waitUntil(() => reasons.includes('ERR_SSE_CLIENT_TOO_SLOW'), 15000, 'the silent client to be dropped');
    clearInterval(timer);
    assert.equal(channel.size, 1);
    assert.deepEqual(reasons, ['ERR_SSE_CLIENT_TOO_SLOW']);
    await waitUntil(() => fast.parser.events.length === sent, 10000, 'every event at the reading client');
    assert.equal(fast.parser.lastEventId, String(sent));
    assert.equal(byUrl.get('/slow').reason.code, 'ERR_SSE_CLIENT_TOO_SLOW');
    assert.equal(byUrl.get('/fast').closed, false);
    assert.equal(slowSocket.destroyed, true, "the silent client's connection is closed");
  } finally {
    clearInterval(timer);
    channel.close();
    slow.socket.destroy();
    await h.close();
  }
});
