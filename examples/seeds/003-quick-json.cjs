// Seed: 003_fe9f17a5a20ce7db.txt ("How does the HTTP module work in Node.js?"),
//       section "Quick example".
// Demonstrates: writeHead(200, { 'Content-Type': 'application/json' }) and
//   res.end(JSON) answering {"message":"Hello"} to every request; listen()
//   callback logging "Running on port 3000".
// Changes from the seed: require('http') -> require('keel'); whitespace only.

const http = require('keel');

const server = http.createServer((req, res) => {
  // req = IncomingMessage (readable stream)
  // res = ServerResponse (writable stream)
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ message: 'Hello' }));
});

server.listen(3000, () => console.log('Running on port 3000'));
