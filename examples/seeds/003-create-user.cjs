// Seed: 003_fe9f17a5a20ce7db.txt ("How does the HTTP module work in Node.js?"),
//       section "Examples", "Creating a user with POST body handling".
// Demonstrates: POST /api/users with a body-size guard (req.destroy() past
//   100 KB), JSON parse errors answered 400 {"error":"Invalid JSON"}, 201
//   application/json {"id": <timestamp>, ...user} on success, 404 with an
//   empty body for anything else, and an 'error' listener on req.
// Changes from the seed: require('http') -> require('keel'); whitespace only.

const http = require('keel');

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/users') {
    res.writeHead(404);
    res.end();
    return;
  }

  let body = '';
  req.on('data', (chunk) => {
    body += chunk.toString();
    if (body.length > 1e5) { // 100KB guard
      req.destroy();
    }
  });

  req.on('end', () => {
    try {
      const user = JSON.parse(body);
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: Date.now(), ...user }));
    } catch {
      res.writeHead(400);
      res.end(JSON.stringify({ error: 'Invalid JSON' }));
    }
  });

  req.on('error', () => {
    res.writeHead(400);
    res.end();
  });
});

server.listen(3000);
