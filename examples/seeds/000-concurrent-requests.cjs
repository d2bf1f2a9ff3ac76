// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       section "Concurrent Request Handling".
// Demonstrates: requests are handled concurrently without threads: while one
//   request awaits a (simulated) database query, the next request's handler
//   starts, so all "Start:" lines are logged before the "End:" lines.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed, and a `database`
// it never defines. This fake database answers every query after 300 ms.
const http = require('keel');
const database = {
  query(sql) {
    return new Promise((resolve) => {
      setTimeout(() => resolve([{ id: 1, name: 'Alice' }, { id: 2, name: 'Bob' }]), 300);
    });
  },
};
// --- end of scaffolding ---

http.createServer(async (req, res) => {
  console.log(`Start: ${req.url}`);
  // This doesn't block other requests!
  const data = await database.query('SELECT * FROM users');
  console.log(`End: ${req.url}`);
  res.end(JSON.stringify(data));
}).listen(3000);
// Output with 3 concurrent requests:
// Start: /request1
// Start: /request2
// Start: /request3
// End: /request2 (finished first)
// End: /request1
// End: /request3
