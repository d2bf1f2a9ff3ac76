// IncomingMessage and ServerResponse create their Readable / Writable state on first use (a GET
// nobody reads as a stream, and a response ended in one call that nobody listens to, cost no stream
// machinery). Whatever a handler does later must still see a Readable that ended and a Writable
// that finished: events added after end(), the stream getters, stream utilities, late reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable, Writable, finished } from 'node:stream';
import { finished as finishedPromise } from 'node:stream/promises';
import http from 'keel';

/** Serve one GET with `handler`; resolves with what the handler recorded once it settles. */
async function probe(handler, { method = 'GET', body } = {}) {
  let settle;
  const done = new Promise((resolve, reject) => (settle = { resolve, reject }));
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).then(settle.resolve, settle.reject);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const response = await fetch(`http://127.0.0.1:${server.address().port}/`, { method, body });
    const text = await response.text();
    const timeout = setTimeout(() => settle.reject(new Error('the handler never settled')), 2000);
    const recorded = await done;
    clearTimeout(timeout);
    return { text, recorded };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('req and res are a Readable and a Writable before any stream use', async () => {
  const { recorded } = await probe((req, res) => {
    const kinds = [req instanceof Readable, res instanceof Writable, req instanceof http.IncomingMessage];
    res.end('ok');
    return kinds;
  });
  assert.deepEqual(recorded, [true, true, true]);
});

test("a 'finish' or 'close' listener added after res.end() still hears it", async () => {
  const { text, recorded } = await probe(async (req, res) => {
    res.end('body');
    await once(res, 'finish');
    const afterFinish = [res.writableEnded, res.writableFinished];
    if (!res.destroyed) await once(res, 'close');
    return [...afterFinish, res.destroyed];
  });
  assert.equal(text, 'body');
  assert.deepEqual(recorded, [true, true, true]);
});

test('res.end() then the stream getters: ended at once, finished by the next tick', async () => {
  const { recorded } = await probe(async (req, res) => {
    res.end('x');
    const now = [res.writableEnded, res.headersSent, res.finished];
    await new Promise((r) => setImmediate(r));
    return [...now, res.writableFinished];
  });
  assert.deepEqual(recorded, [true, true, true, true]);
});

test('stream.finished(res) and finished(req) after the response resolve', async () => {
  const { recorded } = await probe(async (req, res) => {
    res.end('x');
    await finishedPromise(res);
    await finishedPromise(req);
    return [req.complete, req.readableEnded];
  });
  assert.deepEqual(recorded, [true, true]);
});

test("a body-less request read late (after the response) ends: 'end', async iteration", async () => {
  const { recorded } = await probe(async (req, res) => {
    res.end('x');
    await new Promise((r) => setTimeout(r, 20));
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    return [chunks.length, req.readableEnded, req.complete];
  });
  assert.deepEqual(recorded, [0, true, true]);
});

test("req.on('end') added after the response still fires (the body was discarded, as Node's _dump)", async () => {
  const { recorded } = await probe(async (req, res) => {
    res.end('x');
    await new Promise((r) => setTimeout(r, 20));
    await new Promise((resolve) => req.on('end', resolve));
    return 'ended';
  });
  assert.equal(recorded, 'ended');
});

test('a request body read after res.end() is still delivered whole', async () => {
  const { text, recorded } = await probe(async (req, res) => {
    res.end('early');
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    return Buffer.concat(chunks).toString();
  }, { method: 'POST', body: 'payload' });
  assert.equal(text, 'early');
  assert.equal(recorded, 'payload');
});

test('end(callback) and write() then end() take the Writable path: callback and finish in order', async () => {
  const events = [];
  const { text } = await probe(async (req, res) => {
    res.write('a');
    res.end('b', () => events.push('callback'));
    res.on('finish', () => events.push('finish'));
    await once(res, 'close');
  });
  assert.equal(text, 'ab');
  assert.deepEqual(events.sort(), ['callback', 'finish']);
});

test('finished(res, cb) registered before end() is called once', async () => {
  let calls = 0;
  await probe(async (req, res) => {
    const done = new Promise((resolve) => finished(res, (err) => {
      calls++;
      resolve(err);
    }));
    res.end('x');
    assert.equal(await done, undefined);
  });
  assert.equal(calls, 1);
});

// Body bytes that arrive before anyone uses the request as a stream are held as they are (no stream
// state) and handed over when the stream is first used, with Readable's backpressure rule.

test('a body that came with its head, read only later, arrives whole: data events, pipe and async iteration', async () => {
  const body = 'x'.repeat(3000) + 'end';
  for (const how of ['data', 'pipe', 'iterate']) {
    const { text, recorded } = await probe(async (req, res) => {
      await new Promise((r) => setTimeout(r, 20)); // the whole request was parsed meanwhile
      let received;
      if (how === 'data') {
        const chunks = [];
        req.on('data', (chunk) => chunks.push(chunk));
        await once(req, 'end');
        received = Buffer.concat(chunks).toString();
      } else if (how === 'pipe') {
        const chunks = [];
        const sink = new Writable({ write(chunk, _encoding, cb) { chunks.push(chunk); cb(); } });
        req.pipe(sink);
        await once(sink, 'finish');
        received = Buffer.concat(chunks).toString();
      } else {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        received = Buffer.concat(chunks).toString();
      }
      res.end('ok');
      return received;
    }, { method: 'POST', body });
    assert.equal(text, 'ok');
    assert.equal(recorded, body, how);
  }
});

test('a large body nobody reads yet is held only up to highWaterMark: the server stops reading the socket until the handler reads', async () => {
  const size = 4 * 1024 * 1024;
  let reqRef;
  let resRef;
  const server = http.createServer((req, res) => {
    reqRef = req;
    resRef = res;
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const net = await import('node:net');
  const client = net.connect(server.address().port, '127.0.0.1');
  client.on('error', () => {});
  try {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 'b');
    client.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    const pump = () => {
      while (written < size) {
        written += chunk.length;
        if (!client.write(chunk)) return client.once('drain', pump);
      }
    };
    pump();
    // Wait until the server stopped reading: the client's writes back up (kernel buffers full).
    const deadline = Date.now() + 3000;
    let last = -1;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (reqRef !== undefined && written === last && written < size) break;
      last = written;
    }
    assert.ok(reqRef !== undefined, 'the request was dispatched');
    assert.ok(written < size, `the server kept reading: ${written} of ${size} bytes taken without a reader`);
    assert.equal(reqRef.socket.isPaused(), true, 'the server paused the socket');
    // Now read: every byte arrives.
    let received = 0;
    for await (const piece of reqRef) received += piece.length;
    assert.equal(received, size);
    resRef.end('done');
  } finally {
    client.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
