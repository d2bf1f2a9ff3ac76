// keel/body multipart(): fields and two files to disk and to memory, per-file / per-field / count /
// total limits as 413s with every temp file removed, malformed bodies as 400, over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multipart, removeUploads, sendError } from 'keel/body';
import { withServer, request, post, head, multipartBody, deferred, within, sleep } from './support.js';

async function withUploadDir(fn) {
  const dir = await mkdtemp(join(tmpdir(), 'keel-body-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A server that parses multipart with `options`, reports the result or error, and answers. */
function uploading(options) {
  const results = [];
  const handler = async (req, res) => {
    try {
      const body = await multipart(req, options);
      results.push(body);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ fields: body.fields, files: body.files.map(({ buffer, ...file }) => ({ ...file, hasBuffer: buffer !== undefined })) }));
    } catch (err) {
      results.push(err);
      sendError(res, err);
    }
  };
  return { handler, results };
}

const fileA = Buffer.from('first file\r\n--not-a-boundary\r\ncontent'.repeat(50));
const fileB = Buffer.alloc(70 * 1024, 0xab);
const form = multipartBody([
  { name: 'title', value: 'Holiday' },
  { name: 'tag', value: 'sea' },
  { name: 'a', filename: 'notes.txt', type: 'text/plain', data: fileA },
  { name: 'tag', value: 'sun' },
  { name: 'b', filename: '../../etc/photo.bin', type: 'application/octet-stream', data: fileB },
]);

test('multipart: fields and two files streamed to disk in uploadDir', async () => {
  await withUploadDir(async (dir) => {
    const { handler, results } = uploading({ uploadDir: dir });
    await withServer(handler, async (h) => {
      const r = await request(h, post('/', { 'Content-Type': form.contentType }, form.body));
      assert.equal(r.status, 200, r.body);
      const { fields, files } = results[0];
      assert.deepEqual({ ...fields }, { title: 'Holiday', tag: ['sea', 'sun'] });
      assert.equal(files.length, 2);
      assert.deepEqual(
        files.map(({ fieldname, filename, mimeType, encoding, size }) => ({ fieldname, filename, mimeType, encoding, size })),
        [
          { fieldname: 'a', filename: 'notes.txt', mimeType: 'text/plain', encoding: '7bit', size: fileA.length },
          { fieldname: 'b', filename: 'photo.bin', mimeType: 'application/octet-stream', encoding: '7bit', size: fileB.length },
        ],
      );
      for (const file of files) {
        assert.equal(file.buffer, undefined);
        assert.ok(file.path.startsWith(dir), file.path);
        assert.ok(!file.path.includes('photo'), 'the client name is never used on disk');
        assert.equal((await stat(file.path)).mode & 0o777, 0o600);
      }
      assert.deepEqual(await readFile(files[0].path), fileA);
      assert.deepEqual(await readFile(files[1].path), fileB);
      await removeUploads(files);
      assert.deepEqual(await readdir(dir), []);
    });
  });
});

test('multipart: memory storage gives buffers and writes nothing', async () => {
  await withUploadDir(async (dir) => {
    const { handler, results } = uploading({ storage: 'memory', uploadDir: dir });
    await withServer(handler, async (h) => {
      const r = await request(h, post('/', { 'Content-Type': form.contentType }, form.body));
      assert.equal(r.status, 200, r.body);
      const { files } = results[0];
      assert.deepEqual(files[0].buffer, fileA);
      assert.deepEqual(files[1].buffer, fileB);
      assert.equal(files[0].path, undefined);
      assert.deepEqual(await readdir(dir), []);
    });
  });
});

test('multipart: a file over fileSize is 413 ERR_FILE_TOO_LARGE and the files already written are removed', async () => {
  await withUploadDir(async (dir) => {
    const { handler, results } = uploading({ uploadDir: dir, fileSize: 64 * 1024 });
    await withServer(handler, async (h) => {
      const r = await request(h, post('/', { 'Content-Type': form.contentType }, form.body));
      assert.equal(r.status, 413);
      const { error } = JSON.parse(r.body);
      assert.equal(error.code, 'ERR_FILE_TOO_LARGE');
      assert.match(error.message, /"photo.bin" exceeds the limit of 65536 bytes/);
      assert.equal(results[0].code, 'ERR_FILE_TOO_LARGE');
      assert.deepEqual(await readdir(dir), [], 'notes.txt was written, then removed');
    });
  });
});

