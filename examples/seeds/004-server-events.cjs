// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "Server Events".
// Demonstrates: the http.Server events: 'request' (same as the createServer
//   callback), 'connection', 'upgrade' (a WebSocket-style upgrade request goes
//   to the 'upgrade' listener instead of the request handler, and the socket
//   is handed over untouched), 'close', 'error'. The seed's listeners are
//   empty.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed, never calls
// listen(), and never defines `handler`. This `http` is keel, with
// createServer() also calling .listen(3000) like the seed's other servers, so
// the example is reachable. handler() logs the request and answers "hello".
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
function handler(req, res) {
  console.log(`handler: ${req.method} ${req.url}`);
  res.end('hello');
}
// --- end of scaffolding ---

const server = http.createServer(handler);
server.on('request', (req, res) => {
  // Same as callback to createServer
});
server.on('connection', (socket) => {
  // New TCP connection
});
server.on('upgrade', (req, socket, head) => {
  // WebSocket upgrade request
});
server.on('close', () => {
  // Server stopped
});
server.on('error', (err) => {
  // Server error
});
