// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "Parsing URL".
// Demonstrates: new URL(req.url, `http://${req.headers.host}`) to get
//   pathname, search and searchParams. The seed's handler logs them and
//   never answers.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed and never calls
// listen(). This `http` is keel, with createServer() also calling
// .listen(3000) like the seed's other servers, so the example is reachable.
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
// --- end of scaffolding ---

const url = require('url');
http.createServer((req, res) => {
  const parsedUrl = new URL(req.url, `http://${req.headers.host}`);
  console.log(parsedUrl.pathname); // '/users'
  console.log(parsedUrl.search); // '?id=123'
  console.log(parsedUrl.searchParams.get('id')); // '123'
});
