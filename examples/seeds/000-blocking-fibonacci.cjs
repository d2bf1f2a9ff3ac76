// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       section "What Blocks the Event Loop".
// Demonstrates: synchronous CPU work in a handler (/slow) blocks every other
//   request: a /fast request that arrives meanwhile is only answered after
//   /slow has finished.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed, and a
// fibonacci() it never defines. A naive recursive fibonacci(45) takes many
// seconds; this one computes the same value iteratively and then burns ~400 ms
// of CPU synchronously, so the blocking the seed warns about is still real but
// short. It logs (synchronously, to a pipe) when it starts.
const http = require('keel');
function fibonacci(n) {
  console.log(`fibonacci(${n}) started`);
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  const until = Date.now() + 400;
  while (Date.now() < until) { /* busy: simulated CPU-heavy work */ }
  return a;
}
// --- end of scaffolding ---

http.createServer((req, res) => {
  if (req.url === '/slow') {
    // BAD: Blocks ALL requests!
    const result = fibonacci(45);
    res.end(result.toString());
  }
  if (req.url === '/fast') {
    // This request waits for /slow to finish!
    res.end('Hello');
  }
}).listen(3000);
