// Seed: 003_fe9f17a5a20ce7db.txt ("How does the HTTP module work in Node.js?"),
//       section "Examples", "Basic JSON API endpoint".
// Demonstrates: routing on req.method + req.url: GET /api/users answers 200
//   with the JSON user list; everything else gets 404 {"error":"Not found"},
//   both as application/json.
// Changes from the seed: require('http') -> require('keel'); whitespace only.

const http = require('keel');

const users = [
  { id: 1, name: 'Alice' },
  { id: 2, name: 'Bob' },
];

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/api/users') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(users));
    return;
  }
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: 'Not found' }));
});

server.listen(3000);
