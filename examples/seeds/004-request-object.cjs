// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "The Request Object".
// Demonstrates: req (http.IncomingMessage) metadata: method, url, headers,
//   httpVersion; and reading a POST/PUT body as a stream ('data' + 'end',
//   then "Body: ..." is logged). The seed's handler never answers.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed and never calls
// listen(). This `http` is keel, with createServer() also calling
// .listen(3000) like the seed's other servers, so the example is reachable.
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
// --- end of scaffolding ---

http.createServer((req, res) => {
  // Request metadata
  console.log(req.method); // 'GET', 'POST', etc.
  console.log(req.url); // '/path?query=string'
  console.log(req.headers); // { 'content-type': '...', ... }
  console.log(req.httpVersion); // '1.1'
  // For POST/PUT - read body as stream
  let body = '';
  req.on('data', (chunk) => {
    body += chunk.toString();
  });
  req.on('end', () => {
    console.log('Body:', body);
  });
});
