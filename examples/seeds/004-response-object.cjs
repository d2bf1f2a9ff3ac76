// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "The Response Object".
// Demonstrates: res (http.ServerResponse) as a Writable: statusCode,
//   setHeader(), writeHead() with a headers object (merged with the
//   setHeader() ones), two write()s and end(): the body is {"message": "Hello"}.
//   The seed then shows the "Or write and end together" alternative in the
//   same handler, so end() is called a second time, with data: node:http
//   emits ERR_STREAM_WRITE_AFTER_END ("write after end") on res on the next
//   tick; nobody listens for 'error', so the process exits after the first
//   response has been sent.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed and never calls
// listen(). This `http` is keel, with createServer() also calling
// .listen(3000) like the seed's other servers, so the example is reachable.
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
// --- end of scaffolding ---

http.createServer((req, res) => {
  // Set status code
  res.statusCode = 200;
  // Set headers
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Custom-Header', 'value');
  // Or all at once
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'X-Custom-Header': 'value'
  });
  // Write body
  res.write('{"message": ');
  res.write('"Hello"}');
  // End response (required!)
  res.end();
  // Or write and end together
  res.end('{"message": "Hello"}');
});