test('multipart: a file of exactly fileSize bytes passes', async () => {
  const exact = multipartBody([{ name: 'f', filename: 'x', data: Buffer.alloc(1000, 1) }]);
  const { handler } = uploading({ storage: 'memory', fileSize: 1000 });
  await withServer(handler, async (h) => {
    assert.equal((await request(h, post('/', { 'Content-Type': exact.contentType }, exact.body))).status, 200);
  });
});

test('multipart: too many files / fields, a field too large: 413 with their codes, nothing left on disk', async () => {
  await withUploadDir(async (dir) => {
    for (const [options, code] of [
      [{ files: 1 }, 'ERR_TOO_MANY_FILES'],
      [{ fields: 2 }, 'ERR_TOO_MANY_FIELDS'],
      [{ fieldSize: 4 }, 'ERR_FIELD_TOO_LARGE'],
      [{ limit: 64 * 1024 }, 'ERR_BODY_TOO_LARGE'],
    ]) {
      const { handler } = uploading({ uploadDir: dir, ...options });
      await withServer(handler, async (h) => {
        const r = await request(h, post('/', { 'Content-Type': form.contentType }, form.body));
        assert.equal(r.status, 413, code);
        assert.equal(JSON.parse(r.body).error.code, code);
        assert.deepEqual(await readdir(dir), [], code);
      });
    }
  });
});

test('multipart: malformed bodies and a missing boundary are 400 ERR_INVALID_MULTIPART; temp files removed', async () => {
  await withUploadDir(async (dir) => {
    const { handler } = uploading({ uploadDir: dir });
    await withServer(handler, async (h) => {
      const truncated = form.body.subarray(0, form.body.length - 40);
      for (const [what, contentType, body] of [
        ['truncated', form.contentType, truncated],
        ['no boundary', 'multipart/form-data', form.body],
        ['bad part header', 'multipart/form-data; boundary=xx', Buffer.from('--xx\r\nno colon here\r\n\r\nv\r\n--xx--\r\n')],
      ]) {
        const r = await request(h, post('/', { 'Content-Type': contentType }, body));
        assert.equal(r.status, 400, what);
        assert.equal(JSON.parse(r.body).error.code, 'ERR_INVALID_MULTIPART', what);
        assert.deepEqual(await readdir(dir), [], what);
      }
      const r = await request(h, post('/', { 'Content-Type': 'application/json' }, '{}'));
      assert.equal(r.status, 415);
    });
  });
});

test('multipart: an uploadDir that does not exist is 500 ERR_UPLOAD_FAILED', async () => {
  const { handler } = uploading({ uploadDir: join(tmpdir(), 'keel-body-no-such-dir', 'x') });
  await withServer(handler, async (h) => {
    const r = await request(h, post('/', { 'Content-Type': form.contentType }, form.body));
    assert.equal(r.status, 500);
    assert.equal(JSON.parse(r.body).error.code, 'ERR_UPLOAD_FAILED');
  });
});

test('multipart: no content gives empty fields and files', async () => {
  const { handler, results } = uploading({});
  await withServer(handler, async (h) => {
    assert.equal((await request(h, head('GET', '/'))).status, 200);
    assert.deepEqual({ ...results[0].fields }, {});
    assert.deepEqual(results[0].files, []);
  });
});

test('multipart: the client aborting mid-upload rejects with ECONNRESET and removes the partial files', async () => {
  await withUploadDir(async (dir) => {
    const outcome = deferred();
    await withServer(async (req, res) => {
      try {
        await multipart(req, { uploadDir: dir });
        outcome.resolve('parsed');
      } catch (err) {
        outcome.resolve(err);
        sendError(res, err);
      }
    }, async (h) => {
      const big = multipartBody([{ name: 'f', filename: 'big.bin', data: Buffer.alloc(512 * 1024, 5) }]);
      const client = await h.connect();
      await client.write(head('POST', '/', { 'Content-Type': big.contentType, 'Content-Length': big.body.length }));
      await client.write(big.body.subarray(0, 100 * 1024));
      for (let i = 0; i < 100 && (await readdir(dir)).length === 0; i++) await sleep(10);
      assert.equal((await readdir(dir)).length, 1, 'the partial file exists');
      client.socket.destroy();
      const err = await within(outcome.promise, 3000, 'the parser to reject');
      assert.equal(err.code, 'ECONNRESET');
      assert.equal(err.message, 'aborted');
      assert.deepEqual(await readdir(dir), []);
    });
  });
});
