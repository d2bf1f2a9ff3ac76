// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       section "Response Buffering".
// Demonstrates: several res.write() calls followed by res.end(); the parts
//   are buffered and arrive as one body "Part 1Part 2Part 3".
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed.
const http = require('keel');
// --- end of scaffolding ---

http.createServer((req, res) => {
  // These writes are buffered
  res.write('Part 1');
  res.write('Part 2');
  res.write('Part 3');
  res.end();
  // Data sent after function returns
  // (during event loop's poll phase)
}).listen(3000);
