// Seed: 003_fe9f17a5a20ce7db.txt ("How does the HTTP module work in Node.js?"),
//       section "Examples", "Proxying a request to an internal service".
// Demonstrates: a streaming reverse proxy: req.pipe(http.request(...)) to
//   internal-service:8080 with the same method, path and headers, then
//   res.writeHead(proxyRes.statusCode, proxyRes.headers) and
//   proxyRes.pipe(res); 502 "Bad gateway" when the upstream is unreachable.
//   (The test points internal-service:8080 at its own upstream through
//   SEED_HOST_MAP in test/seeds/port-shim.cjs; the example is unchanged.)
// Uses keel's http.request (the client side) as well as its server.
// Changes from the seed: require('http') -> require('keel'); whitespace only.

const http = require('keel');

const server = http.createServer((req, res) => {
  const proxy = http.request(
    {
      hostname: 'internal-service',
      port: 8080,
      path: req.url,
      method: req.method,
      headers: req.headers,
    },
    (proxyRes) => {
      res.writeHead(proxyRes.statusCode, proxyRes.headers);
      proxyRes.pipe(res); // stream response directly back to the client
    }
  );

  req.pipe(proxy); // stream request body to the internal service

  proxy.on('error', () => {
    res.writeHead(502);
    res.end('Bad gateway');
  });
});

server.listen(3000);
