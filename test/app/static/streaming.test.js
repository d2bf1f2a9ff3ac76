// keel/static: bodies are streamed with backpressure. A large file arrives whole and intact; a client
// that stops reading stops the reads (the server does not buffer the file); a client that goes away
// gets its file stream destroyed and its descriptor closed once (watched in /proc/self/fd).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import fs, { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from 'keel/static';
import { waitUntil, sleep } from '../../server/raw.js';
import { makeTree, request, serving, fdsOf, fdsOpenOn, settled } from './fixtures.js';

const BIG_BYTES = 48 * 1024 * 1024;
let tree;
let bigPath;
let bigHash;

before(() => {
  tree = makeTree({});
  bigPath = join(tree.root, 'big.bin');
  const block = randomBytes(1024 * 1024);
  const blocks = [];
  for (let i = 0; i < BIG_BYTES / block.length; i++) {
    const copy = Buffer.from(block);
    copy.writeUInt32BE(i, 0); // every MiB differs
    blocks.push(copy);
  }
  const data = Buffer.concat(blocks);
  writeFileSync(bigPath, data);
  bigHash = createHash('sha256').update(data).digest('hex');
});
after(() => tree.cleanup());

/** Connect, send a GET for `target`, and do not read: the socket is paused from the start. */
function stalledClient(port, target, extra = '') {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      socket.pause();
      socket.write(`GET ${target} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

test('a 48 MiB file arrives whole (hash compared)', async () => {
  await serving(serveStatic(tree.root), async (port) => {
    const res = await request(port, '/big.bin', { timeout: 20_000 });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(BIG_BYTES));
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(createHash('sha256').update(res.body).digest('hex'), bigHash);
  });
});

test('backpressure: a client that does not read holds the server to a bounded amount', async () => {
  const handler = serveStatic(tree.root);
  let response = null;
  await serving((req, res) => {
    response = res;
    return handler(req, res);
  }, async (port, h) => {
    const client = await stalledClient(port, '/big.bin');
    try {
      await waitUntil(() => h.sockets.size === 1 && response !== null, 2000, 'the connection');
      const [serverSocket] = h.sockets;
      // What the server has queued (in the socket and in the response) stops growing, far below the file.
      const queued = await settled(() => serverSocket.bytesWritten + response.writableLength);
      assert.ok(queued < BIG_BYTES / 4, `the server queued ${queued} bytes for a client that reads nothing`);
      assert.ok(response.writableLength <= 1024 * 1024, `the response buffers ${response.writableLength} bytes`);
      assert.equal(fdsOpenOn(bigPath), 1, 'the file stays open while the transfer is paused');
      // Reading resumes the transfer to its end.
      let received = 0;
      client.on('data', (chunk) => {
        received += chunk.length;
      });
      client.resume();
      await waitUntil(() => received >= BIG_BYTES, 20_000, 'the whole body');
    } finally {
      client.destroy();
    }
  });
});

test('a client that goes away: the file stream is destroyed and the descriptor closed', async () => {
  await serving(serveStatic(tree.root), async (port, h) => {
    assert.equal(fdsOpenOn(bigPath), 0);
    const client = await stalledClient(port, '/big.bin');
    await waitUntil(() => fdsOpenOn(bigPath) === 1, 2000, 'the file to be opened');
    client.destroy();
    await waitUntil(() => fdsOpenOn(bigPath) === 0, 3000, 'the file descriptor to be closed');
    await waitUntil(() => h.sockets.size === 0, 2000, 'the server side to close');
  });
});

test('a client that goes away: the descriptor is closed once, by its FileHandle, never by the file stream', async () => {
  // A destroyed fs.ReadStream on a numeric fd closes it even with autoClose: false; the FileHandle
  // then closed the same number again, which by then could be another request's file (it failed
  // with EBADF: seen under wrk, whose connections go away mid-download).
  const closedByFs = [];
  const fsClose = fs.close;
  fs.close = function (fd, ...rest) {
    closedByFs.push(fd);
    return fsClose.call(this, fd, ...rest);
  };
  try {
    await serving(serveStatic(tree.root), async (port) => {
      const client = await stalledClient(port, '/big.bin');
      await waitUntil(() => fdsOpenOn(bigPath) === 1, 2000, 'the file to be opened');
      const [fd] = fdsOf(bigPath);
      client.destroy();
      await waitUntil(() => fdsOpenOn(bigPath) === 0, 3000, 'the file descriptor to be closed');
      await sleep(50);
      assert.deepEqual(closedByFs.filter((n) => n === fd), [], `fs.close(${fd}) was called besides the FileHandle's close`);
      // Every request after it is served whole.
      const res = await request(port, '/big.bin', { timeout: 20_000 });
      assert.equal(createHash('sha256').update(res.body).digest('hex'), bigHash);
    });
  } finally {
    fs.close = fsClose;
  }
});

