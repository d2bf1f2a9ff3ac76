// Seed: 003_fe9f17a5a20ce7db.txt ("How does the HTTP module work in Node.js?"),
//       section "Making outbound requests".
// Demonstrates: http.get('http://api.example.com/data') collecting the body
//   and logging it JSON.parse()d; http.request() POST of a JSON payload to
//   api.example.com:80/users with Content-Type and Content-Length headers,
//   req.write(payload) + req.end(), the response also logged as parsed JSON.
//   (The test points api.example.com:80 at its server through SEED_HOST_MAP
//   in test/seeds/port-shim.cjs; the example is unchanged.)
// Changes from the seed: require('http') -> require('keel'); whitespace only
//   (the seed prints the snippet on one line; its `// GET` and `// POST`
//   comments are put back on lines of their own).

const http = require('keel');

// GET
http.get('http://api.example.com/data', (res) => {
  let data = '';
  res.on('data', (chunk) => (data += chunk));
  res.on('end', () => console.log(JSON.parse(data)));
});

// POST
const payload = JSON.stringify({ name: 'Alice' });

const req = http.request(
  {
    hostname: 'api.example.com',
    port: 80,
    path: '/users',
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(payload),
    },
  },
  (res) => {
    let data = '';
    res.on('data', (chunk) => (data += chunk));
    res.on('end', () => console.log(JSON.parse(data)));
  }
);

req.write(payload);
req.end();
