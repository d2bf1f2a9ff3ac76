// Seed: 003_fe9f17a5a20ce7db.txt ("How does the HTTP module work in Node.js?"),
//       section "Common mistakes", "2. Writing headers after the body has started".
// Demonstrates (a deliberately broken example): res.write() sends the headers
//   implicitly, so a later res.writeHead() throws ERR_HTTP_HEADERS_SENT
//   ("Cannot write headers after they are sent to the client"); thrown from
//   the request listener, it is uncaught and the process exits.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed and never calls
// listen(). This `http` is keel, with createServer() also calling
// .listen(3000) like the seed's other servers, so the example is reachable.
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
// --- end of scaffolding ---

// Broken
http.createServer((req, res) => {
  res.write('some data');
  res.writeHead(200); // Error: Cannot set headers after they are sent
});
