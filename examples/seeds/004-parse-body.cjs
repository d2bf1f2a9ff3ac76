// Seed: 004_887b8c147026eacd.txt ("HTTP Server Fundamentals"),
//       section "Handling POST Data".
// Demonstrates: a promise-based parseBody(req) that collects the body and
//   parses it by Content-Type (application/json, application/x-www-form-urlencoded,
//   anything else as text), used from an async handler: POST answers 200
//   {"received": ...}, a parse error answers 400 "Bad Request". (Non-POST
//   requests are never answered, as in the seed.)
// Changes from the seed: whitespace only; scaffolding block below.

// --- scaffolding the seed assumes (not part of the example) ---
// The snippet uses `http` from an earlier snippet of the seed.
const http = require('keel');
// --- end of scaffolding ---

function parseBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const contentType = req.headers['content-type'];
      try {
        if (contentType === 'application/json') {
          resolve(JSON.parse(body));
        } else if (contentType === 'application/x-www-form-urlencoded') {
          resolve(Object.fromEntries(new URLSearchParams(body)));
        } else {
          resolve(body);
        }
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}
// Usage
http.createServer(async (req, res) => {
  if (req.method === 'POST') {
    try {
      const data = await parseBody(req);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ received: data }));
    } catch (err) {
      res.writeHead(400);
      res.end('Bad Request');
    }
  }
}).listen(3000);