test('the same for a multipart range response and a single range', async () => {
  await serving(serveStatic(tree.root), async (port) => {
    for (const range of ['bytes=0-9,1000-40000000', 'bytes=100-']) {
      const client = await stalledClient(port, '/big.bin', `Range: ${range}\r\n`);
      await waitUntil(() => fdsOpenOn(bigPath) === 1, 2000, 'the file to be opened');
      await sleep(100);
      client.destroy();
      await waitUntil(() => fdsOpenOn(bigPath) === 0, 3000, `the descriptor to be closed (${range})`);
    }
  });
});

test('no descriptor is left open after complete, 304, 416 and HEAD responses', async () => {
  writeFileSync(join(tree.root, 'small.txt'), 'small\n');
  const small = join(tree.root, 'small.txt');
  await serving(serveStatic(tree.root), async (port) => {
    const plain = await request(port, '/small.txt');
    await request(port, '/small.txt', { headers: { 'If-None-Match': plain.headers.etag } });
    await request(port, '/small.txt', { headers: { Range: 'bytes=100-' } });
    await request(port, '/small.txt', { headers: { Range: 'bytes=0-1,3-4' } });
    await request(port, '/small.txt', { method: 'HEAD' });
    await request(port, '/small.txt/', {});
    await waitUntil(() => fdsOpenOn(small) === 0, 2000, 'every descriptor on small.txt to be closed');
  });
});

/** Wrap `handler` to record the size of every body chunk the file stream hands to the response. */
function recordingChunks(handler) {
  const sizes = [];
  const wrapped = (req, res, next) => {
    const write = res.write;
    res.write = function (chunk, ...rest) {
      sizes.push(chunk.length);
      return write.call(this, chunk, ...rest);
    };
    return handler(req, res, next);
  };
  return { wrapped, sizes };
}

test('highWaterMark sets the read size: 1 MiB in 64 KiB reads; by default one 256 KiB read per chunk', async () => {
  const oneMiB = 1024 * 1024;
  writeFileSync(join(tree.root, 'one.bin'), randomBytes(oneMiB));
  for (const [options, readSize] of [[{ highWaterMark: 64 * 1024 }, 64 * 1024], [{}, 256 * 1024]]) {
    const { wrapped, sizes } = recordingChunks(serveStatic(tree.root, options));
    await serving(wrapped, async (port) => {
      const res = await request(port, '/one.bin');
      assert.equal(res.status, 200);
      assert.equal(res.body.length, oneMiB);
    });
    assert.equal(Math.max(...sizes), readSize);
    assert.equal(sizes.reduce((a, b) => a + b, 0), oneMiB);
    assert.equal(sizes.length, oneMiB / readSize);
  }
});

test('highWaterMark must be a positive integer (ERR_OUT_OF_RANGE, ERR_INVALID_ARG_TYPE)', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => serveStatic(tree.root, { highWaterMark: bad }), { code: 'ERR_OUT_OF_RANGE' });
  }
  assert.throws(() => serveStatic(tree.root, { highWaterMark: '64kb' }), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a client that goes away while its file is being opened: the descriptor is closed at once, not by the GC', async () => {
  // Under wrk (whose connections go away mid-request at the end of a run) such files stayed open,
  // their stream paused on a destroyed response, until the GC closed their FileHandle.
  const files = serveStatic(tree.root);
  for (const range of [undefined, 'bytes=0-9', 'bytes=0-9,20-29']) {
    let responseClosed = null;
    let served = null;
    const handler = (req, res) => {
      responseClosed = new Promise((resolve) => res.once('close', resolve));
      // keel/static starts only once the response is gone, as if the client left during its open().
      served = responseClosed.then(() => files(req, res));
    };
    await serving(handler, async (port) => {
      const client = await stalledClient(port, '/big.bin', range === undefined ? '' : `Range: ${range}\r\n`);
      await waitUntil(() => responseClosed !== null, 2000, 'the request');
      client.destroy();
      await served;
      await waitUntil(() => fdsOpenOn(bigPath) === 0, 1000, `the descriptor to be closed (${range ?? 'whole file'})`);
    });
  }
});
