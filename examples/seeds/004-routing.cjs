// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "Routing Without Frameworks".
// Demonstrates: routing on method + url: GET / streams index.html (text/html)
//   with fs.createReadStream().pipe(res); GET /api/users answers JSON;
//   POST /api/users parses the JSON body and answers 201 {id: 2, ...user};
//   anything else 404 text/plain "Not Found".
// Run from examples/seeds/ (index.html, a companion file, is read relative
//   to the working directory).
// Changes from the seed: require('http') -> require('keel'); whitespace only.

const http = require('keel');
const fs = require('fs');
http.createServer((req, res) => {
  const { method, url } = req;
  if (method === 'GET' && url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    fs.createReadStream('index.html').pipe(res);
  }
  else if (method === 'GET' && url === '/api/users') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify([{ id: 1, name: 'Alice' }]));
  }
  else if (method === 'POST' && url === '/api/users') {
    let body = '';
    req.on('data', chunk => body += chunk);
    req.on('end', () => {
      const user = JSON.parse(body);
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: 2, ...user }));
    });
  }
  else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not Found');
  }
}).listen(3000);
