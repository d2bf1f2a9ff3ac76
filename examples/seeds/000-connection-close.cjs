// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       section "Connection Management".
// Demonstrates: req 'close' to notice a client that went away and cancel
//   pending work; res.writableEnded to avoid answering twice.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed, and a
// longOperation(callback) -> cancel() it never defines. This one calls back
// with 'operation result' after 500 ms unless cancelled first, and logs what
// happened.
const http = require('keel');
function longOperation(callback) {
  console.log('longOperation: started');
  const timer = setTimeout(() => {
    timer.done = true;
    console.log('longOperation: completed');
    callback('operation result');
  }, 500);
  return () => {
    if (timer.done) return;
    clearTimeout(timer);
    timer.done = true;
    console.log('longOperation: cancelled');
  };
}
// --- end of scaffolding ---

http.createServer((req, res) => {
  // Check if client disconnected
  req.on('close', () => {
    console.log('Client disconnected');
    // Cancel any pending work
  });
  // Long-running operation
  const cancel = longOperation((result) => {
    if (res.writableEnded) {
      return; // Client already gone
    }
    res.end(result);
  });
  req.on('close', () => cancel());
}).listen(3000);
