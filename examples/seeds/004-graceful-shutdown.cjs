// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "Graceful Shutdown".
// Demonstrates: tracking open sockets via 'connection' / socket 'close', and
//   on SIGTERM/SIGINT: server.close(callback) plus destroying the open
//   (keep-alive) sockets so the close callback runs and the process exits 0,
//   with a 10 s forced exit as a fallback.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed, never calls
// listen(), and never defines `handler`. This `http` is keel, with
// createServer() also calling .listen(3000) like the seed's other servers, so
// the example is reachable. handler() answers "hello".
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
function handler(req, res) {
  res.end('hello');
}
// --- end of scaffolding ---

const server = http.createServer(handler);
const connections = new Set();
server.on('connection', (socket) => {
  connections.add(socket);
  socket.on('close', () => connections.delete(socket));
});
function shutdown() {
  console.log('Shutting down...');
  server.close(() => {
    console.log('Server closed');
    process.exit(0);
  });
  // Close existing connections
  for (const socket of connections) {
    socket.destroy();
  }
  // Force exit after timeout
  setTimeout(() => {
    console.log('Forcing exit');
    process.exit(1);
  }, 10000);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
