// keel:server:response:finish carries the body bytes sent; keel:server:response:abort reports a
// response whose connection closed first (what the keel command's access log is built on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import http from 'keel';

test('response:finish has bytes; response:abort fires when the client leaves mid-response', async () => {
  const finished = [];
  const aborted = [];
  const onFinish = (m) => finished.push(m);
  const onAbort = (m) => aborted.push(m);
  diagnostics.subscribe('keel:server:response:finish', onFinish);
  diagnostics.subscribe('keel:server:response:abort', onAbort);
  const server = http.createServer((req, res) => {
    if (req.url === '/hang') {
      res.write('partial'); // never ends
      return;
    }
    res.end('hello world');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  try {
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/ok`)).text(), 'hello world');
    assert.equal(finished.length, 1);
    assert.equal(finished[0].bytes, 11);
    assert.equal(finished[0].request.url, '/ok');
    assert.equal(finished[0].response.statusCode, 200);

    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n'));
    await new Promise((r) => socket.once('data', r));
    socket.destroy();
    const deadline = Date.now() + 2000;
    while (aborted.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(aborted.length, 1);
    assert.equal(aborted[0].request.url, '/hang');
    assert.equal(aborted[0].bytes, 7);
    assert.ok(aborted[0].timings.handlerMs >= 0);
  } finally {
    diagnostics.unsubscribe('keel:server:response:finish', onFinish);
    diagnostics.unsubscribe('keel:server:response:abort', onAbort);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
