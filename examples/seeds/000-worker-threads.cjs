// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       section "Solution: Worker Threads".
// Demonstrates: offloading CPU-heavy work (/slow) to a worker thread and
//   ending the response asynchronously from the worker's 'message' event.
// Run from examples/seeds/ (new Worker('./fibonacci-worker.js') is resolved
//   against the working directory); fibonacci-worker.js is a companion file.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed.
const http = require('keel');
// --- end of scaffolding ---

const { Worker } = require('worker_threads');
http.createServer((req, res) => {
  if (req.url === '/slow') {
    // Run CPU-intensive work in separate thread
    const worker = new Worker('./fibonacci-worker.js', {
      workerData: { n: 45 }
    });
    worker.on('message', (result) => {
      res.end(result.toString());
    });
  }
}).listen(3000);
