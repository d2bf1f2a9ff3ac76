// Seed: 003_fe9f17a5a20ce7db.txt ("How does the HTTP module work in Node.js?"),
//       section "Reading the request object".
// Demonstrates: req.method, req.url (raw, with query string), req.headers,
//   and parsing req.url with new URL(req.url, `http://${req.headers.host}`)
//   to get pathname and searchParams; answers "ok".
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed and never calls
// listen(). This `http` is keel, with createServer() also calling
// .listen(3000) like the seed's other servers, so the example is reachable.
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
// --- end of scaffolding ---

const server = http.createServer((req, res) => {
  console.log(req.method); // 'GET', 'POST', etc.
  console.log(req.url); // '/api/users?page=2'
  console.log(req.headers); // { host: 'localhost:3000', ... }
  const url = new URL(req.url, `http://${req.headers.host}`);
  console.log(url.pathname); // '/api/users'
  console.log(url.searchParams.get('page')); // '2'
  res.end('ok');
});
