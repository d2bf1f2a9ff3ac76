// Seed: 000_0488e465a6b49f79.txt ("Request-Response Pattern Under the Hood"),
//       section "Request Processing Timeline".
// Demonstrates: the life of one request: headers parsed (method, url, headers
//   logged), body arriving as 'data' chunks, 'end' when complete, then a
//   synchronous processRequest() and writeHead(200) + end(JSON).
// Changes from the seed: require('http') -> require('keel'); whitespace only;
//   scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The seed never defines processRequest(); this stand-in echoes the body back.
function processRequest(body) {
  return { received: body, length: body.length };
}
// --- end of scaffolding ---

const http = require('keel');
http.createServer((req, res) => {
  // 1. Connection accepted (poll phase)
  // - TCP socket established
  // - HTTP parser attached
  // 2. Headers parsed
  console.log(req.method, req.url);
  console.log(req.headers);
  // 3. Body arrives in chunks (poll phase callbacks)
  const chunks = [];
  req.on('data', (chunk) => {
    chunks.push(chunk);
  });
  // 4. Request complete
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    // 5. Process request (your sync code)
    const result = processRequest(body);
    // 6. Send response (writes queued)
    res.writeHead(200);
    res.end(JSON.stringify(result));
    // 7. Response flushed to socket
    // (happens after your code returns)
  });
}).listen(3000);
