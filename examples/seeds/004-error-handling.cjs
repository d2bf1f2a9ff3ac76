// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "Error Handling".
// Demonstrates: try/catch around a synchronous request handler (500
//   "Internal Server Error"), a server 'error' listener (EADDRINUSE), and a
//   'clientError' listener that answers malformed requests with a raw
//   "HTTP/1.1 400 Bad Request" written to the socket.
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed, never calls
// listen(), and never defines handleRequest(). This `http` is keel, with
// createServer() also calling .listen(3000) like the seed's other servers, so
// the example is reachable. handleRequest() throws for /boom and otherwise
// answers "handled <url>".
const keel = require('keel');
const http = { ...keel, createServer: (...args) => keel.createServer(...args).listen(3000) };
function handleRequest(req, res) {
  if (req.url === '/boom') throw new Error('boom');
  res.end(`handled ${req.url}`);
}
// --- end of scaffolding ---

const server = http.createServer((req, res) => {
  try {
    // Handle request
    handleRequest(req, res);
  } catch (err) {
    console.error('Request error:', err);
    res.writeHead(500);
    res.end('Internal Server Error');
  }
});
// Handle server-level errors
server.on('error', (err) => {
  if (err.code === 'EADDRINUSE') {
    console.error('Port already in use');
  } else {
    console.error('Server error:', err);
  }
});
// Handle client errors
server.on('clientError', (err, socket) => {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    return;
  }
  socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
});
