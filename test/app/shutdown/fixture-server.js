// A child-process server for the signal tests (not a test file): a Keel server with
// shutdown(server, { timeout: SHUTDOWN_TIMEOUT, exit: SHUTDOWN_EXIT === '1' }). It prints
// {"port": n} once listening and {"report": {...}} from onShutdown.
//   GET /slow  answers "done" after SLOW_MS (default 300) ms
//   GET /hang  starts a response and never ends it

import http from 'keel';
import { shutdown } from 'keel/shutdown';

const slowMs = Number(process.env.SLOW_MS ?? 300);
const server = http.createServer((req, res) => {
  if (req.url === '/hang') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('started\n');
    return;
  }
  setTimeout(() => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 4 });
    res.end('done');
  }, slowMs);
});

shutdown(server, {
  timeout: Number(process.env.SHUTDOWN_TIMEOUT ?? 10000),
  exit: process.env.SHUTDOWN_EXIT === '1',
  onShutdown: (report) => console.log(JSON.stringify({ report })),
});

server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
