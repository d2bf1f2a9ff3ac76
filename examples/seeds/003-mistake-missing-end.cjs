// Seed: 003_fe9f17a5a20ce7db.txt ("How does the HTTP module work in Node.js?"),
//       section "Common mistakes", "1. Forgetting res.end()".
// Demonstrates (a deliberately broken example): writeHead(200) without
//   res.end(): the response never completes and the client hangs. node:http
//   does not even send the status line, because writeHead() only records the
//   headers until the first write()/end().
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed and never calls
// listen(). This `http` is keel, with createServer() also calling
// .listen(3000) like the seed's other servers, so the example is reachable.
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
// --- end of scaffolding ---

// Broken - client hangs indefinitely
http.createServer((req, res) => {
  res.writeHead(200);
  // res.end() is missing
});
