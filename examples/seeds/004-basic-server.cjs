// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "Creating a Basic Server".
// Demonstrates: writeHead(200, { 'Content-Type': 'text/plain' }) +
//   end('Hello World') for every request; listen() callback logging
//   "Server running at http://localhost:3000/".
// Changes from the seed: require('http') -> require('keel'); whitespace only.

const http = require('keel');
const server = http.createServer((request, response) => {
  // This callback runs for EVERY incoming request
  response.writeHead(200, { 'Content-Type': 'text/plain' });
  response.end('Hello World');
});
server.listen(3000, () => {
  console.log('Server running at http://localhost:3000/');
});
