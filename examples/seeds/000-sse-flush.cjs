// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       section "Flushing Immediately".
// Demonstrates: Server-Sent Events: writeHead() with text/event-stream and
//   no-cache, a first `data:` event, res.flushHeaders(), then one
//   `data: <timestamp>` event per second on a response that never ends.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed.
const http = require('keel');
// --- end of scaffolding ---

http.createServer((req, res) => {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache'
  });
  // For Server-Sent Events, flush each write
  res.write('data: First event\n\n');
  res.flushHeaders();
  setInterval(() => {
    res.write(`data: ${Date.now()}\n\n`);
  }, 1000);
}).listen(3000);
