// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       section "Event Loop During Request".
// Demonstrates: an async request handler that awaits a file read
//   (fs.promises.readFile('data.json')) and then ends the response with the
//   parsed-and-re-serialized JSON; the event loop keeps serving meanwhile.
// Run from examples/seeds/ (data.json is read relative to the working directory).
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` (required in an earlier snippet of the seed) and `fs`
// without requiring them. ./data.json is a companion file in examples/seeds/.
const http = require('keel');
const fs = require('fs');
// --- end of scaffolding ---

http.createServer(async (req, res) => {
  // POLL PHASE: This callback triggered
  // SYNC: Runs immediately
  console.log('Request received');
  // ASYNC: File read queued
  const data = await fs.promises.readFile('data.json');
  // ^^ Event loop continues while waiting
  // ^^ Callback scheduled when file ready
  // SYNC: Process data
  const result = JSON.parse(data);
  // SYNC: Queue response for sending
  res.end(JSON.stringify(result));
  // After function returns:
  // - Response flushed in current/next poll phase
  // - Connection may be kept alive for next request
}).listen(3000);
