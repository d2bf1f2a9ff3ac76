// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "Connection Keep-Alive".
// Demonstrates: HTTP/1.1 persistent connections: several requests on one TCP
//   connection (one 'connection' event, "New TCP connection" logged once),
//   server.keepAliveTimeout / server.headersTimeout assignment (node:http then
//   advertises "Keep-Alive: timeout=5"), and the socket 'close' event.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed and never calls
// listen(). This `http` is keel, with createServer() also calling
// .listen(3000) like the seed's other servers, so the example is reachable.
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
// --- end of scaffolding ---

const server = http.createServer((req, res) => {
  res.end('Hello');
});
// Control keep-alive
server.keepAliveTimeout = 5000; // 5 seconds
server.headersTimeout = 60000; // 60 seconds for headers
server.on('connection', (socket) => {
  console.log('New TCP connection');
  socket.on('close', () => {
    console.log('Connection closed');
  });
});
